package benchload

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"batchinfer/api"
	"batchinfer/client"
)

// SyncResult is a run of single-item synchronous predictions.
type SyncResult struct {
	Model       string
	Conns       int
	Requests    int
	Errors      int
	FirstError  string
	Elapsed     time.Duration
	P50, P90    time.Duration
	P99, Max    time.Duration
	CPU         map[string]time.Duration
	BatchedWith string // what ran beside it ("" when idle)
}

// ReqPerSec is the rate of successful requests.
func (r SyncResult) ReqPerSec() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

// RunSync sends single-item predictions of corpus from conns keep-alive
// connections, back to back, for d; procs' CPU is measured over the run.
func (c *Client) RunSync(ctx context.Context, co *Corpus, conns int, d time.Duration, procs []Process) (*SyncResult, error) {
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return nil, err
	}
	reqs, err := syncRequests(u.Host, c.Key, co)
	if err != nil {
		return nil, err
	}
	// Connect first, so that the window measures requests only.
	cs := make([]net.Conn, conns)
	for i := range cs {
		if cs[i], err = net.Dial("tcp", u.Host); err != nil {
			return nil, fmt.Errorf("connect: %w", err)
		}
		defer cs[i].Close()
	}
	meter, err := startCPU(procs)
	if err != nil {
		return nil, err
	}
	lats := make([][]time.Duration, conns)
	errs := make([]error, conns)
	nerr := make([]int, conns)
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for i := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lats[i], nerr[i], errs[i] = loop(ctx, cs[i], reqs, i, end)
		}()
	}
	wg.Wait()
	r := &SyncResult{Model: co.Model, Conns: conns, Elapsed: time.Since(start), CPU: meter.stop()}
	all := slices.Concat(lats...)
	for i := range nerr {
		r.Errors += nerr[i]
	}
	for _, e := range errs {
		if e != nil && r.FirstError == "" {
			r.FirstError = e.Error()
		}
	}
	r.Requests = len(all)
	if len(all) == 0 {
		return r, fmt.Errorf("no successful request: %s", r.FirstError)
	}
	slices.Sort(all)
	q := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
	r.P50, r.P90, r.P99, r.Max = q(0.5), q(0.9), q(0.99), all[len(all)-1]
	return r, nil
}

// loop sends requests on one connection until end; a connection that
// fails is the end of its loop (its error is returned).
func loop(ctx context.Context, c net.Conn, reqs [][]byte, k int, end time.Time) ([]time.Duration, int, error) {
	br := bufio.NewReaderSize(c, 16<<10)
	lats := make([]time.Duration, 0, 1<<14)
	var firstErr error
	nerr := 0
	for i := k; ctx.Err() == nil; i++ {
		t0 := time.Now()
		if t0.After(end) {
			break
		}
		_ = c.SetDeadline(t0.Add(30 * time.Second))
		if _, err := c.Write(reqs[i%len(reqs)]); err != nil {
			return lats, nerr + 1, err
		}
		status, body, err := readResponse(br)
		if err != nil {
			return lats, nerr + 1, err
		}
		if status != 200 || !bytes.Contains(body, []byte(`"class":`)) {
			nerr++
			if firstErr == nil {
				firstErr = fmt.Errorf("status %d: %.200s", status, body)
			}
			continue
		}
		lats = append(lats, time.Since(t0))
	}
	return lats, nerr, firstErr
}

// readResponse reads one HTTP/1.1 response: its status and body
// (Content-Length or chunked).
func readResponse(br *bufio.Reader) (int, []byte, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	length, chunked := -1, false
	for {
		h, err := br.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		k, v, _ := bytes.Cut(h, []byte(":"))
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			length, _ = strconv.Atoi(string(v))
		case bytes.EqualFold(k, []byte("Transfer-Encoding")) && bytes.EqualFold(v, []byte("chunked")):
			chunked = true
		}
	}
	if chunked {
		body, err := readChunked(br)
		return status, body, err
	}
	if length < 0 {
		return 0, nil, errors.New("response without Content-Length")
	}
	body := make([]byte, length)
	_, err = io.ReadFull(br, body)
	return status, body, err
}

func readChunked(br *bufio.Reader) ([]byte, error) {
	var body []byte
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 32)
		if err != nil {
			return nil, fmt.Errorf("bad chunk size %q", line)
		}
		chunk := make([]byte, n+2)
		if _, err := io.ReadFull(br, chunk); err != nil {
			return nil, err
		}
		if n == 0 {
			return body, nil
		}
		body = append(body, chunk[:n]...)
	}
}

// syncRequests are the raw HTTP/1.1 requests of one-item predictions of
// each corpus item: the bodies package client's Predict sends.
func syncRequests(host, key string, co *Corpus) ([][]byte, error) {
	reqs := make([][]byte, len(co.items))
	for i, it := range co.items {
		body, err := json.Marshal(api.PredictRequest{Inputs: []client.Input{client.Numbers(it)}})
		if err != nil {
			return nil, err
		}
		reqs[i] = fmt.Appendf(nil, "POST /v1/models/%s/predict HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", co.Model, host, key, len(body), body)
	}
	return reqs, nil
}
