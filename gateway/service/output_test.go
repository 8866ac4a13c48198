package service

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/auth"
	"batchinfer/gateway/output"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"
)

// files are the four files of a job.
var files = []struct {
	kind   output.Kind
	format string
}{{output.KindOutput, "ndjson"}, {output.KindOutput, "csv"}, {output.KindErrors, "ndjson"}, {output.KindErrors, "csv"}}

// failing says which items completeMixed fails.
func failing(i int) bool { return i%7 == 3 }

// completeMixed plays the worker for chunks: items failing() fail with a
// reason naming their line (a CSV-hostile one), the others succeed with
// both probabilities.
func (e *env) completeMixed(st wire.JobStatus, chunks ...int) {
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
			it := wire.ItemResult{Index: i, Line: i + 1}
			if failing(i) {
				it.Error = fmt.Sprintf("invalid input (line %d): \"bad\", really", i+1)
				cr.Failed++
			} else {
				cl := i % 2
				it.Class, it.Label, it.Score, it.Probabilities = &cl, tinyModel.Labels[cl], 0.75, []float32{0.75, 0.25}
				if cl == 1 {
					it.Probabilities = []float32{0.25, 0.75}
				}
				cr.Done++
			}
			cr.Items = append(cr.Items, it)
		}
		stored, size, err := results.Put(ctx, cr, cr.AppendJSON(nil))
		if err == nil {
			err = jobs.Count(ctx, stored.Job, wire.ChunkCount{Chunk: stored.Chunk, Done: stored.Done, Failed: stored.Failed, Bytes: int64(size)})
		}
		if err != nil {
			e.t.Fatal(err)
		}
	}
}

func chunkList(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// read is bytes [from, to) of f.
func read(t *testing.T, f *File, from, to int64) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := f.WriteRange(context.Background(), &b, from, to); err != nil {
		t.Fatalf("range %d-%d: %v", from, to, err)
	}
	return b.Bytes()
}

// Every range of every file is the same bytes as the whole file's, which
// is exactly the job's items: the index (several pages here) maps offsets
// to chunks right, and Size is exact.
func TestOutputFilesServeEveryRangeExactly(t *testing.T) {
	e := start(t, testConfig())
	e.svc.pageChunks = 3 // 10 chunks: four pages
	ctx := context.Background()
	st, _, err := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(95)})
	if err != nil {
		t.Fatal(err)
	}
	e.completeMixed(st, chunkList(10)...)
	for _, fc := range files {
		f, err := e.svc.OpenFile(ctx, st.ID, fc.kind, fc.format)
		if err != nil {
			t.Fatal(err)
		}
		whole := read(t, f, 0, f.Size())
		if int64(len(whole)) != f.Size() {
			t.Fatalf("%s: %d bytes, Size says %d", f.Name(), len(whole), f.Size())
		}
		checkContent(t, fc.kind, fc.format, whole, 95)
		rng := rand.New(rand.NewPCG(1, 2))
		for k := 0; k < 300; k++ {
			a := rng.Int64N(f.Size() + 1)
			b := a + rng.Int64N(f.Size()-a+1)
			if k < 3 { // the edges: the header alone, the last byte, nothing
				a, b = [3]int64{0, f.Size() - 1, f.Size()}[k], [3]int64{f.idx.HeaderBytes, f.Size(), f.Size()}[k]
			}
			if got := read(t, f, a, b); !bytes.Equal(got, whole[a:b]) {
				t.Fatalf("%s range %d-%d differs from the whole file's bytes", f.Name(), a, b)
			}
		}
		f.Close()
	}
	if n := e.svc.Stats().Downloads; n != 0 {
		t.Fatalf("%d downloads left open", n)
	}
}

