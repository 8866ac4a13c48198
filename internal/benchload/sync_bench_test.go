package benchload

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"batchinfer/client"
)

// The load generator's own cost of one synchronous request, against a
// server that answers every request with the same prediction at once (so
// that only the client side is measured): package client's Predict over
// net/http, and RunSync's raw keep-alive loop. The raw loop is kept for
// the sync load because this cost is taken from the 2 cores the servers
// under measurement run on.
func BenchmarkSyncRequest(b *testing.B) {
	answer := []byte(`{"model":"digits","version":"1","items":[{"index":0,"label":"0","class":0,"score":0.99}],"latency_ms":1.2}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = r.Body.Read(make([]byte, 4096))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
	}))
	defer srv.Close()
	co := &Corpus{Model: "digits", items: [][]float32{make([]float32, 64)}, classes: []int{0}}
	b.Run("client.Predict", func(b *testing.B) {
		c := client.New(srv.URL, "bik_key")
		in := []client.Input{client.Numbers(co.items[0])}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Predict(context.Background(), "digits", in, client.PredictOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		u, _ := url.Parse(srv.URL)
		reqs, err := syncRequests(u.Host, "bik_key", co)
		if err != nil {
			b.Fatal(err)
		}
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		br := bufio.NewReaderSize(conn, 16<<10)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := conn.Write(reqs[0]); err != nil {
				b.Fatal(err)
			}
			if status, _, err := readResponse(br); err != nil || status != 200 {
				b.Fatal(status, err)
			}
		}
	})
}
