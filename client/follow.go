package client

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"batchinfer/api"

	"github.com/gorilla/websocket"
)

// Event types of Follow: the server's results, progress and end, and the
// client's reconnect.
const (
	EventResults   = api.TypeResults
	EventProgress  = api.TypeProgress
	EventEnd       = api.TypeEnd
	EventReconnect = "reconnect"
)

// FollowOptions shape a follow.
type FollowOptions struct {
	// After resumes after this sequence (a Results event's Seq): the
	// chunks with a greater one follow, none twice. 0 is the job's start.
	After uint64
	// ProgressOnly follows the job's progress without its results.
	ProgressOnly bool
	// Repeats delivers the results chunks a follow drops as delivered
	// already (a sequence not above the last, sent again after a resume),
	// marked Repeat: for tools that check the server.
	Repeats bool
	// Dial shapes the connections.
	Dial DialOptions
}

// Event is what happened to a followed job.
type Event struct {
	// Type is EventResults, EventProgress, EventEnd or EventReconnect.
	Type string
	Job  string
	// Seq is a results chunk's sequence; of EventEnd the job's last; of
	// EventReconnect the cursor the new connection resumes after.
	Seq uint64
	// Results is a chunk's results (EventResults).
	Results *api.ChunkResult
	// Status is the job's (EventProgress, EventEnd).
	Status *api.JobStatus
	// Err is why the connection was left (EventReconnect).
	Err error
	// Repeat marks a results chunk delivered already (FollowOptions.Repeats).
	Repeat bool
}

// Follow follows a job over the WebSocket until it ends: its results chunk
// by chunk (unless ProgressOnly), its progress, then its end. A dropped
// connection, a gateway that restarts or a slow-consumer close is resumed
// on a new connection after the last sequence received (an EventReconnect
// says so), so no chunk is missed or repeated; the follow gives up when
// nothing arrives for the client's RetryFor. The sequence ends after
// EventEnd, or with an error (the job unknown, the credentials refused,
// ctx done).
func (c *Client) Follow(ctx context.Context, id string, opts FollowOptions) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		f := &follower{c: c, id: id, opts: opts, last: opts.After, atLast: map[int]bool{}, yield: yield}
		if err := f.run(ctx); err != nil && !errors.Is(err, errStopped) {
			yield(Event{Job: id}, err)
		}
	}
}

// errStopped: the caller stopped the iteration.
var errStopped = errors.New("stopped")

// errEnded: the job's end arrived.
var errEnded = errors.New("ended")

type follower struct {
	c     *Client
	id    string
	opts  FollowOptions
	yield func(Event, error) bool
	// last is the highest sequence delivered; atLast the chunks delivered
	// with it (the results of chunks the store could not hold come again
	// with the last sequence).
	last   uint64
	atLast map[int]bool
	// heard is when the server last said something of the job.
	heard time.Time
}

func (f *follower) run(ctx context.Context) error {
	f.heard = time.Now()
	for {
		var conn *Conn
		var hello *Message
		err := f.c.retrying(ctx, true, func() (err error) {
			conn, hello, err = f.c.Dial(ctx, f.opts.Dial)
			return err
		})
		if err != nil {
			return err
		}
		err = f.session(ctx, conn, hello)
		conn.Close()
		switch {
		case errors.Is(err, errEnded):
			return nil
		case !f.resumable(err) || ctx.Err() != nil:
			return err
		case time.Since(f.heard) > f.c.retryFor() && f.c.retryFor() > 0:
			return fmt.Errorf("follow %s: nothing for %s: %w", f.id, f.c.retryFor(), err)
		}
		if !f.yield(Event{Type: EventReconnect, Job: f.id, Seq: f.last, Err: err}, nil) {
			return errStopped
		}
		if err := sleep(ctx, pause(err, firstBackoff)); err != nil {
			return err
		}
	}
}

// resumable reports whether a session's end is worth a new connection.
func (f *follower) resumable(err error) bool {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code != api.CloseUnauthorized
	}
	var e *api.Error
	if errors.As(err, &e) {
		return Temporary(e)
	}
	return !errors.Is(err, errStopped) && !isContextErr(err)
}

// session subscribes on conn and handles its messages until the job ends
// or the connection fails.
func (f *follower) session(ctx context.Context, conn *Conn, hello *Message) error {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := conn.Subscribe(f.id, f.last, !f.opts.ProgressOnly); err != nil {
		return err
	}
	timeout := time.Minute // a gateway that says nothing of its heartbeat
	if hello.HeartbeatMS > 0 {
		timeout = 2*time.Duration(hello.HeartbeatMS)*time.Millisecond + 5*time.Second
	}
	for {
		m, err := conn.Read(timeout)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if err := f.handle(&m); err != nil {
			return err
		}
	}
}

// handle delivers one message.
func (f *follower) handle(m *Message) error {
	if m.Job != "" && m.Job != f.id {
		return nil
	}
	switch m.Type {
	case api.TypeResults:
		f.heard = time.Now()
		return f.results(m)
	case api.TypeSubscribed, api.TypeProgress:
		f.heard = time.Now()
		return f.emit(Event{Type: EventProgress, Job: f.id, Status: m.Status})
	case api.TypeEnd:
		if err := f.emit(Event{Type: EventEnd, Job: f.id, Seq: m.LastSeq, Status: m.Status}); err != nil {
			return err
		}
		return errEnded
	case api.TypeError:
		return m.Err()
	}
	return nil
}

// results delivers a chunk unless it was delivered already.
func (f *follower) results(m *Message) error {
	repeat := m.Seq < f.last || m.Seq == f.last && f.atLast[m.Chunk]
	switch {
	case repeat && !f.opts.Repeats:
		return nil
	case m.Seq > f.last:
		f.last, f.atLast = m.Seq, map[int]bool{}
	}
	if !repeat {
		f.atLast[m.Chunk] = true
	}
	cr := &api.ChunkResult{Job: f.id, Chunk: m.Chunk, Start: m.Start, Done: m.Done, Failed: m.Failed,
		Skipped: m.Skipped, Worker: m.Worker, Items: m.Items}
	return f.emit(Event{Type: EventResults, Job: f.id, Seq: m.Seq, Results: cr, Repeat: repeat})
}

func (f *follower) emit(e Event) error {
	if !f.yield(e, nil) {
		return errStopped
	}
	return nil
}

// Wait follows a job's progress until it ends (resuming as Follow does)
// and returns its final status.
func (c *Client) Wait(ctx context.Context, id string) (*api.JobStatus, error) {
	for ev, err := range c.Follow(ctx, id, FollowOptions{ProgressOnly: true}) {
		if err != nil {
			return nil, err
		}
		if ev.Type == EventEnd {
			return ev.Status, nil
		}
	}
	return nil, fmt.Errorf("follow %s: ended without the job's end", id)
}
