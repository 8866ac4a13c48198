package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"batchinfer/api"
	"batchinfer/client"

	"github.com/spf13/cobra"
)

func (a *app) watchCmd() *cobra.Command {
	var results bool
	cmd := &cobra.Command{
		Use:   "watch JOB",
		Short: "Follow a job to its end (exit code 3 unless every item succeeded)",
		Long: "watch follows a job's progress over the WebSocket until it ends, resuming after a dropped connection\n" +
			"or a gateway restart. With --results it prints every result as an NDJSON line on stdout as it arrives.",
		Args: args(1, "JOB"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			var st *api.JobStatus
			var err error
			if results {
				st, err = a.watchResults(cmd.Context(), argv[0])
			} else {
				st, err = a.follow(cmd.Context(), argv[0])
			}
			if err != nil {
				return err
			}
			if !results {
				if err := a.result(st, func(w io.Writer) { printStatus(w, st) }); err != nil {
					return err
				}
			}
			return outcome(st)
		},
	}
	cmd.Flags().BoolVar(&results, "results", false, "print each result (NDJSON) as it arrives")
	return cmd
}

// watchResults prints every result of a job as NDJSON until it ends.
func (a *app) watchResults(ctx context.Context, id string) (*api.JobStatus, error) {
	enc := json.NewEncoder(a.io.out)
	for ev, err := range a.c.Follow(ctx, id, client.FollowOptions{}) {
		if err != nil {
			return nil, err
		}
		switch ev.Type {
		case client.EventResults:
			for _, it := range ev.Results.Items {
				if err := enc.Encode(it); err != nil {
					return nil, err
				}
			}
		case client.EventReconnect:
			a.note("job %s: connection lost (%v): following again after seq %d", id, ev.Err, ev.Seq)
		case client.EventEnd:
			return ev.Status, nil
		}
	}
	return nil, errNoEnd
}

func (a *app) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status JOB",
		Short: "Print a job's status",
		Args:  args(1, "JOB"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			j, err := a.c.Job(cmd.Context(), argv[0])
			if err != nil {
				return err
			}
			return a.result(j, func(w io.Writer) { printStatus(w, &j.JobStatus) })
		},
	}
}

// printStatus writes a job's status as lines of "field: value".
func printStatus(w io.Writer, s *api.JobStatus) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "id:\t%s\n", s.ID)
	if s.Name != "" {
		fmt.Fprintf(tw, "name:\t%s\n", s.Name)
	}
	fmt.Fprintf(tw, "model:\t%s:%s\n", s.Model, s.Version)
	fmt.Fprintf(tw, "state:\t%s\n", s.State)
	fmt.Fprintf(tw, "items:\t%d total, %d done, %d failed, %d skipped\n", s.Total, s.Done, s.Failed, s.Skipped)
	fmt.Fprintf(tw, "rate:\t%.0f items/s\n", s.ItemsPerSec)
	if s.ETAMS != nil {
		fmt.Fprintf(tw, "eta:\t%s\n", (time.Duration(*s.ETAMS) * time.Millisecond).Round(time.Second))
	}
	if s.Error != "" {
		fmt.Fprintf(tw, "error:\t%s\n", s.Error)
	}
	fmt.Fprintf(tw, "created:\t%s\n", s.CreatedAt.Local().Format(time.DateTime))
	if s.FinishedAt != nil {
		fmt.Fprintf(tw, "finished:\t%s\n", s.FinishedAt.Local().Format(time.DateTime))
	}
	_ = tw.Flush()
}

func (a *app) resultsCmd() *cobra.Command {
	var (
		out, format string
		errs, wait  bool
		t           transfer
	)
	cmd := &cobra.Command{
		Use:   "results JOB [-o OUT]",
		Short: "Download a finished job's output file (or its errors file)",
		Long: "results downloads a finished job's output file (every item) or with --errors its errors file (the\n" +
			"failed items with their input line) to OUT, resuming after a drop or from an earlier run's OUT.part.\n" +
			"With --wait it first follows the job to its end.",
		Args: args(1, "JOB"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			id, f := argv[0], client.FileOutput
			if errs {
				f = client.FileErrors
			}
			if out == "" {
				out = id + "." + string(f) + "." + fileFormat("", format)
			}
			if wait {
				if _, err := a.follow(cmd.Context(), id); err != nil {
					return err
				}
			}
			d, err := a.download(cmd.Context(), id, f, out, fileFormat(out, format), t)
			if err != nil {
				return err
			}
			return a.result(d, func(w io.Writer) { fmt.Fprintf(w, "%s (%d bytes)\n", d.Path, d.Size) })
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write (default JOB.output.ndjson)")
	cmd.Flags().StringVar(&format, "format", "", "csv or ndjson (default: from OUT's extension, else ndjson)")
	cmd.Flags().BoolVar(&errs, "errors", false, "the errors file instead of the output file")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the job's end first")
	t.register(cmd.Flags(), false)
	return cmd
}

func (a *app) cancelCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cancel JOB",
		Short: "Cancel a job: items not run are skipped",
		Args:  args(1, "JOB"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			st, err := a.c.Cancel(cmd.Context(), argv[0])
			if err != nil {
				return err
			}
			return a.result(st, func(w io.Writer) { printStatus(w, st) })
		},
	}
}

func (a *app) jobsCmd() *cobra.Command {
	var (
		opts client.ListOptions
		all  bool
	)
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List the tenant's jobs, the most recent first",
		Args:  args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			list, err := a.listJobs(cmd.Context(), opts, all)
			if err != nil {
				return err
			}
			return a.result(list, func(w io.Writer) { printJobs(w, list) })
		},
	}
	cmd.Flags().IntVar(&opts.Limit, "limit", 0, "jobs per page (default the gateway's, 50)")
	cmd.Flags().StringVar(&opts.Cursor, "cursor", "", "next_cursor of the previous page")
	cmd.Flags().StringVar(&opts.Model, "model", "", "only this model (name or name:version)")
	cmd.Flags().StringSliceVar(&opts.States, "state", nil, "only these states (queued, running, completed, cancelled, failed, expired, deadline_exceeded)")
	cmd.Flags().BoolVar(&all, "all", false, "every page")
	return cmd
}

// listJobs is one page of jobs, or every page.
func (a *app) listJobs(ctx context.Context, opts client.ListOptions, all bool) (*api.JobList, error) {
	if !all {
		return a.c.Jobs(ctx, opts)
	}
	list := &api.JobList{Jobs: []api.JobStatus{}}
	for j, err := range a.c.AllJobs(ctx, opts) {
		if err != nil {
			return nil, err
		}
		list.Jobs = append(list.Jobs, j)
	}
	return list, nil
}

func printJobs(w io.Writer, l *api.JobList) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tMODEL\tSTATE\tDONE\tFAILED\tSKIPPED\tTOTAL\tCREATED")
	for _, j := range l.Jobs {
		fmt.Fprintf(tw, "%s\t%s\t%s:%s\t%s\t%d\t%d\t%d\t%d\t%s\n", j.ID, j.Name, j.Model, j.Version, j.State,
			j.Done, j.Failed, j.Skipped, j.Total, j.CreatedAt.Local().Format(time.DateTime))
	}
	_ = tw.Flush()
	if l.NextCursor != "" {
		fmt.Fprintf(w, "more: --cursor %s\n", l.NextCursor)
	}
}
