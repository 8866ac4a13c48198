package system

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/auth"
	"batchinfer/internal/natsx"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"
	"batchinfer/worker"

	"github.com/rs/zerolog"
)

// A third tenant, a user, for the tests of who sees which letters.
const (
	TenantC, KeyC = "tenant-c", "bik_test_key_of_tenant_c"
)

// threeTenants are the keys of A (operator), B and C (users).
func threeTenants() []string {
	return []string{
		TenantA + " " + auth.HashKey(KeyA) + " role=operator id=key-a rate=100000 burst=100000",
		TenantB + " " + auth.HashKey(KeyB) + " id=key-b rate=100000 burst=100000",
		TenantC + " " + auth.HashKey(KeyC) + " id=key-c rate=100000 burst=100000",
	}
}

// poisoned fails every batch holding the poison input (all 64 pixels 16)
// while broken is set, as a model that crashes on one input would.
type poisoned struct {
	worker.Predictor
	broken *atomic.Bool
}

func (p poisoned) Predict(in []float32, n int) ([]float32, error) {
	if p.broken.Load() {
		for i := 0; i < n; i++ {
			if isPoison(in[i*64 : (i+1)*64]) {
				return nil, errors.New("injected failure on the poison input")
			}
		}
	}
	return p.Predictor.Predict(in, n)
}

func poison() []float32 {
	p := make([]float32, 64)
	for i := range p {
		p[i] = 16
	}
	return p
}

func isPoison(row []float32) bool {
	for _, v := range row {
		if v != 16 {
			return false
		}
	}
	return true
}

// deadLetter is a letter as the API lists it.
type deadLetter struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Job        string    `json:"job"`
	Chunk      int       `json:"chunk"`
	Start      int       `json:"start"`
	Count      int       `json:"count"`
	Model      string    `json:"model"`
	Tenant     string    `json:"tenant"`
	Reason     string    `json:"reason"`
	Deliveries int       `json:"deliveries"`
	DeadAt     time.Time `json:"dead_at"`
}

func (s *System) letters(t *testing.T, query string) []deadLetter {
	t.Helper()
	var all []deadLetter
	cursor := ""
	for {
		var page struct {
			Letters    []deadLetter `json:"letters"`
			NextCursor string       `json:"next_cursor"`
		}
		if code := s.GetJSON("/v1/deadletters?limit=1000&"+query+"&cursor="+cursor, &page); code != http.StatusOK {
			t.Fatalf("list letters %s: %d", query, code)
		}
		all = append(all, page.Letters...)
		if page.NextCursor == "" {
			return all
		}
		cursor = page.NextCursor
	}
}

