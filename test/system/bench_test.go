package system

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"batchinfer/gateway"
	"batchinfer/worker"
)

// These benchmarks measure, side by side in one process and one run:
//   - raw in-process TensorFlow throughput per model and batch size (the
//     limit);
//   - end-to-end throughput of batch jobs through HTTP → gateway →
//     JetStream → worker → WebSocket, and its ratio to raw;
//   - submit→result latency of single-item predictions over the WebSocket
//     at several concurrency levels, with dynamic batching on and off;
//   - process CPU time outside TensorFlow: end-to-end CPU minus the CPU raw
//     inference needs for the same items, relative to the latter.
//
// Run: make bench (results in docs/benchmarks.md).

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchInputs(tb testing.TB, name string, n int) ([]float32, int) {
	m, ok := Registry(tb).Get(name, "")
	if !ok {
		tb.Skipf("model %s not present (make bench-model)", name)
	}
	size := m.Meta().ItemSize()
	in := make([]float32, n*size)
	if name == "digits" {
		s := DigitSamples(tb)
		for i := 0; i < n; i++ {
			copy(in[i*size:], s[i%len(s)].Pixels)
		}
	} else {
		r := rand.New(rand.NewSource(1))
		for i := range in {
			in[i] = float32(r.Intn(256))
		}
	}
	return in, size
}

// rawRate runs batches of size batch for at least d and returns items/s and
// CPU per item.
func rawRate(tb testing.TB, name string, batch int, d time.Duration) (float64, time.Duration) {
	m, _ := Registry(tb).Get(name, "")
	in, _ := benchInputs(tb, name, batch)
	if _, err := m.Predict(in, batch); err != nil { // warm up
		tb.Fatal(err)
	}
	items := 0
	c0, t0 := cpuTime(), time.Now()
	for time.Since(t0) < d {
		if _, err := m.Predict(in, batch); err != nil {
			tb.Fatal(err)
		}
		items += batch
	}
	el, cpu := time.Since(t0), cpuTime()-c0
	return float64(items) / el.Seconds(), cpu / time.Duration(items)
}

func BenchmarkRawTF(b *testing.B) {
	for _, tc := range []struct {
		model   string
		batches []int
	}{
		{"digits", []int{1, 8, 32, 64, 128, 256, 512}},
		{"mobilenet_bench", []int{1, 4, 8, 16}},
	} {
		for _, bs := range tc.batches {
			b.Run(fmt.Sprintf("%s/batch=%d", tc.model, bs), func(b *testing.B) {
				m, ok := Registry(b).Get(tc.model, "")
				if !ok {
					b.Skip("model not generated (make bench-model)")
				}
				in, _ := benchInputs(b, tc.model, bs)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := m.Predict(in, bs); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*bs)/b.Elapsed().Seconds(), "items/s")
			})
		}
	}
}

func encodeB64Items(in []float32, size int) []map[string]string {
	n := len(in) / size
	out := make([]map[string]string, n)
	buf := make([]byte, 4*size)
	for i := 0; i < n; i++ {
		for j, v := range in[i*size : (i+1)*size] {
			binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(v))
		}
		out[i] = map[string]string{"b64": base64.StdEncoding.EncodeToString(buf)}
	}
	return out
}

// BenchmarkEndToEndJobs submits batch jobs and follows them over the
// WebSocket until end; each iteration is `jobs` concurrent jobs.
func BenchmarkEndToEndJobs(b *testing.B) {
	for _, tc := range []struct {
		model     string
		items     int
		batch     int
		jobs      []int
		chunkSize int
	}{
		{"digits", 20000, 256, []int{1, 4}, 256},
		{"mobilenet_bench", 64, 8, []int{1, 2}, 0},
	} {
		b.Run(tc.model, func(b *testing.B) {
			in, size := benchInputs(b, tc.model, tc.items)
			body, err := json.Marshal(map[string]any{"model": tc.model, "inputs": encodeB64Items(in, size)})
			if err != nil {
				b.Fatal(err)
			}
			s := Start(b, Options{
				Worker:  func(c *worker.Config) { c.MaxBatch = tc.batch },
				Gateway: func(c *gateway.Config) { c.MaxBodyBytes = 512 << 20; c.Service.MaxChunkBytes = 7 << 20 },
			})
			raw, rawCPU := rawRate(b, tc.model, tc.batch, 2*time.Second)
			for _, jobs := range tc.jobs {
				b.Run(fmt.Sprintf("jobs=%d", jobs), func(b *testing.B) {
					items := 0
					var cpu time.Duration
					var el time.Duration
					for i := 0; i < b.N; i++ {
						var wg sync.WaitGroup
						c0, t0 := cpuTime(), time.Now()
						for j := 0; j < jobs; j++ {
							wg.Add(1)
							go func() {
								defer wg.Done()
								runJobOverWS(b, s, body, tc.items)
							}()
						}
						wg.Wait()
						el += time.Since(t0)
						cpu += cpuTime() - c0
						items += jobs * tc.items
					}
					rate := float64(items) / el.Seconds()
					b.ReportMetric(rate, "items/s")
					b.ReportMetric(raw, "raw_items/s")
					b.ReportMetric(rate/raw, "ratio_vs_raw")
					tfCPU := rawCPU * time.Duration(items)
					b.ReportMetric(100*float64(cpu-tfCPU)/float64(tfCPU), "cpu_outside_tf_%")
				})
			}
		})
	}
}

