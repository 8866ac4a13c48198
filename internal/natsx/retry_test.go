package natsx

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRetry(t *testing.T) {
	calls := 0
	if err := Retry(context.Background(), func(context.Context) error {
		if calls++; calls < 3 {
			return errors.New("transient")
		}
		return nil
	}); err != nil || calls != 3 {
		t.Fatalf("err %v after %d calls, want nil after 3", err, calls)
	}
	calls = 0
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Retry(ctx, func(context.Context) error { calls++; return errors.New("down") }); err == nil || calls != 1 {
		t.Fatalf("err %v after %d calls with a cancelled context, want the error after 1", err, calls)
	}
}

// An attempt that is never answered ends at its own deadline and is made
// again, rather than taking the caller's whole context.
func TestRetryAsksAgainAfterAnUnansweredAttempt(t *testing.T) {
	calls := 0
	start := time.Now()
	err := Retry(context.Background(), func(ctx context.Context) error {
		if calls++; calls == 1 {
			<-ctx.Done() // the request nobody answers
			return ctx.Err()
		}
		return nil
	})
	if err != nil || calls != 2 {
		t.Fatalf("err %v after %d calls, want nil after 2", err, calls)
	}
	if took := time.Since(start); took < declareAttemptTimeout || took > declareAttemptTimeout+5*time.Second {
		t.Fatalf("took %s, want about one attempt's timeout (%s)", took, declareAttemptTimeout)
	}
}
