package wire

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// Dead letters: a chunk given up after its deliveries (its workers crashed,
// timed out or failed on it every time) is kept in StreamDeadLetter with its
// payload, so that it can be read, run again (redriven) or purged:
//
//	dlq.infer.TENANT.MODEL.VERSION.JOB.CHUNK  the letter of a batch chunk: headers only
//	dlq.sync.MODEL.VERSION.KEY                 the letter of a synchronous request (no tenant: requests of several are sent together)
//	dlq.data.JOB.KEY.PART                     its payload: the chunk's input parts, as the input stream held them
//	dlq.claim.JOB.LETTER                      a redrive or purge of letter LETTER under way (a redrive's stays: it was redriven)
//
// Webhook events given up (WebhookDeadSubject) share the stream, under
// dlq.webhook; they are not letters.
const (
	deadInfer = "dlq.infer."
	deadSync  = "dlq.sync."
	deadData  = "dlq.data."
	deadClaim = "dlq.claim."
)

// Letter kinds.
const (
	LetterBatch = "batch"
	LetterSync  = "sync"
)

// Dead letter headers (beside HdrJob, HdrChunk, HdrStart, HdrCount,
// HdrParts and HdrRedrive).
const (
	HdrTenant     = "Bi-Tenant"
	HdrModel      = "Bi-Model"
	HdrVersion    = "Bi-Version"
	HdrReason     = "Bi-Reason"
	HdrDeliveries = "Bi-Deliveries"
	HdrDeadAt     = "Bi-Dead-At" // unix nanoseconds
	HdrLetterData = "Bi-Data"    // the key of the letter's payload subjects
)

// DeadLetter is a chunk given up, as its letter's headers say.
type DeadLetter struct {
	// Seq is the letter's stream sequence: its id.
	Seq  uint64
	Kind string // LetterBatch or LetterSync
	// Tenant owns the job (empty for a synchronous request).
	Tenant, Job    string
	Model, Version string
	Chunk          int
	Start, Count   int
	Reason         string
	Deliveries     uint64
	DeadAt         time.Time
	// Data keys the payload's subjects, Parts how many there are.
	Data  string
	Parts int
	// Redrive is the redrive the chunk ran for when it died (0: its first
	// run): the chunk's current outcome must be that run's to be redriven.
	Redrive uint64
}

// Subject is where the letter is kept.
func (l *DeadLetter) Subject() string {
	if l.Kind == LetterSync {
		return deadSync + l.Model + "." + l.Version + "." + l.Data
	}
	return deadInfer + l.Tenant + "." + l.Model + "." + l.Version + "." + l.Job + "." + itoa(l.Chunk)
}

// DataSubject is where part p of the letter's payload is kept.
func (l *DeadLetter) DataSubject(p int) string {
	return deadData + l.Job + "." + l.Data + "." + itoa(p)
}

// DataFilter matches every part of the letter's payload.
func (l *DeadLetter) DataFilter() string { return deadData + l.Job + "." + l.Data + ".*" }

// DeadClaimSubject is where a redrive or purge of letter seq of job claims it.
func DeadClaimSubject(job string, seq uint64) string {
	return deadClaim + job + "." + strconv.FormatUint(seq, 10)
}

// DeadClaimFilter matches the claim of letter seq, whatever its job.
func DeadClaimFilter(seq uint64) string { return deadClaim + "*." + strconv.FormatUint(seq, 10) }

// DeadLetterFilter matches the batch letters of tenant, model, version and
// job; an empty one matches any.
func DeadLetterFilter(tenant, model, version, job string) string {
	return deadInfer + anyToken(tenant) + "." + anyToken(model) + "." + anyToken(version) + "." + anyToken(job) + ".*"
}

// DeadSyncFilter matches the synchronous letters of model and version (an
// empty one matches any).
func DeadSyncFilter(model, version string) string {
	return deadSync + anyToken(model) + "." + anyToken(version) + ".*"
}

