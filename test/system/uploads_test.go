package system

import (
	"bufio"
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
	"sync"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway"
	"batchinfer/internal/natsx"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/rs/zerolog"
)

// tus is a minimal tus 1.0.0 client over raw HTTP, for the protocol tests
// (a real client, tuspy, is driven in tusclient_test.go).
type tus struct {
	t    testing.TB
	base string // the gateway's base URL
	key  string
}

func (s *System) tus(key string) *tus { return &tus{t: s.tb, base: s.BaseURL, key: key} }

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
func (s *System) uploadStore(t *testing.T) *store.Uploads { return s.uploadStoreTB(t) }

func (s *System) uploadStoreTB(t testing.TB) *store.Uploads {
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

// uploadsState is what the uploads stream and bucket hold.
type uploadsState struct{ parts, bytes, records uint64 }

func (s *System) uploadsState(t *testing.T) uploadsState {
	t.Helper()
	ctx := context.Background()
	nc := s.natsConn(t)
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var st uploadsState
	for _, name := range []string{wire.StreamUploads, "KV_" + wire.BucketUploads} {
		str, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		si := str.CachedInfo()
		if name == wire.StreamUploads {
			st.parts, st.bytes = si.State.Msgs, si.State.Bytes
		} else {
			st.records = si.State.Msgs
		}
	}
	return st
}

// stored reads a finished upload back from the store.
// uploadParts counts the parts stored on an upload's subject (committed or
// not).
func (s *System) uploadParts(t *testing.T, path string) int {
	t.Helper()
	nc := s.natsConn(t)
	defer nc.Close()
	js, _ := jetstream.New(nc)
	st, err := js.Stream(context.Background(), wire.StreamUploads)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background(), jetstream.WithSubjectFilter(wire.UploadSubject(strings.TrimPrefix(path, "/v1/uploads/"))))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range info.State.Subjects {
		n += int(c)
	}
	return n
}

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

