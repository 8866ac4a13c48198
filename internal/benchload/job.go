package benchload

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// JobResult is one batch job, submit to last result.
type JobResult struct {
	Model, Format string
	Items         int
	BodyBytes     int
	Submit        time.Duration // until 202
	Total         time.Duration // until the last result line
	Mismatches    int           // items whose class was not the expected one
	CPU           map[string]time.Duration
}

// ItemsPerSec is the end-to-end rate.
func (r JobResult) ItemsPerSec() float64 { return float64(r.Items) / r.Total.Seconds() }

// Client talks to the gateway.
type Client struct {
	Base, Key string
	HTTP      *http.Client
}

func (c *Client) request(ctx context.Context, method, path, ct string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Authorization", "Bearer "+c.Key)
	return c.HTTP.Do(req)
}

// RunJob submits one job of n items of corpus in format f and reads its
// results as an NDJSON stream until the last one, checking each; procs'
// CPU is measured over the same window.
func (c *Client) RunJob(ctx context.Context, co *Corpus, f string, n int, procs []Process) (*JobResult, error) {
	ct, body, want, err := co.Body(f, n)
	if err != nil {
		return nil, err
	}
	meter, err := startCPU(procs)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	id, err := c.submit(ctx, co.Model, ct, body)
	if err != nil {
		return nil, err
	}
	r := &JobResult{Model: co.Model, Format: f, Items: n, BodyBytes: len(body), Submit: time.Since(start)}
	if r.Mismatches, err = c.stream(ctx, id, want); err != nil {
		return nil, err
	}
	r.Total = time.Since(start)
	r.CPU = meter.stop()
	return r, nil
}

func (c *Client) submit(ctx context.Context, model, ct string, body []byte) (string, error) {
	resp, err := c.request(ctx, http.MethodPost, "/v1/jobs?model="+model, ct, body)
	if err != nil {
		return "", fmt.Errorf("submit: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("submit: %d %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	var acc struct {
		Job struct {
			ID string `json:"id"`
		} `json:"job"`
	}
	if err := json.Unmarshal(b, &acc); err != nil || acc.Job.ID == "" {
		return "", fmt.Errorf("submit: answer %s", b)
	}
	return acc.Job.ID, nil
}

// stream reads every result line of the job: each index once, each with a
// class or an error; it counts the classes that differ from want.
func (c *Client) stream(ctx context.Context, id string, want []int) (int, error) {
	resp, err := c.request(ctx, http.MethodGet, "/v1/jobs/"+id+"/results?format=ndjson", "", nil)
	if err != nil {
		return 0, fmt.Errorf("results: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return 0, fmt.Errorf("results: %d %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	seen := make([]bool, len(want))
	got, bad := 0, 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var it struct {
			Index int    `json:"index"`
			Class *int   `json:"class"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			return 0, fmt.Errorf("results line %d: %w", got, err)
		}
		switch {
		case it.Index < 0 || it.Index >= len(want) || seen[it.Index]:
			return 0, fmt.Errorf("results: index %d repeated or out of range", it.Index)
		case it.Error != "" || it.Class == nil:
			return 0, fmt.Errorf("results: item %d failed: %s", it.Index, it.Error)
		case want[it.Index] >= 0 && *it.Class != want[it.Index]:
			bad++
		}
		seen[it.Index] = true
		got++
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("results: %w", err)
	}
	if got != len(want) {
		return 0, fmt.Errorf("results: %d of %d items", got, len(want))
	}
	return bad, nil
}