// LetterWebhook counts webhook events given up (DeadCountFilters): not
// letters of the API, but kept in the same stream.
const LetterWebhook = "webhook"

// DeadCountFilters match, by kind (LetterBatch, LetterSync,
// LetterWebhook), one message per letter: not their payloads or claims.
func DeadCountFilters() map[string]string {
	return map[string]string{LetterBatch: deadInfer + ">", LetterSync: deadSync + ">", LetterWebhook: "dlq.webhook.>"}
}

// DeadJobFilters match every subject of a job's letters: the letters, their
// payloads and claims.
func DeadJobFilters(job string) []string {
	return []string{DeadLetterFilter("", "", "", job), deadData + job + ".>", deadClaim + job + ".*"}
}

func anyToken(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

// ValidToken reports whether s may be one token of a subject: not empty,
// no dot, wildcard or white space.
func ValidToken(s string) bool {
	return s != "" && !strings.ContainsAny(s, ".*> \t\r\n")
}

// Header encodes the letter as message headers.
func (l *DeadLetter) Header() nats.Header {
	h := nats.Header{}
	set := func(k, v string) {
		if v != "" {
			h.Set(k, v)
		}
	}
	set(HdrTenant, l.Tenant)
	set(HdrJob, l.Job)
	set(HdrModel, l.Model)
	set(HdrVersion, l.Version)
	set(HdrChunk, strconv.Itoa(l.Chunk))
	set(HdrStart, strconv.Itoa(l.Start))
	set(HdrCount, strconv.Itoa(l.Count))
	set(HdrReason, l.Reason)
	set(HdrDeliveries, strconv.FormatUint(l.Deliveries, 10))
	set(HdrDeadAt, strconv.FormatInt(l.DeadAt.UnixNano(), 10))
	set(HdrLetterData, l.Data)
	set(HdrParts, strconv.Itoa(l.Parts))
	if l.Redrive != 0 {
		set(HdrRedrive, strconv.FormatUint(l.Redrive, 10))
	}
	return h
}

// ErrNotLetter is returned for a message that is not a dead letter.
var ErrNotLetter = errors.New("not a dead letter")

// ParseDeadLetter reads the letter kept at subject with hdr, at stream
// sequence seq.
func ParseDeadLetter(subject string, hdr nats.Header, seq uint64) (*DeadLetter, error) {
	l := &DeadLetter{Seq: seq, Tenant: hdr.Get(HdrTenant), Job: hdr.Get(HdrJob), Model: hdr.Get(HdrModel), Version: hdr.Get(HdrVersion),
		Reason: hdr.Get(HdrReason), Data: hdr.Get(HdrLetterData)}
	switch {
	case strings.HasPrefix(subject, deadInfer):
		l.Kind = LetterBatch
	case strings.HasPrefix(subject, deadSync):
		l.Kind = LetterSync
	default:
		return nil, fmt.Errorf("%w: subject %s", ErrNotLetter, subject)
	}
	var err error
	for _, f := range []struct {
		name string
		p    *int
	}{{HdrChunk, &l.Chunk}, {HdrStart, &l.Start}, {HdrCount, &l.Count}, {HdrParts, &l.Parts}} {
		if *f.p, err = strconv.Atoi(hdr.Get(f.name)); err != nil || *f.p < 0 {
			return nil, fmt.Errorf("%w: %s %q", ErrNotLetter, f.name, hdr.Get(f.name))
		}
	}
	l.Deliveries, _ = strconv.ParseUint(hdr.Get(HdrDeliveries), 10, 64)
	l.Redrive, _ = strconv.ParseUint(hdr.Get(HdrRedrive), 10, 64)
	if ns, err := strconv.ParseInt(hdr.Get(HdrDeadAt), 10, 64); err == nil {
		l.DeadAt = time.Unix(0, ns).UTC()
	}
	if l.Job == "" || l.Data == "" || l.Model == "" || l.Version == "" || l.Subject() != subject {
		return nil, fmt.Errorf("%w: headers do not match subject %s", ErrNotLetter, subject)
	}
	return l, nil
}
