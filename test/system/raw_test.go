package system

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"batchinfer/api"
)

// rawConn opens a TCP connection to the gateway and writes head (a
// request's line and headers, without the blank line) and body.
func (s *System) rawConn(t *testing.T, head, body string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(s.BaseURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if _, err := io.WriteString(c, head+"\r\n\r\n"+body); err != nil {
		t.Fatal(err)
	}
	return c
}

// authHead is a request head with tenant A's key and extra headers.
func authHead(method, path string, extra ...string) string {
	h := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer %s", method, path, KeyA)
	for _, e := range extra {
		h += "\r\n" + e
	}
	return h
}

// readHTTP reads one response from c within d, with its body.
func readHTTP(t *testing.T, c net.Conn, d time.Duration) (*http.Response, string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no response within %s: %v", d, err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	return resp, string(b)
}

// wantError checks a JSON error response.
func wantError(t *testing.T, what string, resp *http.Response, body string, status int, code api.Code) {
	t.Helper()
	var e apiError
	if resp.StatusCode != status || jsonUnmarshal([]byte(body), &e) != nil || e.Error.Code != code {
		t.Fatalf("%s: %d %s, want %d %s", what, resp.StatusCode, body, status, code)
	}
}
