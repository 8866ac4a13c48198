package system

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway"
)

// smallChunks makes digits jobs of 10 items per chunk, so that short jobs
// stream several result messages.
func smallChunks(c *gateway.Config) { c.Service.MaxChunkBytes = 10 * (4*64 + 16) }

// chunksOf256 caps the digits model's chunks at 256 items (its metadata
// says 512), for tests written around chunks of 256.
func chunksOf256(c *gateway.Config) { c.Service.MaxChunkBytes = 256 * (4*64 + 16) }

// followToEnd subscribes to job from after and reads until end, checking
// order; it returns the item indexes seen and the last seq.
func followToEnd(w *WS, job string, after uint64) (map[int]int, uint64, error) {
	w.tb.Helper()
	w.Send(map[string]any{"type": "subscribe", "job": job, "after": after})
	return readToEnd(w, after)
}

func checkAll(seen map[int]int, n int) error {
	if len(seen) != n {
		return fmt.Errorf("%d distinct items, want %d", len(seen), n)
	}
	for i, c := range seen {
		if c != 1 || i < 0 || i >= n {
			return fmt.Errorf("item %d seen %d times", i, c)
		}
	}
	return nil
}

// settled waits until the gateway holds nothing for clients, the server's
// consumers are back to base and the goroutines of the test process are
// back near their count before the load.
func (s *System) settled(t *testing.T, consumers, goroutines int) {
	t.Helper()
	Eventually(t, 20*time.Second, func() error {
		st := s.Gateway.Stats()
		if st.Followers != 0 || st.FeedWatchers != 0 || st.FeedJobs != 0 || st.InboxWaiting != 0 || st.WSConnections != 0 ||
			st.WSPreauth != 0 || st.FollowTenants != 0 || st.Uploads != 0 {
			return fmt.Errorf("gateway still holds %+v", st)
		}
		if c := s.Consumers(); c != consumers {
			return fmt.Errorf("%d JetStream consumers, %d before", c, consumers)
		}
		if n := runtime.NumGoroutine(); n > goroutines+10 {
			return fmt.Errorf("%d goroutines, %d before", n, goroutines)
		}
		return nil
	})
}

// 3,000 subscribe → end cycles in a row on one connection, then the server
// holds no more consumers than before and a new subscription still streams.
func TestSubscribeEndCyclesOneConnection(t *testing.T) {
	s := Start(t, Options{Gateway: smallChunks})
	inputs, _ := DigitInputs(t, 30)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	if job.Chunks != 3 {
		t.Fatalf("%d chunks, want 3", job.Chunks)
	}
	s.waitJob(t, job.ID, 30*time.Second)
	consumers, goroutines := s.Consumers(), runtime.NumGoroutine()

	w := s.MustDialWS()
	cycles := 3000
	if testing.Short() {
		cycles = 300
	}
	for i := 0; i < cycles; i++ {
		seen, _, err := followToEnd(w, job.ID, 0)
		if err == nil {
			err = checkAll(seen, 30)
		}
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
	}
	_ = w.C.Close()
	s.settled(t, consumers, goroutines)
	seen, _, err := followToEnd(s.MustDialWS(), job.ID, 0)
	if err != nil || checkAll(seen, 30) != nil {
		t.Fatalf("after the cycles: %v %v", err, checkAll(seen, 30))
	}
}

// 10,000 cycles across 100 connections at once, half of them resuming
// from the middle of the stream with a re-subscribe on the same
// connection; every one streams to end with each item exactly once.
func TestSubscribeCyclesManyConnections(t *testing.T) {
	s := Start(t, Options{Gateway: smallChunks})
	job := s.finishedDigitsJob(t, 30)
	consumers, goroutines := s.Consumers(), runtime.NumGoroutine()

	conns, cycles := 100, 100
	if testing.Short() {
		conns, cycles = 20, 20
	}
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for c := 0; c < conns; c++ {
		w := s.MustDialWS()
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			defer w.C.Close()
			for i := 0; i < cycles; i++ {
				if err := resubscribeCycle(w, job.ID, (c+i)%2 == 1); err != nil {
					errs <- fmt.Errorf("connection %d cycle %d: %w", c, i, err)
					return
				}
			}
		}(c)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s.settled(t, consumers, goroutines)
}

