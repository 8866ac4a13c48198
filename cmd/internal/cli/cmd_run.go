package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"batchinfer/api"
	"batchinfer/client"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// jobFlags are the flags that shape a job.
type jobFlags struct {
	opts   client.JobOptions
	format string // the input's format, when its extension does not tell
}

func (j *jobFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&j.opts.Model, "model", "m", "", "model (required)")
	fs.StringVar(&j.opts.Version, "version", "", "model version (default: the highest served)")
	fs.StringVar(&j.opts.Name, "name", "", "the job's name (default: the file's)")
	fs.StringVar(&j.opts.Priority, "priority", "", "high, normal or low")
	fs.StringVar(&j.opts.Deadline, "deadline", "", "skip items not started by then: RFC 3339 time or duration (30m)")
	fs.StringVar(&j.opts.Webhook, "webhook", "", "URL the job's end is posted to (none: no webhook)")
	fs.StringVar(&j.opts.IDColumn, "id-column", "", "CSV column that identifies the rows in the output")
	fs.IntVar(&j.opts.MaxInvalid, "max-invalid", 0, "invalid rows the job may skip (failing them) instead of being refused")
	fs.StringVar(&j.format, "input-format", "", "ndjson, csv, npy or octet-stream (default: from the file's extension)")
}

func (t *transfer) register(fs *pflag.FlagSet, upload bool) {
	if upload {
		fs.Int64Var(&t.chunkSize, "chunk-size", client.DefaultChunkSize, "bytes per upload request")
	}
	fs.Int64Var(&t.limitRate, "limit-rate", 0, "bytes per second at most (0: no limit)")
}

func (a *app) runCmd() *cobra.Command {
	var (
		jf         jobFlags
		t          transfer
		out, errs  string
		fileFormat string
	)
	cmd := &cobra.Command{
		Use:   "run FILE -m MODEL [-o OUT]",
		Short: "Upload a dataset, run a job on it, download its output (and errors) file",
		Long: "run uploads FILE (NDJSON, CSV, .npy or raw float32) through the resumable uploads, creates a job on it,\n" +
			"follows the job to its end, then downloads its output file to OUT (CSV when OUT ends in .csv), and its\n" +
			"errors file beside it when items failed. The upload, the follow and the download go on after the\n" +
			"gateway restarts; running the same command again goes on with an unfinished upload.\n" +
			"Exit code 3 when not every item succeeded.",
		Args: args(1, "FILE"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if jf.opts.Model == "" {
				return usagef("--model is required")
			}
			if out == "" {
				out = strings.TrimSuffix(argv[0], filepath.Ext(argv[0])) + ".predictions.csv"
			}
			return a.runDataset(cmd.Context(), argv[0], jf, t, out, errs, fileFormat)
		},
	}
	jf.register(cmd.Flags())
	t.register(cmd.Flags(), true)
	cmd.Flags().StringVarP(&out, "output", "o", "", "output file (default: FILE's name with .predictions.csv)")
	cmd.Flags().StringVar(&errs, "errors", "", "errors file (default: OUT's name with .errors before its extension)")
	cmd.Flags().StringVar(&fileFormat, "output-format", "", "csv or ndjson (default: from OUT's extension)")
	return cmd
}

// runReport is what run prints with --json.
type runReport struct {
	Upload *client.Upload   `json:"upload"`
	Job    *api.JobStatus   `json:"job"`
	Output *client.Download `json:"output"`
	Errors *client.Download `json:"errors,omitempty"`
}

