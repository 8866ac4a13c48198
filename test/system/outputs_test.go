package system

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway"
	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"
	"batchinfer/worker"

	"github.com/nats-io/nats.go/jetstream"
)

// digitsDataset is n digits rows as NDJSON, with every step-th row (from
// the 4th) invalid: alternately too short and out of range. It returns the
// body and the invalid rows' indexes.
func digitsDataset(t testing.TB, n, step int) ([]byte, []int) {
	t.Helper()
	inputs, _ := DigitInputs(t, n)
	var b bytes.Buffer
	var invalid []int
	for i, in := range inputs {
		switch {
		case i%step != 3:
			row, _ := json.Marshal(in)
			b.Write(row)
		case len(invalid)%2 == 0:
			b.WriteString("[1,2,3]")
			invalid = append(invalid, i)
		default:
			b.WriteString("[99" + strings.Repeat(",0", 63) + "]")
			invalid = append(invalid, i)
		}
		b.WriteByte('\n')
	}
	return b.Bytes(), invalid
}

// sampleClasses are the digits model's classes of the 20 test samples, by
// a synchronous prediction (another path than the batch one).
func (s *System) sampleClasses(t *testing.T) []int {
	t.Helper()
	var pixels [][]float32
	for _, d := range DigitSamples(t) {
		pixels = append(pixels, d.Pixels)
	}
	var resp struct {
		Items []itemResult `json:"items"`
	}
	if code := s.PostJSON("/v1/models/digits/predict", map[string]any{"inputs": pixels}, &resp); code != 200 || len(resp.Items) != len(pixels) {
		t.Fatalf("predict: %d %+v", code, resp)
	}
	out := make([]int, len(resp.Items))
	for i, it := range resp.Items {
		out[i] = *it.Class
	}
	return out
}

// get fetches path with header pairs hdr.
func (s *System) get(t *testing.T, method, path string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	return s.Do(method, path, "", nil, nil, hdr...)
}

// finishedDataset submits a digitsDataset of n rows as NDJSON (its
// invalid rows allowed) and waits until the job has finished; it returns
// the job and the invalid rows.
func (s *System) finishedDataset(t testing.TB, n, step int) (jobStatus, []int) {
	t.Helper()
	body, invalid := digitsDataset(t, n, step)
	var sub submitResp
	code, _, raw := s.Do(http.MethodPost, fmt.Sprintf("/v1/jobs?model=digits&max_invalid=%d", len(invalid)), "application/x-ndjson", body, &sub)
	if code != http.StatusAccepted {
		t.Fatalf("submit: %d %s", code, raw)
	}
	var st jobStatus
	Eventually(t, 3*time.Minute, func() error {
		if s.GetJSON("/v1/jobs/"+sub.Job.ID, &st); !isFinal(st.State) {
			return fmt.Errorf("job %+v", st)
		}
		return nil
	})
	return st, invalid
}

func isFinal(state string) bool {
	switch state {
	case wire.StateCompleted, wire.StateFailed, wire.StateCancelled, wire.StateDeadlineExceeded:
		return true
	}
	return false
}

// A 100,000-item dataset with invalid rows accepted under max_invalid goes
// through NDJSON to its output file: every index once, in order, with the
// model's class; Content-Length exact; a download cut in the middle and
// resumed by Range is byte-identical; a stale If-Range gets the whole file;
// past the end is 416; HEAD has the headers; the errors file lists exactly
// the invalid rows with their lines, as NDJSON and CSV, and the CSV output
// has a probability column per digit. A client that stops reading loses
// its download after GATEWAY_DOWNLOAD_WRITE_TIMEOUT.
func TestDatasetOutputAndErrorsFiles(t *testing.T) {
	s := Start(t, Options{Gateway: func(c *gateway.Config) { c.DownloadWriteTimeout = time.Second }})
	n := 100_000
	if raceEnabled { // make test-go runs it in full without -race
		n = 20_000
	}
	st, invalid := s.finishedDataset(t, n, 997)
	id, classes := st.ID, s.sampleClasses(t)
	if st.State != wire.StateCompleted || st.Failed != len(invalid) || st.Done != n-len(invalid) {
		t.Fatalf("job %+v, want completed with %d failed", st, len(invalid))
	}
	var job struct {
		Links api.JobLinks `json:"links"`
	}
	if s.GetJSON("/v1/jobs/"+id, &job); job.Links.Output != "/v1/jobs/"+id+"/output" || job.Links.Errors != "/v1/jobs/"+id+"/errors" {
		t.Fatalf("links %+v", job.Links)
	}
	whole := s.checkOutputNDJSON(t, id, n, invalid, classes)
	s.checkResume(t, "/v1/jobs/"+id+"/output", whole)
	s.checkErrorsFiles(t, id, invalid)
	s.checkOutputCSV(t, id, n, classes)
	s.checkStalledClient(t, "/v1/jobs/"+id+"/output", len(whole))
}

