package system

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"batchinfer/api"
)

// What the web UI lists and shows of jobs and workers, over HTTP against
// the real system: the input's name, pages and filters of GET /v1/jobs, a
// rate for jobs finished in one count, and per-model worker rates.

type listedJob struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Model       string  `json:"model"`
	State       string  `json:"state"`
	Total       int     `json:"total"`
	ItemsPerSec float64 `json:"items_per_sec"`
}

type jobList struct {
	Jobs       []listedJob `json:"jobs"`
	NextCursor string      `json:"next_cursor"`
	Total      *int        `json:"total"`
}

func TestJobNamesPagesAndFilters(t *testing.T) {
	s := Start(t, Options{})
	inputs, _ := DigitInputs(t, 20)
	var ndjson bytes.Buffer
	for _, in := range inputs {
		b, _ := json.Marshal(in)
		ndjson.Write(append(b, '\n'))
	}
	csvBody, err := os.ReadFile(filepath.Join(RepoRoot(), "model", "testdata", "breast_cancer_sample.csv"))
	if err != nil {
		t.Fatal(err)
	}
	jsonBody, _ := json.Marshal(map[string]any{"model": "digits", "name": "from the body.json", "inputs": inputs})
	var ids []string // oldest first
	for _, tc := range []struct {
		how, ct, query string
		body           []byte
		hdr            []string
		name           string
	}{
		{"query", "application/x-ndjson", "?model=digits&name=" + url.QueryEscape("digits 20.ndjson"), ndjson.Bytes(), nil, "digits 20.ndjson"},
		{"JSON body", "application/json", "", jsonBody, nil, "from the body.json"},
		{"Content-Disposition", "text/csv", "?model=breast_cancer", csvBody,
			[]string{"Content-Disposition", `attachment; filename*=UTF-8''%C3%A9chantillon.csv`}, "échantillon.csv"},
		{"none", "application/x-ndjson", "?model=digits", ndjson.Bytes(), nil, ""},
	} {
		var r struct {
			Job listedJob `json:"job"`
		}
		code, _, b := s.Do(http.MethodPost, "/v1/jobs"+tc.query, tc.ct, tc.body, &r, tc.hdr...)
		if code != http.StatusAccepted || r.Job.Name != tc.name {
			t.Fatalf("%s: %d %q, want name %q: %s", tc.how, code, r.Job.Name, tc.name, b)
		}
		ids = append(ids, r.Job.ID)
		// A small job (one chunk, counted once) has a rate once finished.
		s.waitJob(t, r.Job.ID, 30*time.Second)
		var st listedJob
		if s.GetJSON("/v1/jobs/"+r.Job.ID, &st); st.Name != tc.name || st.ItemsPerSec <= 0 {
			t.Fatalf("%s: status %+v, want name %q and a rate", tc.how, st, tc.name)
		}
	}
	slices.Reverse(ids)

	var got []string
	cursor := ""
	for page := 0; ; page++ {
		var l jobList
		q := "/v1/jobs?limit=3"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		if code := s.GetJSON(q, &l); code != 200 || l.Total == nil || *l.Total != 4 || page > 2 {
			t.Fatalf("page %d: %d %+v", page, code, l)
		}
		for _, j := range l.Jobs {
			got = append(got, j.ID)
		}
		if cursor = l.NextCursor; cursor == "" {
			break
		}
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("paged ids %v, want %v", got, ids)
	}
	var l jobList
	if s.GetJSON("/v1/jobs?model=breast_cancer&state=completed,cancelled", &l); len(l.Jobs) != 1 || l.Jobs[0].Name != "échantillon.csv" || l.Total != nil || l.NextCursor != "" {
		t.Fatalf("filtered %+v", l)
	}
	if s.GetJSON("/v1/jobs?model=digits:1&state=running&state=queued", &l); len(l.Jobs) != 0 {
		t.Fatalf("no digits job is unfinished: %+v", l)
	}
	for _, tc := range []struct{ path, mention string }{
		{"/v1/jobs?state=done", "done"},
		{"/v1/jobs?cursor=abc", "cursor"},
		{"/v1/jobs?model=" + url.QueryEscape("a/b"), "model"},
		{"/v1/jobs?limit=1000", "limit"},
	} {
		var e apiError
		if code, _, _ := s.Do(http.MethodGet, tc.path, "", nil, &e); code != 400 || e.Error.Code != api.CodeBadRequest || !strings.Contains(e.Error.Message, tc.mention) {
			t.Errorf("%s: %d %+v", tc.path, code, e.Error)
		}
	}
	for _, name := range []string{strings.Repeat("x", 256), "bad\nname"} {
		var e apiError
		code, _, _ := s.Do(http.MethodPost, "/v1/jobs?model=digits&name="+url.QueryEscape(name), "application/x-ndjson", ndjson.Bytes(), &e)
		if code != 400 || e.Error.Code != api.CodeBadRequest || !strings.Contains(e.Error.Message, "name") {
			t.Errorf("name %q: %d %+v", name, code, e.Error)
		}
	}
}

// Each model's rate is its own: a worker serving digits and breast_cancer
// that runs digits items announces them for digits only, and 0 once idle.
func TestWorkerAnnouncesPerModelRates(t *testing.T) {
	s := Start(t, Options{})
	inputs, _ := DigitInputs(t, 5000)
	type worker struct {
		ItemsPerSec float64            `json:"items_per_sec"`
		ByModel     map[string]float64 `json:"items_per_sec_by_model"`
	}
	rates := func() worker {
		var cl struct {
			Workers []worker `json:"workers"`
		}
		if code := s.GetJSON("/v1/cluster", &cl); code != 200 || len(cl.Workers) != 1 {
			t.Fatalf("cluster: %d %+v", code, cl)
		}
		return cl.Workers[0]
	}
	// The announcement after the job's items ran shows them, until the
	// next (one rate interval later): polled often enough to be seen.
	s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	Eventually(t, 30*time.Second, func() error {
		w := rates()
		if w.ByModel["breast_cancer:1"] != 0 {
			t.Fatalf("breast_cancer ran nothing but has a rate: %+v", w)
		}
		if w.ByModel["digits:1"] <= 0 || w.ItemsPerSec < w.ByModel["digits:1"] {
			return fmt.Errorf("no digits rate yet: %+v", w)
		}
		return nil
	})
	Eventually(t, 20*time.Second, func() error {
		w := rates()
		_, bc := w.ByModel["breast_cancer:1"]
		if _, d := w.ByModel["digits:1"]; w.ItemsPerSec != 0 || !d || !bc {
			return fmt.Errorf("idle worker: %+v", w)
		}
		for m, r := range w.ByModel { // (and the benchmark models make bench-model may have added)
			if r != 0 {
				return fmt.Errorf("idle worker, %s at %v: %+v", m, r, w)
			}
		}
		return nil
	})
}
