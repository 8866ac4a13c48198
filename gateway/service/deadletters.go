package service

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"

	"batchinfer/api"
	"batchinfer/gateway/auth"
	"batchinfer/internal/natsx"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"
)

// Bounds of the dead-letter listings.
const (
	// MaxLettersPage bounds the letters of one page.
	MaxLettersPage = 1000
	// MaxLetterItems bounds the payload items of one page of a letter, and
	// maxLetterItemBytes their bytes together (one item at least).
	MaxLetterItems     = 1000
	maxLetterItemBytes = 8 << 20
)

// LetterQuery selects dead letters: of a kind (batch, the default, or
// sync), a tenant (operators; users see their own), a job and a model
// ("name" or "name:version"), from a cursor.
type LetterQuery struct {
	Kind, Tenant, Job, Model string
	Cursor                   string
	Limit                    int
}

// DeadLetters lists the letters the caller may see, oldest first: a
// user's tenant's batch letters; an operator's of every tenant, and the
// synchronous requests' (kind=sync).
func (s *Service) DeadLetters(ctx context.Context, q LetterQuery) (*api.DeadLetterList, error) {
	filter, err := letterFilter(caller(ctx), q)
	if err != nil {
		return nil, err
	}
	from := uint64(0)
	if q.Cursor != "" {
		if from, err = strconv.ParseUint(q.Cursor, 10, 64); err != nil || from == 0 {
			return nil, api.Errorf(api.CodeBadRequest, "cursor %q is not one a listing gave", q.Cursor)
		}
	}
	if q.Limit < 1 || q.Limit > MaxLettersPage {
		return nil, api.Errorf(api.CodeBadRequest, "limit must be an integer in [1, %d]", MaxLettersPage)
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	letters, next, err := s.letters.List(octx, filter, from, q.Limit)
	if err != nil {
		return nil, queueErr(err)
	}
	out := &api.DeadLetterList{Letters: make([]api.DeadLetter, 0, len(letters))}
	for _, l := range letters {
		out.Letters = append(out.Letters, letterOf(l))
	}
	if next != 0 {
		out.NextCursor = strconv.FormatUint(next, 10)
	}
	return out, nil
}

// letterFilter is the subject filter of q for p, or why q is refused.
func letterFilter(p *auth.Principal, q LetterQuery) (string, error) {
	operator := p.Role == auth.RoleOperator
	name, version, _ := strings.Cut(q.Model, ":")
	if err := checkTokens(map[string]string{"job": q.Job, "model": name, "version": version, "tenant": q.Tenant}); err != nil {
		return "", err
	}
	switch {
	case q.Tenant != "" && q.Tenant != p.Tenant && !operator:
		return "", api.Errorf(api.CodeForbidden, "only operators read other tenants' dead letters")
	case q.Kind == wire.LetterSync && !operator:
		return "", api.Errorf(api.CodeForbidden, "only operators read the dead letters of synchronous requests (they mix tenants' requests)")
	case q.Kind == wire.LetterSync && (q.Job != "" || q.Tenant != ""):
		return "", api.Errorf(api.CodeBadRequest, "the dead letters of synchronous requests have no job or tenant to filter on")
	case q.Kind == wire.LetterSync:
		return wire.DeadSyncFilter(name, version), nil
	case q.Kind != "" && q.Kind != wire.LetterBatch:
		return "", api.Errorf(api.CodeBadRequest, "kind must be batch or sync, not %q", q.Kind)
	}
	tenant := q.Tenant
	if !operator {
		tenant = p.Tenant
	}
	return wire.DeadLetterFilter(tenant, name, version, q.Job), nil
}

// checkTokens refuses a filter value that is not one subject token.
func checkTokens(values map[string]string) error {
	for what, v := range values {
		if v != "" && !wire.ValidToken(v) {
			return api.Errorf(api.CodeBadRequest, "%s %q is not a valid %s", what, v, what)
		}
	}
	return nil
}

// letterOf is a letter as clients see it.
func letterOf(l *wire.DeadLetter) api.DeadLetter {
	return api.DeadLetter{ID: strconv.FormatUint(l.Seq, 10), Kind: l.Kind, Job: l.Job, Chunk: l.Chunk, Start: l.Start, Count: l.Count,
		Model: l.Model, Version: l.Version, Tenant: l.Tenant, Reason: l.Reason, Deliveries: l.Deliveries, DeadAt: l.DeadAt}
}

// visible reports whether p may see (and act on) letter l: an operator
// any, a user its tenant's batch letters.
func visible(p *auth.Principal, l *wire.DeadLetter) bool {
	return p.Role == auth.RoleOperator || l.Kind == wire.LetterBatch && l.Tenant == p.Tenant
}

// letterID reads a letter id (404 for anything that is not one).
func letterID(id string) (uint64, error) {
	seq, err := strconv.ParseUint(id, 10, 64)
	if err != nil || seq == 0 {
		return 0, api.Errorf(api.CodeNotFound, "no dead letter %q", id)
	}
	return seq, nil
}

// letter reads letter id as the caller may see it: another tenant's is,
// to it, one that does not exist.
func (s *Service) letter(ctx context.Context, id string) (*wire.DeadLetter, error) {
	seq, err := letterID(id)
	if err != nil {
		return nil, err
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	l, err := s.letters.Get(octx, seq)
	switch {
	case errors.Is(err, store.ErrLetterNotFound) || err == nil && !visible(caller(ctx), l):
		return nil, api.Errorf(api.CodeNotFound, "no dead letter %q", id)
	case err != nil:
		return nil, queueErr(err)
	}
	return l, nil
}

// DeadLetter returns a letter with a page of its payload's items
// ([offset, offset+limit), within maxLetterItemBytes).
func (s *Service) DeadLetter(ctx context.Context, id string, offset, limit int) (*api.DeadLetterDetail, error) {
	if limit < 1 || limit > MaxLetterItems {
		return nil, api.Errorf(api.CodeBadRequest, "limit must be an integer in [1, %d]", MaxLetterItems)
	}
	l, err := s.letter(ctx, id)
	if err != nil {
		return nil, err
	}
	if offset < 0 || offset > 0 && offset >= l.Count {
		return nil, api.Errorf(api.CodeBadRequest, "offset must be an integer in [0, %d]", max(l.Count-1, 0))
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	parts, err := s.letters.Parts(octx, l)
	if err != nil {
		return nil, payloadErr(l, err)
	}
	d := &api.DeadLetterDetail{DeadLetter: letterOf(l), Offset: offset, Items: []api.DeadLetterItem{}}
	if err := letterItems(d, l, parts, offset, limit); err != nil {
		return nil, err
	}
	return d, nil
}

// payloadErr maps a payload that cannot be read.
func payloadErr(l *wire.DeadLetter, err error) error {
	if errors.Is(err, store.ErrPayloadGone) {
		return api.Errorf(api.CodeExpired, "the payload of dead letter %d is no longer stored", l.Seq)
	}
	return queueErr(err)
}

// letterItems decodes the payload's items from offset on into d, up to
// limit of them and maxLetterItemBytes.
func letterItems(d *api.DeadLetterDetail, l *wire.DeadLetter, parts [][]byte, offset, limit int) error {
	n, bytes := 0, 0
	for _, data := range parts {
		items, meta, err := wire.DecodeChunkMeta(data)
		if err != nil {
			return &api.Error{Code: api.CodeInternal, Message: "a dead letter's payload cannot be decoded", Err: err}
		}
		for i, it := range items {
			if n++; n-1 < offset {
				continue
			}
			it = it.Float32() // a tensor is shown as float32s, however stored
			if len(d.Items) == limit || len(d.Items) > 0 && bytes+len(it.Data) > maxLetterItemBytes {
				next := n - 1
				d.NextOffset = &next
				return nil
			}
			item := api.DeadLetterItem{Index: l.Start + n - 1, Kind: itemKind(it.Kind), DataB64: base64.StdEncoding.EncodeToString(it.Data)}
			if i < len(meta.Lines) {
				item.Line = meta.Lines[i]
			}
			if i < len(meta.IDs) {
				item.ID = meta.IDs[i]
			}
			d.Items = append(d.Items, item)
			bytes += len(it.Data)
		}
	}
	return nil
}

func itemKind(k byte) string {
	switch k {
	case wire.ItemImage:
		return api.ItemKindImage
	case wire.ItemInvalid:
		return api.ItemKindInvalid
	}
	return api.ItemKindTensor
}

// letterErr maps a failure to claim or store for a letter.
func letterErr(err error) error {
	var ce *store.ClaimedError
	switch {
	case errors.As(err, &ce):
		return api.Errorf(api.CodeConflict, "dead letter %d is being %s by another request since %s: retry later",
			ce.Letter, map[string]string{store.ClaimRedrive: "redriven", store.ClaimPurge: "purged"}[ce.Claim.Op], ce.Claim.At.Format("2006-01-02T15:04:05Z07:00"))
	case natsx.IsFull(err):
		return api.RetryLater(api.CodeInsufficientStorage, storageRetry, err,
			"the dead-letter store is full (DLQ_MAX_BYTES): purge letters, then retry")
	}
	return queueErr(err)
}