// A chunk whose every delivery fails is dead-lettered with its payload;
// its tenant (and operators) see it, others do not; redriven into a healthy
// model, its items land in the job exactly once (counts, results page,
// output file); a second redrive is 409.
func TestDeadLetterRedriveExactlyOnce(t *testing.T) {
	var broken atomic.Bool
	broken.Store(true)
	s := Start(t, Options{
		Keys: threeTenants(),
		Models: func(ps []worker.Predictor) []worker.Predictor {
			for i, p := range ps {
				if p.Meta().Name == "digits" {
					ps[i] = poisoned{p, &broken}
				}
			}
			return ps
		},
		Worker:  func(c *worker.Config) { c.MaxDeliver = 2; c.Prefetch, c.PrefetchMax = 1, 1 },
		Gateway: chunksOf256,
	})
	b, c := s.As(KeyB), s.As(KeyC)
	inputs, labels := DigitInputs(t, 700)
	inputs[300] = poison() // chunk 1 (items 256..511) dies
	job := b.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	if st := b.waitJob(t, job.ID, 60*time.Second); st.Done != 700-256 || st.Failed != 256 || st.State != "completed" {
		t.Fatalf("before the redrive %+v", st)
	}
	ls := b.letters(t, "job="+job.ID)
	if len(ls) != 1 {
		t.Fatalf("letters %+v", ls)
	}
	l := ls[0]
	if l.Kind != "batch" || l.Chunk != 1 || l.Start != 256 || l.Count != 256 || l.Model != "digits" || l.Tenant != TenantB ||
		!strings.Contains(l.Reason, "injected failure") || l.Deliveries != 2 || time.Since(l.DeadAt) > time.Minute {
		t.Fatalf("letter %+v", l)
	}
	checkPayload(t, b, l.ID, inputs[256:512], 256)
	if got := s.letters(t, "tenant="+TenantB+"&model=digits:1"); len(got) != 1 || got[0].ID != l.ID { // the operator, filtered
		t.Fatalf("the operator's listing %+v", got)
	}
	checkOthersSeeNothing(t, c, l.ID)

	broken.Store(false)
	red := redriveRace(t, b, l.ID, 4)
	if red.Job.ID != job.ID || red.Letter != l.ID {
		t.Fatalf("redrive %+v", red)
	}
	st := b.waitJob(t, job.ID, 60*time.Second)
	if st.Done != 700 || st.Failed != 0 || st.State != "completed" {
		t.Fatalf("after the redrive %+v", st)
	}
	for _, it := range b.allResults(t, job.ID, 700) {
		if it.Error != "" || it.Index != 300 && (it.Class == nil || *it.Class != labels[it.Index]) {
			t.Fatalf("item %d: %+v", it.Index, it)
		}
	}
	checkOutputFile(t, b, job.ID, 700)
	var e apiError
	if code := b.PostJSON("/v1/deadletters/"+l.ID+"/redrive", nil, &e); code != http.StatusConflict || !strings.Contains(e.Error.Message, "was redriven") {
		t.Fatalf("second redrive: %d %+v", code, e)
	}
	if code := c.PostJSON("/v1/deadletters/"+l.ID+"/redrive", nil, &e); code != http.StatusNotFound {
		t.Fatalf("another tenant's second redrive: %d %+v", code, e)
	}
	if got := b.letters(t, "job="+job.ID); len(got) != 0 {
		t.Fatalf("letters after the redrive %+v", got)
	}
}

// redriveRace redrives a letter from n requests at once: exactly one is
// accepted, the others are 409.
func redriveRace(t *testing.T, s *System, id string, n int) api.Redriven {
	t.Helper()
	type answer struct {
		code int
		body []byte
	}
	answers := make(chan answer, n)
	for range n {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, s.BaseURL+"/v1/deadletters/"+id+"/redrive", nil)
			req.Header.Set("Authorization", "Bearer "+s.Key)
			resp, err := client.Do(req)
			if err != nil {
				answers <- answer{code: -1, body: []byte(err.Error())}
				return
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(resp.Body)
			answers <- answer{resp.StatusCode, buf.Bytes()}
		}()
	}
	var won api.Redriven
	accepted := 0
	for range n {
		a := <-answers
		switch a.code {
		case http.StatusAccepted:
			accepted++
			if err := json.Unmarshal(a.body, &won); err != nil {
				t.Fatal(err)
			}
		case http.StatusConflict:
		default:
			t.Fatalf("redrive: %d %s", a.code, a.body)
		}
	}
	if accepted != 1 {
		t.Fatalf("%d of %d racing redrives accepted, want 1", accepted, n)
	}
	return won
}

// checkPayload reads a letter's payload in pages and compares it with the
// inputs submitted.
func checkPayload(t *testing.T, s *System, id string, want [][]float32, start int) {
	t.Helper()
	got, offset := 0, 0
	for {
		var d api.DeadLetterDetail
		if code := s.GetJSON(fmt.Sprintf("/v1/deadletters/%s?offset=%d&limit=100", id, offset), &d); code != http.StatusOK {
			t.Fatalf("show letter %s at %d: %d", id, offset, code)
		}
		for _, it := range d.Items {
			raw, err := base64.StdEncoding.DecodeString(it.DataB64)
			if err != nil || it.Kind != "tensor" || len(raw) != 64*4 || it.Index != start+got {
				t.Fatalf("item %+v: %v", it, err)
			}
			for k := 0; k < 64; k++ {
				if v := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*k:])); v != want[got][k] {
					t.Fatalf("item %d value %d: %v, want %v", it.Index, k, v, want[got][k])
				}
			}
			got++
		}
		if d.NextOffset == nil {
			break
		}
		offset = *d.NextOffset
	}
	if got != len(want) {
		t.Fatalf("payload of %d items, want %d", got, len(want))
	}
}

