// Package runx holds the little every command's main shares: waiting for a
// termination signal and the container healthcheck subcommand.
package runx

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// WaitForSignal blocks until SIGINT or SIGTERM, or until ctx ends.
func WaitForSignal(ctx context.Context) os.Signal {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(ch)
	select {
	case s := <-ch:
		return s
	case <-ctx.Done():
		return nil
	}
}

// Healthcheck GETs url and returns nil on a 2xx answer: the HEALTHCHECK of
// images without a shell runs it as a subcommand of the binary itself.
func Healthcheck(url string) error {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("healthcheck %s: %s", url, resp.Status)
	}
	return nil
}
