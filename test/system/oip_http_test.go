package system

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway"
	"batchinfer/gateway/auth"
)

// oipBinaryBody is a binary inference request of items (64 values each)
// with every output binary, and its Inference-Header-Content-Length.
func oipBinaryBody(items [][]float32) ([]byte, string) {
	js := fmt.Sprintf(`{"inputs":[{"name":"pixels","shape":[%d,8,8,1],"datatype":"FP32","parameters":{"binary_data_size":%d}}],"parameters":{"binary_data_output":true}}`,
		len(items), 256*len(items))
	b := []byte(js)
	for _, it := range items {
		for _, v := range it {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	}
	return b, strconv.Itoa(len(js))
}

// checkOIPError: the body is the protocol's {"error": "..."} and nothing
// else, with status and a message containing msg.
func checkOIPError(t *testing.T, what string, code int, body []byte, status int, msg string) {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil || len(e) != 1 || code != status {
		t.Fatalf("%s: %d %s, want %d and {\"error\": ...}", what, code, body, status)
	}
	if s, _ := e["error"].(string); !strings.Contains(s, msg) {
		t.Fatalf("%s: %q, want it to say %q", what, s, msg)
	}
}

// The HTTP side of /v2 that clients do not show: health and server
// metadata without credentials, every refusal (credentials, rate, route,
// method, encoding, sizes) as the protocol's error body, and the framing
// of a binary response.
func TestOIPHTTP(t *testing.T) {
	const slow = "bik_test_oip_slow"
	s := Start(t, Options{
		Keys: []string{
			TenantA + " " + auth.HashKey(KeyA) + " role=operator rate=100000 burst=100000",
			"slow " + auth.HashKey(slow) + " rate=1 burst=1",
		},
		Gateway: func(c *gateway.Config) { c.MaxSyncBodyBytes = 64 << 10 },
	})
	anon := s.As("")
	for path, want := range map[string]string{"/v2": `"extensions":["binary_tensor_data","classification"]`, "/v2/health/live": `{"live":true}`, "/v2/health/ready": `{"ready":true}`} {
		if code, _, b := anon.Do("GET", path, "", nil, nil); code != 200 || !strings.Contains(string(b), want) {
			t.Fatalf("GET %s without credentials: %d %s", path, code, b)
		}
	}
	code, hdr, b := anon.Do("GET", "/v2/models/digits", "", nil, nil)
	checkOIPError(t, "no key", code, b, 401, "credentials required")
	if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("401 without a challenge: %v", hdr)
	}
	code, _, b = s.As("bik_wrong").Do("GET", "/v2/models/digits/ready", "", nil, nil)
	checkOIPError(t, "wrong key", code, b, 401, "invalid credentials")
	limited := false
	for i := 0; i < 5 && !limited; i++ {
		code, hdr, b = s.As(slow).Do("GET", "/v2/models/digits", "", nil, nil)
		if code == 429 {
			checkOIPError(t, "over the key's rate", code, b, 429, "over its request rate")
			limited = hdr.Get("Retry-After") != ""
		}
	}
	if !limited {
		t.Fatal("5 requests at 1/s burst 1: no 429 with Retry-After")
	}
	for _, tc := range []struct{ method, path string }{{"GET", "/v2/nope"}, {"GET", "/v2/models/digits/versions"}, {"GET", "/v2/models/digits/ready/x"}} {
		code, _, b = s.Do(tc.method, tc.path, "", nil, nil)
		checkOIPError(t, tc.path, code, b, 404, "no route for")
	}
	code, _, b = s.Do("GET", "/v2/models/digits/infer", "", nil, nil)
	checkOIPError(t, "GET infer", code, b, 405, "GET not allowed")
	checkOIPBodies(t, s)
}

