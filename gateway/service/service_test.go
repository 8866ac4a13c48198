package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/auth"
	"batchinfer/gateway/input"
	"batchinfer/internal/natsx"
	"batchinfer/internal/natsx/natstest"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// The use cases are tested without HTTP or a WebSocket, against a real
// embedded JetStream; the test plays the worker's part where needed (it
// stores results and counts them, as the worker contract says).

func testConfig() Config {
	return Config{
		MaxItems: 100, MaxSyncItems: 4, MaxImageBytes: 1 << 20, MaxLineBytes: 1 << 20, MaxChunkBytes: 768 << 10, PublishWindow: 1 << 20, QueueWait: time.Second, MaxAge: time.Hour, Readers: 1,
		DefaultChunkSize: 10, SyncTimeout: time.Second, MinSyncTimeout: 10 * time.Millisecond, MaxJobsListed: 50,
		MaxSubscriptions: 10, ProgressInterval: 10 * time.Millisecond, FollowPoll: 200 * time.Millisecond, MaxResultReads: 4, MaxDownloads: 8,
		ResultTTL: time.Hour, RecordTTL: time.Hour,
		MaxJobsScanned: 100, MaxJobNameBytes: 32,
		MaxImagePixelsFactor: 64, MaxModelBacklog: 1000, MaxTenantBacklog: 1000,
		Registry: RegistryConfig{MaxModelBytes: 1 << 20, MaxModelFiles: 10, MaxMetadataBytes: 1 << 10, PushTimeout: time.Minute,
			CheckTimeout: time.Second, DrainGrace: 0, SweepInterval: 50 * time.Millisecond},
	}
}

// tinyModel takes two numbers in [0, 10] and gives two classes.
var tinyModel = model.Metadata{
	Name: "tiny", Version: "1", Kind: "tabular", Signature: "serving_default", Labels: []string{"a", "b"}, ChunkSize: 10,
	Features: []string{"f0", "f1"},
	Input:    model.TensorSpec{Key: "x", DType: "float32", Shape: []int64{-1, 2}, Min: ptr(0.0), Max: ptr(10.0)},
	Output:   model.TensorSpec{Key: "y", DType: "float32", Shape: []int64{-1, 2}},
}

func ptr[T any](v T) *T { return &v }

type env struct {
	t   *testing.T
	svc *Service
	in  *natsx.Infra
}

