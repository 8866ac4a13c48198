package system

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway"
	"batchinfer/worker"

	"github.com/gorilla/websocket"
)

// collect reads results for job until end, recording each item index.
func collect(t *testing.T, w *WS, job string, seen map[int]int, lastSeq *uint64, stopAfter int) (ended bool) {
	t.Helper()
	n := 0
	for {
		m := w.Read()
		switch m.Type {
		case "results":
			if m.Job != job {
				t.Fatalf("results for %q", m.Job)
			}
			if m.Seq <= *lastSeq {
				t.Fatalf("seq %d after %d", m.Seq, *lastSeq)
			}
			*lastSeq = m.Seq
			for _, it := range m.Items {
				seen[it.Index]++
			}
			n++
			if stopAfter > 0 && n >= stopAfter {
				return false
			}
		case "end":
			if m.LastSeq != *lastSeq {
				t.Fatalf("end last_seq %d, saw %d", m.LastSeq, *lastSeq)
			}
			return true
		case "subscribed", "progress", "accepted":
		case "error":
			t.Fatalf("error message: %s", m.Raw)
		}
	}
}

// Subscribe, drop the connection mid-stream, reconnect and resume from the
// last seq: every item arrives exactly once.
func TestWebSocketStreamResumeNoGapNoDuplicate(t *testing.T) {
	gate := newGate()
	s := Start(t, Options{Models: gate.wrap, Worker: func(c *worker.Config) { c.MaxBatch = 32 }})
	inputs, _ := DigitInputs(t, 6000)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})

	seen := map[int]int{}
	var last uint64
	w1 := s.MustDialWS()
	w1.Send(map[string]any{"type": "subscribe", "job": job.ID})
	if ended := collect(t, w1, job.ID, seen, &last, 3); ended {
		t.Fatal("job ended before the drop")
	}
	gate.close() // keep the job running while the client is away
	_ = w1.C.UnderlyingConn().Close()
	gate.open()

	w2 := s.MustDialWS()
	w2.Send(map[string]any{"type": "subscribe", "job": job.ID, "after": last})
	if !collect(t, w2, job.ID, seen, &last, 0) {
		t.Fatal("no end")
	}
	if len(seen) != 6000 {
		t.Fatalf("%d distinct items, want 6000", len(seen))
	}
	for i, n := range seen {
		if n != 1 {
			t.Fatalf("item %d seen %d times", i, n)
		}
	}
	// A late subscriber replays everything; one already up to date gets end.
	w3 := s.MustDialWS()
	seen3, last3 := map[int]int{}, uint64(0)
	w3.Send(map[string]any{"type": "subscribe", "job": job.ID, "after": 0})
	collect(t, w3, job.ID, seen3, &last3, 0)
	if len(seen3) != 6000 || last3 != last {
		t.Fatalf("replay: %d items, last %d vs %d", len(seen3), last3, last)
	}
	w3.Send(map[string]any{"type": "subscribe", "job": job.ID, "after": last})
	collect(t, w3, job.ID, map[int]int{}, &last3, 0)
}

func TestWebSocketSubmitAndPredict(t *testing.T) {
	s := Start(t, Options{})
	w := s.MustDialWS()
	samples := DigitSamples(t)
	w.Send(map[string]any{"type": "predict", "ref": "p1", "model": "digits", "inputs": []any{samples[3].Pixels}})
	m := w.Read()
	if m.Type != "prediction" || m.Ref != "p1" || len(m.Items) != 1 || *m.Items[0].Class != samples[3].Label {
		t.Fatalf("prediction: %s", m.Raw)
	}
	inputs, _ := DigitInputs(t, 700)
	w.Send(map[string]any{"type": "submit", "ref": "s1", "model": "digits", "inputs": inputs})
	m = w.Read()
	if m.Type != "accepted" || m.Ref != "s1" {
		t.Fatalf("accepted: %s", m.Raw)
	}
	seen, last := map[int]int{}, uint64(0)
	collect(t, w, m.Job, seen, &last, 0)
	if len(seen) != 700 {
		t.Fatalf("%d items", len(seen))
	}
	w.Send(map[string]any{"type": "ping", "ref": "x"})
	if m := w.Read(); m.Type != "pong" || m.Ref != "x" {
		t.Fatalf("pong: %s", m.Raw)
	}
}

