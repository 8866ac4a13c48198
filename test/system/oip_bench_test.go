package system

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkOIPvsPredict sends the same digits, from conc keep-alive
// clients back to back, to /v1 predict (JSON) and to the Open Inference
// Protocol's /v2 infer in binary (every output binary) and in JSON, one
// system and one run for all: requests/s and latency percentiles side by
// side.
//
// Run: go test -run '^$' -bench OIPvsPredict ./test/system (. /work/tfenv.sh or make tf first)
func BenchmarkOIPvsPredict(b *testing.B) {
	s := Start(b, Options{})
	for _, items := range []int{1, 64} {
		in, _ := DigitInputs(b, items)
		v1, _ := json.Marshal(map[string]any{"inputs": in})
		bin, hl := oipBinaryBody(in)
		js, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{"name": "pixels", "shape": []int{items, 64}, "datatype": "FP32", "data": in}}})
		routes := []struct {
			name, path string
			body       []byte
			hdr        []string
		}{
			{"v1_predict", "/v1/models/digits/predict", v1, []string{"Content-Type", "application/json"}},
			{"v2_binary", "/v2/models/digits/infer", bin, []string{"Inference-Header-Content-Length", hl}},
			{"v2_json", "/v2/models/digits/infer", js, []string{"Content-Type", "application/json"}},
		}
		for _, conc := range []int{1, 16} {
			for _, r := range routes {
				b.Run(fmt.Sprintf("items=%d/conc=%d/%s", items, conc, r.name), func(b *testing.B) {
					lat := benchRequests(b, s, conc, r.path, r.body, r.hdr)
					reportLatency(b, lat)
				})
			}
		}
	}
}

// benchRequests sends b.N requests from conc clients and returns their
// latencies.
func benchRequests(b *testing.B, s *System, conc int, path string, body []byte, hdr []string) []time.Duration {
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	defer c.CloseIdleConnections()
	send := func() error {
		req, _ := http.NewRequest("POST", s.BaseURL+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+KeyA)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil || resp.StatusCode != 200 {
			return fmt.Errorf("status %d, %v", resp.StatusCode, err)
		}
		return nil
	}
	if err := send(); err != nil { // warm the connection and the route
		b.Fatal(err)
	}
	per := max(1, b.N/conc)
	lat := make([][]time.Duration, conc)
	var wg sync.WaitGroup
	b.ResetTimer()
	for g := range lat {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				t0 := time.Now()
				if err := send(); err != nil {
					b.Error(err)
					return
				}
				lat[g] = append(lat[g], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	return slices.Concat(lat...)
}

// reportLatency reports requests/s over the benchmark's time and the
// latency percentiles.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(lat))/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
}
