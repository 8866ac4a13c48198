package natsx

import (
	"context"
	"errors"
	"testing"
)

func TestRetry(t *testing.T) {
	calls := 0
	if err := Retry(context.Background(), func() error {
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
	if err := Retry(ctx, func() error { calls++; return errors.New("down") }); err == nil || calls != 1 {
		t.Fatalf("err %v after %d calls with a cancelled context, want the error after 1", err, calls)
	}
}