func start(t *testing.T, cfg Config) *env {
	t.Helper()
	ctx := context.Background()
	in, _ := natstest.Infra(t)
	if _, err := in.Buckets.Models.Put(ctx, wire.ModelKey(tinyModel.Name, tinyModel.Version), wire.Marshal(tinyModel)); err != nil {
		t.Fatal(err)
	}
	svc, err := New(cfg, in, prometheus.NewRegistry(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	deadline := time.Now().Add(10 * time.Second)
	// The model listed, and every watcher of the catalogue caught up (the
	// registry's and the aliases' may come after the models').
	for _, err := svc.Model("tiny", ""); err != nil || !svc.cat.isSynced(); _, err = svc.Model("tiny", "") {
		if time.Now().After(deadline) {
			t.Fatal("catalogue never listed the model")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return &env{t: t, svc: svc, in: in}
}

func rows(n int) input.Source {
	raws := make([]json.RawMessage, n)
	for i := range raws {
		raws[i] = json.RawMessage(fmt.Sprintf("[%d,1]", i%10))
	}
	return input.JSONItems(raws)
}

func code(err error) api.Code {
	var e *api.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// complete plays the worker: it stores a result for each chunk in order
// and counts it, as the worker contract says (store, then count).
func (e *env) complete(st wire.JobStatus, chunks ...int) {
	e.t.Helper()
	ctx := context.Background()
	jobs, results := store.NewJobs(e.in), store.NewResults(e.in.JS, e.in.Results)
	rec, err := jobs.Get(ctx, st.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range chunks {
		start := c * rec.ChunkSize
		cr := &wire.ChunkResult{Job: rec.ID, Chunk: c, Start: start}
		for i := start; i < min(start+rec.ChunkSize, rec.Total); i++ {
			cl := i % 2
			cr.Items = append(cr.Items, wire.ItemResult{Index: i, Class: &cl, Label: tinyModel.Labels[cl]})
			cr.Done++
		}
		stored, size, err := results.Put(ctx, cr, wire.Marshal(cr))
		if err == nil {
			err = jobs.Count(ctx, stored.Job, wire.ChunkCount{Chunk: stored.Chunk, Done: stored.Done, Failed: stored.Failed, Bytes: int64(size)})
		}
		if err != nil {
			e.t.Fatal(err)
		}
	}
}

func TestSubmitQueuesChunksAndChecksInputs(t *testing.T) {
	e := start(t, testConfig())
	ctx := context.Background()
	st, replayed, err := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(25)})
	if err != nil || replayed || st.Total != 25 || st.Chunks != 3 || st.State != wire.StateQueued {
		t.Fatalf("%+v %v %v", st, replayed, err)
	}
	info, err := e.in.Input.Info(ctx)
	if err != nil || info.State.Msgs != 3 {
		t.Fatalf("input stream holds %d chunks (%v), want 3", info.State.Msgs, err)
	}
	for _, tc := range []struct {
		name string
		sub  Submission
		want api.Code
	}{
		{"unknown model", Submission{Model: "nope", Items: rows(1)}, api.CodeUnknownModel},
		{"unknown version", Submission{Model: "tiny", Version: "2", Items: rows(1)}, api.CodeUnknownModel},
		{"bad name", Submission{Model: "../x", Items: rows(1)}, api.CodeBadRequest},
		{"too many items", Submission{Model: "tiny", Items: rows(101)}, api.CodeTooManyItems},
		{"empty", Submission{Model: "tiny", Items: rows(0)}, api.CodeInvalidInput},
		{"out of range", Submission{Model: "tiny", Items: input.JSONItems([]json.RawMessage{[]byte("[11,1]")})}, api.CodeInvalidInput},
		{"ndjson line too long", Submission{Model: "tiny", Items: input.NDJSON(strings.NewReader(strings.Repeat(" ", 2<<20)))}, api.CodeBodyTooLarge},
		{"bad priority", Submission{Model: "tiny", Items: rows(1), Priority: "urgent"}, api.CodeBadRequest},
		{"past deadline", Submission{Model: "tiny", Items: rows(1), Deadline: "2020-01-01T00:00:00Z"}, api.CodeBadRequest},
		{"bad deadline", Submission{Model: "tiny", Items: rows(1), Deadline: "soon"}, api.CodeBadRequest},
		{"negative deadline", Submission{Model: "tiny", Items: rows(1), Deadline: "-5m"}, api.CodeBadRequest},
		{"invalid beyond max_invalid", Submission{Model: "tiny", Items: mixed(30, 3), MaxInvalid: 2}, api.CodeInvalidInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := e.svc.Submit(ctx, tc.sub); code(err) != tc.want {
				t.Fatalf("error %v, want %s", err, tc.want)
			}
		})
	}
	// A refused submission leaves nothing: no record, no chunk.
	if info, err := e.in.Input.Info(ctx); err != nil || info.State.Msgs != 3 {
		t.Fatalf("input stream holds %d chunks after refusals (%v), want 3", info.State.Msgs, err)
	}
	if list, err := e.svc.Jobs(ctx, JobQuery{Limit: 50}); err != nil || len(list.Jobs) != 1 {
		t.Fatalf("jobs after refusals: %+v %v", list, err)
	}
	// Within max_invalid, invalid items are accepted: they fail with their
	// reason when run.
	st, _, err = e.svc.Submit(ctx, Submission{Model: "tiny", Items: mixed(30, 3), MaxInvalid: 3, Priority: "high", Deadline: "1h"})
	if err != nil || st.Total != 30 || st.Priority != "high" || st.Deadline == nil {
		t.Fatalf("within max_invalid: %+v %v", st, err)
	}
}

// mixed is n items of which every tenth, up to bad of them, is out of range.
func mixed(n, bad int) input.Source {
	raws := make([]json.RawMessage, n)
	for i := range raws {
		v := i % 10
		if i%10 == 5 && bad > 0 {
			v, bad = 11, bad-1
		}
		raws[i] = json.RawMessage(fmt.Sprintf("[%d,1]", v))
	}
	return input.JSONItems(raws)
}

func TestSubmitIdempotency(t *testing.T) {
	e := start(t, testConfig())
	ctx := context.Background()
	hash := func(s string) func() string { return func() string { return s } }
	first, _, err := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(5), IdempotencyKey: "k", BodyHash: hash("h1")})
	if err != nil {
		t.Fatal(err)
	}
	again, replayed, err := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(5), IdempotencyKey: "k", BodyHash: hash("h1")})
	if err != nil || !replayed || again.ID != first.ID {
		t.Fatalf("replay: %+v %v %v", again, replayed, err)
	}
	if _, _, err := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(5), IdempotencyKey: "k", BodyHash: hash("h2")}); code(err) != api.CodeConflict {
		t.Fatalf("same key, other body: %v", err)
	}
	if _, _, err := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(5), IdempotencyKey: strings.Repeat("k", 300)}); code(err) != api.CodeBadRequest {
		t.Fatalf("long key: %v", err)
	}
}

