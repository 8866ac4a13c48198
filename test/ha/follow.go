package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gorilla/websocket"
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

// wsMsg is what the follower reads of a server message.
type wsMsg struct {
	Type    string          `json:"type"`
	Job     json.RawMessage `json:"job"`
	Seq     uint64          `json:"seq"`
	LastSeq uint64          `json:"last_seq"`
	Chunk   int             `json:"chunk"`
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Items   []struct {
		Index int    `json:"index"`
		Error string `json:"error"`
	} `json:"items"`
	Status struct {
		State  string `json:"state"`
		Done   int    `json:"done"`
		Failed int    `json:"failed"`
		Total  int    `json:"total"`
	} `json:"status"`
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
	f := &follower{cfg: c, enc: json.NewEncoder(out), deadline: time.Now().Add(c.timeout)}
	if err := f.submit(); err != nil {
		return err
	}
	runErr := f.run()
	sum := f.t.summary(f)
	b, _ := json.MarshalIndent(sum, "", "  ")
	fmt.Println(string(b))
	return errors.Join(runErr, sum.check(c.contiguous))
}

// follower follows one job across reconnects.
type follower struct {
	cfg      followConfig
	enc      *json.Encoder
	deadline time.Time
	job      string
	t        tally
	start    time.Time
	ended    time.Time
}

func (f *follower) log(e event) {
	e.T = time.Now().UnixMilli()
	_ = f.enc.Encode(e)
}

// submit posts the job and records its id and size.
func (f *follower) submit() error {
	body, err := os.ReadFile(f.cfg.body)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, f.cfg.url+"/v1/jobs?model="+f.cfg.model, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	f.auth(req.Header)
	f.start = time.Now()
	f.log(event{Type: "submit"})
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("submit: HTTP %d: %s", resp.StatusCode, b)
	}
	var acc struct {
		Job struct {
			ID    string `json:"id"`
			Total int    `json:"total"`
		} `json:"job"`
	}
	if err := json.Unmarshal(b, &acc); err != nil || acc.Job.ID == "" {
		return fmt.Errorf("submit: no job id in %s", b)
	}
	f.job = acc.Job.ID
	f.t = newTally(acc.Job.Total)
	f.log(event{Type: "accepted", Items: acc.Job.Total, Note: f.job})
	if f.cfg.jobFile != "" {
		return os.WriteFile(f.cfg.jobFile, []byte(f.job+"\n"), 0o644)
	}
	return nil
}

func (f *follower) auth(h http.Header) {
	if f.cfg.key != "" {
		h.Set("Authorization", "Bearer "+f.cfg.key)
	}
}

// run follows the job to its end, reconnecting (and resuming after the last
// seq) whenever the socket or the subscription fails.
func (f *follower) run() error {
	for time.Now().Before(f.deadline) {
		done, err := f.session()
		if done {
			return nil
		}
		f.t.reconnects++
		f.log(event{Type: "reconnect", Seq: f.t.lastSeq, Note: fmt.Sprint(err)})
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("job %s not ended after %v", f.job, f.cfg.timeout)
}

// session is one WebSocket connection: true once the job has ended.
func (f *follower) session() (bool, error) {
	h := http.Header{}
	f.auth(h)
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(f.cfg.url, "http")+"/v1/ws", h)
	if err != nil {
		return false, err
	}
	defer ws.Close()
	sub := map[string]any{"type": "subscribe", "job": f.job, "after": f.t.lastSeq}
	if err := ws.WriteJSON(sub); err != nil {
		return false, err
	}
	for time.Now().Before(f.deadline) {
		_ = ws.SetReadDeadline(time.Now().Add(60 * time.Second))
		var m wsMsg
		if err := ws.ReadJSON(&m); err != nil {
			return false, err
		}
		if done, err := f.handle(m); done || err != nil {
			return done, err
		}
	}
	return false, errors.New("deadline")
}

// handle applies one message: true at the job's end, an error to reconnect.
func (f *follower) handle(m wsMsg) (bool, error) {
	switch m.Type {
	case "results":
		f.t.add(m)
		f.log(event{Type: "results", Seq: m.Seq, Chunk: m.Chunk, Items: len(m.Items)})
	case "end":
		f.ended = time.Now()
		f.t.state, f.t.endSeq = m.Status.State, m.LastSeq
		f.t.done, f.t.failed = m.Status.Done, m.Status.Failed
		f.log(event{Type: "end", Seq: m.LastSeq, Note: m.Status.State})
		return true, nil
	case "error":
		f.log(event{Type: "error", Note: m.Code + ": " + m.Message})
		return false, fmt.Errorf("server error %s: %s", m.Code, m.Message)
	}
	return false, nil
}
