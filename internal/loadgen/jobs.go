package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"batchinfer/api"
	"batchinfer/client"

	"github.com/gorilla/websocket"
)

// What a job client does in the middle of a job's stream (after cut results).
const (
	modeFollow      = "follow"      // read to the end
	modeReconnect   = "reconnect"   // drop the socket, resume on a new one from the last seq
	modeResubscribe = "resubscribe" // subscribe again on the same socket from the last seq
	modeCancel      = "cancel"      // cancel the job, read to its end
	modeSlow        = "slow"        // a big job read slowly
)

var jobModes = []string{modeFollow, modeFollow, modeReconnect, modeFollow, modeResubscribe,
	modeFollow, modeSlow, modeFollow, modeReconnect, modeCancel}

// jobClient submits jobs over HTTP and follows each over its WebSocket,
// checking every result: each index exactly once, the class it should have.
type jobClient struct {
	id int
	r  *runner
	ws *client.Conn
}

func (j *jobClient) loop(ctx context.Context) {
	defer j.close()
	for k := 0; !over(ctx); k++ {
		mode := jobModes[(j.id+k)%len(jobModes)]
		if err := j.job(ctx, k, mode); err != nil && !over(ctx) {
			j.r.fail(fmt.Errorf("job client %d, job %d (%s): %w", j.id, k, mode, err))
			j.close()
		}
	}
}

