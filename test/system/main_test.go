package system

import (
	"fmt"
	"os"
	"testing"

	"batchinfer/worker"
)

// checkEnv, in a test binary's environment, makes it a worker's model
// check instead (as `worker check-model DIR` is for the commands): "full"
// with TensorFlow and LiteRT, "lite" with LiteRT only.
const checkEnv = "BATCHINFER_TEST_CHECK_MODEL"

func TestMain(m *testing.M) {
	if kind := os.Getenv(checkEnv); kind != "" {
		dir := os.Args[len(os.Args)-1]
		if err := worker.RunCheck(os.Stdout, dir, Runtimes(kind == "full"), quickWarmup); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// subprocessCheck checks pushed versions in a process of their own, as
// the worker commands do (a model that crashes its runtime crashes that
// process): this test binary, run again as a check.
func subprocessCheck(tf bool) worker.Checker {
	kind := "lite"
	if tf {
		kind = "full"
	}
	return worker.SubprocessChecker([]string{os.Args[0]}, []string{checkEnv + "=" + kind})
}
