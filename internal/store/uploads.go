package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

// Errors of the uploads store.
var (
	// ErrUploadNotFound: no upload of that id for that tenant (another
	// tenant's upload is not found either).
	ErrUploadNotFound = errors.New("upload not found")
	// ErrUploadExpired: the upload is past its expiry (and about to be
	// deleted).
	ErrUploadExpired = errors.New("upload expired")
	// ErrUploadNotFinished: the upload has not received all its bytes.
	ErrUploadNotFinished = errors.New("upload not finished")
	// ErrUploadConflict: another request changed the upload while this one
	// wrote it (a concurrent write or a deletion); nothing of this write
	// past the last commit is kept.
	ErrUploadConflict = errors.New("upload changed by another request")
	// ErrUploadTooLarge: the bytes go past the upload's declared size.
	ErrUploadTooLarge = errors.New("bytes past the upload's declared size")
	// ErrUploadStoreFull: the uploads stream is at UPLOAD_MAX_BYTES.
	ErrUploadStoreFull = errors.New("the uploads store is full")
	// ErrUploadDamaged: a stored part is missing or out of place.
	ErrUploadDamaged = errors.New("upload data damaged")
)

// OffsetError is a write at another offset than the upload's.
type OffsetError struct{ Offset, Want int64 }

func (e *OffsetError) Error() string {
	return fmt.Sprintf("offset %d does not match the upload's offset %d", e.Offset, e.Want)
}

// Unwrap makes an OffsetError an ErrUploadConflict.
func (e *OffsetError) Unwrap() error { return ErrUploadConflict }

// UploadQuotaError is a new upload refused by a per-tenant limit.
type UploadQuotaError struct {
	// Limit is "uploads" (unfinished uploads) or "bytes" (declared sizes
	// of stored uploads).
	Limit           string
	Max, Used, Want int64
	// RetryAfter is when the tenant's earliest upload expires: room is
	// freed then at the latest (or sooner, by a deletion).
	RetryAfter time.Duration
}

func (e *UploadQuotaError) Error() string {
	if e.Limit == QuotaUploads {
		return fmt.Sprintf("the tenant has %d unfinished uploads, the most allowed (%d)", e.Used, e.Max)
	}
	return fmt.Sprintf("the tenant's uploads hold %d bytes; %d more would pass its limit of %d", e.Used, e.Want, e.Max)
}

// Quota limits named in UploadQuotaError.
const (
	QuotaUploads = "uploads"
	QuotaBytes   = "bytes"
)