func TestWebSocketInvalidMessagesKeepConnection(t *testing.T) {
	s := Start(t, Options{})
	w := s.MustDialWS()
	for _, tc := range []struct {
		name, msg string
		code      api.Code
	}{
		{"not json", `{"type":`, api.CodeInvalidMessage},
		{"no type", `{}`, api.CodeInvalidMessage},
		{"unknown type", `{"type":"explode"}`, api.CodeInvalidMessage},
		{"subscribe without job", `{"type":"subscribe"}`, api.CodeInvalidMessage},
		{"negative after", `{"type":"subscribe","job":"j","after":-1}`, api.CodeInvalidMessage},
		{"unknown job", `{"type":"subscribe","job":"j0000000000000000000000"}`, api.CodeUnknownJob},
		{"malformed job id", `{"type":"subscribe","job":"../../etc"}`, api.CodeUnknownJob},
		{"unknown model", `{"type":"predict","ref":"r","model":"nope","inputs":[[1]]}`, api.CodeUnknownModel},
		{"bad shape", `{"type":"predict","ref":"r","model":"digits","inputs":[[1,2,3]]}`, api.CodeInvalidInput},
		{"empty submit", `{"type":"submit","ref":"r","model":"digits","inputs":[]}`, api.CodeInvalidInput},
		{"too many sync items", `{"type":"predict","ref":"r","model":"digits","inputs":[` + strings.Repeat(`[0],`, 64) + `[0]]}`, api.CodeTooManyItems},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := w.C.WriteMessage(websocket.TextMessage, []byte(tc.msg)); err != nil {
				t.Fatal(err)
			}
			m := w.Read()
			if m.Type != "error" || m.Code != tc.code || m.Message == "" {
				t.Fatalf("got %s, want error %s", m.Raw, tc.code)
			}
		})
	}
	w.Send(map[string]any{"type": "ping", "ref": "still-open"})
	if m := w.Read(); m.Type != "pong" {
		t.Fatalf("connection unusable after errors: %s", m.Raw)
	}
}

func closeCode(t *testing.T, w *WS) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	types := map[string]int{}
	defer func() { t.Logf("read before close: %v", types) }()
	for time.Now().Before(deadline) {
		m, err := w.TryRead(10 * time.Second)
		if err == nil {
			types[m.Type]++
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		t.Fatalf("read: %v, want a close", err)
	}
	t.Fatal("no close within 20s")
	return 0
}

func TestWebSocketProtocolViolationsClose(t *testing.T) {
	s := Start(t, Options{Gateway: func(c *gateway.Config) { c.WS.MaxMessageBytes = 1024 }})
	t.Run("binary frame", func(t *testing.T) {
		w := s.MustDialWS()
		_ = w.C.WriteMessage(websocket.BinaryMessage, []byte{1, 2})
		if c := closeCode(t, w); c != websocket.CloseUnsupportedData {
			t.Fatalf("close %d", c)
		}
	})
	t.Run("too big", func(t *testing.T) {
		w := s.MustDialWS()
		_ = w.C.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping","ref":"`+strings.Repeat("x", 2000)+`"}`))
		if c := closeCode(t, w); c != websocket.CloseMessageTooBig {
			t.Fatalf("close %d", c)
		}
	})
	t.Run("invalid UTF-8", func(t *testing.T) {
		w := s.MustDialWS()
		_ = w.C.WriteMessage(websocket.TextMessage, []byte("{\"type\":\"ping\",\"ref\":\"\xff\xfe\"}"))
		if c := closeCode(t, w); c != websocket.CloseInvalidFramePayloadData {
			t.Fatalf("close %d", c)
		}
	})
	t.Run("too many invalid", func(t *testing.T) {
		w := s.MustDialWS()
		for i := 0; i < 10; i++ {
			_ = w.C.WriteMessage(websocket.TextMessage, []byte(`nope`))
		}
		if c := closeCode(t, w); c != api.CloseTooManyErrors {
			t.Fatalf("close %d", c)
		}
	})
	// The gateway keeps serving.
	w := s.MustDialWS()
	w.Send(map[string]any{"type": "ping"})
	if m := w.Read(); m.Type != "pong" {
		t.Fatal(string(m.Raw))
	}
}