func (a *app) runDataset(ctx context.Context, file string, jf jobFlags, t transfer, out, errs, format string) error {
	up, err := a.upload(ctx, file, t)
	if err != nil {
		return err
	}
	if jf.opts.Name == "" {
		jf.opts.Name = filepath.Base(file)
	}
	sub, err := a.c.SubmitUpload(ctx, up.ID, jf.format, jf.opts)
	if err != nil {
		return err
	}
	if sub.Job.Ingesting {
		a.note("job %s %s (up to %d items, being read)", sub.Job.ID, sub.Job.State, sub.Job.Total)
	} else {
		a.note("job %s %s (%d items)", sub.Job.ID, sub.Job.State, sub.Job.Total)
	}
	st, err := a.follow(ctx, sub.Job.ID)
	if err != nil {
		return err
	}
	rep := runReport{Upload: up, Job: st}
	format = fileFormat(out, format)
	if rep.Output, err = a.download(ctx, st.ID, client.FileOutput, out, format, t); err != nil {
		return err
	}
	if st.Failed > 0 {
		if errs == "" {
			errs = errorsPath(out)
		}
		if rep.Errors, err = a.download(ctx, st.ID, client.FileErrors, errs, format, t); err != nil {
			return err
		}
	}
	if err := a.result(rep, func(w io.Writer) { printRun(w, rep) }); err != nil {
		return err
	}
	return outcome(st)
}

func printRun(w io.Writer, r runReport) {
	s := r.Job
	fmt.Fprintf(w, "job %s %s: %d of %d items succeeded, %d failed, %d skipped (%.0f items/s)\n",
		s.ID, s.State, s.Done, s.Total, s.Failed, s.Skipped, s.ItemsPerSec)
	fmt.Fprintf(w, "output: %s (%d bytes)\n", r.Output.Path, r.Output.Size)
	if r.Errors != nil {
		fmt.Fprintf(w, "errors: %s (%d bytes)\n", r.Errors.Path, r.Errors.Size)
	}
}

// note tells the user something on stderr (not with --json).
func (a *app) note(format string, args ...any) {
	if !a.g.json {
		fmt.Fprintf(a.io.err, format+"\n", args...)
	}
}

func (a *app) submitCmd() *cobra.Command {
	var (
		jf     jobFlags
		t      transfer
		upload bool
		wait   bool
	)
	cmd := &cobra.Command{
		Use:   "submit FILE -m MODEL",
		Short: "Queue a job of a file and print its id (the job with --json)",
		Long: "submit sends FILE (NDJSON, CSV, .npy or raw float32, by its extension) in one request, or with\n" +
			"--upload through the resumable uploads first (files over 64 MB always are), and prints the job.",
		Args: args(1, "FILE"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if jf.opts.Model == "" {
				return usagef("--model is required")
			}
			return a.submit(cmd.Context(), argv[0], jf, t, upload, wait)
		},
	}
	jf.register(cmd.Flags())
	t.register(cmd.Flags(), true)
	cmd.Flags().BoolVar(&upload, "upload", false, "upload the file first (resumable), then create the job from it")
	cmd.Flags().StringVar(&jf.opts.IdempotencyKey, "idempotency-key", "", "the same key returns the job the first submission created")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the job to its end (exit code 3 unless every item succeeded)")
	return cmd
}

// bigFile is the size from which submit uploads a file first.
const bigFile = 64 << 20

func (a *app) submit(ctx context.Context, file string, jf jobFlags, t transfer, upload, wait bool) error {
	fi, err := os.Stat(file)
	if err != nil {
		return err
	}
	var sub *api.SubmitResponse
	if upload || fi.Size() > bigFile {
		up, err := a.upload(ctx, file, t)
		if err != nil {
			return err
		}
		if jf.opts.Name == "" {
			jf.opts.Name = filepath.Base(file)
		}
		sub, err = a.c.SubmitUpload(ctx, up.ID, jf.format, jf.opts)
		if err != nil {
			return err
		}
	} else if sub, err = a.c.SubmitFile(ctx, file, jf.opts); err != nil {
		return err
	}
	if !wait {
		return a.result(sub, func(w io.Writer) { fmt.Fprintln(w, sub.Job.ID) })
	}
	st, err := a.follow(ctx, sub.Job.ID)
	if err != nil {
		return err
	}
	if err := a.result(st, func(w io.Writer) { printStatus(w, st) }); err != nil {
		return err
	}
	return outcome(st)
}