// runJobOverWS submits a job over HTTP and follows it over the WebSocket,
// counting results without decoding them (the client's cost is not the
// system's).
func runJobOverWS(tb testing.TB, s *System, body []byte, total int) {
	w, _, err := s.DialWS("")
	if err != nil {
		tb.Error(err)
		return
	}
	defer w.C.Close()
	w.Read() // hello
	var r submitResp
	if code, _, b := s.Do("POST", "/v1/jobs", "application/json", body, &r); code != 202 {
		tb.Errorf("submit: %d %s", code, b)
		return
	}
	w.Send(map[string]any{"type": "subscribe", "job": r.Job.ID})
	got := 0
	for {
		_ = w.C.SetReadDeadline(time.Now().Add(60 * time.Second))
		_, b, err := w.C.ReadMessage()
		if err != nil {
			tb.Errorf("read: %v", err)
			return
		}
		if bytes.HasPrefix(b, []byte(`{"type":"results"`)) {
			got += bytes.Count(b, []byte(`{"index":`))
			continue
		}
		var m struct{ Type string }
		_ = json.Unmarshal(b, &m)
		switch m.Type {
		case "end":
			if got != total {
				tb.Errorf("got %d results, want %d", got, total)
			}
			return
		case "error":
			tb.Errorf("error: %s", b)
			return
		}
	}
}

// BenchmarkPredictLatency sends single-item predictions over WebSockets
// from `conc` concurrent clients and reports items/s and latency
// percentiles; maxbatch=1 disables dynamic batching for comparison.
func BenchmarkPredictLatency(b *testing.B) {
	samples := DigitSamples(b)
	for _, maxBatch := range []int{64, 1} {
		b.Run(fmt.Sprintf("digits/maxbatch=%d", maxBatch), func(b *testing.B) {
			s := Start(b, Options{Worker: func(c *worker.Config) { c.MaxBatch = maxBatch }})
			for _, conc := range []int{1, 8, 64} {
				b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
					per := max(1, b.N/conc)
					lat := make([][]time.Duration, conc)
					var wg sync.WaitGroup
					t0 := time.Now()
					for c := 0; c < conc; c++ {
						wg.Add(1)
						go func() {
							defer wg.Done()
							w, _, err := s.DialWS("")
							if err != nil {
								b.Error(err)
								return
							}
							defer w.C.Close()
							w.Read()
							for i := 0; i < per; i++ {
								start := time.Now()
								w.Send(map[string]any{"type": "predict", "ref": "r", "model": "digits", "inputs": []any{samples[i%len(samples)].Pixels}})
								if m := w.Read(); m.Type != "prediction" {
									b.Errorf("got %s", m.Raw)
									return
								}
								lat[c] = append(lat[c], time.Since(start))
							}
						}()
					}
					wg.Wait()
					el := time.Since(t0)
					all := slices.Concat(lat...)
					slices.Sort(all)
					if len(all) == 0 {
						return
					}
					pct := func(p float64) float64 {
						return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) / 1000
					}
					b.ReportMetric(float64(len(all))/el.Seconds(), "items/s")
					b.ReportMetric(pct(0.50), "p50_ms")
					b.ReportMetric(pct(0.95), "p95_ms")
					b.ReportMetric(pct(0.99), "p99_ms")
				})
			}
		})
	}
}