// checkOthersSeeNothing: to another tenant the letter does not exist.
func checkOthersSeeNothing(t *testing.T, c *System, id string) {
	t.Helper()
	if got := c.letters(t, ""); len(got) != 0 {
		t.Fatalf("tenant C lists %+v", got)
	}
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/v1/deadletters/" + id}, {http.MethodPost, "/v1/deadletters/" + id + "/redrive"},
		{http.MethodDelete, "/v1/deadletters/" + id}, {http.MethodGet, "/v1/deadletters/999999"},
		{http.MethodGet, "/v1/deadletters/not-an-id"},
	} {
		var e apiError
		if code, _, _ := c.Do(r.method, r.path, "", nil, &e); code != http.StatusNotFound || e.Error.Code != "not_found" {
			t.Fatalf("tenant C %s %s: %d %+v", r.method, r.path, code, e)
		}
	}
	var e apiError
	if code := c.GetJSON("/v1/deadletters?tenant="+TenantB, &e); code != http.StatusForbidden {
		t.Fatalf("tenant C listing B's: %d %+v", code, e)
	}
}

// checkOutputFile reads a finished job's NDJSON output file: each index
// once, none failed.
func checkOutputFile(t *testing.T, s *System, id string, total int) {
	t.Helper()
	code, _, body := s.Do(http.MethodGet, "/v1/jobs/"+id+"/output", "", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("output file: %d %s", code, body)
	}
	seen := make([]bool, total)
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var it itemResult
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil || it.Index < 0 || it.Index >= total || seen[it.Index] || it.Error != "" {
			t.Fatalf("output line %q: %v", sc.Text(), err)
		}
		seen[it.Index] = true
		n++
	}
	if n != total {
		t.Fatalf("output file has %d lines, want %d", n, total)
	}
}

// Thousands of letters are listed a page at a time and purged, one by one
// and a job's at once, through the API; the dead-letter stream returns to
// what it held before, and nothing else is left on the server.
func TestDeadLettersListedAndPurgedReturnToBaseline(t *testing.T) {
	s := Start(t, Options{Keys: threeTenants()})
	b, c := s.As(KeyB), s.As(KeyC)
	in := s.infra(t)
	letters := store.NewDeadLetters(in)
	n := 2500
	if raceEnabled {
		n = 1200
	}
	baseMsgs, baseBytes := dlqState(t, in)
	consumers := s.Consumers()
	job := "j0000000000testpurge0000"
	putLetters(t, letters, TenantB, job, n)
	putLetters(t, letters, TenantC, "j0000000000otherjob00000", 10)

	got := b.letters(t, "")
	if len(got) != n {
		t.Fatalf("tenant B lists %d letters, want %d", len(got), n)
	}
	for i, l := range got {
		if l.Chunk != i || l.Job != job || l.Tenant != TenantB {
			t.Fatalf("letter %d: %+v", i, l)
		}
	}
	if len(c.letters(t, "")) != 10 || len(s.letters(t, "")) != n+10 || len(b.letters(t, "model=breast_cancer")) != 0 {
		t.Fatal("listings of C, of the operator or filtered by model")
	}
	var e apiError
	if code := b.PostJSON("/v1/deadletters/"+got[0].ID+"/redrive", nil, &e); code != http.StatusGone {
		t.Fatalf("redrive into a job that does not exist: %d %+v", code, e)
	}
	for _, l := range got[:50] {
		if code, _, body := b.Do(http.MethodDelete, "/v1/deadletters/"+l.ID, "", nil, nil); code != http.StatusNoContent {
			t.Fatalf("purge %s: %d %s", l.ID, code, body)
		}
	}
	if code, _, _ := b.Do(http.MethodDelete, "/v1/deadletters/"+got[0].ID, "", nil, &e); code != http.StatusNotFound {
		t.Fatalf("purge of a purged letter: %d %+v", code, e)
	}
	if code, _, _ := b.Do(http.MethodDelete, "/v1/deadletters", "", nil, &e); code != http.StatusBadRequest {
		t.Fatalf("purge without a job: %d %+v", code, e)
	}
	var purged api.Purged
	if code, _, body := b.Do(http.MethodDelete, "/v1/deadletters?job="+job, "", nil, &purged); code != http.StatusOK || purged.Purged != n-50 {
		t.Fatalf("purge the job's: %d %s", code, body)
	}
	if code, _, body := c.Do(http.MethodDelete, "/v1/deadletters?job="+job, "", nil, &purged); code != http.StatusOK || purged.Purged != 0 {
		t.Fatalf("tenant C purging B's job: %d %s", code, body) // nothing of its own there
	}
	if code, _, body := s.Do(http.MethodDelete, "/v1/deadletters?job=j0000000000otherjob00000", "", nil, &purged); code != http.StatusOK || purged.Purged != 10 {
		t.Fatalf("the operator purging C's job: %d %s", code, body)
	}
	checkSyncLetters(t, s, letters)
	msgs, bytes := dlqState(t, in)
	if msgs != baseMsgs || bytes != baseBytes || s.Consumers() != consumers {
		t.Fatalf("dead-letter stream %d messages %d bytes, consumers %d; before: %d, %d, %d", msgs, bytes, s.Consumers(), baseMsgs, baseBytes, consumers)
	}
}