// checkStalledClient starts a download of a file larger than what the
// connection's buffers hold and reads none of it: the gateway ends it
// after its write timeout and gives the slot back.
func (s *System) checkStalledClient(t *testing.T, path string, size int) {
	t.Helper()
	if size < 6<<20 {
		t.Fatalf("a %d-byte file fits in the connection's buffers", size)
	}
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	conn, err := d.Dial("tcp", s.Gateway.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer %s\r\n\r\n", path, s.Key)
	Eventually(t, 20*time.Second, func() error {
		if n := s.Gateway.Stats().Downloads; n != 1 {
			return fmt.Errorf("%d downloads, want the stalled one", n)
		}
		return nil
	})
	Eventually(t, 20*time.Second, func() error {
		if n := s.Gateway.Stats().Downloads; n != 0 {
			return fmt.Errorf("%d downloads after the write timeout", n)
		}
		return nil
	})
}

// checkOutputNDJSON downloads the NDJSON output whole and checks it.
func (s *System) checkOutputNDJSON(t *testing.T, id string, n int, invalid []int, classes []int) []byte {
	t.Helper()
	code, h, whole := s.get(t, http.MethodGet, "/v1/jobs/"+id+"/output")
	if code != 200 || h.Get("Content-Length") != strconv.Itoa(len(whole)) || h.Get("Accept-Ranges") != "bytes" ||
		h.Get("ETag") == "" || h.Get("Last-Modified") == "" || h.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("output: %d %v (%d bytes)", code, h, len(whole))
	}
	bad := map[int]bool{}
	for _, i := range invalid {
		bad[i] = true
	}
	sc := bufio.NewScanner(bytes.NewReader(whole))
	i := 0
	for ; sc.Scan(); i++ {
		var it struct {
			itemResult
			Line int `json:"line"`
		}
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil || it.Index != i || it.Line != i+1 {
			t.Fatalf("line %d: %s (%v), want index %d line %d", i+1, sc.Bytes(), err, i, i+1)
		}
		switch {
		case bad[i] && !strings.Contains(it.Error, fmt.Sprintf("invalid input (line %d)", i+1)):
			t.Fatalf("invalid row %d: %+v", i, it)
		case !bad[i] && (it.Class == nil || *it.Class != classes[i%len(classes)]):
			t.Fatalf("item %d: %+v, want class %d", i, it, classes[i%len(classes)])
		}
	}
	if i != n {
		t.Fatalf("%d lines, want %d", i, n)
	}
	return whole
}

// checkResume cuts a download of path in the middle and resumes it.
func (s *System) checkResume(t *testing.T, path string, whole []byte) {
	t.Helper()
	size := len(whole)
	req, _ := http.NewRequest(http.MethodGet, s.BaseURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.Key)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	etag := resp.Header.Get("ETag")
	part := make([]byte, size/2+12345)
	if _, err := io.ReadFull(resp.Body, part); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() // the connection drops mid-file
	code, h, rest := s.get(t, http.MethodGet, path, "Range", fmt.Sprintf("bytes=%d-", len(part)), "If-Range", etag)
	if code != http.StatusPartialContent || h.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", len(part), size-1, size) ||
		h.Get("Content-Length") != strconv.Itoa(size-len(part)) {
		t.Fatalf("resume: %d %v", code, h)
	}
	if !bytes.Equal(append(part, rest...), whole) {
		t.Fatal("the resumed download differs from the whole file")
	}
	code, _, got := s.get(t, http.MethodGet, path, "Range", "bytes=10-", "If-Range", `"stale"`)
	if code != 200 || !bytes.Equal(got, whole) {
		t.Fatalf("stale If-Range: %d (%d bytes), want 200 with the whole file", code, len(got))
	}
	code, h, got = s.get(t, http.MethodGet, path, "Range", fmt.Sprintf("bytes=%d-", size))
	var e apiError
	if code != http.StatusRequestedRangeNotSatisfiable || h.Get("Content-Range") != fmt.Sprintf("bytes */%d", size) ||
		json.Unmarshal(got, &e) != nil || e.Error.Code != api.CodeRangeNotSatisfiable {
		t.Fatalf("past the end: %d %v %s", code, h, got)
	}
	code, h, got = s.get(t, http.MethodHead, path)
	if code != 200 || len(got) != 0 || h.Get("Content-Length") != strconv.Itoa(size) || h.Get("ETag") != etag {
		t.Fatalf("HEAD: %d %v %d bytes", code, h, len(got))
	}
	if code, _, _ := s.get(t, http.MethodGet, path, "If-None-Match", etag); code != http.StatusNotModified {
		t.Fatalf("If-None-Match: %d", code)
	}
}

