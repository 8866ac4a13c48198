package system

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway"
	"batchinfer/gateway/auth"

	biclient "batchinfer/client"
)

// 48 concurrent submissions of a tenant against jobs=16 accept exactly 16
// (the reservation is one compare-and-set, not a count read first).
func TestConcurrentSubmissionsAcceptExactlyTheQuota(t *testing.T) {
	gate := newGate()
	const key = "bik_test_quota_16"
	s := Start(t, Options{Models: gate.wrap, Keys: []string{
		TenantA + " " + auth.HashKey(KeyA) + " role=operator rate=100000 burst=100000",
		"quota " + auth.HashKey(key) + " jobs=16 uploads=48 rate=100000 burst=100000",
	}})
	gate.close()
	defer gate.open()
	inputs, _ := DigitInputs(t, 5)
	body := mustJSON(t, map[string]any{"model": "digits", "inputs": inputs})
	codes := make(chan int, 48)
	var wg sync.WaitGroup
	for i := 0; i < 48; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, _ := s.As(key).Do("POST", "/v1/jobs", "application/json", body, nil)
			codes <- code
		}()
	}
	wg.Wait()
	close(codes)
	n := map[int]int{}
	for c := range codes {
		n[c]++
	}
	if n[202] != 16 || n[429] != 32 {
		t.Fatalf("answers %v, want 16 accepted and 32 quota_exceeded", n)
	}
}

// A tenant uploads at most uploads= submissions at once (a third is 429 at
// once, before its body is read); bodies share the gateway-wide decode
// budget, and one that finds it full for GATEWAY_DECODE_WAIT gets 503 busy
// while the others complete; the budget comes back whole.
func TestUploadsPerTenantAndDecodeBudget(t *testing.T) {
	const key = "bik_test_uploads"
	s := Start(t, Options{Keys: []string{
		TenantA + " " + auth.HashKey(KeyA) + " role=operator rate=100000 burst=100000 uploads=10",
		"up " + auth.HashKey(key) + " uploads=2 rate=100000 burst=100000",
	}, Gateway: func(c *gateway.Config) {
		c.MaxBodyBytes, c.MaxJSONBodyBytes, c.MaxSyncBodyBytes, c.WS.MaxMessageBytes = 1536<<10, 1536<<10, 1<<20, 1<<20
		c.HTTP.DecodeBudget, c.HTTP.DecodeWait = 2<<20, 300*time.Millisecond
		c.HTTP.BodyIdleTimeout, c.HTTP.MinBodyRate = 10*time.Second, 1
	}})
	head := func(k string, n int) string {
		return fmt.Sprintf("POST /v1/jobs HTTP/1.1\r\nHost: g\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d", k, n)
	}
	// uploads=2
	held := []net.Conn{s.rawConn(t, head(key, 1000), "{"), s.rawConn(t, head(key, 1000), "{")}
	Eventually(t, 5*time.Second, func() error {
		if n := s.Gateway.Stats().Uploads; n != 2 {
			return fmt.Errorf("%d uploads started", n)
		}
		c := s.rawConn(t, head(key, 1000), "{")
		resp, body := readHTTP(t, c, 5*time.Second)
		if resp.StatusCode != 429 || !strings.Contains(body, "GATEWAY_MAX_TENANT_SUBMISSIONS") {
			return fmt.Errorf("a third upload: %d %s", resp.StatusCode, body)
		}
		return nil
	})
	// Package client asks for 100 Continue before a large body, so that
	// refusal is its answer, not a connection broken mid-body (over 256
	// KiB unread, the gateway closes the connection after answering).
	bc := biclient.New(s.BaseURL, key)
	bc.RetryFor = -1
	nd := bytes.Repeat([]byte(`{"input":[0]}`+"\n"), 1400<<10/14)
	for i := range 10 {
		_, err := bc.SubmitBody(context.Background(), bytes.NewReader(nd), biclient.ContentNDJSON, biclient.JobOptions{Model: "digits"})
		if code := biclient.ErrorCode(err); code != api.CodeQuotaExceeded {
			t.Fatalf("a 1.4 MB body while the tenant's slots are taken, try %d: %v (code %q), want %s", i, err, code, api.CodeQuotaExceeded)
		}
	}
	for _, c := range held {
		_ = c.Close()
	}
	// The decode budget: a body holding 1.5 MiB of the 2 leaves too little
	// for a second one, which is refused busy; the first completes.
	inputs, _ := DigitInputs(t, 1)
	doc := string(mustJSON(t, map[string]any{"model": "digits", "inputs": inputs}))
	big := doc[:len(doc)-1] + strings.Repeat(" ", 1500<<10-len(doc)) // all but the closing brace
	first := s.rawConn(t, head(KeyA, len(big)+1), big)
	Eventually(t, 5*time.Second, func() error {
		if in := budgetInUse(t, s); in < 1500<<10 {
			return fmt.Errorf("budget in use %d", in)
		}
		return nil
	})
	second := s.rawConn(t, head(KeyA, len(big)+1), "")
	go func() { _, _ = io.WriteString(second, big) }()
	resp, body := readHTTP(t, second, 5*time.Second)
	wantError(t, "a body over the decode budget", resp, body, http.StatusServiceUnavailable, api.CodeBusy)
	_, _ = io.WriteString(first, "}")
	if resp, body = readHTTP(t, first, 10*time.Second); resp.StatusCode != 202 {
		t.Fatalf("the body within the budget: %d %s", resp.StatusCode, body)
	}
	Eventually(t, 5*time.Second, func() error {
		if in := budgetInUse(t, s); in != 0 {
			return fmt.Errorf("budget in use %d after every body was answered", in)
		}
		if n := s.Gateway.Stats().UploadTenants; n != 0 {
			return fmt.Errorf("%d tenants still uploading", n)
		}
		return nil
	})
}