// checkContent checks a whole file against what completeMixed stored.
func checkContent(t *testing.T, kind output.Kind, format string, whole []byte, total int) {
	t.Helper()
	var rows [][]string
	switch format {
	case "csv":
		all, err := csv.NewReader(bytes.NewReader(whole)).ReadAll()
		if err != nil {
			t.Fatalf("%s.csv: %v", kind, err)
		}
		rows = all[1:]
		if want := "index,line,id,status,label,class,score,error,p_a,p_b"; kind == output.KindOutput && strings.Join(all[0], ",") != want {
			t.Fatalf("header %v, want %s", all[0], want)
		}
	default:
		for _, l := range strings.Split(strings.TrimSuffix(string(whole), "\n"), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("%s.ndjson line %q: %v", kind, l, err)
			}
			rows = append(rows, []string{fmt.Sprint(m["index"]), fmt.Sprint(m["line"]), fmt.Sprint(m["error"], m["reason"])})
		}
	}
	var want []int
	for i := 0; i < total; i++ {
		if kind == output.KindOutput || failing(i) {
			want = append(want, i)
		}
	}
	if len(rows) != len(want) {
		t.Fatalf("%s.%s: %d rows, want %d", kind, format, len(rows), len(want))
	}
	for k, r := range rows {
		if r[0] != fmt.Sprint(want[k]) || r[1] != fmt.Sprint(want[k]+1) {
			t.Fatalf("%s.%s row %d: %v, want index %d line %d", kind, format, k, r, want[k], want[k]+1)
		}
		if failing(want[k]) != strings.Contains(strings.Join(r, ","), `"bad", really`) {
			t.Fatalf("%s.%s row %d: %v: reason", kind, format, k, r)
		}
	}
}

// Files exist for finished jobs of the caller only; what the request gets
// wrong is a clear error.
func TestOutputFileRefusals(t *testing.T) {
	e := start(t, testConfig())
	ctx := context.Background()
	running, _, _ := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(25)})
	e.completeMixed(running, 0)
	done, _, _ := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(5)})
	e.completeMixed(done, 0)
	other := auth.With(ctx, &auth.Principal{Tenant: "other", KeyID: "k", Role: auth.RoleUser})
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		id     string
		format string
		want   api.Code
	}{
		{"running", ctx, running.ID, "csv", api.CodeConflict},
		{"unknown format", ctx, done.ID, "parquet", api.CodeBadRequest},
		{"unknown job", ctx, "j0000000000000000000000", "", api.CodeUnknownJob},
		{"malformed id", ctx, "../x", "", api.CodeUnknownJob},
		{"another tenant's", other, done.ID, "", api.CodeUnknownJob},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := e.svc.OpenFile(tc.ctx, tc.id, output.KindOutput, tc.format)
			if code(err) != tc.want {
				t.Fatalf("error %v, want %s", err, tc.want)
			}
			if f != nil {
				f.Close()
			}
		})
	}
	_, err := e.svc.OpenFile(ctx, running.ID, output.KindErrors, "")
	var ae *api.Error
	if !errors.As(err, &ae) || ae.RetryAfter <= 0 || !strings.Contains(ae.Message, "10 of 25 items") {
		t.Fatalf("running job: %v, want a retry hint and the counts", err)
	}
	if n := e.svc.Stats().Downloads; n != 0 {
		t.Fatalf("%d download slots taken by refusals", n)
	}
}

