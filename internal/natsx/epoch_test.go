package natsx

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestEpochCutsAndRetries(t *testing.T) {
	e := NewEpoch()
	calls := 0
	err := e.Do(context.Background(), 5*time.Second, 3, func(ctx context.Context) error {
		calls++
		if calls == 1 {
			e.Next() // a reconnect while the request is in flight
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	})
	if err != nil || calls != 2 {
		t.Fatalf("err %v after %d calls, want success on the second", err, calls)
	}
	// A plain failure is not retried.
	calls = 0
	boom := errors.New("boom")
	if err := e.Do(context.Background(), time.Second, 3, func(context.Context) error { calls++; return boom }); err != boom || calls != 1 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
	// A timeout ends it.
	start := time.Now()
	if err := e.Do(context.Background(), 20*time.Millisecond, 3, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("err %v", err)
	}
}