// over reports whether the load's time is up. A dial or read cut by the
// context's deadline can return (net's own timer, "i/o timeout") a moment
// before ctx.Err is set, so the deadline itself counts too.
func over(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

func (j *jobClient) close() {
	if j.ws != nil {
		_ = j.ws.Close()
		j.ws = nil
	}
}

func (j *jobClient) dial(ctx context.Context) error {
	j.close()
	c, _, err := j.r.http.Dial(ctx, client.DialOptions{})
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	j.ws = c
	return nil
}

func (j *jobClient) read(m *client.Message, timeout time.Duration) error {
	var err error
	*m, err = j.ws.Read(timeout)
	return err
}

func (j *jobClient) subscribe(id string, after uint64) error {
	return j.ws.Subscribe(id, after, true)
}

// jobState is what a client knows of the job it follows.
type jobState struct {
	id      string
	model   string
	want    []int
	seen    []bool
	count   int
	lastSeq uint64
	// atLast: the chunks received at lastSeq (the results store's full
	// chunks all come at the job's last sequence, just before end).
	atLast map[int]bool
	// skippedSeen: items received skipped (a worker had their chunk); the
	// others skipped are only counted in the end status.
	skippedSeen int
	// after a re-subscribe, frames of the old subscription may arrive until
	// subscribed; the new one restarts at resubAfter.
	resubbed     bool
	resubPending bool
	resubAfter   uint64
	cancelled    bool
}

func (j *jobClient) job(ctx context.Context, k int, mode string) error {
	if j.ws == nil {
		if err := j.dial(ctx); err != nil {
			return err
		}
	}
	n := j.r.cfg.JobItems
	if mode == modeSlow {
		n *= 10
	}
	st, err := j.submit(ctx, j.id*1009+k, n)
	var refused *errRefused
	if errors.As(err, &refused) {
		j.r.count(&j.r.stats.Refused)
		// The socket is not read while the client waits: refused several
		// times in a row, it would miss the gateway's pings for longer
		// than the gateway waits (2 × GATEWAY_HEARTBEAT) and be dropped.
		// The next job dials a new one.
		j.close()
		select { // the system said when to come back
		case <-time.After(min(refused.retry, 5*time.Second)):
		case <-ctx.Done():
		}
		return nil
	}
	if err != nil {
		return err
	}
	if err := j.subscribe(st.id, 0); err != nil {
		return err
	}
	return j.follow(ctx, st, mode, 1+(j.id+k)%3)
}

// follow reads the job's stream to its end, doing the mode's action after
// cut results.
func (j *jobClient) follow(ctx context.Context, st *jobState, mode string, cut int) error {
	deadline := time.Now().Add(j.r.cfg.JobTimeout)
	results := 0
	for {
		if time.Now().After(deadline) {
			return fmt.Errorf("job %s: %d of %d items after %s (lost)", st.id, st.count, len(st.want), j.r.cfg.JobTimeout)
		}
		if mode == modeSlow {
			time.Sleep(20 * time.Millisecond)
		}
		var m client.Message
		if err := j.read(&m, j.r.cfg.JobTimeout); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Code == api.CloseSlowConsumer { // slow consumer: resume
				j.r.count(&j.r.stats.SlowCloses)
				if err := j.resume(ctx, st); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("job %s: read: %w", st.id, err)
		}
		done, err := j.onFrame(ctx, st, &m, mode, cut, &results)
		if err != nil || done {
			return err
		}
	}
}

// onFrame handles one message of the stream; done at the job's end.
func (j *jobClient) onFrame(ctx context.Context, st *jobState, m *client.Message, mode string, cut int, results *int) (bool, error) {
	switch m.Type {
	case "subscribed":
		st.resubPending = false
	case "results":
		if err := j.apply(st, m); err != nil {
			return false, err
		}
		if *results++; *results == cut {
			return false, j.act(ctx, st, mode)
		}
	case "end":
		if st.resubPending {
			return false, nil // the end of the stream the re-subscribe replaced
		}
		return true, j.finish(st, m)
	case "error":
		return false, fmt.Errorf("job %s: error %s: %s", st.id, m.Code, m.Message)
	}
	return false, nil
}

// act does the mode's action in the middle of the stream.
func (j *jobClient) act(ctx context.Context, st *jobState, mode string) error {
	switch mode {
	case modeReconnect:
		j.r.count(&j.r.stats.Reconnects)
		return j.resume(ctx, st)
	case modeResubscribe:
		j.r.count(&j.r.stats.Resubscribes)
		st.resubbed, st.resubPending, st.resubAfter = true, true, st.lastSeq
		return j.subscribe(st.id, st.lastSeq)
	case modeCancel:
		_, err := j.r.http.Cancel(ctx, st.id)
		if err != nil && client.ErrorCode(err) != api.CodeConflict { // a conflict: it had finished
			return fmt.Errorf("cancel %s: %w", st.id, err)
		}
		st.cancelled = err == nil
		j.r.count(&j.r.stats.Cancels)
	}
	return nil
}

// resume drops the socket and follows the job on a new one from its cursor.
func (j *jobClient) resume(ctx context.Context, st *jobState) error {
	if err := j.dial(ctx); err != nil {
		return err
	}
	st.resubPending = false
	return j.subscribe(st.id, st.lastSeq)
}

// apply checks and records one results message.
func (j *jobClient) apply(st *jobState, m *client.Message) error {
	if m.Job != st.id {
		return fmt.Errorf("job %s: results of job %s (seq %d)", st.id, m.Job, m.Seq)
	}
	if m.Seq < st.lastSeq || m.Seq == st.lastSeq && st.atLast[m.Chunk] {
		if st.resubbed && !st.resubPending && m.Seq > st.resubAfter {
			j.r.count(&j.r.stats.Replays) // re-sent after a re-subscribe: dropped by seq
			return nil
		}
		return fmt.Errorf("job %s: seq %d after %d", st.id, m.Seq, st.lastSeq)
	}
	if m.Seq > st.lastSeq || st.atLast == nil {
		st.lastSeq, st.atLast = m.Seq, map[int]bool{}
	}
	st.atLast[m.Chunk] = true
	for _, it := range m.Items {
		if it.Skipped {
			st.skippedSeen++
		}
		if err := j.check(st, it.Index, it.Class, it.Error); err != nil {
			return err
		}
	}
	return nil
}

// check records one item's result: each index once, the expected class, an
// error only for a cancelled job's items.
func (j *jobClient) check(st *jobState, index int, class *int, failed string) error {
	if index < 0 || index >= len(st.want) {
		return fmt.Errorf("job %s: item index %d out of range", st.id, index)
	}
	if st.seen[index] {
		j.r.count(&j.r.stats.Duplicates)
		return fmt.Errorf("job %s: item %d twice", st.id, index)
	}
	st.seen[index] = true
	st.count++
	switch {
	case failed != "" && st.cancelled && failed == "job cancelled":
	case strings.HasPrefix(failed, "result not stored"): // the results store was full
		j.r.count(&j.r.stats.Unstored)
	case failed != "":
		return fmt.Errorf("job %s: item %d failed: %s", st.id, index, failed)
	case class == nil:
		return fmt.Errorf("job %s (%s): item %d has no class", st.id, st.model, index)
	case *class != st.want[index]:
		return fmt.Errorf("job %s (%s): item %d class %d, want %d", st.id, st.model, index, *class, st.want[index])
	}
	return nil
}

func (j *jobClient) finish(st *jobState, m *client.Message) error {
	if m.LastSeq != st.lastSeq {
		return fmt.Errorf("job %s: end last_seq %d, last seen %d", st.id, m.LastSeq, st.lastSeq)
	}
	// Items skipped before a worker had them are counted, not streamed.
	unstreamed := 0
	if m.Status != nil && st.cancelled {
		unstreamed = m.Status.Skipped - st.skippedSeen
	}
	if st.count+unstreamed != len(st.want) {
		j.r.stats.Lost.Add(int64(len(st.want) - st.count - unstreamed))
		return fmt.Errorf("job %s: ended with %d of %d items (%d skipped unstreamed)", st.id, st.count, len(st.want), unstreamed)
	}
	want := "completed"
	if st.cancelled {
		want = "cancelled"
	}
	if m.Status == nil || m.Status.State != want {
		return fmt.Errorf("job %s: ended %s, want %s", st.id, m.Raw, want)
	}
	j.r.stats.Items.Add(int64(st.count + unstreamed))
	j.r.count(&j.r.stats.Jobs)
	return nil
}

// errRefused is a submission the system refused for want of room, with
// when to try again.
type errRefused struct{ retry time.Duration }

func (e *errRefused) Error() string { return fmt.Sprintf("refused, retry after %s", e.retry) }

func (j *jobClient) submit(ctx context.Context, k, n int) (*jobState, error) {
	model, ct, body, want := j.r.corpus.jobBody(k, n)
	sub, err := j.r.http.SubmitBody(ctx, bytes.NewReader(body), ct, client.JobOptions{Model: model})
	var e *api.Error
	switch {
	case errors.As(err, &e) && (e.Status == http.StatusInsufficientStorage || e.Status == http.StatusTooManyRequests):
		return nil, &errRefused{retry: max(e.RetryAfter, time.Second)}
	case err != nil:
		return nil, fmt.Errorf("submit: %w", err)
	case sub.Job.Total != n:
		return nil, fmt.Errorf("submit: %d items accepted of %d", sub.Job.Total, n)
	}
	return &jobState{id: sub.Job.ID, model: model + " " + ct, want: want, seen: make([]bool, n)}, nil
}
