// Command batchinfer is the batchinfer system's command line (package
// cmd/internal/cli, on package client): run a dataset end to end (upload,
// job, output file), submit, watch, cancel and list jobs, download their
// files, list and push models, read and redrive dead letters, make API
// keys.
//
//	batchinfer run rows.csv -m breast_cancer -o predictions.csv
//	batchinfer jobs --state running
//	batchinfer watch j01...
//
// The gateway's URL and key come from --url and --api-key, else the
// environment (BATCHINFER_URL, BATCHINFER_API_KEY), else the config file
// (~/.config/batchinfer/config.yaml, or --config / BATCHINFER_CONFIG).
// `batchinfer help` lists the commands and the exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"batchinfer/cmd/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, version, os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
