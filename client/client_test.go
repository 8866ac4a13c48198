package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/client"
	"batchinfer/test/system"
)

// The client against the real system: embedded JetStream, a TensorFlow
// worker with the committed models, a gateway; drops and restarts are a
// proxy in front of the gateway going down and up.

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func TestPredictTypesResultsAndErrors(t *testing.T) {
	s := system.Start(t, system.Options{})
	c := client.New(s.BaseURL, system.KeyA)
	in, labels := system.DigitInputs(t, 8)
	p, err := c.Predict(ctx(t), "digits", client.Rows(in), client.PredictOptions{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i, it := range p.Items {
		if it.Index != i || it.Class == nil || it.Label == "" || len(it.Probabilities) != 10 {
			t.Fatalf("item %d: %+v", i, it)
		}
		if *it.Class == labels[i] {
			right++
		}
	}
	if p.Model != "digits" || p.Version != "1" || right < 7 {
		t.Fatalf("%s:%s, %d of 8 right", p.Model, p.Version, right)
	}
	// The same through the other item forms.
	q, err := c.Predict(ctx(t), "digits", []client.Input{client.Tensor(in[0]), client.Numbers(in[0])}, client.PredictOptions{})
	if err != nil || *q.Items[0].Class != *p.Items[0].Class || *q.Items[1].Class != *p.Items[0].Class {
		t.Fatalf("b64 and numbers: %+v %v", q, err)
	}
	for _, tc := range []struct {
		name   string
		c      *client.Client
		model  string
		in     []client.Input
		code   api.Code
		status int
	}{
		{"unknown model", c, "nope", client.Rows(in[:1]), api.CodeUnknownModel, 404},
		{"wrong shape", c, "digits", []client.Input{client.Numbers([]float32{1, 2})}, api.CodeInvalidInput, 400},
		{"wrong key", client.New(s.BaseURL, "bik_wrong"), "digits", client.Rows(in[:1]), api.CodeUnauthorized, 401},
	} {
		_, err := tc.c.Predict(ctx(t), tc.model, tc.in, client.PredictOptions{})
		var e *api.Error
		if !errors.As(err, &e) || e.Code != tc.code || e.Status != tc.status || e.Message == "" {
			t.Errorf("%s: %#v", tc.name, err)
		}
		if tc.code == api.CodeInvalidInput && len(e.Details) == 0 {
			t.Errorf("%s: no details", tc.name)
		}
	}
}

// digitsNDJSON is n digit items, with the lines in bad (1-based) not
// valid items of the model.
func digitsNDJSON(t *testing.T, n int, bad ...int) []byte {
	in, _ := system.DigitInputs(t, n)
	var b bytes.Buffer
	for i, px := range in {
		if contains(bad, i+1) {
			b.WriteString("[1,2,3]\n")
			continue
		}
		b.Write(client.Numbers(px))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// dropOnce takes the proxy down for a moment, the first time it is called.
func dropOnce(p *system.Proxy) func() {
	var done atomic.Bool
	return func() {
		if done.CompareAndSwap(false, true) {
			p.Down()
			time.AfterFunc(300*time.Millisecond, p.Up)
		}
	}
}

func TestDatasetUploadFollowDownloadResumeAcrossDrops(t *testing.T) {
	s := system.Start(t, system.Options{Models: system.SlowModels(40 * time.Millisecond)})
	p := system.StartProxy(t, s.Gateway.Addr())
	c := client.New(p.URL, system.KeyA)
	c.RetryFor = 30 * time.Second
	const n = 12000
	data := digitsNDJSON(t, n, 7, 5000, 11999)
	file := filepath.Join(t.TempDir(), "rows.ndjson")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}

	drop := dropOnce(p)
	up, err := c.UploadFile(ctx(t), file, client.UploadOptions{ChunkSize: 128 << 10, RateLimit: 2 << 20,
		Progress: func(sent, total int64) {
			if sent > total/3 {
				drop()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if up.Size != int64(len(data)) || up.Resumes == 0 || len(up.ID) != 32 {
		t.Fatalf("upload %+v", up)
	}
	sub, err := c.SubmitUpload(ctx(t), up.ID, "", client.JobOptions{Model: "digits", MaxInvalid: 5})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Job.Name != "rows.ndjson" || sub.Links.Output != "/v1/jobs/"+sub.Job.ID+"/output" {
		t.Fatalf("job %+v", sub)
	}
	followAcrossADrop(t, c, p, sub.Job.ID, n)
	downloadAcrossADrop(t, c, p, s, sub.Job.ID)
}

// followAcrossADrop follows the job, dropping the connection after its
// first results: every item arrives once.
func followAcrossADrop(t *testing.T, c *client.Client, p *system.Proxy, id string, n int) {
	t.Helper()
	drop := dropOnce(p)
	seen := make([]int, n)
	reconnects, failed := 0, 0
	var end *api.JobStatus
	for ev, err := range c.Follow(ctx(t), id, client.FollowOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		switch ev.Type {
		case client.EventResults:
			for _, it := range ev.Results.Items {
				seen[it.Index]++
				if it.Error != "" {
					failed++
				}
			}
			drop()
		case client.EventReconnect:
			reconnects++
		case client.EventEnd:
			end = ev.Status
		}
	}
	for i, k := range seen {
		if k != 1 {
			t.Fatalf("item %d seen %d times", i, k)
		}
	}
	if reconnects == 0 || end == nil || end.State != api.StateCompleted || end.Failed != 3 || failed != 3 || end.Done != n-3 {
		t.Fatalf("reconnects %d, failed %d, end %+v", reconnects, failed, end)
	}
}

// downloadAcrossADrop downloads the output file through a drop and checks
// it against the gateway's own, and the errors file's lines.
func downloadAcrossADrop(t *testing.T, c *client.Client, p *system.Proxy, s *system.System, id string) {
	t.Helper()
	dir := t.TempDir()
	drop := dropOnce(p)
	p.Rate.Store(2 << 20)
	defer p.Rate.Store(0)
	d, err := c.Download(ctx(t), id, client.FileOutput, filepath.Join(dir, "out.csv"), client.DownloadOptions{
		Format: "csv",
		Progress: func(done, total int64) {
			if total > 0 && done > total/3 {
				drop()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(d.Path)
	code, _, want := s.Do("GET", "/v1/jobs/"+id+"/output?format=csv", "", nil, nil)
	if code != 200 || !bytes.Equal(got, want) || d.Resumes == 0 || d.Size != int64(len(want)) || d.ETag == "" {
		t.Fatalf("download %+v: %d bytes, want %d (status %d)", d, len(got), len(want), code)
	}
	if _, err := os.Stat(d.Path + ".part"); !os.IsNotExist(err) {
		t.Fatalf("the part file stayed: %v", err)
	}
	e, err := c.Download(ctx(t), id, client.FileErrors, filepath.Join(dir, "errors.ndjson"), client.DownloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lines, _ := os.ReadFile(e.Path)
	if strings.Count(string(lines), "\n") != 3 || !strings.Contains(string(lines), `"line":5000`) {
		t.Fatalf("errors file:\n%s", lines)
	}
}

func TestDownloadGoesOnFromAnEarlierRun(t *testing.T) {
	s := system.Start(t, system.Options{})
	c := client.New(s.BaseURL, system.KeyA)
	sub, err := c.SubmitBody(ctx(t), bytes.NewReader(digitsNDJSON(t, 600)), client.ContentNDJSON, client.JobOptions{Model: "digits"})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := c.Wait(ctx(t), sub.Job.ID); err != nil || st.State != api.StateCompleted {
		t.Fatalf("%+v %v", st, err)
	}
	_, hdr, whole := s.Do("GET", "/v1/jobs/"+sub.Job.ID+"/output", "", nil, nil)
	for _, tc := range []struct {
		name    string
		etag    string
		resumes int
	}{
		{"same file", hdr.Get("ETag"), 1},
		{"another file", `"not-this-one"`, 0},
	} {
		path := filepath.Join(t.TempDir(), "out.ndjson")
		_ = os.WriteFile(path+".part", whole[:len(whole)/2], 0o600)
		_ = os.WriteFile(path+".part.etag", []byte(tc.etag), 0o600)
		d, err := c.Download(ctx(t), sub.Job.ID, client.FileOutput, path, client.DownloadOptions{})
		got, _ := os.ReadFile(path)
		if err != nil || d.Resumes != tc.resumes || !bytes.Equal(got, whole) {
			t.Errorf("%s: %+v %v (%d bytes of %d)", tc.name, d, err, len(got), len(whole))
		}
	}
	// An unknown job's file is a 404.
	if _, err := c.Download(ctx(t), "nope", client.FileOutput, filepath.Join(t.TempDir(), "x"), client.DownloadOptions{}); client.ErrorCode(err) != api.CodeUnknownJob {
		t.Errorf("unknown job: %v", err)
	}
}

func TestJobsAreListedPagedAndCancelled(t *testing.T) {
	s := system.Start(t, system.Options{Models: system.SlowModels(50 * time.Millisecond)})
	c := client.New(s.BaseURL, system.KeyA)
	in, _ := system.DigitInputs(t, 3)
	ids := map[string]bool{}
	for i := range 5 {
		sub, err := c.Submit(ctx(t), client.Rows(in), client.JobOptions{Model: "digits", Name: fmt.Sprint("job ", i), IdempotencyKey: fmt.Sprint("key-", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids[sub.Job.ID] = true
	}
	again, err := c.Submit(ctx(t), client.Rows(in), client.JobOptions{Model: "digits", Name: "job 0", IdempotencyKey: "key-0"})
	if err != nil || !ids[again.Job.ID] {
		t.Fatalf("idempotent replay: %+v %v", again, err)
	}
	listed := 0
	for j, err := range c.AllJobs(ctx(t), client.ListOptions{Limit: 2, Model: "digits"}) {
		if err != nil {
			t.Fatal(err)
		}
		if ids[j.ID] {
			listed++
		}
	}
	if listed != 5 {
		t.Fatalf("listed %d of 5", listed)
	}
	big, err := c.SubmitBody(ctx(t), bytes.NewReader(digitsNDJSON(t, 5000)), client.ContentNDJSON, client.JobOptions{Model: "digits"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Cancel(ctx(t), big.Job.ID)
	if err != nil || st.State != api.StateCancelled {
		t.Fatalf("cancel: %+v %v", st, err)
	}
	if st, err := c.Cancel(ctx(t), big.Job.ID); err != nil || st.State != api.StateCancelled {
		t.Fatalf("cancel twice: %+v %v", st, err)
	}
	if st, err := c.Wait(ctx(t), again.Job.ID); err != nil || st.State != api.StateCompleted {
		t.Fatalf("wait: %+v %v", st, err)
	}
	if _, err := c.Cancel(ctx(t), again.Job.ID); client.ErrorCode(err) != api.CodeConflict {
		t.Fatalf("cancel a completed job: %v", err)
	}
	job, err := c.Job(ctx(t), big.Job.ID)
	if err != nil || job.State != api.StateCancelled || job.Links.Errors == "" {
		t.Fatalf("job: %+v %v", job, err)
	}
}