// Every mistake of a client gets a 4xx JSON naming it (never a 5xx), and
// what a refused request sent is not kept; another tenant's upload answers
// exactly like an unknown one.
func TestUploadBadInputGets4xxJSON(t *testing.T) {
	s := Start(t, Options{Gateway: func(c *gateway.Config) { c.Uploads.MaxSize = 1 << 20 }})
	c := s.tus(KeyA)
	path := c.create(1000)
	data := randBytes(1000, 2)
	if resp := c.patch(path, 0, data[:100]); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("%d %s", resp.StatusCode, body(resp))
	}
	unknown := "/v1/uploads/0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		name, method, path string
		body               []byte
		hdr                []string
		status             int
		code               api.Code
		mention            string
	}{
		{"no Tus-Resumable", "POST", "/v1/uploads", nil, []string{"Tus-Resumable", "", "Upload-Length", "10"}, 412, api.CodePreconditionFailed, "Tus-Resumable: 1.0.0"},
		{"other tus version", "PATCH", path, data[100:200], []string{"Tus-Resumable", "0.2.2", "Upload-Offset", "100", "Content-Type", "application/offset+octet-stream"}, 412, api.CodePreconditionFailed, "Tus-Resumable"},
		{"no Upload-Length", "POST", "/v1/uploads", nil, nil, 400, api.CodeBadRequest, "Upload-Length"},
		{"Upload-Length not a number", "POST", "/v1/uploads", nil, []string{"Upload-Length", "ten"}, 400, api.CodeBadRequest, `"ten"`},
		{"negative Upload-Length", "POST", "/v1/uploads", nil, []string{"Upload-Length", "-5"}, 400, api.CodeBadRequest, "Upload-Length"},
		{"deferred length", "POST", "/v1/uploads", nil, []string{"Upload-Defer-Length", "1"}, 400, api.CodeBadRequest, "Upload-Defer-Length is not supported"},
		{"over Tus-Max-Size", "POST", "/v1/uploads", nil, []string{"Upload-Length", strconv.Itoa(1<<20 + 1)}, 413, api.CodeBodyTooLarge, "1048576 bytes (Tus-Max-Size)"},
		{"bad metadata", "POST", "/v1/uploads", nil, []string{"Upload-Length", "10", "Upload-Metadata", "filename not base64!"}, 400, api.CodeBadRequest, "Upload-Metadata"},
		{"metadata too long", "POST", "/v1/uploads", nil, []string{"Upload-Length", "10", "Upload-Metadata", "k " + strings.Repeat("QUFB", 2000)}, 400, api.CodeBadRequest, "more than 4096"},
		{"creation body past the length", "POST", "/v1/uploads", data, []string{"Upload-Length", "10", "Content-Type", "application/offset+octet-stream"}, 413, api.CodeBodyTooLarge, "longer than Upload-Length"},
		{"PATCH wrong content type", "PATCH", path, data[100:200], []string{"Upload-Offset", "100", "Content-Type", "application/json"}, 415, api.CodeUnsupportedMedia, "application/offset+octet-stream"},
		{"PATCH no Upload-Offset", "PATCH", path, data[100:200], []string{"Content-Type", "application/offset+octet-stream"}, 400, api.CodeBadRequest, "Upload-Offset"},
		{"PATCH bad Upload-Offset", "PATCH", path, data[100:200], []string{"Upload-Offset", "x1", "Content-Type", "application/offset+octet-stream"}, 400, api.CodeBadRequest, `"x1"`},
		{"PATCH offset mismatch", "PATCH", path, data[50:200], []string{"Upload-Offset", "50", "Content-Type", "application/offset+octet-stream"}, 409, api.CodeConflict, "Upload-Offset 50 does not match the upload's offset 100"},
		{"PATCH past the length", "PATCH", path, make([]byte, 901), []string{"Upload-Offset", "100", "Content-Type", "application/offset+octet-stream"}, 413, api.CodeBodyTooLarge, "declared length"},
		{"PATCH checksum mismatch", "PATCH", path, data[100:200], []string{"Upload-Offset", "100", "Content-Type", "application/offset+octet-stream", "Upload-Checksum", sha1b64(data[101:201])}, 460, api.CodeChecksumMismatch, "Upload-Checksum"},
		{"PATCH unknown checksum algorithm", "PATCH", path, data[100:200], []string{"Upload-Offset", "100", "Content-Type", "application/offset+octet-stream", "Upload-Checksum", "crc32 AAAAAA=="}, 400, api.CodeBadRequest, "sha1"},
		{"PATCH bad checksum digest", "PATCH", path, data[100:200], []string{"Upload-Offset", "100", "Content-Type", "application/offset+octet-stream", "Upload-Checksum", "sha1 AAAA"}, 400, api.CodeBadRequest, "sha1 digest"},
		{"PATCH unknown upload", "PATCH", unknown, data[:10], []string{"Upload-Offset", "0", "Content-Type", "application/offset+octet-stream"}, 404, api.CodeNotFound, "no upload"},
		{"PATCH malformed id", "PATCH", "/v1/uploads/..%2f..%2fx", data[:10], []string{"Upload-Offset", "0", "Content-Type", "application/offset+octet-stream"}, 404, api.CodeNotFound, ""},
		{"DELETE unknown", "DELETE", unknown, nil, nil, 404, api.CodeNotFound, "no upload"},
		{"GET an upload", "GET", path, nil, nil, 405, api.CodeMethodNotAllowed, "GET"},
		{"PUT the collection", "PUT", "/v1/uploads", nil, nil, 405, api.CodeMethodNotAllowed, "PUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantAPIError(t, c.do(tc.method, tc.path, tc.body, tc.hdr...), tc.status, tc.code, tc.mention)
		})
	}
	// A chunked body (no Content-Length) past the length: cut, none kept.
	req, _ := http.NewRequest(http.MethodPatch, s.BaseURL+path, io.MultiReader(bytes.NewReader(make([]byte, 901))))
	for k, v := range map[string]string{"Authorization": "Bearer " + KeyA, "Tus-Resumable": "1.0.0", "Upload-Offset": "100", "Content-Type": "application/offset+octet-stream"} {
		req.Header.Set(k, v)
	}
	req.ContentLength = -1
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("chunked PATCH: %v", err)
	}
	wantAPIError(t, resp, 413, api.CodeBodyTooLarge, "none of it was kept")
	resp.Body.Close()
	if n, _ := c.offset(path); n != 100 {
		t.Fatalf("offset %d after the refused requests, want 100 (none of them kept anything)", n)
	}
	wantAPIError(t, s.tus("").do(http.MethodPost, "/v1/uploads", nil, "Upload-Length", "10"), 401, api.CodeUnauthorized, "credentials")
	// Tenant B: tenant A's upload is not found, answered word for word as an unknown one.
	b := s.tus(KeyB)
	for _, m := range []string{http.MethodPatch, http.MethodDelete, http.MethodHead} {
		other := b.do(m, path, data[100:200], "Upload-Offset", "100", "Content-Type", "application/offset+octet-stream")
		none := b.do(m, unknown, data[100:200], "Upload-Offset", "100", "Content-Type", "application/offset+octet-stream")
		ob, nb := body(other), body(none)
		other.Body = io.NopCloser(strings.NewReader(ob))
		wantAPIError(t, other, 404, api.CodeNotFound, "")
		if strings.ReplaceAll(ob, path[12:], "ID") != strings.ReplaceAll(nb, unknown[12:], "ID") {
			t.Errorf("%s of another tenant's upload answers %s, an unknown one %s", m, ob, nb)
		}
	}
	if n, _ := c.offset(path); n != 100 {
		t.Fatalf("offset %d after tenant B's tries", n)
	}
}