// resubscribeCycle follows the job to end; with resume it first reads one
// result, then subscribes again on the same connection from that seq,
// which restarts the stream there.
func resubscribeCycle(w *WS, job string, resume bool) error {
	if !resume {
		seen, _, err := followToEnd(w, job, 0)
		if err == nil {
			err = checkAll(seen, 30)
		}
		return err
	}
	w.Send(map[string]any{"type": "subscribe", "job": job})
	first := map[int]int{}
	var seq uint64
	for seq == 0 {
		m, err := w.TryRead(30 * time.Second)
		if err != nil {
			return err
		}
		if m.Type == "error" {
			return errors.New(string(m.Raw))
		}
		if m.Type == "results" {
			seq = m.Seq
			for _, it := range m.Items {
				first[it.Index]++
			}
		}
	}
	// Frames of the first subscription may still arrive until subscribed.
	w.Send(map[string]any{"type": "subscribe", "job": job, "after": seq})
	for {
		m, err := w.TryRead(30 * time.Second)
		if err != nil {
			return err
		}
		if m.Type == "subscribed" {
			break
		}
	}
	seen, last, err := readToEnd(w, seq)
	if err != nil {
		return err
	}
	for i, n := range first {
		seen[i] += n
	}
	if last <= seq {
		return fmt.Errorf("nothing after seq %d", seq)
	}
	return checkAll(seen, 30)
}

// readToEnd reads a subscribed stream until end, checking order.
func readToEnd(w *WS, after uint64) (map[int]int, uint64, error) {
	seen, last := map[int]int{}, after
	for {
		m, err := w.TryRead(30 * time.Second)
		if err != nil {
			return nil, 0, err
		}
		switch m.Type {
		case "results":
			if m.Seq <= last {
				return nil, 0, fmt.Errorf("seq %d after %d", m.Seq, last)
			}
			last = m.Seq
			for _, it := range m.Items {
				seen[it.Index]++
			}
		case "end":
			if m.LastSeq != last {
				return nil, 0, fmt.Errorf("end last_seq %d, saw %d", m.LastSeq, last)
			}
			return seen, last, nil
		case "error":
			return nil, 0, errors.New(string(m.Raw))
		}
	}
}

// Subscriptions that end early, thousands of times across many
// connections: unsubscribed mid-stream, or cut by closing the connection
// mid-stream. Nothing is left behind, and unsubscribe is final.
func TestSubscriptionsEndedEarlyLeaveNothing(t *testing.T) {
	s := Start(t, Options{Gateway: smallChunks})
	job := s.finishedDigitsJob(t, 300)
	consumers, goroutines := s.Consumers(), runtime.NumGoroutine()

	conns, cycles := 50, 40
	if testing.Short() {
		conns, cycles = 10, 10
	}
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			w := s.MustDialWS()
			for i := 0; i < cycles; i++ {
				if i%4 == 3 { // close mid-stream, continue on a new connection
					w.Send(map[string]any{"type": "subscribe", "job": job.ID})
					_ = w.C.Close()
					w = s.MustDialWS()
					continue
				}
				if err := unsubscribeMidStream(w, job.ID); err != nil {
					errs <- fmt.Errorf("connection %d cycle %d: %w", c, i, err)
					return
				}
			}
			_ = w.C.Close()
		}(c)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s.settled(t, consumers, goroutines)
}

// unsubscribeMidStream subscribes, reads one result, unsubscribes, and
// checks nothing of the job follows unsubscribed.
func unsubscribeMidStream(w *WS, job string) error {
	w.Send(map[string]any{"type": "subscribe", "job": job})
	for got := false; !got; {
		m, err := w.TryRead(30 * time.Second)
		if err != nil {
			return err
		}
		if m.Type == "error" {
			return errors.New(string(m.Raw))
		}
		got = m.Type == "results"
	}
	w.Send(map[string]any{"type": "unsubscribe", "job": job})
	for {
		m, err := w.TryRead(30 * time.Second)
		if err != nil {
			return err
		}
		if m.Type == "unsubscribed" {
			break
		}
	}
	w.Send(map[string]any{"type": "ping", "ref": "after-unsubscribe"})
	for {
		m, err := w.TryRead(30 * time.Second)
		if err != nil {
			return err
		}
		switch m.Type {
		case "pong":
			return nil
		case "results", "progress", "end":
			return fmt.Errorf("%s after unsubscribed", m.Type)
		}
	}
}

