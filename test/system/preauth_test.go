package system

import (
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"batchinfer/api"
	biclient "batchinfer/client"
	"batchinfer/gateway"

	"github.com/gorilla/websocket"
)

func dialFrom(t *testing.T, s *System, addr string, hdr http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	if hdr == nil {
		hdr = http.Header{}
	}
	if addr != "" {
		hdr.Set("X-Forwarded-For", addr)
	}
	w, resp, err := s.DialWSWith(biclient.DialOptions{NoCredentials: true, Header: hdr})
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { _ = w.C.Close() })
	return w.C, resp, nil
}

// Sockets that have not authenticated may send 8 KiB messages at most: 20
// of them each sending 4 MiB pings are closed (1009) and hardly move the
// heap (each would have held 12 MiB). Refs echoed in answers are bounded.
func TestPreauthMessagesCannotGrowTheHeap(t *testing.T) {
	s := Start(t, Options{Gateway: func(c *gateway.Config) { c.TrustedProxies = []string{"127.0.0.1/32"} }})
	ping := []byte(`{"type":"ping","ref":"` + strings.Repeat("x", 4<<20) + `"}`)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
		}
	}()
	var wg sync.WaitGroup
	var tooBig atomic.Int32
	for i := 0; i < 20; i++ {
		c, _, err := dialFrom(t, s, fmt.Sprintf("203.0.113.%d", i), nil)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 3; j++ {
				_ = c.WriteMessage(websocket.TextMessage, ping)
			}
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					var ce *websocket.CloseError
					if errors.As(err, &ce) && ce.Code == websocket.CloseMessageTooBig {
						tooBig.Add(1)
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	grew := int64(peak.Load()) - int64(base.HeapAlloc)
	t.Logf("heap grew by at most %.1f MiB under 20 pre-auth sockets sending 3 x 4 MiB each", float64(grew)/(1<<20))
	if tooBig.Load() != 20 {
		t.Fatalf("%d of 20 sockets closed with 1009", tooBig.Load())
	}
	if grew > 24<<20 { // the test's own 4 MiB message and buffers; unbounded, 240 MiB
		t.Fatalf("heap grew by %d MiB", grew>>20)
	}
	w := s.MustDialWS() // authenticated: the full limit, but refs stay bounded
	w.Send(map[string]any{"type": "ping", "ref": strings.Repeat("r", 300)})
	if m := w.Read(); m.Type != "error" || m.Code != api.CodeInvalidMessage || len(m.Raw) > 1000 {
		t.Fatalf("a 300-byte ref: %s", m.Raw)
	}
}

// Sockets waiting for their auth message have a pool of their own, with a
// share per address: one address filling its share locks out neither
// another address nor any connection that brings its credentials, and
// nothing is left once they are gone (1,000 opened and closed).
func TestPreauthPoolPerAddress(t *testing.T) {
	s := Start(t, Options{Gateway: func(c *gateway.Config) {
		c.TrustedProxies = []string{"127.0.0.1/32"}
		c.WS.MaxPreauth, c.WS.MaxPreauthPerAddr, c.WS.MaxConnections = 16, 4, 8
	}})
	for i := 0; i < 4; i++ {
		if _, _, err := dialFrom(t, s, "203.0.113.66", nil); err != nil {
			t.Fatal(err)
		}
	}
	_, resp, err := dialFrom(t, s, "203.0.113.66", nil)
	if err == nil || resp.StatusCode != 503 {
		t.Fatalf("a 5th waiting socket of one address: %v %v", err, resp)
	}
	if st := s.Gateway.Stats(); st.WSPreauth != 4 || st.WSConnections != 0 {
		t.Fatalf("counted %+v: the waiting sockets are not authenticated connections", st)
	}
	if _, _, err := dialFrom(t, s, "203.0.113.66", http.Header{"Authorization": {"Bearer " + KeyA}}); err != nil {
		t.Fatalf("credentials in the upgrade from the same address: %v", err)
	}
	w, _, err := s.DialWSWith(biclient.DialOptions{NoCredentials: true, Header: http.Header{"X-Forwarded-For": {"198.51.100.1"}}})
	if err != nil {
		t.Fatalf("another address: %v", err)
	}
	t.Cleanup(func() { _ = w.C.Close() })
	w.Read()
	w.Send(map[string]any{"type": "auth", "token": KeyB})
	if m := w.Read(); m.Type != "authenticated" {
		t.Fatalf("auth: %s", m.Raw)
	}
	if st := s.Gateway.Stats(); st.WSPreauth != 4 || st.WSConnections != 2 {
		t.Fatalf("after one authenticated: %+v", st)
	}
	for i := 0; i < 1000; i++ {
		c, _, err := dialFrom(t, s, fmt.Sprintf("10.%d.%d.1", i/250, i%250), nil)
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		_ = c.Close()
	}
	Eventually(t, 10*time.Second, func() error {
		if st := s.Gateway.Stats(); st.WSPreauth != 4 || st.WSConnections != 2 {
			return fmt.Errorf("after 1,000 sockets opened and closed: %+v", st)
		}
		return nil
	})
}