// A body cut short (the client half-closes, or the connection dies) keeps
// what arrived: HEAD reports it and the upload resumes from there.
func TestUploadKilledConnectionKeepsWhatArrived(t *testing.T) {
	s := Start(t, Options{})
	c := s.tus(KeyA)
	data := randBytes(3<<20, 3)
	path := c.create(len(data))
	// Half-close: 1 MiB + 5 of a declared 2 MiB, then the end of the stream.
	conn := rawPatch(t, s.Gateway.Addr(), path, 0, 2<<20, data[:1<<20+5])
	conn.(*net.TCPConn).CloseWrite()
	resp, err := http.ReadResponse(bufioReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, resp, 400, api.CodeBadRequest, "HEAD the upload")
	conn.Close()
	if n, _ := c.offset(path); n != 1<<20+5 {
		t.Fatalf("offset %d after a half-closed body, want %d", n, 1<<20+5)
	}
	// Killed: another 700,000 bytes, then the connection closes.
	conn = rawPatch(t, s.Gateway.Addr(), path, 1<<20+5, len(data)-(1<<20+5), data[1<<20+5:1<<20+5+700000])
	conn.Close()
	want := 1<<20 + 5 + 700000
	Eventually(t, 10*time.Second, func() error {
		if n, _ := c.offset(path); n != want {
			return fmt.Errorf("offset %d, want %d", n, want)
		}
		return nil
	})
	if resp := c.patch(path, want, data[want:]); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("resume: %d %s", resp.StatusCode, body(resp))
	}
	if got := s.stored(t, TenantA, path); !bytes.Equal(got, data) {
		t.Fatal("resumed upload differs")
	}
	Eventually(t, 5*time.Second, func() error {
		if n := s.Gateway.Stats().TusRequests; n != 0 {
			return fmt.Errorf("%d upload requests still in flight", n)
		}
		return nil
	})
}

// rawPatch opens a connection and sends a PATCH declaring length bytes of
// body, of which it sends sent; the caller ends it.
func rawPatch(t *testing.T, addr, path string, offset, length int, sent []byte) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PATCH %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nTus-Resumable: 1.0.0\r\n"+
		"Content-Type: application/offset+octet-stream\r\nUpload-Offset: %d\r\nContent-Length: %d\r\n\r\n", path, KeyA, offset, length)
	if _, err := conn.Write(sent); err != nil {
		t.Fatal(err)
	}
	return conn
}

func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }

// Upload state is in JetStream, not in a gateway: an upload started
// through one gateway resumes through another, and two gateways writing
// the same upload at once cannot mix their bytes (the later writer wins,
// the earlier is told 409 and keeps nothing).
func TestUploadAcrossGateways(t *testing.T) {
	s := Start(t, Options{})
	g2 := s.NewGateway()
	c1, c2 := s.tus(KeyA), s.tus(KeyA).on(g2)
	data := randBytes(2<<20, 4)
	path := c1.create(len(data))
	if resp := c1.patch(path, 0, data[:700000]); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("%d %s", resp.StatusCode, body(resp))
	}
	if n, _ := c2.offset(path); n != 700000 {
		t.Fatalf("the other gateway reports offset %d", n)
	}
	// A slow PATCH through gateway 1 holds a part out; the same offset
	// through gateway 2 with other bytes wins.
	other := randBytes(len(data)-700000, 5)
	pr, pw := io.Pipe()
	slow := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPatch, s.BaseURL+path, pr)
		req.ContentLength = int64(len(data) - 700000)
		for k, v := range map[string]string{"Authorization": "Bearer " + KeyA, "Tus-Resumable": "1.0.0", "Upload-Offset": "700000", "Content-Type": "application/offset+octet-stream"} {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			close(slow)
			return
		}
		slow <- resp
	}()
	if _, err := pw.Write(data[700000 : 700000+600<<10]); err != nil { // more than a part: one is stored
		t.Fatal(err)
	}
	// Gateway 1 has claimed the upload once its first part is stored: then
	// gateway 2's write is the later one (the one that wins).
	Eventually(t, 10*time.Second, func() error {
		if n := s.uploadParts(t, path); n < 3 {
			return fmt.Errorf("%d parts stored", n)
		}
		return nil
	})
	if resp := c2.patch(path, 700000, other); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("second writer: %d %s", resp.StatusCode, body(resp))
	}
	go func() { _, _ = pw.Write(data[700000+600<<10:]); pw.Close() }()
	resp, ok := <-slow
	if !ok {
		t.Fatal("the first writer got no answer")
	}
	wantAPIError(t, resp, 409, api.CodeConflict, "another request wrote")
	want := append(append([]byte{}, data[:700000]...), other...)
	if got := s.stored(t, TenantA, path); !bytes.Equal(got, want) {
		t.Fatal("the stored upload mixes the two writers")
	}
}