func budgetInUse(t *testing.T, s *System) int64 {
	t.Helper()
	_, _, b := s.Do("GET", "/metrics", "", nil, nil)
	for _, l := range strings.Split(string(b), "\n") {
		var v float64
		if _, err := fmt.Sscanf(l, "gateway_decode_budget_bytes_in_use %g", &v); err == nil {
			return int64(v)
		}
	}
	t.Fatal("no gateway_decode_budget_bytes_in_use in /metrics")
	return 0
}

func pngOf(t *testing.T, w, h int) string {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// An image may have at most GATEWAY_MAX_IMAGE_PIXELS_FACTOR times the
// model's input pixels, read from its header before it is accepted; within
// that it costs one item per model input's worth of pixels against the
// tenant's items quota, and the job says its cost.
func TestImagesCappedAndCostedByPixels(t *testing.T) {
	const key = "bik_test_cost"
	s := Start(t, Options{Keys: []string{
		TenantA + " " + auth.HashKey(KeyA) + " role=operator rate=100000 burst=100000",
		"cost " + auth.HashKey(key) + " items=100 rate=100000 burst=100000",
	}})
	c := s.As(key)
	var e apiError
	code, _, _ := c.Do("POST", "/v1/jobs", "application/json", mustJSON(t, map[string]any{"model": "digits",
		"inputs": []any{map[string]string{"image": pngOf(t, 65, 64)}}}), &e)
	if code != 400 || e.Error.Code != api.CodeInvalidInput || !strings.Contains(e.Error.Message, "GATEWAY_MAX_IMAGE_PIXELS_FACTOR") {
		t.Fatalf("65x64 for an 8x8 model (64x = 4096 pixels): %d %+v", code, e.Error)
	}
	var sub struct {
		Job struct {
			ID   string `json:"id"`
			Cost int64  `json:"cost"`
		} `json:"job"`
	}
	img := map[string]string{"image": pngOf(t, 64, 64)}
	if code := c.PostJSON("/v1/jobs", map[string]any{"model": "digits", "inputs": []any{img}}, &sub); code != 202 || sub.Job.Cost != 64 {
		t.Fatalf("one 64x64 image: %d, cost %d, want 64", code, sub.Job.Cost)
	}
	c.waitJob(t, sub.Job.ID, 30*time.Second)
	code, _, _ = c.Do("POST", "/v1/jobs", "application/json", mustJSON(t, map[string]any{"model": "digits", "inputs": []any{img, img}}), &e)
	if code != 429 || e.Error.Code != api.CodeQuotaExceeded || !strings.Contains(e.Error.Message, "128 more would pass its limit of 100") {
		t.Fatalf("two images (cost 128) at items=100: %d %+v", code, e.Error)
	}
}

// A tenant follows at most follows= jobs at once: another tenant still
// follows, and /ready stays 200. An NDJSON stream whose client reads
// nothing ends after GATEWAY_STREAM_WRITE_TIMEOUT and gives its slot back.
func TestFollowersPerTenantAndStreamsThatStall(t *testing.T) {
	gate := newGate()
	const hog = "bik_test_hog"
	s := Start(t, Options{Models: gate.wrap, Keys: []string{
		TenantA + " " + auth.HashKey(KeyA) + " role=operator rate=100000 burst=100000",
		TenantB + " " + auth.HashKey(KeyB) + " rate=100000 burst=100000",
		"hog " + auth.HashKey(hog) + " follows=3 rate=100000 burst=100000",
	}, Gateway: func(c *gateway.Config) { c.HTTP.StreamWriteTimeout = 300 * time.Millisecond }})
	gate.close()
	inputs, _ := DigitInputs(t, 10)
	h := s.As(hog)
	var mine submitResp
	h.PostJSON("/v1/jobs", map[string]any{"model": "digits", "inputs": inputs}, &mine)
	stream := "GET /v1/jobs/" + mine.Job.ID + "/results?format=ndjson HTTP/1.1\r\nHost: g\r\nAuthorization: Bearer " + hog
	for i := 0; i < 3; i++ {
		s.rawConn(t, stream, "")
	}
	Eventually(t, 5*time.Second, func() error {
		if n := s.Gateway.Stats().Followers; n != 3 {
			return fmt.Errorf("%d followers", n)
		}
		return nil
	})
	resp, body := readHTTP(t, s.rawConn(t, stream, ""), 5*time.Second)
	wantError(t, "a 4th stream of the tenant", resp, body, http.StatusTooManyRequests, api.CodeQuotaExceeded)
	b := s.As(KeyB)
	var theirs submitResp
	b.PostJSON("/v1/jobs", map[string]any{"model": "digits", "inputs": inputs}, &theirs)
	w, _, err := b.DialWS("")
	if err != nil {
		t.Fatal(err)
	}
	defer w.C.Close()
	w.Read()
	w.Send(map[string]any{"type": "subscribe", "job": theirs.Job.ID})
	if m := w.Read(); m.Type != "subscribed" {
		t.Fatalf("another tenant's subscription: %s", m.Raw)
	}
	if code := s.GetJSON("/ready", nil); code != 200 {
		t.Fatalf("/ready: %d", code)
	}
	gate.open()
	// A big finished job streamed to a client that reads nothing.
	many, _ := DigitInputs(t, 40_000)
	big := s.submit(t, map[string]any{"model": "digits", "inputs": many})
	s.waitJob(t, big.ID, 60*time.Second)
	before := s.Gateway.Stats().Followers
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	c, err := d.Dial("tcp", strings.TrimPrefix(s.BaseURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /v1/jobs/%s/results?format=ndjson HTTP/1.1\r\nHost: g\r\nAuthorization: Bearer %s\r\n\r\n", big.ID, KeyA)
	Eventually(t, 5*time.Second, func() error {
		if n := s.Gateway.Stats().Followers; n != before+1 {
			return fmt.Errorf("%d followers, stream not started", n)
		}
		return nil
	})
	start := time.Now()
	Eventually(t, 30*time.Second, func() error {
		if n := s.Gateway.Stats().Followers; n != before {
			return fmt.Errorf("%d followers: the stalled stream still holds its slot", n)
		}
		return nil
	})
	t.Logf("a stream nobody reads ended %s after it started", time.Since(start).Round(time.Millisecond))
}
