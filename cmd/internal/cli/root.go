package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"batchinfer/client"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Streams are the command's standard streams.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// globals are the flags of every command.
type globals struct {
	url, key, config string
	json, noProgress bool
	retryFor         time.Duration
	retrySet         bool
}

// app is one invocation: its streams, flags and client.
type app struct {
	io      streams
	g       globals
	c       *client.Client
	tty     bool // stderr is a terminal: progress bars
	rate    time.Duration
	version string
}

// streams are the command's standard streams, as the app uses them.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// Run runs the batchinfer command line args (without the program's name)
// and returns its exit code; version is the program's.
func Run(ctx context.Context, version string, args []string, std Streams) int {
	io := streams{in: std.In, out: std.Out, err: std.Err}
	a := &app{io: io, rate: 200 * time.Millisecond, version: version}
	if f, ok := io.err.(*os.File); ok {
		a.tty = term.IsTerminal(int(f.Fd()))
	}
	root := a.root()
	markRuns(root)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var re *runError
	if err != nil && !errors.As(err, &re) {
		err = &usageError{err: err} // cobra's: an unknown command or flag
	}
	if err != nil {
		a.fail(err)
	}
	return exitCode(err)
}

// runError is an error of a command's work (not of the command line).
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// markRuns wraps the errors of every command's run and setup in runError,
// to tell them from cobra's parsing errors.
func markRuns(c *cobra.Command) {
	wrap := func(f func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
		if f == nil {
			return nil
		}
		return func(cmd *cobra.Command, argv []string) error {
			if err := f(cmd, argv); err != nil {
				return &runError{err: err}
			}
			return nil
		}
	}
	c.RunE, c.PersistentPreRunE = wrap(c.RunE), wrap(c.PersistentPreRunE)
	for _, sub := range c.Commands() {
		markRuns(sub)
	}
}

// fail reports err on stderr (as JSON with --json).
func (a *app) fail(err error) {
	if a.g.json {
		_ = json.NewEncoder(a.io.err).Encode(map[string]any{"error": err.Error(), "exit_code": exitCode(err)})
		return
	}
	fmt.Fprintln(a.io.err, "batchinfer:", err)
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "batchinfer",
		Short: "Batch and synchronous inference on a batchinfer gateway",
		Long: "batchinfer runs datasets through the models of a batchinfer gateway: upload, job, output file.\n\n" +
			settingsHelp + "\n\n" + exitCodesHelp,
		Version:           a.version,
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: a.setup,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.g.url, "url", "", "gateway base URL (env "+envURL+")")
	pf.StringVar(&a.g.key, "api-key", "", "API key or JWT (env "+envKey+")")
	pf.StringVar(&a.g.config, "config", "", "config file (env "+envConfig+"; default ~/.config/batchinfer/config.yaml)")
	pf.BoolVar(&a.g.json, "json", false, "print JSON for scripts (and progress as JSON lines on stderr)")
	pf.BoolVar(&a.g.noProgress, "no-progress", false, "no progress bars or lines")
	pf.DurationVar(&a.g.retryFor, "retry-for", 2*time.Minute, "how long to keep retrying a gateway that is down or busy (uploads, follows and downloads resume); 0: never")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err: err} })
	root.AddCommand(a.runCmd(), a.submitCmd(), a.watchCmd(), a.statusCmd(), a.resultsCmd(), a.cancelCmd(),
		a.jobsCmd(), a.predictCmd(), a.modelsCmd(), a.dlqCmd(), a.keysCmd())
	return root
}

// setup resolves the settings and makes the client.
func (a *app) setup(cmd *cobra.Command, _ []string) error {
	for c := cmd; c != nil; c = c.Parent() {
		if c.Name() == "completion" || c.Annotations["offline"] == "true" {
			return nil // needs no gateway
		}
	}
	a.g.retrySet = cmd.Flags().Changed("retry-for")
	cfg, err := loadConfig(a.g.config)
	if err != nil {
		return err
	}
	s, err := resolve(&a.g, cfg)
	if err != nil {
		return err
	}
	a.c = &client.Client{BaseURL: s.url, Key: s.key, RetryFor: s.retryFor, UserAgent: "batchinfer-cli/" + a.version}
	return nil
}

// args checks a command's positional arguments, as a usage error.
func args(n int, names string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("want %s, got %d argument(s)", names, len(args))
		}
		return nil
	}
}

// minArgs checks there are at least n positional arguments.
func minArgs(n int, names string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("want %s", names)
		}
		return nil
	}
}

// printJSON writes v as indented JSON on stdout.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.io.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// result prints v as JSON with --json, else text().
func (a *app) result(v any, text func(w io.Writer)) error {
	if a.g.json {
		return a.printJSON(v)
	}
	text(a.io.out)
	return nil
}

var errNoEnd = errors.New("the follow ended without the job's end")
