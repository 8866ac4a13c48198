// Package runx holds the little every command's main shares: waiting for a
// termination signal or a service's failure, and the container
// healthcheck subcommand.
package runx

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"syscall"
	"time"
)

// Wait blocks until SIGINT or SIGTERM (returned), or until one of the
// services' error channels reports (its error returned), or ctx ends.
func Wait(ctx context.Context, errs ...<-chan error) (os.Signal, error) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(ch)
	cases := []reflect.SelectCase{
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)},
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
	}
	for _, e := range errs {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(e)})
	}
	i, v, _ := reflect.Select(cases)
	switch i {
	case 0:
		return v.Interface().(os.Signal), nil
	case 1:
		return nil, ctx.Err()
	}
	err, _ := v.Interface().(error)
	return nil, err
}

// HealthURL is the URL of path on the server listening on addr (":8000",
// "0.0.0.0:8001", "[::]:80" or a host), reached through the loopback
// interface when it listens on every interface.
func HealthURL(addr, path string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("health address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + path, nil
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

// OnHangup calls f at every SIGHUP until ctx ends (the conventional
// "reload your configuration" signal).
func OnHangup(ctx context.Context, f func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	go func() {
		defer signal.Stop(ch)
		for {
			select {
			case <-ch:
				f()
			case <-ctx.Done():
				return
			}
		}
	}()
}
