package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

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

// wsMsg is the part of any server message a job client reads.
type wsMsg struct {
	Type    string          `json:"type"`
	Job     json.RawMessage `json:"job"`
	Seq     uint64          `json:"seq"`
	LastSeq uint64          `json:"last_seq"`
	Code    string          `json:"code"`
	Message string          `json:"message"`
	After   uint64          `json:"after"`
	Items   []struct {
		Index int    `json:"index"`
		Class *int   `json:"class"`
		Error string `json:"error"`
	} `json:"items"`
	Status struct {
		State string `json:"state"`
		Total int    `json:"total"`
	} `json:"status"`
}

// jobClient submits jobs over HTTP and follows each over its WebSocket,
// checking every result: each index exactly once, the class it should have.
type jobClient struct {
	id int
	r  *runner
	ws *websocket.Conn
}

func (j *jobClient) loop(ctx context.Context) {
	defer j.close()
	for k := 0; ctx.Err() == nil; k++ {
		mode := jobModes[(j.id+k)%len(jobModes)]
		if err := j.job(ctx, k, mode); err != nil && ctx.Err() == nil {
			j.r.fail(fmt.Errorf("job client %d, job %d (%s): %w", j.id, k, mode, err))
			j.close()
		}
	}
}

func (j *jobClient) close() {
	if j.ws != nil {
		_ = j.ws.Close()
		j.ws = nil
	}
}

func (j *jobClient) dial(ctx context.Context) error {
	j.close()
	hdr := http.Header{}
	if j.r.cfg.APIKey != "" {
		hdr.Set("Authorization", "Bearer "+j.r.cfg.APIKey)
	}
	u := "ws" + strings.TrimPrefix(j.r.cfg.URL, "http") + "/v1/ws"
	c, resp, err := websocket.DefaultDialer.DialContext(ctx, u, hdr)
	if err != nil {
		if resp != nil {
			b, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("dial: %w: %s", err, b)
		}
		return fmt.Errorf("dial: %w", err)
	}
	j.ws = c
	var hello wsMsg
	if err := j.read(&hello, 10*time.Second); err != nil || hello.Type != "hello" {
		return fmt.Errorf("hello: %v %q", err, hello.Type)
	}
	return nil
}

func (j *jobClient) read(m *wsMsg, timeout time.Duration) error {
	_ = j.ws.SetReadDeadline(time.Now().Add(timeout))
	_, b, err := j.ws.ReadMessage()
	if err != nil {
		return err
	}
	*m = wsMsg{}
	return json.Unmarshal(b, m)
}

func (j *jobClient) send(v any) error {
	_ = j.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return j.ws.WriteJSON(v)
}

// jobState is what a client knows of the job it follows.
type jobState struct {
	id      string
	model   string
	want    []int
	seen    []bool
	count   int
	lastSeq uint64
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
		select { // the system said when to come back
		case <-time.After(min(refused.retry, 5*time.Second)):
		case <-ctx.Done():
		}
		return nil
	}
	if err != nil {
		return err
	}
	if err := j.send(map[string]any{"type": "subscribe", "job": st.id}); err != nil {
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
		var m wsMsg
		if err := j.read(&m, j.r.cfg.JobTimeout); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Code == 4008 { // slow consumer: resume
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
func (j *jobClient) onFrame(ctx context.Context, st *jobState, m *wsMsg, mode string, cut int, results *int) (bool, error) {
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
		return j.send(map[string]any{"type": "subscribe", "job": st.id, "after": st.lastSeq})
	case modeCancel:
		resp, err := j.r.http.do(ctx, http.MethodPost, "/v1/jobs/"+st.id+"/cancel", "", nil)
		if err != nil {
			return fmt.Errorf("cancel: %w", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusConflict {
			return fmt.Errorf("cancel %s: status %d", st.id, resp.StatusCode)
		}
		st.cancelled = resp.StatusCode == http.StatusOK
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
	return j.send(map[string]any{"type": "subscribe", "job": st.id, "after": st.lastSeq})
}

// apply checks and records one results message.
func (j *jobClient) apply(st *jobState, m *wsMsg) error {
	var job string
	if err := json.Unmarshal(m.Job, &job); err != nil || job != st.id {
		return fmt.Errorf("job %s: results of job %s (seq %d)", st.id, m.Job, m.Seq)
	}
	if m.Seq <= st.lastSeq {
		if st.resubbed && !st.resubPending && m.Seq > st.resubAfter {
			j.r.count(&j.r.stats.Replays) // re-sent after a re-subscribe: dropped by seq
			return nil
		}
		return fmt.Errorf("job %s: seq %d after %d", st.id, m.Seq, st.lastSeq)
	}
	st.lastSeq = m.Seq
	for _, it := range m.Items {
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

func (j *jobClient) finish(st *jobState, m *wsMsg) error {
	if m.LastSeq != st.lastSeq {
		return fmt.Errorf("job %s: end last_seq %d, last seen %d", st.id, m.LastSeq, st.lastSeq)
	}
	if st.count != len(st.want) {
		j.r.stats.Lost.Add(int64(len(st.want) - st.count))
		return fmt.Errorf("job %s: ended with %d of %d items", st.id, st.count, len(st.want))
	}
	want := "completed"
	if st.cancelled {
		want = "cancelled"
	}
	if m.Status.State != want {
		return fmt.Errorf("job %s: ended %s, want %s", st.id, m.Status.State, want)
	}
	j.r.stats.Items.Add(int64(st.count))
	j.r.count(&j.r.stats.Jobs)
	return nil
}

// errRefused is a submission the system refused for want of room, with
// when to try again.
type errRefused struct{ retry time.Duration }

func (e *errRefused) Error() string { return fmt.Sprintf("refused, retry after %s", e.retry) }

func (j *jobClient) submit(ctx context.Context, k, n int) (*jobState, error) {
	model, ct, body, want := j.r.corpus.jobBody(k, n)
	path := "/v1/jobs"
	if ct != "application/json" {
		path += "?model=" + model
	}
	resp, err := j.r.http.do(ctx, http.MethodPost, path, ct, body)
	if err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	switch resp.StatusCode {
	case http.StatusAccepted:
	case http.StatusInsufficientStorage, http.StatusTooManyRequests:
		retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return nil, &errRefused{retry: time.Duration(max(retry, 1)) * time.Second}
	default:
		return nil, fmt.Errorf("submit: status %d: %s", resp.StatusCode, b)
	}
	var out struct {
		Job struct {
			ID    string `json:"id"`
			Total int    `json:"total"`
		} `json:"job"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Job.Total != n {
		return nil, fmt.Errorf("submit: answer %s", b)
	}
	return &jobState{id: out.Job.ID, model: model + " " + ct, want: want, seen: make([]bool, n)}, nil
}
