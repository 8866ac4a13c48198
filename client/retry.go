package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"batchinfer/api"
)

// Backoff between retries: from firstBackoff, doubling to maxBackoff, with
// jitter; a Retry-After hint is waited instead (within the window).
const (
	firstBackoff = 100 * time.Millisecond
	maxBackoff   = 2 * time.Second
)

// retrying runs f until it succeeds, fails for good, or the client's retry
// window (from the first failure) has passed; may says whether f may be
// repeated at all. It returns f's last error.
func (c *Client) retrying(ctx context.Context, may bool, f func() error) error {
	var until time.Time
	wait := firstBackoff
	for {
		err := f()
		if err == nil {
			return nil
		}
		if !may || !Temporary(err) || ctx.Err() != nil {
			return unwrapPermanent(err)
		}
		if until.IsZero() {
			until = time.Now().Add(c.retryFor())
		}
		d := pause(err, wait)
		if time.Now().Add(d).After(until) {
			return err
		}
		if sleep(ctx, d) != nil {
			return err
		}
		wait = min(2*wait, maxBackoff)
	}
}

// pause is how long to wait before trying again after err: its
// Retry-After, else the backoff with ±25 % jitter.
func pause(err error, backoff time.Duration) time.Duration {
	var e *api.Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter
	}
	return backoff*3/4 + rand.N(backoff/2+1)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