// Subscribing twice to the same job on one connection restarts the stream
// from the second after (it used to answer internal).
func TestSubscribeTwiceRestartsStream(t *testing.T) {
	s := Start(t, Options{Gateway: smallChunks})
	job := s.finishedDigitsJob(t, 30)
	w := s.MustDialWS()
	w.Send(map[string]any{"type": "subscribe", "job": job.ID})
	w.Send(map[string]any{"type": "subscribe", "job": job.ID})
	subscribed := 0
	for subscribed < 2 {
		m := w.Read()
		if m.Type == "error" {
			t.Fatalf("second subscribe: %s", m.Raw)
		}
		if m.Type == "subscribed" {
			subscribed++
		}
	}
	seen, _, err := readToEnd(w, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkAll(seen, 30); err != nil {
		t.Fatal(err)
	}
}

// At the gateway's follower limit a subscription gets busy with a retry
// hint, never internal, and /ready stays 200 (a full gateway is still in
// service: taking it out would end every stream it carries); below the
// limit again, all is well.
func TestFollowerLimitAnswersBusy(t *testing.T) {
	gate := newGate()
	s := Start(t, Options{Models: gate.wrap, Gateway: func(c *gateway.Config) { c.Service.MaxSubscriptions = 2 }})
	gate.close()
	defer gate.open()
	inputs, _ := DigitInputs(t, 30)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	a, b, c := s.MustDialWS(), s.MustDialWS(), s.MustDialWS()
	for _, w := range []*WS{a, b} {
		w.Send(map[string]any{"type": "subscribe", "job": job.ID})
		if m := w.Read(); m.Type != "subscribed" {
			t.Fatalf("subscribe: %s", m.Raw)
		}
	}
	c.Send(map[string]any{"type": "subscribe", "job": job.ID})
	m := c.Read()
	var e struct {
		RetryAfterMS int64 `json:"retry_after_ms"`
	}
	if err := jsonUnmarshal(m.Raw, &e); err != nil || m.Type != "error" || m.Code != api.CodeBusy || e.RetryAfterMS <= 0 {
		t.Fatalf("third subscription: %s", m.Raw)
	}
	if code := s.GetJSON("/ready", nil); code != 200 {
		t.Fatalf("/ready at the limit: %d", code)
	}
	code, hdr, body := s.Do("GET", "/v1/jobs/"+job.ID+"/results?format=ndjson", "", nil, nil)
	if code != 503 || hdr.Get("Retry-After") == "" || !strings.Contains(string(body), string(api.CodeBusy)) {
		t.Fatalf("NDJSON stream at the limit: %d %s", code, body)
	}
	a.Send(map[string]any{"type": "unsubscribe", "job": job.ID})
	for m := a.Read(); m.Type != "unsubscribed"; m = a.Read() {
	}
	c.Send(map[string]any{"type": "subscribe", "job": job.ID})
	for m := c.Read(); m.Type != "subscribed"; m = c.Read() {
		if m.Type == "error" {
			t.Fatalf("below the limit: %s", m.Raw)
		}
	}
	b.Send(map[string]any{"type": "unsubscribe", "job": job.ID})
	for m := b.Read(); m.Type != "unsubscribed"; m = b.Read() {
	}
	if code := s.GetJSON("/ready", nil); code != 200 {
		t.Fatalf("/ready below the limit: %d", code)
	}
	gate.open()
	seen, err := readAll(c)
	if err != nil || checkAll(seen, 30) != nil {
		t.Fatalf("after the limit: %v %v", err, checkAll(seen, 30))
	}
}

func readAll(w *WS) (map[int]int, error) {
	seen, _, err := readToEnd(w, 0)
	return seen, err
}