// checkSyncLetters: the letters of synchronous requests are the
// operators' alone, shown with their payload, never redriven, purged one
// by one.
func checkSyncLetters(t *testing.T, s *System, letters *store.DeadLetters) {
	t.Helper()
	payload := wire.EncodeChunk(nil, []wire.Item{{Kind: wire.ItemImage, Data: []byte("\x89PNG")}, {Kind: wire.ItemTensor, Data: make([]byte, 8)}})
	for range 3 {
		l := &wire.DeadLetter{Kind: wire.LetterSync, Job: wire.SyncJob, Model: "digits", Version: "1", Count: 2, Reason: "test", DeadAt: time.Now()}
		if _, err := letters.Put(context.Background(), l, [][]byte{payload}, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	got := s.letters(t, "kind=sync")
	if len(got) != 3 || got[0].Kind != "sync" || got[0].Tenant != "" || len(s.letters(t, "")) != 0 {
		t.Fatalf("sync letters %+v", got)
	}
	var e apiError
	if code := s.As(KeyB).GetJSON("/v1/deadletters?kind=sync", &e); code != http.StatusForbidden {
		t.Fatalf("a user listing sync letters: %d %+v", code, e)
	}
	if code := s.As(KeyB).GetJSON("/v1/deadletters/"+got[0].ID, &e); code != http.StatusNotFound {
		t.Fatalf("a user reading a sync letter: %d %+v", code, e)
	}
	var d api.DeadLetterDetail
	if code := s.GetJSON("/v1/deadletters/"+got[0].ID, &d); code != http.StatusOK || len(d.Items) != 2 || d.Items[0].Kind != "image" || d.Items[1].Kind != "tensor" {
		t.Fatalf("sync letter: %d %+v", code, d)
	}
	if code := s.PostJSON("/v1/deadletters/"+got[0].ID+"/redrive", nil, &e); code != http.StatusConflict {
		t.Fatalf("redrive of a sync letter: %d %+v", code, e)
	}
	for _, l := range got {
		if code, _, body := s.Do(http.MethodDelete, "/v1/deadletters/"+l.ID, "", nil, nil); code != http.StatusNoContent {
			t.Fatalf("purge %s: %d %s", l.ID, code, body)
		}
	}
}

// putLetters keeps n letters of a job with a one-item payload each, as a
// worker would.
func putLetters(t *testing.T, letters *store.DeadLetters, tenant, job string, n int) {
	t.Helper()
	ctx := context.Background()
	payload := wire.EncodeChunk(nil, []wire.Item{{Kind: wire.ItemTensor, Data: make([]byte, 256)}})
	for i := range n {
		l := &wire.DeadLetter{Kind: wire.LetterBatch, Tenant: tenant, Job: job, Model: "digits", Version: "1", Chunk: i, Start: i, Count: 1,
			Reason: "test", Deliveries: 5, DeadAt: time.Now()}
		if _, err := letters.Put(ctx, l, [][]byte{payload}, 0); err != nil {
			t.Fatal(err)
		}
	}
}

func dlqState(t *testing.T, in *natsx.Infra) (uint64, uint64) {
	t.Helper()
	info, err := in.DeadLetter.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs, info.State.Bytes
}

// infra opens the system's streams on a connection of the test's own.
func (s *System) infra(t *testing.T) *natsx.Infra {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	in, err := natsx.Open(ctx, s.conn(), natsx.StreamConfig{}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	return in
}
