package webhook

import (
	"math/rand/v2"
	"time"
)

// backoff is the wait after the n-th failed attempt (n ≥ 1): lo doubled
// n-1 times, up to hi, with ±20 % jitter so that the retries of many
// events failing together spread out; never below lo nor above hi.
func backoff(n int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	return min(max(d, lo), hi)
}

// retryable says whether an attempt that got status (0: no response) may
// succeed later: anything but a refusal by the guard and 410 Gone.
func retryable(status int, err error) bool {
	if err != nil && refused(err) {
		return false
	}
	return status != 410
}
