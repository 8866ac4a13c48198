package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"batchinfer/model"
	"batchinfer/model/loader"
)

// Checker checks an unpacked model version before the registry accepts
// it: it loads the version in dir with every runtime whose file it holds,
// matches its signature to its metadata, warms it up and closes it again
// (see loader.Check). An error matching ErrRefused is the version's fault
// and says why; loader.ErrNoRuntime says this worker cannot check it; any
// other error is the worker's.
type Checker func(ctx context.Context, dir string) (*loader.Checked, error)

// ErrRefused is matched by a Checker's error that is the version's fault.
var ErrRefused = errors.New("model refused")

// InProcessChecker checks in the worker's own process. A model file that
// crashes its runtime (a corrupt TFLite flatbuffer can) crashes the
// worker: use it where the models pushed are trusted, or in tests.
func InProcessChecker(runtimes []loader.Runtime, warmup model.Warmup) Checker {
	return func(_ context.Context, dir string) (*loader.Checked, error) {
		c, err := loader.Check(dir, runtimes, warmup)
		if err != nil && !errors.Is(err, loader.ErrNoRuntime) {
			return nil, fmt.Errorf("%w: %w", ErrRefused, err)
		}
		return c, err
	}
}

// checkOutcome is what RunCheck writes and SubprocessChecker reads.
type checkOutcome struct {
	Meta      *model.Metadata `json:"meta,omitempty"`
	Runtimes  []string        `json:"runtimes,omitempty"`
	Unchecked []string        `json:"unchecked,omitempty"`
	Error     string          `json:"error,omitempty"`
	NoRuntime bool            `json:"no_runtime,omitempty"`
}

// RunCheck is the check a SubprocessChecker's command runs: it checks the
// version in dir (loader.Check) and writes the outcome to w as JSON. It
// fails only when it cannot write.
func RunCheck(w io.Writer, dir string, runtimes []loader.Runtime, warmup model.Warmup) error {
	var out checkOutcome
	c, err := loader.Check(dir, runtimes, warmup)
	if err != nil {
		out.Error, out.NoRuntime = err.Error(), errors.Is(err, loader.ErrNoRuntime)
	} else {
		out.Meta, out.Runtimes, out.Unchecked = c.Meta, c.Runtimes, c.Unchecked
	}
	return json.NewEncoder(w).Encode(out)
}

// maxCheckOutput bounds what a check command may write.
const maxCheckOutput = 4 << 20

// SubprocessChecker checks in a process of its own: it runs argv with the
// version's directory as its last argument (and env added to the
// worker's environment), a command that calls RunCheck (the worker
// commands' `check-model` subcommand). A model file that crashes its
// runtime ends that process, not the worker, and is refused.
func SubprocessChecker(argv, env []string) Checker {
	return func(ctx context.Context, dir string) (*loader.Checked, error) {
		cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], dir)...)
		cmd.Env = append(cmd.Environ(), env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &limitedBuffer{b: &stdout, n: maxCheckOutput}, &limitedBuffer{b: &stderr, n: 64 << 10}
		err := cmd.Run()
		var out checkOutcome
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("check %s: %w", dir, ctx.Err())
		case err != nil:
			return nil, fmt.Errorf("%w: loading it crashed the model runtime (%v%s)", ErrRefused, err, crashLine(stderr.String()))
		case json.Unmarshal(stdout.Bytes(), &out) != nil:
			return nil, fmt.Errorf("check %s: undecodable outcome %q", dir, stdout.String())
		case out.NoRuntime:
			return nil, fmt.Errorf("%w: %s", loader.ErrNoRuntime, out.Error)
		case out.Error != "":
			return nil, fmt.Errorf("%w: %s", ErrRefused, out.Error)
		}
		return &loader.Checked{Meta: out.Meta, Runtimes: out.Runtimes, Unchecked: out.Unchecked}, nil
	}
}

// crashLine is the line of a crashed Go process's output that says what
// ended it (after ": "), or "".
func crashLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		for _, p := range []string{"SIGSEGV", "SIGBUS", "SIGABRT", "SIGILL", "SIGFPE", "fatal error:", "panic:"} {
			if strings.HasPrefix(l, p) {
				return ": " + strings.TrimSpace(l)
			}
		}
	}
	return ""
}

// limitedBuffer keeps the first n bytes written to it and drops the rest.
type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