// A gateway stopped in the middle of a PATCH stores what it received and
// tells the client to resume elsewhere; a gateway started afterwards (a
// restart) resumes the upload from HEAD's offset.
func TestUploadSurvivesGatewayRestart(t *testing.T) {
	s := Start(t, Options{})
	g1 := s.NewGateway()
	data := randBytes(3<<20, 6)
	c1 := s.tus(KeyA).on(g1)
	path := c1.create(len(data))
	pr, pw := io.Pipe()
	done := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPatch, "http://"+g1.Addr()+path, pr)
		req.ContentLength = int64(len(data))
		for k, v := range map[string]string{"Authorization": "Bearer " + KeyA, "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"} {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil { // the connection may close before the answer
			resp = nil
		}
		done <- resp
	}()
	if _, err := pw.Write(data[:1<<20+300]); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 5*time.Second, func() error { // two parts of 512 KiB stored
		if n := s.uploadsState(t).parts; n < 2 {
			return fmt.Errorf("%d parts stored", n)
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g1.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	resp := <-done
	if resp == nil {
		t.Fatal("the stopped gateway closed the connection without an answer")
	}
	wantAPIError(t, resp, 503, api.CodeUnavailable, "resume on another gateway")
	pw.CloseWithError(io.ErrClosedPipe)
	g2 := s.NewGateway()
	c2 := s.tus(KeyA).on(g2)
	n, _ := c2.offset(path)
	if n < 1<<20 || n > 1<<20+300 {
		t.Fatalf("offset %d after the restart, want what arrived (%d..%d)", n, 1<<20, 1<<20+300)
	}
	if resp := c2.patch(path, n, data[n:]); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("resume: %d %s", resp.StatusCode, body(resp))
	}
	if got := s.stored(t, TenantA, path); !bytes.Equal(got, data) {
		t.Fatal("the upload resumed across the restart differs")
	}
}

// Abandoned uploads expire after UPLOAD_TTL (Upload-Expires says when):
// 410 until the sweep, then 404, and their bytes and records are gone.
// Finished ones last UPLOAD_RETENTION.
func TestUploadExpiryFreesStorage(t *testing.T) {
	s := Start(t, Options{Gateway: func(c *gateway.Config) {
		c.Streams.UploadTTL, c.Streams.UploadRetention = 2*time.Second, time.Hour
		c.Uploads.SweepInterval = time.Hour // the sweeping gateway starts below
	}})
	c := s.tus(KeyA)
	base := s.uploadsState(t)
	abandoned := c.create(3 << 20)
	resp := c.patch(abandoned, 0, randBytes(1<<20+10, 7))
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("%d %s", resp.StatusCode, body(resp))
	}
	if exp, err := http.ParseTime(resp.Header.Get("Upload-Expires")); err != nil || time.Until(exp) > 2*time.Second {
		t.Fatalf("Upload-Expires %q", resp.Header.Get("Upload-Expires"))
	}
	finished := c.create(100)
	if resp := c.patch(finished, 0, make([]byte, 100)); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("%d %s", resp.StatusCode, body(resp))
	}
	if st := s.uploadsState(t); st.bytes < base.bytes+1<<20 {
		t.Fatalf("stream holds %d bytes", st.bytes)
	}
	Eventually(t, 10*time.Second, func() error {
		if _, code := c.offset(abandoned); code != http.StatusGone {
			return fmt.Errorf("HEAD: %d, want 410", code)
		}
		return nil
	})
	wantAPIError(t, c.patch(abandoned, 1<<20+10, make([]byte, 10)), 410, api.CodeExpired, "expired")
	s.NewGatewayWith(func(c *gateway.Config) { c.Uploads.SweepInterval = 100 * time.Millisecond })
	Eventually(t, 10*time.Second, func() error {
		st := s.uploadsState(t)
		if st.parts != base.parts+1 || st.bytes > base.bytes+1000 {
			return fmt.Errorf("%+v, want the finished upload's part only over %+v", st, base)
		}
		return nil
	})
	if _, code := c.offset(abandoned); code != http.StatusNotFound {
		t.Fatalf("HEAD of a swept upload: %d", code)
	}
	if n, code := c.offset(finished); n != 100 || code != http.StatusOK {
		t.Fatalf("the finished upload: %d %d", n, code)
	}
}