func TestJobStatusListCancel(t *testing.T) {
	e := start(t, testConfig())
	ctx := context.Background()
	a, _, _ := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(20)})
	b, _, _ := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(10)})
	e.complete(b, 0)
	if st, err := e.svc.Job(ctx, b.ID); err != nil || st.State != wire.StateCompleted || st.Done != 10 {
		t.Fatalf("completed job: %+v %v", st, err)
	}
	page, err := e.svc.Jobs(ctx, JobQuery{Limit: 10})
	if err != nil || len(page.Jobs) != 2 || page.Jobs[0].ID != b.ID || page.Jobs[1].ID != a.ID || page.NextCursor != "" || page.Total != 2 {
		t.Fatalf("list %+v %v, want newest first", page, err)
	}
	if _, err := e.svc.Cancel(ctx, b.ID); code(err) != api.CodeConflict {
		t.Fatalf("cancel of a completed job: %v", err)
	}
	st, err := e.svc.Cancel(ctx, a.ID)
	if err != nil || st.State != wire.StateCancelled {
		t.Fatalf("cancel: %+v %v", st, err)
	}
	for _, id := range []string{"j0000000000000000000000", "../../etc", ""} {
		if _, err := e.svc.Job(ctx, id); code(err) != api.CodeUnknownJob {
			t.Fatalf("job %q: %v", id, err)
		}
	}
}

func TestResultsPagesAndStream(t *testing.T) {
	e := start(t, testConfig())
	ctx := context.Background()
	st, _, _ := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(25)})
	e.complete(st, 0, 2)
	page, err := e.svc.Results(ctx, st.ID, 5, 15)
	if err != nil || page.Complete || len(page.Items) != 5 || page.Items[0].Index != 5 || *page.NextOffset != 20 {
		t.Fatalf("page with chunk 1 missing: %+v %v", page, err)
	}
	if _, err := e.svc.Results(ctx, st.ID, 25, 10); code(err) != api.CodeBadRequest {
		t.Fatalf("offset past the end: %v", err)
	}
	rs, err := e.svc.StreamResults(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	waited := make(chan struct{}, 1)
	stop, worker := make(chan struct{}), make(chan struct{})
	go func() { // chunk 1 arrives while the stream waits
		defer close(worker)
		select {
		case <-waited:
			e.complete(st, 1)
		case <-stop:
		}
	}()
	// The stream may end as soon as chunk 1 is stored, before the worker's
	// part has counted it: wait for it before the connection closes.
	defer func() { close(stop); <-worker }()
	if got := readStream(t, ctx, rs, waited); len(got) != 3 || got[0] != 0 || got[1] != 1 || got[2] != 2 {
		t.Fatalf("chunks %v, want in order 0 1 2", got)
	}
}

// readStream reads rs to its end and returns its chunks in the order
// read; each time the stream waits, waited is signalled (never blocking).
func readStream(t *testing.T, ctx context.Context, rs *ResultStream, waited chan<- struct{}) []int {
	t.Helper()
	var got []int
	for {
		data, err := rs.Next(ctx, func() error {
			select {
			case waited <- struct{}{}:
			default:
			}
			return nil
		})
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		var cr wire.ChunkResult
		if err := json.Unmarshal(data, &cr); err != nil {
			t.Fatal(err)
		}
		got = append(got, cr.Chunk)
	}
}