func TestWebSocketOriginAndConnectionLimit(t *testing.T) {
	s := Start(t, Options{Gateway: func(c *gateway.Config) {
		c.WS.MaxConnections = 2
		c.WS.AllowedOrigins = []string{"http://allowed.example"}
	}})
	_, resp, err := s.DialWS("http://evil.example")
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("disallowed origin: %v %v", err, resp)
	}
	if ae := (*api.Error)(nil); !errors.As(err, &ae) || ae.Code != api.CodeForbiddenOrigin || ae.Status != http.StatusForbidden {
		t.Fatalf("disallowed origin's error: %#v", err)
	}
	var e apiError // the answer stays readable beside the error
	decodeBody(t, resp, &e)
	if e.Error.Code != api.CodeForbiddenOrigin {
		t.Fatalf("body %+v", e)
	}
	a, _, err := s.DialWS("http://allowed.example")
	if err != nil {
		t.Fatalf("allowed origin: %v", err)
	}
	defer a.C.Close()
	b := s.MustDialWS()
	_, resp, err = s.DialWS("")
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("third connection: %v %v", err, resp)
	}
	decodeBody(t, resp, &e)
	if e.Error.Code != api.CodeTooManyConns || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("body %+v", e)
	}
	_ = b.C.Close()
	Eventually(t, 5*time.Second, func() error {
		c, _, err := s.DialWS("")
		if err == nil {
			c.C.Close()
		}
		return err
	})
}

// A client that does not read is closed with 4008 once its bounded buffer
// fills; a reading client on the same gateway is unaffected.
func TestSlowConsumerIsClosedOthersUnaffected(t *testing.T) {
	s := Start(t, Options{Gateway: func(c *gateway.Config) { c.WS.SendBuffer = 16; c.WS.SlowConsumerTimeout = 2 * time.Second }})
	inputs, _ := DigitInputs(t, 60000)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	s.waitJob(t, job.ID, 60*time.Second)

	slow := s.MustDialWS()
	fast := s.MustDialWS()
	slow.Send(map[string]any{"type": "subscribe", "job": job.ID})
	fast.Send(map[string]any{"type": "subscribe", "job": job.ID})
	seen, last := map[int]int{}, uint64(0)
	collect(t, fast, job.ID, seen, &last, 0)
	if len(seen) != 60000 {
		t.Fatalf("fast client got %d items", len(seen))
	}
	// The slow client has read nothing: once its socket and its buffer
	// are full the gateway gives up on it.
	Eventually(t, 20*time.Second, func() error {
		_, _, metrics := s.Do(http.MethodGet, "/metrics", "", nil, nil)
		if !strings.Contains(string(metrics), "gateway_websocket_slow_consumer_closes_total 1") {
			return errors.New("slow consumer not closed yet")
		}
		return nil
	})
	// A close frame reaches the client when its socket had room; a client
	// whose socket was full is dropped (1006) once it drains.
	if c := closeCode(t, slow); c != api.CloseSlowConsumer && c != websocket.CloseAbnormalClosure {
		t.Fatalf("slow client closed with %d", c)
	}
}
