package cli

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"batchinfer/client"

	"github.com/spf13/cobra"
)

func (a *app) dlqCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "Dead letters: chunks that failed every delivery (list, show, redrive, delete)",
	}
	cmd.AddCommand(a.dlqListCmd(), a.dlqShowCmd(), a.dlqEachCmd("redrive", "Send dead letters' chunks to the workers again", a.redriveLetter),
		a.dlqEachCmd("delete", "Drop dead letters (their items stay failed)", a.deleteLetter))
	return cmd
}

func (a *app) dlqListCmd() *cobra.Command {
	var opts client.DeadLetterOptions
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List dead letters",
		Args:  args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := a.c.DeadLetters(cmd.Context(), opts)
			if err != nil {
				return err
			}
			return a.result(l, func(w io.Writer) { printLetters(w, l) })
		},
	}
	cmd.Flags().IntVar(&opts.Limit, "limit", 0, "letters per page")
	cmd.Flags().StringVar(&opts.Cursor, "cursor", "", "next_cursor of the previous page")
	cmd.Flags().StringVar(&opts.Job, "job", "", "only this job's")
	cmd.Flags().StringVar(&opts.Model, "model", "", "only this model's")
	return cmd
}

func printLetters(w io.Writer, l *client.DeadLetterList) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tJOB\tCHUNK\tITEMS\tMODEL\tDELIVERIES\tDEAD AT\tREASON")
	for _, d := range l.Letters {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d-%d\t%s:%s\t%d\t%s\t%s\n", d.ID, d.Job, d.Chunk, d.Start, d.Start+d.Count-1,
			d.Model, d.Version, d.Deliveries, d.DeadAt.Local().Format(time.DateTime), d.Reason)
	}
	_ = tw.Flush()
	if l.NextCursor != "" {
		fmt.Fprintf(w, "more: --cursor %s\n", l.NextCursor)
	}
}

func (a *app) dlqShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a dead letter",
		Args:  args(1, "ID"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			d, err := a.c.DeadLetter(cmd.Context(), argv[0])
			if err != nil {
				return err
			}
			return a.result(d, func(w io.Writer) { printLetters(w, &client.DeadLetterList{Letters: []client.DeadLetter{d.DeadLetter}}) })
		},
	}
}

// dlqEachCmd is a command that does f to every letter named.
func (a *app) dlqEachCmd(use, short string, f func(*cobra.Command, string) error) *cobra.Command {
	return &cobra.Command{
		Use:   use + " ID...",
		Short: short,
		Args:  minArgs(1, "one or more IDs"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			for _, id := range argv {
				if err := f(cmd, id); err != nil {
					return fmt.Errorf("%s %s: %w", use, id, err)
				}
				a.note("%s: %s", use, id)
			}
			if a.g.json {
				return a.printJSON(map[string]any{use: argv})
			}
			return nil
		},
	}
}

func (a *app) redriveLetter(cmd *cobra.Command, id string) error {
	_, err := a.c.Redrive(cmd.Context(), id)
	return err
}
func (a *app) deleteLetter(cmd *cobra.Command, id string) error {
	return a.c.DeleteDeadLetter(cmd.Context(), id)
}
