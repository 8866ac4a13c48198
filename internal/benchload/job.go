package benchload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"batchinfer/client"
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

// Client drives the gateway through package client; the synchronous load
// (RunSync) writes its requests on raw keep-alive connections instead, a
// measured fast path (BenchmarkSyncRequest: the load generator's own CPU
// per request is the measurement's noise on a 2-core machine).
type Client struct {
	*client.Client
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
	sub, err := c.SubmitBody(ctx, bytes.NewReader(body), ct, client.JobOptions{Model: model})
	if err != nil {
		return "", fmt.Errorf("submit: %w", err)
	}
	return sub.Job.ID, nil
}

// stream reads every result line of the job: each index once, each with a
// class or an error; it counts the classes that differ from want.
func (c *Client) stream(ctx context.Context, id string, want []int) (int, error) {
	seen := make([]bool, len(want))
	got, bad := 0, 0
	for line, err := range c.ResultLines(ctx, id) {
		if err != nil {
			return 0, fmt.Errorf("results: %w", err)
		}
		var it struct { // the fields checked: decoding whole results would load the load generator
			Index int    `json:"index"`
			Class *int   `json:"class"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal(line, &it); err != nil {
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
	if got != len(want) {
		return 0, fmt.Errorf("results: %d of %d items", got, len(want))
	}
	return bad, nil
}
