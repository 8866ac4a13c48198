package system

import (
	"batchinfer/api"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type itemResult struct {
	Index   int    `json:"index"`
	Label   string `json:"label"`
	Class   *int   `json:"class"`
	Error   string `json:"error"`
	Skipped bool   `json:"skipped"`
	Line    int    `json:"line"`
}

type jobStatus struct {
	ID      string `json:"id"`
	State   string `json:"state"`
	Total   int    `json:"total"`
	Done    int    `json:"done"`
	Failed  int    `json:"failed"`
	Skipped int    `json:"skipped"`
	Chunks  int    `json:"chunks"`
}

type submitResp struct {
	Job jobStatus `json:"job"`
}

type apiError struct {
	Error struct {
		Code    api.Code `json:"code"`
		Message string   `json:"message"`
		Details []struct {
			Item    *int   `json:"item"`
			Message string `json:"message"`
		} `json:"details"`
	} `json:"error"`
}

func (s *System) submit(t *testing.T, body any) jobStatus {
	t.Helper()
	var r submitResp
	if code := s.PostJSON("/v1/jobs", body, &r); code != http.StatusAccepted {
		t.Fatalf("submit: status %d", code)
	}
	return r.Job
}

func (s *System) waitJob(t *testing.T, id string, timeout time.Duration) jobStatus {
	t.Helper()
	var st jobStatus
	Eventually(t, timeout, func() error {
		st = jobStatus{}
		s.GetJSON("/v1/jobs/"+id, &st)
		if (st.Done+st.Failed+st.Skipped < st.Total || st.Total == 0) && st.State != "failed" {
			return fmt.Errorf("job %s: %+v", id, st)
		}
		return nil
	})
	return st
}

// allResults pages through a job's results and checks each index appears
// exactly once.
func (s *System) allResults(t *testing.T, id string, total int) []itemResult {
	t.Helper()
	out := make([]itemResult, 0, total)
	seen := make([]bool, total)
	offset := 0
	for {
		var page struct {
			Items      []itemResult `json:"items"`
			NextOffset *int         `json:"next_offset"`
			Complete   bool         `json:"complete"`
		}
		if code := s.GetJSON(fmt.Sprintf("/v1/jobs/%s/results?offset=%d&limit=700", id, offset), &page); code != 200 {
			t.Fatalf("results page at %d: %d", offset, code)
		}
		if !page.Complete {
			t.Fatalf("results page at %d incomplete", offset)
		}
		for _, it := range page.Items {
			if seen[it.Index] {
				t.Fatalf("item %d twice", it.Index)
			}
			seen[it.Index] = true
			out = append(out, it)
		}
		if page.NextOffset == nil {
			break
		}
		offset = *page.NextOffset
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("item %d missing", i)
		}
	}
	return out
}

