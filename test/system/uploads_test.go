package system

import (
	"bytes"
	"context"
	"crypto/sha1" //nolint:gosec // tus's checksum algorithm
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway"
	"batchinfer/internal/natsx"
	"batchinfer/internal/store"

	"github.com/rs/zerolog"
)

// tus is a minimal tus 1.0.0 client over raw HTTP, for the protocol tests
// (a real client, tuspy, is driven in tusclient_test.go).
type tus struct {
	t    *testing.T
	base string // the gateway's base URL
	key  string
}

func (s *System) tus(key string) *tus { return &tus{t: s.tb.(*testing.T), base: s.BaseURL, key: key} }

func (c *tus) on(g *gateway.Gateway) *tus {
	d := *c
	d.base = "http://" + g.Addr()
	return &d
}

// do sends one request; hdr are name, value pairs ("Tus-Resumable" is
// added unless given as "").
func (c *tus) do(method, path string, body []byte, hdr ...string) *http.Response {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp
}

// create makes an upload of size bytes and returns its path.
func (c *tus) create(size int, hdr ...string) string {
	c.t.Helper()
	resp := c.do(http.MethodPost, "/v1/uploads", nil, append([]string{"Upload-Length", strconv.Itoa(size)}, hdr...)...)
	if resp.StatusCode != http.StatusCreated {
		c.t.Fatalf("create: %d %s", resp.StatusCode, body(resp))
	}
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, "/v1/uploads/") {
		c.t.Fatalf("Location %q", loc)
	}
	return loc
}

func (c *tus) patch(path string, offset int, data []byte, hdr ...string) *http.Response {
	c.t.Helper()
	return c.do(http.MethodPatch, path, data, append([]string{"Upload-Offset", strconv.Itoa(offset), "Content-Type", "application/offset+octet-stream"}, hdr...)...)
}

// offset HEADs the upload and returns its offset (-1 with the status when
// it is not 200).
func (c *tus) offset(path string) (int, int) {
	c.t.Helper()
	resp := c.do(http.MethodHead, path, nil)
	if resp.StatusCode != http.StatusOK {
		return -1, resp.StatusCode
	}
	n, err := strconv.Atoi(resp.Header.Get("Upload-Offset"))
	if err != nil {
		c.t.Fatalf("Upload-Offset %q", resp.Header.Get("Upload-Offset"))
	}
	return n, resp.StatusCode
}