// The index is built once and reused; a failed job whose late chunk is
// counted after the failure gets a new one (and a new ETag); expiry
// purges a job's indexes.
func TestOutputIndexReuseRebuildAndExpiry(t *testing.T) {
	e := start(t, testConfig())
	ctx := context.Background()
	st, _, _ := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(30)})
	e.completeMixed(st, 0)
	jobs := store.NewJobs(e.in)
	if _, err := jobs.Fail(ctx, st.ID, "too many invalid rows"); err != nil {
		t.Fatal(err)
	}
	open := func() (*File, []byte) {
		f, err := e.svc.OpenFile(ctx, st.ID, output.KindOutput, "csv")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		return f, read(t, f, 0, f.Size())
	}
	f1, b1 := open()
	if got := strings.Count(string(b1), "skipped,,,,too many invalid rows"); got != 20 {
		t.Fatalf("%d items skipped with the job's error, want 20:\n%s", got, b1)
	}
	f2, _ := open()
	if !f2.idx.BuiltAt.Equal(f1.idx.BuiltAt) || f2.ETag() != f1.ETag() {
		t.Fatal("the index was built again for the same outcome")
	}
	e.completeMixed(st, 1) // a chunk in flight when the job failed
	f3, b3 := open()
	if f3.ETag() == f1.ETag() || strings.Count(string(b3), "too many invalid rows") != 10 {
		t.Fatalf("after a late count: same ETag %v, or\n%s", f3.ETag() == f1.ETag(), b3)
	}
	before := entries(t, e)
	if before == 0 {
		t.Fatal("no index stored")
	}
	rec, err := jobs.Update(ctx, st.ID, func(r *wire.JobRecord) bool {
		past := time.Now().Add(-time.Minute)
		r.ExpiresAt = &past
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	ex := &expirer{jobs: jobs, results: e.svc.results, outputs: e.svc.outputs, recordTTL: time.Hour, expired: func() {}}
	if err := ex.expire(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if n := entries(t, e); n != 0 {
		t.Fatalf("%d index entries after expiry", n)
	}
	if _, err := e.svc.OpenFile(ctx, st.ID, output.KindOutput, "csv"); code(err) != api.CodeExpired {
		t.Fatalf("expired job: %v", err)
	}
}

func entries(t *testing.T, e *env) uint64 {
	t.Helper()
	n, err := e.svc.outputs.Entries(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A wrong index (a chunk renders to another length) fails the download
// rather than send wrong bytes, and is dropped: the next one rebuilds it.
func TestOutputIndexDriftIsCaught(t *testing.T) {
	e := start(t, testConfig())
	ctx := context.Background()
	st, _, _ := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(20)})
	e.completeMixed(st, 0, 1)
	f, err := e.svc.OpenFile(ctx, st.ID, output.KindOutput, "ndjson")
	if err != nil {
		t.Fatal(err)
	}
	want := read(t, f, 0, f.Size())
	f.Close()
	if err := e.svc.outputs.PutPage(ctx, st.ID, "output.ndjson", 0, []int64{5, 5}); err != nil {
		t.Fatal(err)
	}
	f, _ = e.svc.OpenFile(ctx, st.ID, output.KindOutput, "ndjson")
	err = f.WriteRange(ctx, &bytes.Buffer{}, 0, f.Size())
	f.Close()
	if !errors.Is(err, errRenderDrift) {
		t.Fatalf("drift: %v", err)
	}
	f, err = e.svc.OpenFile(ctx, st.ID, output.KindOutput, "ndjson")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := read(t, f, 0, f.Size()); !bytes.Equal(got, want) {
		t.Fatal("the rebuilt index serves other bytes")
	}
}

// Downloads are bounded per gateway: beyond MaxDownloads, busy.
func TestOutputDownloadSlots(t *testing.T) {
	cfg := testConfig()
	cfg.MaxDownloads = 2
	e := start(t, cfg)
	ctx := context.Background()
	st, _, _ := e.svc.Submit(ctx, Submission{Model: "tiny", Items: rows(5)})
	e.completeMixed(st, 0)
	a, err := e.svc.OpenFile(ctx, st.ID, output.KindOutput, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.svc.OpenFile(ctx, st.ID, output.KindErrors, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.OpenFile(ctx, st.ID, output.KindOutput, "csv"); code(err) != api.CodeBusy {
		t.Fatalf("a third download: %v, want busy", err)
	}
	a.Close()
	a.Close() // twice: one slot given back
	c, err := e.svc.OpenFile(ctx, st.ID, output.KindOutput, "csv")
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	c.Close()
	if n := e.svc.Stats().Downloads; n != 0 {
		t.Fatalf("%d slots taken", n)
	}
}
