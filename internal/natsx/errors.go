package natsx

import (
	"errors"

	"github.com/nats-io/nats.go/jetstream"
)

// JetStream's answers to a publish it would not store. The server reports a
// limit of a DiscardNew stream as the generic "store failed" code with the
// limit's own text, so both are compared, exactly (nats-server store.go).
const (
	codeStoreFailed       jetstream.ErrorCode = 10077 // JSStreamStoreFailedF
	codeStorageExceeded   jetstream.ErrorCode = 10047 // JSStorageResourcesExceededErr
	codeInsufficientRes   jetstream.ErrorCode = 10023 // JSInsufficientResourcesErr
	descMaxBytes                              = "maximum bytes exceeded"
	descMaxMsgs                               = "maximum messages exceeded"
	descMaxMsgsPerSubject                     = "maximum messages per subject exceeded"
)

// IsFull reports whether err is JetStream refusing a message because a
// stream (or the server's storage) is at its limit: the queue is full, a
// client may retry later.
func IsFull(err error) bool {
	var ae *jetstream.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode {
	case codeStorageExceeded, codeInsufficientRes:
		return true
	case codeStoreFailed:
		return ae.Description == descMaxBytes || ae.Description == descMaxMsgs
	}
	return false
}

// IsSubjectTaken reports whether err is JetStream refusing a message because
// its subject already holds one (MaxMsgsPerSubject 1 with
// DiscardNewPerSubject): for the results stream, the chunk's result is
// already stored.
func IsSubjectTaken(err error) bool {
	var ae *jetstream.APIError
	return errors.As(err, &ae) && ae.ErrorCode == codeStoreFailed && ae.Description == descMaxMsgsPerSubject
}

// codeTooManyRequests is a stream refusing a publish because its ingest
// queue is full (JSStreamTooManyRequests): the publisher went too fast and
// may send the same message again after a pause.
const codeTooManyRequests jetstream.ErrorCode = 10167

// IsTooManyRequests reports whether err is a stream refusing a publish
// because its ingest queue is full.
func IsTooManyRequests(err error) bool {
	var ae *jetstream.APIError
	return errors.As(err, &ae) && (ae.ErrorCode == codeTooManyRequests || ae.Code == 429)
}

// IsWrongLastSequence reports whether err is JetStream refusing a publish
// whose expected last sequence (of the stream or of its subject) is not the
// stored one: a compare-and-set lost to another writer. Replicated streams
// answer with a code of their own.
func IsWrongLastSequence(err error) bool {
	var ae *jetstream.APIError
	return errors.As(err, &ae) && (ae.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		ae.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}
