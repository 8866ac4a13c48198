package client

import (
	"context"

	"golang.org/x/time/rate"
)

// pacer holds transfers to a rate in bytes per second (none when nil).
type pacer struct{ l *rate.Limiter }

// newPacer paces to bytesPerSec (0 or less: not at all).
func newPacer(bytesPerSec int64) *pacer {
	if bytesPerSec <= 0 {
		return nil
	}
	burst := int(max(min(bytesPerSec/8, 1<<20), 4<<10))
	return &pacer{l: rate.NewLimiter(rate.Limit(bytesPerSec), burst)}
}

// wait holds n bytes to the rate.
func (p *pacer) wait(ctx context.Context, n int) error {
	if p == nil {
		return nil
	}
	for n > 0 {
		k := min(n, p.l.Burst())
		if err := p.l.WaitN(ctx, k); err != nil {
			return err
		}
		n -= k
	}
	return nil
}