// checkErrorsFiles checks that both errors files list exactly the invalid
// rows, with their lines.
func (s *System) checkErrorsFiles(t *testing.T, id string, invalid []int) {
	t.Helper()
	code, h, b := s.get(t, http.MethodGet, "/v1/jobs/"+id+"/errors")
	if code != 200 || h.Get("Content-Length") != strconv.Itoa(len(b)) {
		t.Fatalf("errors: %d %v", code, h)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != len(invalid) {
		t.Fatalf("%d error lines, want %d", len(lines), len(invalid))
	}
	for k, l := range lines {
		var e struct {
			Index  int    `json:"index"`
			Line   int    `json:"line"`
			Reason string `json:"reason"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil || e.Index != invalid[k] || e.Line != invalid[k]+1 || !strings.Contains(e.Reason, "invalid input") {
			t.Fatalf("error line %d: %s (%v), want index %d", k, l, err, invalid[k])
		}
	}
	code, h, b = s.get(t, http.MethodGet, "/v1/jobs/"+id+"/errors?format=csv")
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if code != 200 || err != nil || len(rows) != len(invalid)+1 || strings.Join(rows[0], ",") != "index,line,id,reason" || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
		t.Fatalf("errors.csv: %d %v %d rows", code, err, len(rows))
	}
	for k, r := range rows[1:] {
		if r[0] != strconv.Itoa(invalid[k]) || r[1] != strconv.Itoa(invalid[k]+1) {
			t.Fatalf("errors.csv row %d: %v", k, r)
		}
	}
}

// checkOutputCSV checks the CSV output's header, rows and classes.
func (s *System) checkOutputCSV(t *testing.T, id string, n int, classes []int) {
	t.Helper()
	code, h, b := s.get(t, http.MethodGet, "/v1/jobs/"+id+"/output?format=csv")
	if code != 200 || h.Get("Content-Length") != strconv.Itoa(len(b)) {
		t.Fatalf("output.csv: %d %v", code, h)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(rows) != n+1 {
		t.Fatalf("output.csv: %v, %d rows", err, len(rows))
	}
	if want := "index,line,id,status,label,class,score,error,p_0,p_1,p_2,p_3,p_4,p_5,p_6,p_7,p_8,p_9"; strings.Join(rows[0], ",") != want {
		t.Fatalf("header %v", rows[0])
	}
	for i, r := range rows[1:] {
		c := classes[i%len(classes)]
		ok := r[3] == "ok" && r[5] == strconv.Itoa(c) && r[8+c] == r[6] // its class's probability is its score
		if r[0] != strconv.Itoa(i) || r[1] != strconv.Itoa(i+1) || !ok && (r[3] != "failed" || r[7] == "") {
			t.Fatalf("row %d: %v, want class %d", i, r, c)
		}
	}
}

// outputEntries counts the messages of the outputs bucket.
func (s *System) outputEntries(t *testing.T) uint64 {
	t.Helper()
	nc := s.natsConn(t)
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "KV_"+wire.BucketOutputs)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// Thousands of output requests of every kind (whole, ranges, cut short,
// HEAD, conditional, refused) leave the gateway holding nothing, the server
// no consumer, and the outputs bucket the indexes of the first round only.
func TestOutputRequestsReturnToBaseline(t *testing.T) {
	s := Start(t, Options{Gateway: smallChunks})
	job, _ := s.finishedDataset(t, 300, 29) // 30 chunks, 10 invalid rows
	paths := []string{"/output", "/output?format=csv", "/errors", "/errors?format=csv"}
	sizes := make([]int, len(paths))
	for k, p := range paths {
		_, _, b := s.get(t, http.MethodGet, "/v1/jobs/"+job.ID+p)
		sizes[k] = len(b)
	}
	entries := s.outputEntries(t)
	consumers, goroutines := s.Consumers(), runtime.NumGoroutine()
	rounds := 3000
	if raceEnabled {
		rounds = 1000
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < rounds; i++ {
		k := rng.IntN(len(paths))
		s.outputRequest(t, rng, "/v1/jobs/"+job.ID+paths[k], sizes[k])
	}
	s.settled(t, consumers, goroutines)
	Eventually(t, 10*time.Second, func() error { // a download cut short ends when its write fails
		if st := s.Gateway.Stats(); st.Downloads != 0 || st.IndexBuilds != 0 {
			return fmt.Errorf("gateway holds %+v", st)
		}
		return nil
	})
	if n := s.outputEntries(t); n != entries {
		t.Fatalf("outputs bucket: %d entries, %d after the first round", n, entries)
	}
}

// outputRequest sends one random kind of request for a file of size bytes.
func (s *System) outputRequest(t *testing.T, rng *rand.Rand, path string, size int) {
	t.Helper()
	a := rng.IntN(size)
	b := a + rng.IntN(size-a)
	want := map[int]bool{200: true}
	var hdr []string
	method := http.MethodGet
	switch rng.IntN(6) {
	case 0:
		hdr, want = []string{"Range", fmt.Sprintf("bytes=%d-%d", a, b)}, map[int]bool{206: true}
	case 1:
		hdr, want = []string{"Range", fmt.Sprintf("bytes=%d-", size+rng.IntN(10))}, map[int]bool{416: true}
	case 2:
		method = http.MethodHead
	case 3:
		hdr, want = []string{"If-None-Match", "*"}, map[int]bool{304: true}
	case 4:
		base, _, _ := strings.Cut(path, "?")
		path, want = base+"?format=xml", map[int]bool{400: true}
	case 5: // cut short
		req, _ := http.NewRequest(http.MethodGet, s.BaseURL+path, nil)
		req.Header.Set("Authorization", "Bearer "+s.Key)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.CopyN(io.Discard, resp.Body, int64(a))
		resp.Body.Close()
		return
	}
	if code, _, body := s.get(t, method, path, hdr...); !want[code] {
		t.Fatalf("%s %s %v: %d %s", method, path, hdr, code, body)
	}
}

// A job's file indexes go with its results at expiry: then its files are
// 410 expired.
func TestOutputIndexesExpireWithTheResults(t *testing.T) {
	ttl := func(c *natsx.StreamConfig) { c.ResultTTL, c.RecordTTL = 2*time.Second, time.Hour }
	s := Start(t, Options{Gateway: func(c *gateway.Config) { ttl(&c.Streams) }, Worker: func(c *worker.Config) { ttl(&c.Streams) }})
	job := s.finishedDigitsJob(t, 50)
	if code, _, b := s.get(t, http.MethodGet, "/v1/jobs/"+job.ID+"/output?format=csv"); code != 200 || len(b) == 0 {
		t.Fatalf("output: %d", code)
	}
	if s.outputEntries(t) == 0 {
		t.Fatal("no index stored")
	}
	Eventually(t, 30*time.Second, func() error {
		if code, _, b := s.get(t, http.MethodGet, "/v1/jobs/"+job.ID+"/output"); code != http.StatusGone {
			return fmt.Errorf("output after RESULT_TTL: %d %s", code, b)
		}
		return nil
	})
	if n := s.outputEntries(t); n != 0 {
		t.Fatalf("%d index entries after expiry", n)
	}
}

// A running job's files answer 409 with the counts and a retry hint, and
// then, once it has finished, 200; another tenant's job is unknown.
func TestOutputOfARunningJobAndAnotherTenants(t *testing.T) {
	g := newGate()
	s := Start(t, Options{Models: g.wrap})
	g.close()
	inputs, _ := DigitInputs(t, 20)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	code, h, b := s.get(t, http.MethodGet, "/v1/jobs/"+job.ID+"/output?format=csv")
	var e apiError
	if code != http.StatusConflict || h.Get("Retry-After") == "" || json.Unmarshal(b, &e) != nil ||
		e.Error.Code != api.CodeConflict || !strings.Contains(e.Error.Message, "not finished yet: 0 of 20 items") {
		t.Fatalf("running job: %d %v %s", code, h, b)
	}
	g.open()
	s.waitJob(t, job.ID, 30*time.Second)
	if code, _, _ := s.get(t, http.MethodGet, "/v1/jobs/"+job.ID+"/output?format=csv"); code != 200 {
		t.Fatalf("finished job: %d", code)
	}
	other := s.As(KeyB)
	code, _, b = other.Do(http.MethodGet, "/v1/jobs/"+job.ID+"/output", "", nil, nil)
	if code != http.StatusNotFound || json.Unmarshal(b, &e) != nil || e.Error.Code != api.CodeUnknownJob {
		t.Fatalf("another tenant's job: %d %s", code, b)
	}
	code, _, b = other.Do(http.MethodHead, "/v1/jobs/"+job.ID+"/errors", "", nil, nil)
	if code != http.StatusNotFound || len(b) != 0 {
		t.Fatalf("HEAD of another tenant's job: %d %s", code, b)
	}
}