func body(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// apiError decodes an error answer and checks its status, code and that
// its message mentions want.
func wantAPIError(t *testing.T, resp *http.Response, status int, code api.Code, want string) {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	var e struct {
		Error api.Error `json:"error"`
	}
	if resp.StatusCode != status || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d (%s) %q, want %d JSON", resp.StatusCode, resp.Header.Get("Content-Type"), b, status)
	}
	if resp.Request != nil && resp.Request.Method == http.MethodHead {
		return
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Code != code || !strings.Contains(e.Error.Message, want) {
		t.Fatalf("body %s: want code %s mentioning %q", b, code, want)
	}
}

func sha1b64(b []byte) string {
	s := sha1.Sum(b) //nolint:gosec // tus's checksum algorithm
	return "sha1 " + base64.StdEncoding.EncodeToString(s[:])
}

func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// uploadStore opens the uploads store on the system's NATS, as a gateway
// that builds a job from an upload would.
func (s *System) uploadStore(t *testing.T) *store.Uploads {
	t.Helper()
	ctx := context.Background()
	in, err := natsx.Open(ctx, s.conn(), natsx.StreamConfig{}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	st, err := store.NewUploads(ctx, in, store.UploadConfig{PartBytes: 512 << 10, TTL: time.Hour, Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// stored reads a finished upload back from the store.
func (s *System) stored(t *testing.T, tenant, path string) []byte {
	t.Helper()
	rc, _, err := s.uploadStore(t).Open(context.Background(), tenant, strings.TrimPrefix(path, "/v1/uploads/"))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The core protocol and its extensions, step by step: discovery, creation
// with metadata, a body in three PATCHes (one checked by sha1), the
// offsets HEAD reports, Upload-Expires, termination.
func TestUploadProtocol(t *testing.T) {
	s := Start(t, Options{})
	c := s.tus(KeyA)
	opts := c.do(http.MethodOptions, "/v1/uploads", nil)
	if opts.StatusCode != http.StatusOK && opts.StatusCode != http.StatusNoContent || opts.Header.Get("Tus-Version") != "1.0.0" ||
		opts.Header.Get("Tus-Max-Size") != strconv.Itoa(10<<30) || !strings.Contains(opts.Header.Get("Tus-Checksum-Algorithm"), "sha1") {
		t.Fatalf("OPTIONS: %d %v", opts.StatusCode, opts.Header)
	}
	for _, ext := range []string{"creation", "creation-with-upload", "termination", "checksum", "expiration"} {
		if !strings.Contains(","+opts.Header.Get("Tus-Extension")+",", ","+ext+",") {
			t.Errorf("Tus-Extension %q lacks %s", opts.Header.Get("Tus-Extension"), ext)
		}
	}
	data := randBytes(1<<20+12345, 1)
	meta := "filename " + base64.StdEncoding.EncodeToString([]byte("digits.ndjson")) + ",filetype " + base64.StdEncoding.EncodeToString([]byte("application/x-ndjson"))
	resp := c.do(http.MethodPost, "/v1/uploads", data[:1000], "Upload-Length", strconv.Itoa(len(data)), "Upload-Metadata", meta,
		"Content-Type", "application/offset+octet-stream")
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Upload-Offset") != "1000" {
		t.Fatalf("creation with upload: %d %v %s", resp.StatusCode, resp.Header, body(resp))
	}
	path := resp.Header.Get("Location")
	exp, err := http.ParseTime(resp.Header.Get("Upload-Expires"))
	if err != nil || exp.Before(time.Now().Add(23*time.Hour)) {
		t.Fatalf("Upload-Expires %q: %v", resp.Header.Get("Upload-Expires"), err)
	}
	if resp := c.patch(path, 1000, data[1000:700000], "Upload-Checksum", sha1b64(data[1000:700000])); resp.StatusCode != http.StatusNoContent || resp.Header.Get("Upload-Offset") != "700000" {
		t.Fatalf("PATCH: %d %v %s", resp.StatusCode, resp.Header, body(resp))
	}
	head := c.do(http.MethodHead, path, nil)
	if head.StatusCode != http.StatusOK || head.Header.Get("Upload-Offset") != "700000" || head.Header.Get("Upload-Length") != strconv.Itoa(len(data)) ||
		head.Header.Get("Cache-Control") != "no-store" || !strings.Contains(head.Header.Get("Upload-Metadata"), "filename ") {
		t.Fatalf("HEAD: %d %v", head.StatusCode, head.Header)
	}
	if resp := c.patch(path, 700000, data[700000:]); resp.StatusCode != http.StatusNoContent || resp.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) {
		t.Fatalf("last PATCH: %d %v %s", resp.StatusCode, resp.Header, body(resp))
	}
	if got := s.stored(t, TenantA, path); !bytes.Equal(got, data) {
		t.Fatalf("stored %d bytes, differ from the %d sent", len(got), len(data))
	}
	info, err := s.uploadStore(t).Info(context.Background(), TenantA, strings.TrimPrefix(path, "/v1/uploads/"))
	if err != nil || info.Filename() != "digits.ndjson" || info.Filetype() != "application/x-ndjson" || !info.Finished() {
		t.Fatalf("%+v %v", info, err)
	}
	if resp := c.do(http.MethodDelete, path, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, body(resp))
	}
	if _, code := c.offset(path); code != http.StatusNotFound {
		t.Fatalf("HEAD after DELETE: %d", code)
	}
}

var _ = net.Dial
var _ = fmt.Sprint
