package system

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway"
)

// A body that never comes, trickles below the minimum rate or is cut short
// gets its JSON answer within the deadline (408 body_timeout, 400), and
// the connection is closed rather than drained: 200 such requests hold no
// goroutine once answered. An unauthenticated one is refused at once.
func TestSlowAndShortBodiesAnsweredInTime(t *testing.T) {
	const idle = 300 * time.Millisecond
	s := Start(t, Options{Gateway: func(c *gateway.Config) {
		c.HTTP.BodyIdleTimeout, c.HTTP.MinBodyRate = idle, 2000
	}})
	deadline := idle + 2*time.Second // the bound, with room for a busy machine
	before := runtime.NumGoroutine()
	for _, path := range []string{"/v1/jobs", "/v1/models/digits/predict"} {
		start := time.Now()
		c := s.rawConn(t, authHead("POST", path, "Content-Type: application/json", "Content-Length: 1000"), "")
		resp, body := readHTTP(t, c, deadline)
		wantError(t, path+" with a body that never comes", resp, body, http.StatusRequestTimeout, api.CodeBodyTimeout)
		if took := time.Since(start); took > deadline || !resp.Close {
			t.Fatalf("%s: answered after %s, close %v", path, took, resp.Close)
		}
	}
	// Unauthenticated: 401 at once, the body never read.
	start := time.Now()
	c := s.rawConn(t, "POST /v1/jobs HTTP/1.1\r\nHost: g\r\nContent-Length: 1000", "")
	resp, body := readHTTP(t, c, deadline)
	wantError(t, "no credentials", resp, body, http.StatusUnauthorized, api.CodeUnauthorized)
	if took := time.Since(start); took > idle || !resp.Close {
		t.Fatalf("unauthenticated: answered after %s, close %v", took, resp.Close)
	}
	// A trickle: 10 bytes every 50 ms (200 B/s, the minimum is 2000).
	trickle := s.rawConn(t, authHead("POST", "/v1/jobs?model=digits", "Content-Type: application/x-ndjson", "Content-Length: 100000"), "")
	go func() {
		for i := 0; i < 200; i++ {
			if _, err := io.WriteString(trickle, "[1,1,1,1,]"); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	resp, body = readHTTP(t, trickle, deadline+time.Second)
	wantError(t, "a trickle", resp, body, http.StatusRequestTimeout, api.CodeBodyTimeout)
	// Cut short: 20 of 1000 bytes, then the client stops sending.
	for _, path := range []string{"/v1/models/digits/predict", "/v1/jobs", "/v1/jobs?model=digits"} {
		ct := "application/json"
		if strings.Contains(path, "model=") {
			ct = "application/x-ndjson"
		}
		c = s.rawConn(t, authHead("POST", path, "Content-Type: "+ct, "Content-Length: 1000"), `{"inputs":[[1,2,3],[`)
		_ = c.(*net.TCPConn).CloseWrite()
		resp, body = readHTTP(t, c, deadline)
		wantError(t, path+" cut short", resp, body, http.StatusBadRequest, api.CodeBadRequest)
		if !strings.Contains(body, "ended after 20 bytes") {
			t.Fatalf("%s cut short: %s", path, body)
		}
	}
	// Many at once (predictions: batch uploads stop at the tenant's
	// GATEWAY_MAX_TENANT_SUBMISSIONS): each answered, nothing left behind.
	conns := make([]net.Conn, 200)
	for i := range conns {
		conns[i] = s.rawConn(t, authHead("POST", "/v1/models/digits/predict", "Content-Length: 1000"), "")
	}
	for _, c := range conns {
		resp, body := readHTTP(t, c, 2*deadline)
		wantError(t, "one of 200", resp, body, http.StatusRequestTimeout, api.CodeBodyTimeout)
		_ = c.Close()
	}
	client.CloseIdleConnections()
	Eventually(t, 10*time.Second, func() error {
		if n := runtime.NumGoroutine(); n > before+20 {
			return fmt.Errorf("%d goroutines, %d before", n, before)
		}
		return nil
	})
}

// At most GATEWAY_MAX_CONNS_PER_ADDR connections from one address: the
// next is answered 503 too_many_connections at once; 2,000 connections
// opened and closed leave no address counted. Headers over
// GATEWAY_MAX_HEADER_BYTES get 431.
func TestConnectionsPerAddressAndHeaderSize(t *testing.T) {
	const max = 16
	s := Start(t, Options{Gateway: func(c *gateway.Config) {
		c.HTTP.MaxConnsPerAddr, c.HTTP.MaxHeaderBytes = max, 8<<10
	}})
	client.CloseIdleConnections()
	Eventually(t, 5*time.Second, func() error {
		if n := s.Gateway.Stats().ConnAddrs; n != 0 {
			return fmt.Errorf("%d addresses still counted", n)
		}
		return nil
	})
	addr := strings.TrimPrefix(s.BaseURL, "http://")
	var idle []net.Conn
	for i := 0; i < max; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := readHTTP(t, c, 5*time.Second)
	wantError(t, "one connection over the cap", resp, body, http.StatusServiceUnavailable, api.CodeTooManyConns)
	for _, c := range idle {
		_ = c.Close()
	}
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for i := 0; i < 2000; i++ {
		var resp *http.Response
		Eventually(t, 5*time.Second, func() (err error) { // the closed ones are given back asynchronously
			resp, err = cl.Get(s.BaseURL + "/health")
			if err == nil && resp.StatusCode != 200 {
				resp.Body.Close()
				return fmt.Errorf("health: %d", resp.StatusCode)
			}
			return err
		})
		resp.Body.Close()
	}
	Eventually(t, 5*time.Second, func() error {
		if n := s.Gateway.Stats().ConnAddrs; n != 0 {
			return fmt.Errorf("%d addresses counted after 2,000 connections closed", n)
		}
		return nil
	})
	req, _ := http.NewRequestWithContext(context.Background(), "GET", s.BaseURL+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer "+KeyA)
	req.Header.Set("X-Padding", strings.Repeat("x", 16<<10))
	r2, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("16 KiB of headers at an 8 KiB limit: %d", r2.StatusCode)
	}
}

// Every response says nosniff, whatever answered it.
func TestEveryResponseSaysNosniff(t *testing.T) {
	s := Start(t, Options{})
	for _, r := range []struct{ method, path, key string }{
		{"GET", "/health", ""}, {"GET", "/v1/models", KeyA}, {"GET", "/v1/models", ""}, {"GET", "/v1/nothing", KeyA},
		{"DELETE", "/v1/jobs", KeyA}, {"GET", "/v1/ws", ""}, {"GET", "/v1/jobs/j0000000000000000000000", KeyA},
	} {
		code, hdr, _ := s.As(r.key).Do(r.method, r.path, "", nil, nil)
		if hdr.Get("X-Content-Type-Options") != "nosniff" || hdr.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s %s (%d): nosniff %q, HSTS %q over plain HTTP", r.method, r.path, code,
				hdr.Get("X-Content-Type-Options"), hdr.Get("Strict-Transport-Security"))
		}
	}
}
