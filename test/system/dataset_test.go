package system

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"batchinfer/gateway"
	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"
	"batchinfer/worker"
)

// digitsNDJSON is n digits as NDJSON lines, the items at bad replaced by
// an invalid row; it returns the labels.
func digitsNDJSON(t *testing.T, n int, bad map[int]bool) ([]byte, []int) {
	inputs, labels := DigitInputs(t, n)
	var b bytes.Buffer
	for i, in := range inputs {
		if bad[i] {
			b.WriteString("[1,2,3]\n")
			continue
		}
		line, _ := json.Marshal(in)
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes(), labels
}

// upload stores data through tus and returns the upload's id.
func (s *System) upload(t *testing.T, data []byte, filename string) string {
	t.Helper()
	c := s.tus(s.Key)
	path := c.create(len(data), "Upload-Metadata", "filename "+b64(filename))
	for off := 0; off < len(data); off += 4 << 20 {
		end := min(off+4<<20, len(data))
		if resp := c.patch(path, off, data[off:end]); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("patch at %d: %d %s", off, resp.StatusCode, body(resp))
		}
	}
	return strings.TrimPrefix(path, "/v1/uploads/")
}

// A dataset job: an upload read into a job in the background while its
// first chunks run; invalid rows within max_invalid fail as items with
// their line; the job's counts and results cover every row once.
func TestDatasetJobFromUpload(t *testing.T) {
	s := Start(t, Options{})
	const n = 20000
	data, labels := digitsNDJSON(t, n, map[int]bool{7777: true, 19999: true})
	id := s.upload(t, data, "digits.ndjson")
	var r submitResp
	if code, _, b := s.Do(http.MethodPost, "/v1/jobs?model=digits&max_invalid=2&upload="+id, "", nil, &r); code != http.StatusAccepted {
		t.Fatalf("job from upload: %d %s", code, b)
	}
	st := s.waitJob(t, r.Job.ID, 60*time.Second)
	if st.Total != n || st.Done != n-2 || st.Failed != 2 || st.State != wire.StateCompleted {
		t.Fatalf("dataset job: %+v", st)
	}
	for _, it := range s.allResults(t, r.Job.ID, n) {
		switch {
		case it.Index == 7777 || it.Index == 19999:
			if !strings.Contains(it.Error, fmt.Sprintf("line %d", it.Index+1)) || it.Line != it.Index+1 {
				t.Fatalf("invalid row %d: %+v", it.Index, it)
			}
		case it.Class == nil || *it.Class != labels[it.Index] || it.Line != it.Index+1:
			t.Fatalf("item %d: %+v, want class %d line %d", it.Index, it, labels[it.Index], it.Index+1)
		}
	}
	// Too many invalid rows fail the job with the reason.
	var f submitResp
	if code, _, b := s.Do(http.MethodPost, "/v1/jobs?model=digits&upload="+id, "", nil, &f); code != http.StatusAccepted {
		t.Fatalf("second job: %d %s", code, b)
	}
	st = s.waitJob(t, f.Job.ID, 60*time.Second)
	var full struct {
		State string `json:"state"`
		Error string `json:"error"`
	}
	s.GetJSON("/v1/jobs/"+f.Job.ID, &full)
	if full.State != wire.StateFailed || !strings.Contains(full.Error, "line 7778") {
		t.Fatalf("a dataset past max_invalid: %+v", full)
	}
	// Bad requests.
	for _, tc := range []struct{ query, want string }{
		{"model=digits&upload=nope", "unknown upload"},
		{"model=digits&upload=" + id + "&format=xlsx", "format"},
		{"model=digits&upload=" + id + "&id_column=id", "id_column"},
		{"upload=" + id, "model"},
	} {
		var e apiError
		if code, _, b := s.Do(http.MethodPost, "/v1/jobs?"+tc.query, "", nil, &e); code/100 != 4 || !strings.Contains(e.Error.Message, tc.want) {
			t.Fatalf("%s: %d %s", tc.query, code, b)
		}
	}
	// Another tenant's upload is unknown to it.
	var e apiError
	if code := s.As(KeyB).GetJSON("/v1/jobs?model=digits&upload="+id, &e); code == http.StatusAccepted {
		t.Fatalf("another tenant's upload: %d", code)
	}
	if code, _, _ := s.As(KeyB).Do(http.MethodPost, "/v1/jobs?model=digits&upload="+id, "", nil, &e); code != http.StatusNotFound {
		t.Fatalf("another tenant's upload: %d %+v", code, e)
	}
}

// A gateway that stops in the middle of reading a dataset gives the
// reading back; another gateway resumes it from the checkpoint: every item
// once, the right class.
func TestDatasetReadingResumesOnAnotherGateway(t *testing.T) {
	g := newGate()
	small := func(c *natsx.StreamConfig) { c.QueueMaxBytes = 1 << 20 } // the reading blocks when the input stream is full
	s := Start(t, Options{
		Gateway: func(c *gateway.Config) { small(&c.Streams) },
		Worker:  func(c *worker.Config) { small(&c.Streams) },
		Models:  g.wrap,
	})
	second := s.NewGateway()
	g.close()
	const n = 24000 // more than the 1 MiB input stream holds: its reading blocks
	data, labels := digitsNDJSON(t, n, nil)
	id := s.upload(t, data, "digits.ndjson")
	var r submitResp
	if code, _, b := s.Do(http.MethodPost, "/v1/jobs?model=digits&upload="+id, "", nil, &r); code != http.StatusAccepted {
		t.Fatalf("job from upload: %d %s", code, b)
	}
	var reader *gateway.Gateway
	Eventually(t, 30*time.Second, func() error {
		var st struct {
			Ingesting bool `json:"ingesting"`
			Read      int  `json:"read"`
		}
		s.GetJSON("/v1/jobs/"+r.Job.ID, &st)
		switch {
		case !st.Ingesting || st.Read == 0:
			return fmt.Errorf("reading: %+v", st)
		case s.Gateway.Stats().Reading > 0:
			reader = s.Gateway
		case second.Stats().Reading > 0:
			reader = second
		default:
			return fmt.Errorf("no gateway reads")
		}
		return nil
	})
	other := second
	if reader == second {
		other = s.Gateway
	}
	ctxStop(t, reader)
	s.Gateway, s.BaseURL = other, "http://"+other.Addr()
	g.open()
	st := s.waitJob(t, r.Job.ID, 90*time.Second)
	if st.Total != n || st.Done != n {
		t.Fatalf("after the takeover: %+v", st)
	}
	for _, it := range s.allResults(t, r.Job.ID, n) {
		if it.Class == nil || *it.Class != labels[it.Index] {
			t.Fatalf("item %d: %+v want %d", it.Index, it, labels[it.Index])
		}
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