// recorder is a Sink keeping what a follower sent.
type recorder struct {
	mu    sync.Mutex
	seqs  []uint64
	last  uint64
	state string
	ended chan struct{}
}

func (r *recorder) Results(_ context.Context, s StoredResult) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seqs = append(r.seqs, s.Seq)
	return nil
}
func (r *recorder) Progress(context.Context, wire.JobStatus) error { return nil }
func (r *recorder) End(_ context.Context, st wire.JobStatus, last uint64) error {
	r.state, r.last = st.State, last
	close(r.ended)
	return nil
}
func (r *recorder) Gone(context.Context, *api.Error) error { return nil }

func TestFollowStreamsFromTheCursorToEnd(t *testing.T) {
	e := start(t, testConfig())
	ctx := context.Background()
	st, _, _ := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(30)})
	e.complete(st, 0)
	f, err := e.svc.Follow(ctx, FollowRequest{Job: st.ID, Results: true})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{ended: make(chan struct{})}
	go f.Run(rec, func() {})
	e.complete(st, 1, 2) // while it follows
	select {
	case <-rec.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("no end")
	}
	if len(rec.seqs) != 3 || rec.state != wire.StateCompleted || rec.last != rec.seqs[2] {
		t.Fatalf("seqs %v, end %s at %d", rec.seqs, rec.state, rec.last)
	}
	// From the cursor of the first result: the two later ones only.
	f2, _ := e.svc.Follow(ctx, FollowRequest{Job: st.ID, After: rec.seqs[0], Results: true})
	rec2 := &recorder{ended: make(chan struct{})}
	f2.Run(rec2, func() {})
	if len(rec2.seqs) != 2 || rec2.seqs[0] != rec.seqs[1] {
		t.Fatalf("resumed seqs %v, want %v", rec2.seqs, rec.seqs[1:])
	}
	if s := e.svc.Stats(); s.Followers != 0 || s.FeedWatchers != 0 {
		t.Fatalf("followers left behind: %+v", s)
	}
	if _, err := e.svc.Follow(ctx, FollowRequest{Job: "j0000000000000000000000"}); code(err) != api.CodeUnknownJob {
		t.Fatalf("unknown job: %v", err)
	}
}

func TestFollowerLimitIsBusy(t *testing.T) {
	cfg := testConfig()
	cfg.MaxSubscriptions = 1
	e := start(t, cfg)
	ctx := context.Background()
	st, _, _ := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(5)})
	f, err := e.svc.Follow(ctx, FollowRequest{Job: st.ID})
	if err != nil {
		t.Fatal(err)
	}
	var ae *api.Error
	if _, err := e.svc.Follow(ctx, FollowRequest{Job: st.ID}); !errors.As(err, &ae) || ae.Code != api.CodeBusy || ae.RetryAfter <= 0 {
		t.Fatalf("second follower: %v", err)
	}
	if r := e.svc.Ready(); r != "" {
		t.Fatalf("ready %q at the limit: a full gateway stays in service (new followers get busy)", r)
	}
	f.Stop()
	if _, err := e.svc.Follow(ctx, FollowRequest{Job: st.ID}); err != nil {
		t.Fatalf("a follower after the first stopped: %v", err)
	}
}

// A tenant at its own follower limit gets quota_exceeded; another tenant
// still follows; every slot comes back.
func TestTenantFollowerLimit(t *testing.T) {
	e := start(t, testConfig())
	hog := auth.With(context.Background(), &auth.Principal{Tenant: "hog", Limits: auth.Limits{Follows: 2}})
	other := auth.With(context.Background(), &auth.Principal{Tenant: "other", Limits: auth.Limits{Follows: 2}})
	var fs []Follower
	for _, ctx := range []context.Context{hog, hog, other} {
		st, _, err := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(5)})
		if err != nil {
			t.Fatal(err)
		}
		f, err := e.svc.Follow(ctx, FollowRequest{Job: st.ID})
		if err != nil {
			t.Fatalf("follow within the limit: %v", err)
		}
		fs = append(fs, f)
		if ctx == hog && len(fs) == 2 {
			if _, err := e.svc.Follow(hog, FollowRequest{Job: st.ID}); code(err) != api.CodeQuotaExceeded {
				t.Fatalf("third follower of the tenant: %v", err)
			}
		}
	}
	for _, f := range fs {
		f.Stop()
	}
	if st := e.svc.Stats(); st.Followers != 0 || st.FollowTenants != 0 {
		t.Fatalf("after stopping: %+v", st)
	}
}

