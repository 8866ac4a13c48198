package reqbody

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"batchinfer/api"
)

// serve answers each request with the code of the error reading its body
// through Open ("ok" and the byte count when it read to the end).
func serve(t *testing.T, limit int64, pace Pace, b *Budget) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rd := Open(w, r, limit, pace, b)
		defer rd.Release()
		n, err := io.Copy(io.Discard, r.Body)
		var ae *api.Error
		switch {
		case errors.As(err, &ae):
			http.Error(w, string(ae.Code), ae.Code.HTTPStatus())
		case err != nil:
			http.Error(w, err.Error(), 500)
		default:
			_, _ = io.WriteString(w, "ok "+itoa(n))
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func send(t *testing.T, addr, head, body string, trickle time.Duration) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"+head+"\r\n\r\n")
	go func() {
		for _, ch := range body {
			if _, err := io.WriteString(c, string(ch)); err != nil {
				return
			}
			time.Sleep(trickle)
		}
	}()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(c)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Fields(lines[0])[1] + " " + strings.TrimSpace(lines[len(lines)-1])
}

func TestBodiesWithinBounds(t *testing.T) {
	addr := serve(t, 100, Pace{Idle: 200 * time.Millisecond, MinRate: 100}, nil)
	for _, tc := range []struct {
		name, head, body string
		trickle          time.Duration
		want             string
	}{
		{"whole", "Content-Length: 5", "hello", 0, "200 ok 5"},
		{"chunked", "Transfer-Encoding: chunked", "5\r\nhello\r\n0\r\n\r\n", 0, "200 ok 5"},
		{"too large", "Content-Length: 101", strings.Repeat("x", 101), 0, "413 body_too_large"},
		{"never comes", "Content-Length: 10", "", 0, "408 body_timeout"},
		{"too slow", "Content-Length: 100", strings.Repeat("x", 100), 30 * time.Millisecond, "408 body_timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := send(t, addr, tc.head, tc.body, tc.trickle); got != tc.want {
				t.Fatalf("%q, want %q", got, tc.want)
			}
		})
	}
}

func TestBudget(t *testing.T) {
	b := NewBudget(1000, 30*time.Millisecond, nil)
	ctx := context.Background()
	if err := b.Acquire(ctx, 600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var ae *api.Error
	if err := b.Acquire(ctx, 600); !errors.As(err, &ae) || ae.Code != api.CodeBusy || ae.RetryAfter <= 0 {
		t.Fatalf("over the budget: %v", err)
	}
	if time.Since(start) < 30*time.Millisecond {
		t.Fatal("refused without waiting")
	}
	done := make(chan error)
	go func() { done <- b.Acquire(ctx, 600) }()
	time.Sleep(5 * time.Millisecond)
	b.Release(600)
	if err := <-done; err != nil {
		t.Fatalf("a waiter once room came back: %v", err)
	}
	b.Release(600)
	if !b.Idle() {
		t.Fatal("budget not whole")
	}
	if err := b.Acquire(ctx, 5000); err != nil || b.Idle() { // more than the budget: takes it all
		t.Fatalf("an oversized acquire: %v", err)
	}
	b.Release(5000)
	if !b.Idle() {
		t.Fatal("budget not whole after an oversized acquire")
	}
}
