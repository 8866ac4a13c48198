package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestBacklog raises and drains a model's JOBIN backlog and reads it the
// way KEDA's nats-jetstream scaler does, from /jsz: the chunks not done,
// not the few tickets beside them.
func TestBacklog(t *testing.T) {
	ctx := context.Background()
	b, err := Start(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	steps := []struct{ cmd, want string }{
		{"publish digits 25", "ok"},
		{"lag digits", "25"},
		{"publish digits 5", "ok"},
		{"lag digits", "30"},
		{"lag breast_cancer", "0"},
		{"drain digits", "ok 30"},
		{"lag digits", "0"},
	}
	for _, s := range steps {
		got, err := b.Do(ctx, s.cmd)
		if err != nil || got != s.want {
			t.Fatalf("%s: %q, %v; want %q", s.cmd, got, err, s.want)
		}
		if s.cmd == "publish digits 25" {
			if lag := jszLag(t, b.MonitorAddr(), "backlog_digits_1"); lag != 25 {
				t.Fatalf("/jsz lag of backlog_digits_1 = %d, want 25", lag)
			}
		}
	}
	for _, bad := range []string{"", "publish", "publish digits", "publish digits x", "publish iris 3", "lag", "frob digits"} {
		if _, err := b.Do(ctx, bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// jszLag reads num_pending + num_ack_pending of consumer in stream JOBIN of
// account $G, as the scaler does.
func jszLag(t *testing.T, addr, consumer string) int {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/jsz?acc=$G&consumers=true&config=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var jsz struct {
		Accounts []struct {
			Streams []struct {
				Name      string `json:"name"`
				Consumers []struct {
					Name          string `json:"name"`
					NumPending    int    `json:"num_pending"`
					NumAckPending int    `json:"num_ack_pending"`
				} `json:"consumer_detail"`
			} `json:"stream_detail"`
		} `json:"account_details"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&jsz); err != nil {
		t.Fatal(err)
	}
	for _, a := range jsz.Accounts {
		for _, s := range a.Streams {
			for _, c := range s.Consumers {
				if s.Name == "JOBIN" && c.Name == consumer {
					return c.NumPending + c.NumAckPending
				}
			}
		}
	}
	t.Fatalf("consumer %s not in /jsz", consumer)
	return 0
}

// TestRun drives the command through its standard input and output.
func TestRun(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run([]string{"-store", t.TempDir()}, inR, outW); outW.Close() }()
	lines := bufio.NewScanner(outR)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "monitor 127.0.0.1:") {
		t.Fatalf("first line %q, want monitor 127.0.0.1:PORT", lines.Text())
	}
	for _, s := range [][2]string{{"publish breast_cancer 3", "ok"}, {"lag breast_cancer", "3"}, {"lag nope", "error "}} {
		fmt.Fprintln(inW, s[0])
		if !lines.Scan() || !strings.HasPrefix(lines.Text(), s[1]) {
			t.Fatalf("%s: %q, want %q", s[0], lines.Text(), s[1])
		}
	}
	inW.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
