package natsx

import (
	"context"
	"time"
)

// Declaration retries: in a cluster, concurrent declarations of the same
// stream, bucket or consumer by several gateways and workers starting at
// once, or a meta leader still being elected, fail transiently, and a
// request the cluster never answers would otherwise hold the whole start
// until its deadline (seen in the HA compose project's startup on a busy
// machine: three declarations hung 30 s, the worker and gateway exited).
const (
	declareAttempts = 8
	declareBackoff  = 200 * time.Millisecond
	declareMaxPause = 2 * time.Second
	// declareAttemptTimeout bounds one attempt, so that an unanswered
	// request is asked again rather than waited for.
	declareAttemptTimeout = 5 * time.Second
)

// Retry runs f until it succeeds, declareAttempts times at most, with a
// growing pause, while ctx lasts; each attempt gets a context of its own
// that ends after declareAttemptTimeout. It returns f's last error. f must
// be idempotent (a declaration is).
func Retry(ctx context.Context, f func(ctx context.Context) error) error {
	var err error
	delay := declareBackoff
	for i := range declareAttempts {
		actx, cancel := context.WithTimeout(ctx, declareAttemptTimeout)
		err = f(actx)
		cancel()
		if err == nil || i == declareAttempts-1 {
			return err
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return err
		}
		delay = min(2*delay, declareMaxPause)
	}
	return err
}
