// Command ha is the client side of scripts/docker-ha-test.sh: it submits a
// batch job through the gateway and follows it over the WebSocket while the
// script kills and restarts NATS servers, then checks what it received.
//
//	ha follow -url http://127.0.0.1:8080 -body digits.ndjson -events events.ndjson -job job.txt
//	ha analyze -events events.ndjson -faults faults.txt -max-stall 5s
//
// follow writes the job id to -job as soon as the gateway accepts it, one
// line per WebSocket event to -events (results chunks with their arrival
// time, reconnects, the end), and on the job's end prints a JSON summary and
// fails unless every item index arrived exactly once, the sequence numbers
// rose with no gap and the job completed. analyze reads the script's fault
// times (lines "UNIX_MS NAME") and, for each, how long results stopped
// coming after it; it fails when a stall is longer than -max-stall.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: ha follow|analyze [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "follow":
		err = follow(os.Args[2:])
	case "analyze":
		err = analyze(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ha:", err)
		os.Exit(1)
	}
}
