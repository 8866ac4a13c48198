// Command backlog is the NATS side of the Kubernetes test
// (scripts/k8s-test.sh): a real nats-server with JetStream, in process, with
// the system's streams (declared by the same code as the gateway's and the
// workers') and the workers' consumers: the backlog consumer of each model
// on the input stream JOBIN, whose backlog the test raises and drains while
// KEDA's nats-jetstream scaler reads it from the monitoring endpoint (/jsz),
// and the batch queue on INFER, where tickets wait that must not count.
//
// It prints "monitor HOST:PORT" once ready, then answers one line per command
// read from standard input, and stops at end of input:
//
//	publish MODEL N   a job of N chunks for MODEL's version 1 (its input, a few tickets)   -> ok
//	drain MODEL       every chunk done (inputs deleted, tickets acknowledged)              -> ok N
//	lag MODEL         the backlog consumer's pending + unacknowledged (KEDA's lag)         -> N
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "backlog:", err)
		os.Exit(1)
	}
}

func run(args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("backlog", flag.ContinueOnError)
	dir := fs.String("store", "", "JetStream store directory (default: a new temporary one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "backlog-")
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	ctx := context.Background()
	b, err := Start(ctx, *dir)
	if err != nil {
		return err
	}
	defer b.Stop()
	if _, err := fmt.Fprintf(out, "monitor %s\n", b.MonitorAddr()); err != nil {
		return err
	}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		reply, err := b.Do(ctx, sc.Text())
		if err != nil {
			reply = "error " + err.Error()
		}
		if _, err := fmt.Fprintln(out, reply); err != nil {
			return err
		}
	}
	return sc.Err()
}
