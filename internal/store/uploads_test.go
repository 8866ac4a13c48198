package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/natsx/natstest"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

const testPart = 4096

func uploads(t *testing.T, cfg UploadConfig) (*Uploads, *natsx.Infra) {
	t.Helper()
	in := open(t)
	if cfg.PartBytes == 0 {
		cfg.PartBytes = testPart
	}
	if cfg.TTL == 0 {
		cfg.TTL, cfg.Retention = time.Hour, time.Hour
	}
	u, err := NewUploads(context.Background(), in, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return u, in
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func readAll(t *testing.T, u *Uploads, tenant, id string, off int64) []byte {
	t.Helper()
	rc, _, err := u.OpenAt(context.Background(), tenant, id, off)
	if err != nil {
		t.Fatalf("open at %d: %v", off, err)
	}
	defer func() {
		if err := rc.Close(); err != nil {
			t.Error(err)
		}
	}()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read from %d: %v", off, err)
	}
	return b
}

// An upload written in pieces of odd sizes (parts cut short at every
// write's end) reads back whole, and from any offset: part boundaries,
// write boundaries, the middle of a part, the end.
func TestUploadWriteReadFromAnyOffset(t *testing.T) {
	u, _ := uploads(t, UploadConfig{})
	ctx := context.Background()
	data := randomBytes(5*testPart+1234, 1)
	data[99], data[len(data)-1] = 'x', '\n'
	info, err := u.Create(ctx, "t1", int64(len(data)), map[string]string{"filename": "d.ndjson", "filetype": "application/x-ndjson"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := u.Open(ctx, "t1", info.ID); !errors.Is(err, ErrUploadNotFinished) {
		t.Fatalf("open of an unfinished upload: %v", err)
	}
	cuts := []int64{0, 100, 100 + 2*testPart + 7, int64(len(data))}
	for i := 1; i < len(cuts); i++ {
		got, err := u.Write(ctx, "t1", info.ID, Chunk{Offset: cuts[i-1], Body: bytes.NewReader(data[cuts[i-1]:cuts[i]])})
		if err != nil || got.Offset != cuts[i] {
			t.Fatalf("write %d: offset %d, %v", i, got.Offset, err)
		}
		lines := int64(bytes.Count(data[:cuts[i]], []byte{'\n'}))
		if got.Lines != lines || got.EndsWithNewline != (data[cuts[i]-1] == '\n') {
			t.Fatalf("write %d: %d lines, ends with a newline %v; want %d, %v", i, got.Lines, got.EndsWithNewline, lines, data[cuts[i]-1] == '\n')
		}
	}
	info, err = u.Info(ctx, "t1", info.ID)
	if err != nil || !info.Finished() || info.Filename() != "d.ndjson" || info.Filetype() != "application/x-ndjson" {
		t.Fatalf("%+v %v", info, err)
	}
	if !info.ExpiresAt.Equal(info.FinishedAt.Add(time.Hour)) {
		t.Errorf("finished upload expires at %s, want finish + retention", info.ExpiresAt)
	}
	for _, off := range []int64{0, 1, 100, testPart, testPart + 1, 100 + 2*testPart + 7, int64(len(data)) - 1, int64(len(data))} {
		if got := readAll(t, u, "t1", info.ID, off); !bytes.Equal(got, data[off:]) {
			t.Fatalf("from %d: %d bytes, want %d (equal: %v)", off, len(got), len(data)-int(off), bytes.Equal(got, data[off:]))
		}
	}
	if _, _, err := u.OpenAt(ctx, "t1", info.ID, int64(len(data))+1); err == nil {
		t.Fatal("open past the end succeeded")
	}
}

// Writes that do not fit change nothing: another offset, bytes past the
// declared size, a failed check of an atomic write. A body cut short keeps
// what arrived. Another tenant's upload is not found.
func TestUploadRefusedWritesKeepNothing(t *testing.T) {
	u, in := uploads(t, UploadConfig{})
	ctx := context.Background()
	data := randomBytes(3*testPart, 2)
	info, err := u.Create(ctx, "t1", int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var oe *OffsetError
	if _, err := u.Write(ctx, "t1", info.ID, Chunk{Offset: 5, Body: bytes.NewReader(data)}); !errors.As(err, &oe) || oe.Want != 0 || !errors.Is(err, ErrUploadConflict) {
		t.Fatalf("wrong offset: %v", err)
	}
	if _, err := u.Write(ctx, "t1", info.ID, Chunk{Body: bytes.NewReader(append(data, 1))}); !errors.Is(err, ErrUploadTooLarge) {
		t.Fatalf("past the size: %v", err)
	}
	bad := errors.New("checksum mismatch")
	if _, err := u.Write(ctx, "t1", info.ID, Chunk{Body: bytes.NewReader(data[:2*testPart]), Atomic: true, Check: func() error { return bad }}); !errors.Is(err, bad) {
		t.Fatalf("failed check: %v", err)
	}
	cut := io.MultiReader(bytes.NewReader(data[:testPart+10]), iotestErrReader{})
	got, err := u.Write(ctx, "t1", info.ID, Chunk{Body: cut})
	if err == nil || got.Offset != testPart+10 {
		t.Fatalf("cut body: offset %d, %v", got.Offset, err)
	}
	if _, err := u.Info(ctx, "t2", info.ID); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("another tenant's upload: %v", err)
	}
	if _, err := u.Write(ctx, "t2", info.ID, Chunk{Offset: got.Offset, Body: bytes.NewReader(data)}); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("another tenant's write: %v", err)
	}
	if _, err := u.Write(ctx, "t1", info.ID, Chunk{Offset: got.Offset, Body: bytes.NewReader(data[got.Offset:])}); err != nil {
		t.Fatal(err)
	}
	if b := readAll(t, u, "t1", info.ID, 0); !bytes.Equal(b, data) {
		t.Fatal("content differs after refused writes")
	}
	if n := streamMsgs(t, in.Uploads); n != 4 { // 4 parts: 1 + 0 + 1 + 2 (cut after testPart+10, then the rest)
		t.Errorf("%d parts stored, want 4 (refused writes keep none)", n)
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func streamMsgs(t *testing.T, s jetstream.Stream) uint64 {
	t.Helper()
	si, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return si.State.Msgs
}

// blockingBody yields first, then blocks until released, then yields rest.
type blockingBody struct {
	first, rest []byte
	sent        atomic.Bool
	once        sync.Once
	hold        chan struct{}
	reached     chan struct{}
}

func (b *blockingBody) Read(p []byte) (int, error) {
	if !b.sent.Swap(true) {
		return copy(p, b.first), nil
	}
	b.once.Do(func() { close(b.reached) })
	<-b.hold
	if len(b.rest) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.rest)
	b.rest = b.rest[n:]
	return n, nil
}

// Two writers of one upload (two gateways): the one that claims it later
// wins; the earlier one, still sending, fails at its next part or commit
// and leaves nothing behind. Then writers race with no order: whatever
// wins, the content is one writer's, whole.
func TestUploadConcurrentWritersNeverInterleave(t *testing.T) {
	u, _ := uploads(t, UploadConfig{})
	ctx := context.Background()
	a, b := randomBytes(4*testPart, 3), randomBytes(4*testPart, 4)
	info, err := u.Create(ctx, "t1", int64(len(a)), nil)
	if err != nil {
		t.Fatal(err)
	}
	zombie := &blockingBody{first: a[:testPart], rest: a[testPart:], hold: make(chan struct{}), reached: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := u.Write(ctx, "t1", info.ID, Chunk{Body: zombie})
		done <- err
	}()
	<-zombie.reached // the zombie has one part out, uncommitted
	if got, err := u.Write(ctx, "t1", info.ID, Chunk{Body: bytes.NewReader(b)}); err != nil || !got.Finished() {
		t.Fatalf("second writer: %+v %v", got, err)
	}
	close(zombie.hold)
	if err := <-done; !errors.Is(err, ErrUploadConflict) {
		t.Fatalf("the first writer: %v, want a conflict", err)
	}
	if got := readAll(t, u, "t1", info.ID, 0); !bytes.Equal(got, b) {
		t.Fatal("content is not the second writer's")
	}

	for round := range 5 {
		info, err := u.Create(ctx, "t1", int64(len(a)), nil)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for _, d := range [][]byte{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = u.Write(ctx, "t1", info.ID, Chunk{Body: bytes.NewReader(d)})
			}()
		}
		wg.Wait()
		info, err = u.Info(ctx, "t1", info.ID)
		if err != nil {
			t.Fatal(err)
		}
		o := info.Offset
		if !info.Finished() { // both lost: a client resumes from the offset
			if _, err := u.Write(ctx, "t1", info.ID, Chunk{Offset: o, Body: bytes.NewReader(a[o:])}); err != nil {
				t.Fatal(err)
			}
		}
		got := readAll(t, u, "t1", info.ID, 0)
		if !bytes.Equal(got[:o], a[:o]) && !bytes.Equal(got[:o], b[:o]) || !bytes.Equal(got[o:], a[o:]) && !bytes.Equal(got[o:], b[o:]) {
			t.Fatalf("round %d: the content mixes the writers (committed %d when they ended)", round, o)
		}
	}
}

// A write that died after publishing parts it never committed (parts past
// the record's last one) leaves them to the next write, which drops them.
func TestUploadOrphanPartsDropped(t *testing.T) {
	u, in := uploads(t, UploadConfig{})
	ctx := context.Background()
	data := randomBytes(2*testPart, 5)
	info, err := u.Create(ctx, "t1", int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write(ctx, "t1", info.ID, Chunk{Body: bytes.NewReader(data[:testPart])}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		m := &nats.Msg{Subject: wire.UploadSubject(info.ID), Data: []byte("garbage"), Header: nats.Header{}}
		m.Header.Set(wire.HdrUploadOffset, fmt.Sprint(testPart+i*7))
		if _, err := in.JS.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := u.Write(ctx, "t1", info.ID, Chunk{Offset: testPart, Body: bytes.NewReader(data[testPart:])}); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, u, "t1", info.ID, 0); !bytes.Equal(got, data) {
		t.Fatal("orphan parts were read")
	}
	if n := streamMsgs(t, in.Uploads); n != 2 {
		t.Fatalf("%d messages, want the 2 parts", n)
	}
}

// Per-tenant limits hold under concurrent creations (from many gateways
// at once: no more than the limit is admitted) and say when to retry;
// finishing an upload frees a place, the bytes limit counts declared sizes.
func TestUploadQuotas(t *testing.T) {
	u, _ := uploads(t, UploadConfig{MaxTenantUploads: 5, MaxTenantBytes: 100 * testPart})
	ctx := context.Background()
	var (
		wg       sync.WaitGroup
		admitted atomic.Int32
		ids      = make(chan string, 20)
	)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			info, err := u.Create(ctx, "t1", testPart, nil)
			var qe *UploadQuotaError
			switch {
			case err == nil:
				admitted.Add(1)
				ids <- info.ID
			case !errors.As(err, &qe) || qe.Limit != QuotaUploads || qe.RetryAfter < 59*time.Minute:
				t.Errorf("refusal: %v (%+v)", err, qe)
			}
		}()
	}
	wg.Wait()
	close(ids)
	if n := admitted.Load(); n != 5 {
		t.Fatalf("%d uploads admitted, want 5", n)
	}
	if _, err := u.Create(ctx, "t2", testPart, nil); err != nil {
		t.Fatalf("another tenant is not limited by t1's uploads: %v", err)
	}
	id := <-ids
	if _, err := u.Write(ctx, "t1", id, Chunk{Body: bytes.NewReader(make([]byte, testPart))}); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Create(ctx, "t1", 95*testPart, nil); err != nil {
		t.Fatalf("a finished upload still counts as open: %v", err)
	}
	var qe *UploadQuotaError
	if _, err := u.Create(ctx, "t1", 1, nil); !errors.As(err, &qe) || qe.Limit != QuotaUploads {
		t.Fatalf("sixth open upload: %v", err)
	}
	if err := u.Delete(ctx, "t1", <-ids); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Create(ctx, "t1", testPart+1, nil); !errors.As(err, &qe) || qe.Limit != QuotaBytes || qe.Used != 99*testPart {
		t.Fatalf("over the bytes: %v %+v", err, qe)
	}
	us, err := u.Usage(ctx, "t1")
	if err != nil || us != (UploadUsage{Uploads: 5, Open: 4, Bytes: 99 * testPart}) {
		t.Fatalf("usage %+v %v", us, err)
	}
}

// Uploads expire, unfinished after the TTL and finished after the
// retention: expired ones answer ErrUploadExpired, and a sweep frees their
// bytes and records (the streams return to where they were).
func TestUploadExpiryFreesStorage(t *testing.T) {
	u, in := uploads(t, UploadConfig{TTL: time.Hour, Retention: 2 * time.Hour})
	ctx := context.Background()
	now := time.Now()
	u.Now = func() time.Time { return now }
	base := storeState(t, in)
	done, err := u.Create(ctx, "t1", 3*testPart, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write(ctx, "t1", done.ID, Chunk{Body: bytes.NewReader(make([]byte, 3*testPart))}); err != nil {
		t.Fatal(err)
	}
	open, err := u.Create(ctx, "t1", 3*testPart, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write(ctx, "t1", open.ID, Chunk{Body: bytes.NewReader(make([]byte, testPart))}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour + time.Second)
	if _, err := u.Info(ctx, "t1", open.ID); !errors.Is(err, ErrUploadExpired) {
		t.Fatalf("unfinished after the TTL: %v", err)
	}
	if _, err := u.Write(ctx, "t1", open.ID, Chunk{Offset: testPart, Body: bytes.NewReader(make([]byte, 10))}); !errors.Is(err, ErrUploadExpired) {
		t.Fatalf("write to an expired upload: %v", err)
	}
	if _, err := u.Info(ctx, "t1", done.ID); err != nil {
		t.Fatalf("finished upload expired with the TTL: %v", err)
	}
	if n, err := u.Sweep(ctx); n != 1 || err != nil {
		t.Fatalf("sweep: %d %v", n, err)
	}
	now = now.Add(time.Hour)
	if n, err := u.Sweep(ctx); n != 1 || err != nil {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if _, err := u.Info(ctx, "t1", done.ID); !errors.Is(err, ErrUploadNotFound) {
		t.Fatalf("swept upload: %v", err)
	}
	if got := storeState(t, in); got != base {
		t.Fatalf("after expiry: %+v, want %+v", got, base)
	}
}

type state struct {
	parts, partBytes, records uint64
	consumers                 int
}

func storeState(t *testing.T, in *natsx.Infra) state {
	t.Helper()
	ctx := context.Background()
	si, err := in.Uploads.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := in.JS.Stream(ctx, "KV_"+wire.BucketUploads)
	if err != nil {
		t.Fatal(err)
	}
	ki, err := ks.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return state{parts: si.State.Msgs, partBytes: si.State.Bytes, records: ki.State.Msgs, consumers: si.State.Consumers}
}

// Soak: thousands of uploads created, written, read and deleted (and some
// abandoned, then swept) leave the stream, the bucket and the consumers as
// they were.
func TestUploadSoakReturnsToBaseline(t *testing.T) {
	u, in := uploads(t, UploadConfig{MaxTenantUploads: 100, MaxTenantBytes: 1 << 30})
	ctx := context.Background()
	now := time.Now()
	var mu sync.Mutex
	u.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	base := storeState(t, in)
	n := 2000
	if raceEnabled || testing.Short() {
		n = 400
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tenant := fmt.Sprintf("t%d", w)
			data := randomBytes(testPart+17, uint64(w))
			for i := range n / 4 {
				if err := soakOne(ctx, u, tenant, data, i%10 == 0, i%10 == 1); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	if _, err := u.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got := storeState(t, in); got != base {
		t.Fatalf("after %d uploads: %+v, want %+v", n, got, base)
	}
}

// soakOne creates an upload and writes it in two parts, then reads it
// (when read) and deletes it, or leaves it abandoned half-way.
func soakOne(ctx context.Context, u *Uploads, tenant string, data []byte, abandon, read bool) error {
	info, err := u.Create(ctx, tenant, int64(len(data)), nil)
	if err != nil {
		return err
	}
	if _, err := u.Write(ctx, tenant, info.ID, Chunk{Body: bytes.NewReader(data[:100])}); err != nil {
		return err
	}
	if abandon {
		return nil
	}
	if _, err := u.Write(ctx, tenant, info.ID, Chunk{Offset: 100, Body: bytes.NewReader(data[100:]), Atomic: true}); err != nil {
		return err
	}
	if !read {
		return u.Delete(ctx, tenant, info.ID)
	}
	rc, _, err := u.OpenAt(ctx, tenant, info.ID, 50)
	if err != nil {
		return err
	}
	got, err := io.ReadAll(rc)
	if err := errors.Join(err, rc.Close()); err != nil {
		return err
	}
	if !bytes.Equal(got, data[50:]) {
		return fmt.Errorf("upload %s read back wrong", info.ID)
	}
	return u.Delete(ctx, tenant, info.ID)
}

// On three servers with every stream and bucket replicated three times (the
// HA profile), the chained appends and compare-and-set commits hold the
// same way (a replicated stream answers a lost compare-and-set with a code
// of its own): two writers never mix, the content reads back whole.
func TestUploadsReplicatedThreeTimes(t *testing.T) {
	url := natstest.Cluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var in *natsx.Infra
	for in == nil { // the cluster elects its JetStream leader first: a request sent before may get no answer
		try, stop := context.WithTimeout(ctx, 5*time.Second)
		var err error
		if in, err = natsx.Open(try, natsx.ConnConfig{URL: url}, natsx.StreamConfig{Replicas: 3}, zerolog.Nop()); err != nil && ctx.Err() != nil {
			t.Fatal(err)
		}
		stop()
	}
	t.Cleanup(in.Close)
	if si, err := in.Uploads.Info(ctx); err != nil || si.Config.Replicas != 3 {
		t.Fatalf("uploads stream: %v %v", si, err)
	}
	u, err := NewUploads(ctx, in, UploadConfig{PartBytes: testPart, TTL: time.Hour, Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	a, b := randomBytes(4*testPart+9, 20), randomBytes(4*testPart+9, 21)
	info, err := u.Create(ctx, "t1", int64(len(a)), nil)
	if err != nil {
		t.Fatal(err)
	}
	zombie := &blockingBody{first: a[:testPart], rest: a[testPart:], hold: make(chan struct{}), reached: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := u.Write(ctx, "t1", info.ID, Chunk{Body: zombie})
		done <- err
	}()
	<-zombie.reached
	if _, err := u.Write(ctx, "t1", info.ID, Chunk{Body: bytes.NewReader(b)}); err != nil {
		t.Fatal(err)
	}
	close(zombie.hold)
	if err := <-done; !errors.Is(err, ErrUploadConflict) {
		t.Fatalf("the first writer: %v", err)
	}
	if got := readAll(t, u, "t1", info.ID, 7); !bytes.Equal(got, b[7:]) {
		t.Fatal("content is not the second writer's")
	}
	if err := u.Delete(ctx, "t1", info.ID); err != nil {
		t.Fatal(err)
	}
}

// The purge of an upload's parts is not bound by the JetStream API's
// default timeout (a 2 GB upload's purge outlasts it on a busy server):
// without a deadline of the caller's it gets purgeTimeout; a caller's
// deadline is kept.
func TestUploadPurgeContext(t *testing.T) {
	short, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, tc := range []struct {
		name     string
		ctx      context.Context
		min, max time.Duration
	}{
		{"no deadline", context.Background(), purgeTimeout - time.Second, purgeTimeout},
		{"the caller's", short, 0, time.Second},
	} {
		ctx, cancel := purgeContext(tc.ctx)
		dl, ok := ctx.Deadline()
		cancel()
		if left := time.Until(dl); !ok || left < tc.min || left > tc.max {
			t.Errorf("%s: deadline in %v (set %v), want %v to %v", tc.name, left, ok, tc.min, tc.max)
		}
	}
}
