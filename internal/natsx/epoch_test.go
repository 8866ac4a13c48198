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
	// Do does not make again an attempt its timeout ended.
	calls = 0
	start := time.Now()
	if err := e.Do(context.Background(), 20*time.Millisecond, 3, func(ctx context.Context) error { calls++; <-ctx.Done(); return ctx.Err() }); !errors.Is(err, context.DeadlineExceeded) || calls != 1 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
	// DoAgain does (the request went to a server that never answered), up
	// to the attempts; then its error.
	calls = 0
	err = e.DoAgain(context.Background(), 20*time.Millisecond, 3, func(ctx context.Context) error {
		if calls++; calls == 1 {
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	})
	if err != nil || calls != 2 {
		t.Fatalf("err %v after %d calls, want success on the second after a timeout", err, calls)
	}
	calls = 0
	err = e.DoAgain(context.Background(), 20*time.Millisecond, 3, func(ctx context.Context) error { calls++; <-ctx.Done(); return ctx.Err() })
	if !errors.Is(err, context.DeadlineExceeded) || calls != 3 || time.Since(start) > 2*time.Second {
		t.Fatalf("err %v after %d calls, want the deadline after 3", err, calls)
	}
	// The caller's own end is not retried.
	calls = 0
	ctx, cancelCtx := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancelCtx()
	err = e.DoAgain(ctx, time.Second, 3, func(ctx context.Context) error { calls++; <-ctx.Done(); return ctx.Err() })
	if err == nil || calls != 1 {
		t.Fatalf("err %v after %d calls, want the caller's deadline after 1", err, calls)
	}
}
