package system

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkUploadPatch: one 64 MiB PATCH through the gateway into
// JetStream (parts of 512 KiB, committed every 8 MiB), in MB/s of body.
func BenchmarkUploadPatch(b *testing.B) {
	s := Start(b, Options{})
	c := s.tus(KeyA)
	data := randBytes(64<<20, 12)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		path := benchCreate(b, c, len(data))
		req, _ := http.NewRequest(http.MethodPatch, s.BaseURL+path, bytes.NewReader(data))
		for k, v := range map[string]string{"Authorization": "Bearer " + KeyA, "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"} {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != http.StatusNoContent {
			b.Fatalf("PATCH: %v %v", err, resp)
		}
		resp.Body.Close()
		b.StopTimer()
		c.do(http.MethodDelete, path, nil)
		b.StartTimer()
	}
}

// BenchmarkUploadRead: a finished 64 MiB upload read back in order from
// the store (an ordered consumer, 4 parts ahead), in MB/s.
func BenchmarkUploadRead(b *testing.B) {
	s := Start(b, Options{})
	c := s.tus(KeyA)
	data := randBytes(64<<20, 13)
	path := benchCreate(b, c, len(data))
	req, _ := http.NewRequest(http.MethodPatch, s.BaseURL+path, bytes.NewReader(data))
	for k, v := range map[string]string{"Authorization": "Bearer " + KeyA, "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"} {
		req.Header.Set(k, v)
	}
	if resp, err := client.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		b.Fatalf("PATCH: %v %v", err, resp)
	}
	st := s.uploadStoreTB(b)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		rc, _, err := st.Open(context.Background(), TenantA, strings.TrimPrefix(path, "/v1/uploads/"))
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, rc); err != nil || n != int64(len(data)) {
			b.Fatalf("read %d: %v", n, err)
		}
		rc.Close()
	}
}

func benchCreate(b *testing.B, c *tus, size int) string {
	req, _ := http.NewRequest(http.MethodPost, c.base+"/v1/uploads", nil)
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.Itoa(size))
	resp, err := client.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		b.Fatalf("create: %v %v", err, resp)
	}
	resp.Body.Close()
	return resp.Header.Get("Location")
}