func TestPredictDigitsMatchesLabels(t *testing.T) {
	s := Start(t, Options{})
	samples := DigitSamples(t)
	inputs := make([][]float32, len(samples))
	for i, x := range samples {
		inputs[i] = x.Pixels
	}
	var resp struct {
		Items []itemResult `json:"items"`
	}
	if code := s.PostJSON("/v1/models/digits/predict", map[string]any{"inputs": inputs}, &resp); code != 200 {
		t.Fatalf("predict: %d", code)
	}
	for i, it := range resp.Items {
		if it.Index != i || it.Class == nil || *it.Class != samples[i].Label {
			t.Errorf("item %d: got %+v, want class %d", i, it, samples[i].Label)
		}
	}
	// An image input, decoded and preprocessed by the worker.
	png, err := os.ReadFile(filepath.Join(RepoRoot(), "model", "testdata", "digits_7.png"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Items = nil
	if code := s.PostJSON("/v1/models/digits/predict?timeout=5s", map[string]any{"inputs": []any{map[string]any{"image": png}}}, &resp); code != 200 {
		t.Fatalf("predict image: %d", code)
	}
	if len(resp.Items) != 1 || resp.Items[0].Label != "7" {
		t.Fatalf("image predicted %+v, want 7", resp.Items)
	}
}

func TestBatchJobFormats(t *testing.T) {
	s := Start(t, Options{})
	inputs, labels := DigitInputs(t, 1000)
	var ndjson bytes.Buffer
	for _, in := range inputs {
		b, _ := json.Marshal(in)
		ndjson.Write(b)
		ndjson.WriteByte('\n')
	}
	csvBody, err := os.ReadFile(filepath.Join(RepoRoot(), "model", "testdata", "breast_cancer_sample.csv"))
	if err != nil {
		t.Fatal(err)
	}
	jsonBody, _ := json.Marshal(map[string]any{"model": "digits", "inputs": inputs})
	for _, tc := range []struct {
		name, ct, query string
		body            []byte
		total           int
		labels          []int
	}{
		{"json", "application/json", "", jsonBody, 1000, labels},
		{"ndjson", "application/x-ndjson", "?model=digits&version=1", ndjson.Bytes(), 1000, labels},
		{"csv", "text/csv", "?model=breast_cancer", csvBody, 50, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r submitResp
			code, hdr, b := s.Do(http.MethodPost, "/v1/jobs"+tc.query, tc.ct, tc.body, &r)
			if code != http.StatusAccepted {
				t.Fatalf("status %d: %s", code, b)
			}
			if hdr.Get("Location") != "/v1/jobs/"+r.Job.ID {
				t.Errorf("Location %q", hdr.Get("Location"))
			}
			st := s.waitJob(t, r.Job.ID, 30*time.Second)
			if st.State != "completed" || st.Done != tc.total || st.Failed != 0 {
				t.Fatalf("status %+v", st)
			}
			res := s.allResults(t, r.Job.ID, tc.total)
			for _, it := range res {
				if tc.labels != nil && (it.Class == nil || *it.Class != tc.labels[it.Index]) {
					t.Fatalf("item %d: %+v, want class %d", it.Index, it, tc.labels[it.Index])
				}
			}
			// The NDJSON stream has every item once, in index order.
			code, _, body := s.Do(http.MethodGet, "/v1/jobs/"+r.Job.ID+"/results?format=ndjson", "", nil, nil)
			if code != 200 {
				t.Fatalf("ndjson: %d", code)
			}
			lines := strings.Split(strings.TrimSpace(string(body)), "\n")
			if len(lines) != tc.total {
				t.Fatalf("ndjson has %d lines, want %d", len(lines), tc.total)
			}
			for i, l := range lines {
				var it itemResult
				if err := json.Unmarshal([]byte(l), &it); err != nil || it.Index != i {
					t.Fatalf("ndjson line %d: %s", i, l)
				}
			}
		})
	}
}

func TestIdempotentSubmission(t *testing.T) {
	s := Start(t, Options{})
	inputs, _ := DigitInputs(t, 300)
	body := map[string]any{"model": "digits", "inputs": inputs}
	var first, second submitResp
	if code := s.PostJSON("/v1/jobs", body, &first, "Idempotency-Key", "k-1"); code != http.StatusAccepted {
		t.Fatalf("first: %d", code)
	}
	b, _ := json.Marshal(body)
	code, hdr, raw := s.Do(http.MethodPost, "/v1/jobs", "application/json", b, &second, "Idempotency-Key", "k-1")
	if code != http.StatusOK || hdr.Get("Idempotent-Replayed") != "true" || second.Job.ID != first.Job.ID {
		t.Fatalf("replay: %d %v %q vs %q: %s", code, hdr, second.Job.ID, first.Job.ID, raw)
	}
	var e apiError
	other, _ := DigitInputs(t, 5)
	if code := s.PostJSON("/v1/jobs", map[string]any{"model": "digits", "inputs": other}, &e, "Idempotency-Key", "k-1"); code != http.StatusConflict || e.Error.Code != api.CodeConflict {
		t.Fatalf("reuse with another body: %d %+v", code, e)
	}
	st := s.waitJob(t, first.Job.ID, 30*time.Second)
	if st.Done != 300 {
		t.Fatalf("status %+v", st)
	}
	s.allResults(t, first.Job.ID, 300)
}

func TestGatewayRestartLosesNothing(t *testing.T) {
	s := Start(t, Options{})
	inputs, _ := DigitInputs(t, 2000)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	ctxStop(t, s.Gateway)
	g2 := s.NewGateway()
	s.BaseURL = "http://" + g2.Addr()
	st := s.waitJob(t, job.ID, 30*time.Second)
	if st.Done != 2000 {
		t.Fatalf("status %+v", st)
	}
	s.allResults(t, job.ID, 2000)
}

func TestSeveralGatewaysShareJobs(t *testing.T) {
	s := Start(t, Options{})
	g2 := s.NewGateway()
	inputs, _ := DigitInputs(t, 500)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	s.BaseURL = "http://" + g2.Addr()
	st := s.waitJob(t, job.ID, 30*time.Second)
	if st.Done != 500 {
		t.Fatalf("status via second gateway %+v", st)
	}
}

// A cancelled job's items not run are skipped, not failed: counted apart,
// each with its reason.
func TestCancelSkipsRemainingItems(t *testing.T) {
	gate := newGate()
	s := Start(t, Options{Models: gate.wrap})
	gate.close() // hold inference
	inputs, _ := DigitInputs(t, 5000)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	var st jobStatus
	if code := s.PostJSON("/v1/jobs/"+job.ID+"/cancel", nil, &st); code != 200 || st.State != "cancelled" {
		t.Fatalf("cancel: %d %+v", code, st)
	}
	gate.open()
	st = s.waitJob(t, job.ID, 30*time.Second)
	if st.State != "cancelled" || st.Skipped == 0 || st.Failed != 0 || st.Done+st.Skipped != 5000 {
		t.Fatalf("after cancel: %+v", st)
	}
	skipped := 0
	for _, it := range s.allResults(t, job.ID, 5000) {
		if it.Error != "" && (it.Error != "job cancelled" || !it.Skipped) {
			t.Fatalf("item %d error %q skipped %v", it.Index, it.Error, it.Skipped)
		}
		if it.Skipped {
			skipped++
		}
	}
	if skipped != st.Skipped {
		t.Fatalf("%d skipped items in the results, %d counted", skipped, st.Skipped)
	}
	var e apiError
	if code := s.PostJSON("/v1/jobs/jzzzzzzzzzzzzzzzzzzzzzz/cancel", nil, &e); code != 404 || e.Error.Code != api.CodeUnknownJob {
		t.Fatalf("cancel unknown: %d %+v", code, e)
	}
}

func TestCatalogueAndCluster(t *testing.T) {
	s := Start(t, Options{Workers: 2})
	var cat struct {
		Models []struct {
			Name     string   `json:"name"`
			Version  string   `json:"version"`
			Workers  int      `json:"workers"`
			ItemSize int      `json:"item_size"`
			Labels   []string `json:"labels"`
		} `json:"models"`
	}
	Eventually(t, 10*time.Second, func() error {
		cat.Models = nil
		s.GetJSON("/v1/models", &cat)
		for _, m := range cat.Models {
			if m.Name == "digits" && m.Workers == 2 && m.ItemSize == 64 && len(m.Labels) == 10 {
				return nil
			}
		}
		return fmt.Errorf("catalogue %+v", cat.Models)
	})
	var one struct {
		Versions []json.RawMessage `json:"versions"`
	}
	if code := s.GetJSON("/v1/models/breast_cancer", &one); code != 200 || len(one.Versions) != 1 {
		t.Fatalf("model: %d %+v", code, one)
	}
	var cl struct {
		Workers []struct {
			ID     string   `json:"id"`
			Models []string `json:"models"`
		} `json:"workers"`
		Queue map[string]json.RawMessage `json:"queue"`
	}
	if code := s.GetJSON("/v1/cluster", &cl); code != 200 || len(cl.Workers) != 2 || cl.Queue["by_model"] == nil {
		t.Fatalf("cluster: %d %+v", code, cl)
	}
	// A stopped worker leaves the catalogue.
	ctxStopWorker(t, s.Workers[1])
	Eventually(t, 10*time.Second, func() error {
		cat.Models = nil
		s.GetJSON("/v1/models", &cat)
		for _, m := range cat.Models {
			if m.Name == "digits" && m.Workers == 1 {
				return nil
			}
		}
		return fmt.Errorf("catalogue %+v", cat.Models)
	})
}

func TestHealthReadyMetrics(t *testing.T) {
	s := Start(t, Options{})
	for _, p := range []string{"/health", "/ready"} {
		if code := s.GetJSON(p, nil); code != 200 {
			t.Errorf("%s: %d", p, code)
		}
	}
	code, _, b := s.Do(http.MethodGet, "/metrics", "", nil, nil)
	if code != 200 || !bytes.Contains(b, []byte("gateway_http_request_duration_seconds")) {
		t.Fatalf("metrics: %d", code)
	}
	w := s.Workers[0]
	if w.Addr() != "" {
		t.Fatalf("test workers run without a health server")
	}
}
