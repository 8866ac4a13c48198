package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"batchinfer/api"
	"batchinfer/client"
)

type followConfig struct {
	url, key, model, body, events, jobFile string
	timeout                                time.Duration
	contiguous                             bool
}

// event is one line of the events file.
type event struct {
	T     int64  `json:"t"` // unix milliseconds
	Type  string `json:"type"`
	Seq   uint64 `json:"seq,omitempty"`
	Chunk int    `json:"chunk,omitempty"`
	Items int    `json:"items,omitempty"`
	Note  string `json:"note,omitempty"`
}

func follow(args []string) error {
	var c followConfig
	fs := flag.NewFlagSet("follow", flag.ContinueOnError)
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8080", "gateway (or nginx) base URL")
	fs.StringVar(&c.key, "key", os.Getenv("API_KEY"), "API key ($API_KEY)")
	fs.StringVar(&c.model, "model", "digits", "model of the job")
	fs.StringVar(&c.body, "body", "", "NDJSON file of the job's items")
	fs.StringVar(&c.events, "events", "events.ndjson", "where the events go")
	fs.StringVar(&c.jobFile, "job", "", "where the job id goes once accepted")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Minute, "give up after")
	fs.BoolVar(&c.contiguous, "contiguous", true, "require contiguous seqs (true when the job is the only one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	out, err := os.Create(c.events)
	if err != nil {
		return err
	}
	defer out.Close()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	f := &follower{cfg: c, enc: json.NewEncoder(out), c: &client.Client{BaseURL: c.url, Key: c.key, RetryFor: c.timeout}}
	if err := f.submit(ctx); err != nil {
		return err
	}
	runErr := f.run(ctx)
	sum := f.t.summary(f)
	b, _ := json.MarshalIndent(sum, "", "  ")
	fmt.Println(string(b))
	return errors.Join(runErr, sum.check(c.contiguous))
}

// follower follows one job across reconnects, with package client's
// Follow (every chunk delivered, repeats included, so that the server's
// are counted).
type follower struct {
	cfg   followConfig
	enc   *json.Encoder
	c     *client.Client
	job   string
	t     tally
	start time.Time
	ended time.Time
}

func (f *follower) log(e event) {
	e.T = time.Now().UnixMilli()
	_ = f.enc.Encode(e)
}

// submit posts the job and records its id and size.
func (f *follower) submit(ctx context.Context) error {
	body, err := os.Open(f.cfg.body)
	if err != nil {
		return err
	}
	defer body.Close()
	f.start = time.Now()
	f.log(event{Type: "submit"})
	sub, err := f.c.SubmitBody(ctx, body, client.ContentNDJSON, client.JobOptions{Model: f.cfg.model})
	if err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	f.job = sub.Job.ID
	f.t = newTally(sub.Job.Total)
	f.log(event{Type: "accepted", Items: sub.Job.Total, Note: f.job})
	if f.cfg.jobFile != "" {
		return os.WriteFile(f.cfg.jobFile, []byte(f.job+"\n"), 0o644)
	}
	return nil
}

// run follows the job to its end. Follow resumes after the last seq on a
// new connection whenever the socket fails; a follow that gives up (an
// error the server sent) is started again from there until the timeout.
func (f *follower) run(ctx context.Context) error {
	for ctx.Err() == nil {
		err := f.followOnce(ctx)
		if err == nil {
			return nil
		}
		f.t.reconnects++
		f.log(event{Type: "reconnect", Seq: f.t.lastSeq, Note: err.Error()})
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("job %s not ended after %v", f.job, f.cfg.timeout)
}

// followOnce is one Follow: nil once the job has ended.
func (f *follower) followOnce(ctx context.Context) error {
	opts := client.FollowOptions{After: f.t.lastSeq, Repeats: true}
	for ev, err := range f.c.Follow(ctx, f.job, opts) {
		if err != nil {
			return err
		}
		switch ev.Type {
		case client.EventResults:
			f.t.add(ev.Seq, ev.Results)
			f.log(event{Type: "results", Seq: ev.Seq, Chunk: ev.Results.Chunk, Items: len(ev.Results.Items)})
		case client.EventReconnect:
			f.t.reconnects++
			f.log(event{Type: "reconnect", Seq: ev.Seq, Note: fmt.Sprint(ev.Err)})
		case client.EventEnd:
			f.end(ev.Seq, ev.Status)
			return nil
		}
	}
	return errors.New("the follow ended without the job's end")
}

func (f *follower) end(lastSeq uint64, st *api.JobStatus) {
	f.ended = time.Now()
	f.t.state, f.t.endSeq = st.State, lastSeq
	f.t.done, f.t.failed = st.Done, st.Failed
	f.log(event{Type: "end", Seq: lastSeq, Note: st.State})
}