// Per-tenant limits answer 429 JSON with Retry-After; other tenants are
// not limited by them; a full uploads store answers 507 and keeps what it
// could store.
func TestUploadLimits(t *testing.T) {
	s := Start(t, Options{Gateway: func(c *gateway.Config) {
		c.Uploads.MaxTenantUploads, c.Uploads.MaxTenantBytes = 2, 3<<20
		c.Streams.UploadMaxBytes = 4 << 20
	}})
	a := s.tus(KeyA)
	first, _ := a.create(1<<20), a.create(1<<20)
	resp := a.do(http.MethodPost, "/v1/uploads", nil, "Upload-Length", "10")
	wantAPIError(t, resp, 429, api.CodeQuotaExceeded, "2 unfinished uploads")
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 3600 {
		t.Fatalf("Retry-After %q, want the time to the first expiry", resp.Header.Get("Retry-After"))
	}
	if resp := a.patch(first, 0, make([]byte, 1<<20)); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("%d %s", resp.StatusCode, body(resp))
	}
	resp = a.do(http.MethodPost, "/v1/uploads", nil, "Upload-Length", strconv.Itoa(1<<20+1))
	wantAPIError(t, resp, 429, api.CodeQuotaExceeded, "limit of 3145728")
	if resp.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	third := a.create(1 << 20)
	// Tenant B is limited by its own uploads only; the store (4 MiB) fills.
	b := s.tus(KeyB)
	big := b.create(3 << 20)
	resp = b.patch(big, 0, randBytes(3<<20, 8))
	wantAPIError(t, resp, 507, api.CodeInsufficientStorage, "UPLOAD_MAX_BYTES")
	if resp.Header.Get("Retry-After") == "" {
		t.Fatal("507 without Retry-After")
	}
	n, _ := b.offset(big)
	if n <= 0 || n >= 3<<20 || n%(512<<10) != 0 {
		t.Fatalf("offset %d after the store filled: want the parts stored before", n)
	}
	if resp := a.do(http.MethodDelete, third, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("%d", resp.StatusCode)
	}
}

// Soak: thousands of uploads created (with their bytes), resumed, finished
// and deleted through two gateways leave the uploads stream and bucket,
// the consumers and the gateways' in-flight requests as they were.
func TestUploadSoakReturnsToBaseline(t *testing.T) {
	s := Start(t, Options{})
	g2 := s.NewGateway()
	base, consumers := s.uploadsState(t), s.Consumers()
	n, workers := 2000, 8
	if raceEnabled { // make test-go runs it in full without -race
		n = 400
	}
	data := randBytes(3000, 11)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c1, c2 := s.tus(KeyA), s.tus(KeyA).on(g2)
			for i := range n / workers {
				if err := soakUpload(c1, c2, data, (w+i)%3 == 0); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	Eventually(t, 10*time.Second, func() error {
		st, in := s.uploadsState(t), s.Gateway.Stats().TusRequests+g2.Stats().TusRequests
		if st != base || s.Consumers() != consumers || in != 0 {
			return fmt.Errorf("after %d uploads: %+v, %d consumers, %d in flight; want %+v, %d, 0", n, st, s.Consumers(), in, base, consumers)
		}
		return nil
	})
}

// soakUpload creates an upload with its first 1000 bytes, then finishes it
// through the other gateway (in two PATCHes, the first checked by sha1,
// when split) and deletes it.
func soakUpload(c1, c2 *tus, data []byte, split bool) error {
	resp := c1.do(http.MethodPost, "/v1/uploads", data[:1000], "Upload-Length", strconv.Itoa(len(data)), "Content-Type", "application/offset+octet-stream")
	path := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Upload-Offset") != "1000" {
		return fmt.Errorf("create: %d %s", resp.StatusCode, body(resp))
	}
	off := 1000
	if split {
		if resp := c2.patch(path, off, data[off:2000], "Upload-Checksum", sha1b64(data[off:2000])); resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("patch: %d %s", resp.StatusCode, body(resp))
		}
		off = 2000
	}
	if resp := c2.patch(path, off, data[off:]); resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("patch: %d %s", resp.StatusCode, body(resp))
	}
	if resp := c1.do(http.MethodDelete, path, nil); resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("delete: %d %s", resp.StatusCode, body(resp))
	}
	return nil
}