func TestPredictTimeoutsAndBounds(t *testing.T) {
	e := start(t, testConfig())
	ctx := context.Background()
	in := []json.RawMessage{[]byte("[1,2]")}
	for _, d := range []time.Duration{time.Nanosecond, 2 * time.Second} {
		if _, err := e.svc.Predict(ctx, PredictRequest{Model: "tiny", Inputs: in, Timeout: d}); code(err) != api.CodeBadRequest {
			t.Fatalf("timeout %s: %v", d, err)
		}
	}
	if _, err := e.svc.Predict(ctx, PredictRequest{Model: "tiny", Inputs: make([]json.RawMessage, 5)}); code(err) != api.CodeTooManyItems {
		t.Fatalf("too many sync items: %v", err)
	}
	// No worker: the request times out with timeout (504), not internal.
	if _, err := e.svc.Predict(ctx, PredictRequest{Model: "tiny", Inputs: in, Timeout: 50 * time.Millisecond}); code(err) != api.CodeTimeout {
		t.Fatalf("no worker: %v", err)
	}
	// The message's wait ends with the last deadline of its calls.
	deadline := time.Now().Add(5 * time.Second)
	for e.svc.Stats().InboxWaiting != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d replies still awaited", e.svc.Stats().InboxWaiting)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConfigValidation(t *testing.T) {
	bad := testConfig()
	bad.MinSyncTimeout = 2 * time.Second // above SyncTimeout
	if err := bad.Validate(); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "MinSyncTimeout") {
		t.Fatalf("%v", err)
	}
	if err := testConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestTinyModelIsValid(t *testing.T) {
	if err := tinyModel.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestJobsPagesAndFilters(t *testing.T) {
	cfg := testConfig()
	cfg.MaxJobsScanned = 3
	e := start(t, cfg)
	ctx := context.Background()
	var ids []string // oldest first
	for i := range 8 {
		st, _, err := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(5), Name: fmt.Sprintf("in-%d.csv", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, st.ID)
		if i%3 == 0 {
			e.complete(st, 0)
		}
	}
	if _, err := e.svc.Cancel(ctx, ids[7]); err != nil {
		t.Fatal(err)
	}
	newest := slices.Clone(ids)
	slices.Reverse(newest)
	// all pages of a query: the jobs' ids, and every page's total
	pages := func(q JobQuery) (got []string, totals []int) {
		t.Helper()
		for n := 0; ; n++ {
			page, err := e.svc.Jobs(ctx, q)
			if err != nil || n > 20 {
				t.Fatalf("page %d of %+v: %v", n, q, err)
			}
			for _, j := range page.Jobs {
				got = append(got, j.ID)
			}
			totals = append(totals, page.Total)
			if page.NextCursor == "" {
				return got, totals
			}
			q.Cursor = page.NextCursor
		}
	}
	for _, tc := range []struct {
		name   string
		q      JobQuery
		want   []string
		totals []int
	}{
		{"pages of 3, newest first", JobQuery{Limit: 3}, newest, []int{8, 8, 8}},
		{"one page", JobQuery{Limit: 8}, newest, []int{8}},
		{"completed, at most 3 records read per page", JobQuery{Limit: 10, States: []string{"completed"}},
			[]string{ids[6], ids[3], ids[0]}, []int{-1, -1, -1}},
		{"queued or cancelled", JobQuery{Limit: 10, States: []string{"queued", "cancelled"}},
			[]string{ids[7], ids[5], ids[4], ids[2], ids[1]}, []int{-1, -1, -1}},
		{"a state this server does not produce", JobQuery{Limit: 10, States: []string{"expired"}}, nil, []int{-1, -1, -1}},
		{"model by name", JobQuery{Limit: 8, Model: "tiny"}, newest, []int{-1, -1, -1}},
		{"model by name:version", JobQuery{Limit: 8, Model: "tiny:1"}, newest, []int{-1, -1, -1}},
		{"another model", JobQuery{Limit: 8, Model: "tiny:2"}, nil, []int{-1, -1, -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, totals := pages(tc.q)
			if !slices.Equal(got, tc.want) || !slices.Equal(totals, tc.totals) {
				t.Fatalf("jobs %v totals %v, want %v %v", got, totals, tc.want, tc.totals)
			}
		})
	}
	first, _ := e.svc.Jobs(ctx, JobQuery{Limit: 1})
	if first.Jobs[0].Name != "in-7.csv" {
		t.Fatalf("listed name %q", first.Jobs[0].Name)
	}
	for _, q := range []JobQuery{
		{Limit: 0}, {Limit: 51}, {Limit: 5, Cursor: "not-an-id"}, {Limit: 5, Model: "../x"}, {Limit: 5, Model: "tiny:"},
		{Limit: 5, States: []string{"done"}},
	} {
		if _, err := e.svc.Jobs(ctx, q); code(err) != api.CodeBadRequest {
			t.Errorf("%+v: %v, want bad_request", q, err)
		}
	}
}

func TestJobNames(t *testing.T) {
	e := start(t, testConfig())
	ctx := context.Background()
	for _, tc := range []struct {
		in, want string
		code     api.Code
	}{
		{"", "", ""},
		{"digits.ndjson", "digits.ndjson", ""},
		{`C:\Users\me\data.csv`, "data.csv", ""},
		{"  /tmp/x/échantillon 1.csv ", "échantillon 1.csv", ""},
		{strings.Repeat("n", 32), strings.Repeat("n", 32), ""},
		{strings.Repeat("n", 33), "", api.CodeBadRequest},
		{"a\x00b", "", api.CodeBadRequest},
		{"line\nbreak", "", api.CodeBadRequest},
		{"evil\u202egnp.exe", "", api.CodeBadRequest},
		{"\xff\xfe", "", api.CodeBadRequest},
	} {
		st, _, err := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(1), Name: tc.in})
		if code(err) != tc.code || (tc.code == "" && st.Name != tc.want) {
			t.Errorf("name %q: %q %v, want %q %s", tc.in, st.Name, err, tc.want, tc.code)
		}
		if tc.code == "" {
			if got, err := e.svc.Job(ctx, st.ID); err != nil || got.Name != tc.want {
				t.Errorf("stored name %q %v, want %q", got.Name, err, tc.want)
			}
		}
	}
}

