package system

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"batchinfer/internal/store"

	"github.com/nats-io/nats.go/jetstream"
)

// BenchmarkOutputFile: the files of a finished 100,000-item digits job
// (NDJSON in, 100 invalid rows). index: the first request of a file (HEAD)
// after its index is dropped, one pass over the job's results; download:
// the whole file, in MB/s; range-start and range-end: 64 KiB at either end
// of the file, which cost the same (an offset is found in the index, not
// by rendering what comes before it).
func BenchmarkOutputFile(b *testing.B) {
	s := Start(b, Options{})
	st, _ := s.finishedDataset(b, 100_000, 997)
	outputs := s.outputStore(b)
	for _, f := range []string{"output.ndjson", "output.csv", "errors.ndjson"} {
		kind, format, _ := cut(f)
		path := "/v1/jobs/" + st.ID + "/" + kind + "?format=" + format
		_, h, _ := s.Do(http.MethodHead, path, "", nil, nil)
		size, _ := strconv.Atoi(h.Get("Content-Length"))
		b.Run("index/"+f, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				if err := outputs.DropIndex(context.Background(), st.ID, f); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				s.benchGet(b, http.MethodHead, path, 200)
			}
		})
		b.Run("download/"+f, func(b *testing.B) {
			b.SetBytes(int64(size))
			for range b.N {
				s.benchGet(b, http.MethodGet, path, 200)
			}
		})
		for name, rng := range map[string]string{"range-start": "bytes=0-65535", "range-end": fmt.Sprintf("bytes=%d-", max(size-65536, 0))} {
			b.Run(name+"/"+f, func(b *testing.B) {
				for range b.N {
					s.benchGet(b, http.MethodGet, path, 206, "Range", rng)
				}
			})
		}
	}
}

func cut(file string) (string, string, bool) {
	for i := range file {
		if file[i] == '.' {
			return file[:i], file[i+1:], true
		}
	}
	return file, "", false
}

// benchGet sends one request and reads its body to the end.
func (s *System) benchGet(b *testing.B, method, path string, want int, hdr ...string) {
	req, _ := http.NewRequest(method, s.BaseURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+s.Key)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(req)
	if err != nil || resp.StatusCode != want {
		b.Fatalf("%s %s: %v %v", method, path, err, resp)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// outputStore is the outputs bucket, over a connection of its own.
func (s *System) outputStore(tb testing.TB) *store.Outputs {
	tb.Helper()
	nc := s.natsConn(tb)
	tb.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, "outputs")
	if err != nil {
		tb.Fatal(err)
	}
	return store.NewOutputs(js, kv)
}
