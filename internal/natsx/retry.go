package natsx

import (
	"context"
	"time"
)

// Declaration retries: in a cluster, concurrent declarations of the same
// stream, bucket or consumer by several gateways and workers starting at
// once, or a meta leader still being elected, fail transiently.
const (
	declareAttempts = 5
	declareBackoff  = 200 * time.Millisecond
)

// Retry runs f until it succeeds, declareAttempts times at most, with a
// growing pause, while ctx lasts; it returns f's last error. f must be
// idempotent (a declaration is).
func Retry(ctx context.Context, f func() error) error {
	var err error
	delay := declareBackoff
	for i := range declareAttempts {
		if err = f(); err == nil || i == declareAttempts-1 {
			return err
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return err
		}
		delay *= 2
	}
	return err
}
