package webhook

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// BenchmarkJobEnd is the cost of ending a job (create, queue, count the
// last chunk) with and without a webhook, the endpoint dead: what the
// webhook adds to the writer that finishes a job (one log read, one
// publish, one log create), whatever the endpoint does.
func BenchmarkJobEnd(b *testing.B) {
	for _, hook := range []bool{false, true} {
		b.Run(fmt.Sprintf("webhook=%v", hook), func(b *testing.B) {
			cfg := testConfig(b)
			cfg.RetryWindow = time.Hour
			e := start(b, cfg)
			url := ""
			if hook {
				url = "http://127.0.0.1:9/dead" // refused connection: retried in the background
			}
			b.ResetTimer()
			for range b.N {
				e.finish("tenant-a", url, "completed")
			}
		})
	}
}

// BenchmarkDelivery is the delivery rate of one gateway to a local
// endpoint that answers at once: events queued, then all delivered.
func BenchmarkDelivery(b *testing.B) {
	cfg := testConfig(b)
	cfg.TenantConcurrency = cfg.Concurrency
	var mu sync.Mutex
	got := 0
	done := make(chan struct{})
	rcv := newReceiver(b, secretA, func(int) int {
		mu.Lock()
		defer mu.Unlock()
		if got++; got == b.N {
			close(done)
		}
		return http.StatusOK
	})
	e := start(b, cfg)
	e.d.Stop() // queue first, then measure the deliveries alone
	for range b.N {
		e.finish("tenant-a", rcv.url(), "completed")
	}
	b.ResetTimer()
	d := startOn(e.t, cfg, e.in)
	<-done
	b.StopTimer()
	d.drained()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}