// UploadInfo is the record of a resumable upload, kept in the uploads
// bucket under "tenant.id".
type UploadInfo struct {
	ID     string `json:"id"`
	Tenant string `json:"tenant"`
	// Size is the declared length; Offset how many bytes are stored.
	Size   int64 `json:"size"`
	Offset int64 `json:"offset"`
	// Lines counts the newlines stored: a text dataset has at most Lines+1
	// rows (Lines when EndsWithNewline), known before it is read.
	Lines int64 `json:"lines,omitempty"`
	// EndsWithNewline says the last byte stored is a newline: the file's
	// last line is then counted in Lines (a dataset has at most Lines rows).
	EndsWithNewline bool `json:"ends_with_newline,omitempty"`
	// Metadata is the client's Upload-Metadata (e.g. filename, filetype).
	Metadata   map[string]string `json:"metadata,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	FinishedAt *time.Time        `json:"finished_at,omitempty"`
	// ExpiresAt is when the upload is deleted: CreatedAt + UploadTTL while
	// unfinished, FinishedAt + UploadRetention once finished.
	ExpiresAt time.Time `json:"expires_at"`
	// LastSeq is the stream sequence of the last committed part (0: none).
	LastSeq uint64 `json:"last_seq,omitempty"`
	// Writer names the write that claimed the upload last.
	Writer string `json:"writer,omitempty"`

	rev uint64
}

// Finished says whether every declared byte is stored.
func (u UploadInfo) Finished() bool { return u.FinishedAt != nil }

// Filename and Filetype are the client's metadata of those names.
func (u UploadInfo) Filename() string { return u.Metadata["filename"] }

// Filetype is the media type the client gave (metadata "filetype").
func (u UploadInfo) Filetype() string { return u.Metadata["filetype"] }

// Expired says whether the upload is past its expiry at now.
func (u UploadInfo) Expired(now time.Time) bool { return !now.Before(u.ExpiresAt) }

// UploadConfig shapes an Uploads store.
type UploadConfig struct {
	// PartBytes is the size of a stored part (a message of the uploads
	// stream), at most natsx.MaxUploadPart.
	PartBytes int
	// TTL and Retention are natsx.StreamConfig's UploadTTL and
	// UploadRetention.
	TTL, Retention time.Duration
	// MaxTenantBytes bounds the declared sizes of a tenant's stored
	// uploads, MaxTenantUploads its unfinished ones (0: no bound).
	MaxTenantBytes   int64
	MaxTenantUploads int
}

// Uploads is the store of resumable uploads: a record per upload in the
// uploads bucket, and its bytes as parts of at most PartBytes on the
// upload's own subject of the uploads stream, in order. Appends are
// chained (each part is published expecting the previous one as the
// subject's last), and the record's offset and last part are moved by
// compare-and-set, so two writers of one upload (two gateways) can never
// interleave parts: one of them fails with ErrUploadConflict.
type Uploads struct {
	js       jetstream.JetStream
	stream   jetstream.Stream
	kv       jetstream.KeyValue
	kvStream jetstream.Stream
	cfg      UploadConfig
	parts    sync.Pool // part buffers of cfg.PartBytes
	// Now is the clock (tests move it).
	Now func() time.Time
}

// NewUploads returns the store over the uploads stream and bucket.
func NewUploads(ctx context.Context, in *natsx.Infra, cfg UploadConfig) (*Uploads, error) {
	if cfg.PartBytes < 1024 || cfg.PartBytes > natsx.MaxUploadPart {
		return nil, fmt.Errorf("upload part size %d: want 1024 to %d bytes", cfg.PartBytes, natsx.MaxUploadPart)
	}
	if mp := in.NC.MaxPayload(); int64(cfg.PartBytes)+4096 > mp {
		return nil, fmt.Errorf("upload part size %d does not fit the NATS server's max_payload %d", cfg.PartBytes, mp)
	}
	if cfg.TTL <= 0 || cfg.Retention <= 0 {
		return nil, fmt.Errorf("upload TTL and retention must be positive")
	}
	ks, err := in.JS.Stream(ctx, "KV_"+wire.BucketUploads)
	if err != nil {
		return nil, fmt.Errorf("uploads bucket stream: %w", err)
	}
	return &Uploads{js: in.JS, stream: in.Uploads, kv: in.Buckets.Uploads, kvStream: ks, cfg: cfg, Now: time.Now}, nil
}

func (u *Uploads) getPart() []byte {
	if b, ok := u.parts.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, u.cfg.PartBytes)
}

func (u *Uploads) putPart(b []byte) { u.parts.Put(&b) }

var uploadIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ValidUploadID says whether id can name an upload (128 random bits in
// hex); any other id is not found without a lookup.
func ValidUploadID(id string) bool { return uploadIDPattern.MatchString(id) }

func newUploadID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func uploadKey(tenant, id string) string { return wire.TenantKey(tenant, id) }

// Info returns an upload's record. The error wraps ErrUploadNotFound for an
// unknown upload or one of another tenant, and ErrUploadExpired (with the
// record) for one past its expiry.
func (u *Uploads) Info(ctx context.Context, tenant, id string) (UploadInfo, error) {
	info, err := u.get(ctx, tenant, id)
	if err != nil {
		return UploadInfo{}, err
	}
	if info.Expired(u.Now()) {
		return info, fmt.Errorf("upload %s: %w", id, ErrUploadExpired)
	}
	return info, nil
}

func (u *Uploads) get(ctx context.Context, tenant, id string) (UploadInfo, error) {
	if tenant == "" || !ValidUploadID(id) {
		return UploadInfo{}, fmt.Errorf("upload %q: %w", id, ErrUploadNotFound)
	}
	e, err := u.kv.Get(ctx, uploadKey(tenant, id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return UploadInfo{}, fmt.Errorf("upload %s: %w", id, ErrUploadNotFound)
	}
	if err != nil {
		return UploadInfo{}, fmt.Errorf("read upload %s: %w", id, err)
	}
	return decodeUpload(e)
}

func decodeUpload(e jetstream.KeyValueEntry) (UploadInfo, error) {
	var info UploadInfo
	if err := json.Unmarshal(e.Value(), &info); err != nil {
		return UploadInfo{}, fmt.Errorf("decode upload %s: %w", e.Key(), err)
	}
	info.rev = e.Revision()
	return info, nil
}

// Create records a new upload of size bytes for tenant, unless the
// tenant's limits refuse it (a *UploadQuotaError). An empty upload is finished
// at once.
func (u *Uploads) Create(ctx context.Context, tenant string, size int64, meta map[string]string) (UploadInfo, error) {
	if size < 0 {
		return UploadInfo{}, fmt.Errorf("create upload: negative size %d", size)
	}
	now := u.Now().UTC()
	info := UploadInfo{ID: newUploadID(), Tenant: tenant, Size: size, Metadata: meta, CreatedAt: now, ExpiresAt: now.Add(u.cfg.TTL)}
	if size == 0 {
		info.FinishedAt, info.ExpiresAt = &now, now.Add(u.cfg.Retention)
	}
	b, err := json.Marshal(info)
	if err != nil {
		return UploadInfo{}, fmt.Errorf("create upload: %w", err)
	}
	if info.rev, err = u.kv.Create(ctx, uploadKey(tenant, info.ID), b); err != nil {
		return UploadInfo{}, fmt.Errorf("create upload: %w", err)
	}
	if err := u.admit(ctx, info); err != nil {
		return UploadInfo{}, errors.Join(err, u.remove(context.WithoutCancel(ctx), info))
	}
	return info, nil
}

// Delete removes an upload: its record, then its bytes. Another tenant's
// upload is not found.
func (u *Uploads) Delete(ctx context.Context, tenant, id string) error {
	for attempt := 0; ; attempt++ {
		info, err := u.get(ctx, tenant, id)
		if err != nil {
			return err
		}
		err = u.remove(ctx, info)
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) || attempt >= maxCASAttempts {
			return err
		}
	}
}

// remove deletes the record if it is still at info's revision (a writer
// that commits later fails), then the upload's parts and the record's
// history: nothing of it stays in either stream.
func (u *Uploads) remove(ctx context.Context, info UploadInfo) error {
	key := uploadKey(info.Tenant, info.ID)
	if err := u.kv.Delete(ctx, key, jetstream.LastRevision(info.rev)); err != nil {
		return fmt.Errorf("delete upload %s: %w", info.ID, err)
	}
	return u.purge(ctx, info.ID, key)
}

// purgeTimeout bounds the purge of an upload's parts when the caller set
// no deadline. NATS drops a subject's messages block by block: 2.6 s for
// the 4,000 parts of a 2 GB upload on an idle 2-core machine, past the
// JetStream API's default 5 s on a busy one (measured: a 10M-row dataset's
// DELETE answered 500 while the server went on and purged it).
const purgeTimeout = 2 * time.Minute

// purgeContext is ctx, with purgeTimeout when it has no deadline.
func purgeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, purgeTimeout)
}

// purge drops the parts of upload id and the history of its record's key
// (the delete marker included).
func (u *Uploads) purge(ctx context.Context, id, key string) error {
	pctx, cancel := purgeContext(ctx)
	defer cancel()
	if err := u.stream.Purge(pctx, jetstream.WithPurgeSubject(wire.UploadSubject(id))); err != nil {
		return fmt.Errorf("delete upload %s data: %w", id, err)
	}
	if key == "" {
		return nil
	}
	if err := u.kvStream.Purge(ctx, jetstream.WithPurgeSubject("$KV."+wire.BucketUploads+"."+key)); err != nil {
		return fmt.Errorf("delete upload %s record: %w", id, err)
	}
	return nil
}

// records lists the upload records whose keys match filter ("tenant.*",
// or "*.*" for all).
func (u *Uploads) records(ctx context.Context, filter string) ([]UploadInfo, error) {
	w, err := u.kv.WatchFiltered(ctx, []string{filter}, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("list uploads: %w", err)
	}
	defer func() { _ = w.Stop() }()
	var out []UploadInfo
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("list uploads: %w", ctx.Err())
		case e := <-w.Updates():
			if e == nil {
				return out, nil
			}
			info, err := decodeUpload(e)
			if err != nil {
				return nil, err
			}
			out = append(out, info)
		}
	}
}