// checkOIPBodies: encodings, sizes and the binary response's framing.
func checkOIPBodies(t *testing.T, s *System) {
	t.Helper()
	items, _ := DigitInputs(t, 3)
	body, hl := oipBinaryBody(items)
	infer := func(body []byte, hdr ...string) (int, http.Header, []byte) {
		return s.Do("POST", "/v2/models/digits/infer", "", body, nil, hdr...)
	}
	code, _, b := infer(body, "Inference-Header-Content-Length", hl, "Content-Encoding", "br")
	checkOIPError(t, "brotli", code, b, 415, `Content-Encoding "br" is not supported`)
	code, _, b = infer(body, "Inference-Header-Content-Length", hl, "Content-Encoding", "gzip")
	checkOIPError(t, "not gzip", code, b, 400, "not what its Content-Encoding says")
	code, _, b = infer(body, "Inference-Header-Content-Length", "x")
	checkOIPError(t, "bad header length", code, b, 400, "Inference-Header-Content-Length")
	code, _, b = infer(bytes.Repeat([]byte(" "), 65<<10))
	checkOIPError(t, "too large", code, b, 413, "exceeds 65536 bytes")
	var z bytes.Buffer
	gz := gzip.NewWriter(&z)
	_, _ = gz.Write(bytes.Repeat([]byte(" "), 1<<20))
	_ = gz.Close()
	code, _, b = infer(z.Bytes(), "Content-Encoding", "gzip")
	checkOIPError(t, "gzip bomb", code, b, 413, "exceeds 65536 bytes decompressed")

	code, hdr, b := infer(body, "Inference-Header-Content-Length", hl)
	jsLen, _ := strconv.Atoi(hdr.Get("Inference-Header-Content-Length"))
	if code != 200 || hdr.Get("Content-Type") != "application/octet-stream" || jsLen <= 0 || jsLen > len(b) {
		t.Fatalf("binary response: %d %v", code, hdr)
	}
	var resp api.OIPInferResponse
	if err := json.Unmarshal(b[:jsLen], &resp); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, o := range resp.Outputs {
		total += o.Parameters.BinaryDataSize
	}
	if total != len(b)-jsLen || total != 3*(40+8)+3*(4+1) {
		t.Fatalf("binary outputs of %d bytes, %d after the JSON: %s", total, len(b)-jsLen, b[:jsLen])
	}
}

// Without a worker the model is not ready (503), and an inference waits
// on the queue until its parameters.timeout: 504.
func TestOIPNoWorker(t *testing.T) {
	s := Start(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Workers[0].Stop(ctx); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 20*time.Second, func() error {
		if code, _, b := s.Do("GET", "/v2/models/digits/versions/1/ready", "", nil, nil); code != 503 {
			return fmt.Errorf("ready: %d %s", code, b)
		}
		return nil
	})
	code, _, b := s.Do("GET", "/v2/models/digits/ready", "", nil, nil)
	checkOIPError(t, "not ready", code, b, 503, "no worker serves it")
	items, _ := DigitInputs(t, 1)
	body := fmt.Sprintf(`{"parameters":{"timeout":300000},"inputs":[{"name":"pixels","shape":[1,64],"datatype":"FP32","data":%s}]}`, mustJSON(t, items[0]))
	code, _, b = s.Do("POST", "/v2/models/digits/infer", "application/json", []byte(body), nil)
	checkOIPError(t, "no worker", code, b, 504, "no worker answered within 300ms")
}

// Thousands of inferences leave no state behind: the gateway's goroutines
// and the server's consumers return to what they were.
func TestOIPInferReturnsToBaseline(t *testing.T) {
	s := Start(t, Options{})
	items, _ := DigitInputs(t, 4)
	body, hl := oipBinaryBody(items)
	infer := func(c *http.Client) error {
		req, _ := http.NewRequest("POST", s.BaseURL+"/v2/models/digits/infer", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+KeyA)
		req.Header.Set("Inference-Header-Content-Length", hl)
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	c := &http.Client{Timeout: 30 * time.Second}
	if err := infer(c); err != nil { // warm: the coalescer and the inbox start
		t.Fatal(err)
	}
	c.CloseIdleConnections()
	baseG, baseC := runtime.NumGoroutine(), s.Consumers()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for g := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 250 && errs[g] == nil; i++ {
				errs[g] = infer(c)
			}
		}()
	}
	wg.Wait()
	if err := errorsJoin(errs); err != nil {
		t.Fatal(err)
	}
	c.CloseIdleConnections()
	Eventually(t, 10*time.Second, func() error {
		if g, cons := runtime.NumGoroutine(), s.Consumers(); g > baseG+2 || cons != baseC {
			return fmt.Errorf("after 2,000 inferences: %d goroutines (%d before), %d consumers (%d before)", g, baseG, cons, baseC)
		}
		return nil
	})
}

func errorsJoin(errs []error) error {
	if i := slices.IndexFunc(errs, func(e error) bool { return e != nil }); i >= 0 {
		return errs[i]
	}
	return nil
}
