package audit

import (
	"time"

	"batchinfer/gateway/peer"

	"github.com/prometheus/client_golang/prometheus"
)

// Blocked says whether the client is over its budget of failed
// authentications, and when it may try again; a blocked attempt is counted
// (and reported in the address's next line), not logged on its own.
func (l *Log) Blocked(i peer.Info) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.lookup(i, now, false)
	if e == nil {
		return false, 0
	}
	tokens := e.lim.TokensAt(now)
	if tokens >= 1 {
		return false, 0
	}
	e.suppressed++
	l.metrics.refused.Inc()
	wait := time.Duration((1 - tokens) / l.cfg.FailureRate * float64(time.Second))
	return true, max(wait, time.Millisecond)
}

// Failed records a failed authentication of the client: it takes one from
// the address's budget and is logged (with the count of attempts not
// logged since the last line) while the budget lasts.
func (l *Log) Failed(i peer.Info, method, path, reason string) {
	now := l.now()
	l.mu.Lock()
	e := l.lookup(i, now, true)
	ok := e.lim.AllowN(now, 1)
	suppressed := 0
	if ok {
		suppressed, e.suppressed = e.suppressed, 0
	} else {
		e.suppressed++
	}
	l.mu.Unlock()
	l.metrics.failures.Inc()
	if !ok {
		l.metrics.suppressed.Inc()
		return
	}
	ev := client(l.log.Warn(), i).Str("reason", reason)
	if method != "" {
		ev = ev.Str("method", method)
	}
	ev = ev.Str("path", l.Path(path))
	if suppressed > 0 {
		ev = ev.Int("suppressed", suppressed)
	}
	ev.Msg("authentication failed")
}

// lookup finds the client's entry, adding it when add (the caller holds
// mu). Past MaxAddresses, the failures of new addresses share the overflow
// entry, which samples their lines but blocks nobody: a flood from more
// addresses than tracked is never turned against clients that did not fail.
func (l *Log) lookup(i peer.Info, now time.Time, add bool) *entry {
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.sweep(now)
	}
	b := i.Bucket()
	if e := l.addrs[b]; e != nil {
		return e
	}
	if !add {
		return nil // never failed, or failed while the table was full: not blocked
	}
	if len(l.addrs) >= l.cfg.MaxAddresses {
		return l.overflow
	}
	e := l.newEntry()
	l.addrs[b] = e
	l.metrics.tracked.Set(float64(len(l.addrs)))
	return e
}

// sweep forgets the addresses whose budget is full again.
func (l *Log) sweep(now time.Time) {
	l.lastSweep = now
	for b, e := range l.addrs {
		if e.lim.TokensAt(now) >= float64(l.cfg.FailureBurst) {
			delete(l.addrs, b)
		}
	}
	l.metrics.tracked.Set(float64(len(l.addrs)))
}

// Tracked is the number of addresses with failures being counted.
func (l *Log) Tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.addrs)
}

type metrics struct {
	failures, refused, suppressed prometheus.Counter
	tracked                       prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_auth_failures_total", Help: "Failed authentications (invalid credentials, or none in time on a WebSocket).",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_auth_refused_total", Help: "Authentication attempts refused unchecked: their address was over its failure budget.",
		}),
		suppressed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_audit_lines_suppressed_total", Help: "Failed authentications over their address's budget, summed up in a later line instead of logged.",
		}),
		tracked: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_auth_failure_addresses", Help: "Client addresses whose failed authentications are being counted.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.failures, m.refused, m.suppressed, m.tracked)
	}
	return m
}
