package runx

import (
	"errors"
	"strings"
	"testing"
)

func TestTeardownRunsLastFirstOnce(t *testing.T) {
	var td Teardown
	var order []string
	for _, n := range []string{"nats", "listener", "server"} {
		td.Add(n, func() error {
			order = append(order, n)
			if n == "listener" {
				return errors.New("boom")
			}
			return nil
		})
	}
	err := td.Run()
	if strings.Join(order, ",") != "server,listener,nats" {
		t.Fatalf("order %v", order)
	}
	if err == nil || !strings.Contains(err.Error(), "release listener: boom") {
		t.Fatalf("error %v", err)
	}
	if err := td.Run(); err != nil || len(order) != 3 {
		t.Fatalf("a second Run released again: %v %v", order, err)
	}
}

func TestHealthURL(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{":8000", "http://127.0.0.1:8000/health"},
		{"0.0.0.0:8001", "http://127.0.0.1:8001/health"},
		{"[::]:9000", "http://127.0.0.1:9000/health"},
		{"10.0.0.5:8000", "http://10.0.0.5:8000/health"},
		{"[::1]:8000", "http://[::1]:8000/health"},
		{"gateway:8000", "http://gateway:8000/health"},
	} {
		if got, err := HealthURL(tc.addr, "/health"); err != nil || got != tc.want {
			t.Errorf("HealthURL(%q) = %q, %v; want %q", tc.addr, got, err, tc.want)
		}
	}
	if _, err := HealthURL("8000", "/health"); err == nil {
		t.Error("an address without a port was accepted")
	}
}