// TestResultStreamReadsEachChunkOnce: a stream that keeps up with its job
// reads each chunk once, not a miss and then the chunk, and gets every
// chunk in order when they are counted in another order.
func TestResultStreamReadsEachChunkOnce(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order [][]int // the chunks counted each time the stream waits
		reads int     // at most this many reads of the results stream
	}{
		{"in order", [][]int{{0}, {1}, {2}, {3}, {4}, {5}}, 6 + 2},
		{"out of order", [][]int{{1}, {0}, {3, 2}, {5}, {4}}, 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, testConfig())
			ctx := context.Background()
			st, _, _ := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(60)})
			var reads atomic.Int64
			for _, subj := range []string{"$JS.API.DIRECT.GET." + wire.StreamResults + ".>", "$JS.API.DIRECT.GET." + wire.StreamResults, "$JS.API.STREAM.MSG.GET." + wire.StreamResults} {
				sub, err := e.in.NC.Subscribe(subj, func(*nats.Msg) { reads.Add(1) })
				if err != nil {
					t.Fatal(err)
				}
				defer sub.Unsubscribe()
			}
			if err := e.in.NC.Flush(); err != nil {
				t.Fatal(err)
			}
			rs, err := e.svc.StreamResults(ctx, st.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			waited := make(chan struct{}, 1)
			stop, worker := make(chan struct{}), make(chan struct{})
			go func() { // counts the next chunks each time the stream waits
				defer close(worker)
				for _, chunks := range tc.order {
					select {
					case <-waited:
						e.complete(st, chunks...)
					case <-stop:
						return
					}
				}
			}()
			defer func() { close(stop); <-worker }()
			got := readStream(t, ctx, rs, waited)
			if !slices.Equal(got, []int{0, 1, 2, 3, 4, 5}) {
				t.Fatalf("chunks %v, want 0 to 5 in order", got)
			}
			_ = e.in.NC.Flush()
			if n := reads.Load(); n > int64(tc.reads) {
				t.Errorf("%d reads of the results for 6 chunks, want at most %d", n, tc.reads)
			}
		})
	}
}
