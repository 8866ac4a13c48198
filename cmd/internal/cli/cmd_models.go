package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"batchinfer/api"
	"batchinfer/client"

	"github.com/spf13/cobra"
)

func (a *app) modelsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models",
		Short: "List the served models (and show or push one)",
		Args:  args(0, "no arguments, or a subcommand"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ms, err := a.c.Models(cmd.Context())
			if err != nil {
				return err
			}
			return a.result(api.ModelList{Models: ms}, func(w io.Writer) { printModels(w, ms) })
		},
	}
	cmd.AddCommand(a.modelShowCmd(), a.modelPushCmd())
	return cmd
}

func printModels(w io.Writer, ms []api.ModelInfo) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tVERSION\tKIND\tITEM SIZE\tCLASSES\tWORKERS\tREADY\tDESCRIPTION")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%t\t%s\n", m.Name, m.Version, m.Kind, m.ItemSize, len(m.Labels), m.Workers, m.Ready, m.Description)
	}
	_ = tw.Flush()
}

func (a *app) modelShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show a model's versions: input, labels, features",
		Args:  args(1, "NAME"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			mv, err := a.c.Model(cmd.Context(), argv[0])
			if err != nil {
				return err
			}
			return a.result(mv, func(w io.Writer) {
				printModels(w, mv.Versions)
				for _, m := range mv.Versions {
					fmt.Fprintf(w, "\n%s:%s input %s %v", m.Name, m.Version, m.Input.Key, m.Input.Shape)
					if len(m.Features) > 0 {
						fmt.Fprintf(w, ", features %s", strings.Join(m.Features, ","))
					}
					fmt.Fprintf(w, "\nlabels %s\n", strings.Join(m.Labels, ","))
				}
			})
		},
	}
}

func (a *app) modelPushCmd() *cobra.Command {
	var (
		name, version, metadata string
		wait                    bool
	)
	cmd := &cobra.Command{
		Use:   "push DIR --name N --version V",
		Short: "Push a model version to the registry (operator)",
		Long: "push sends DIR (a version directory: a SavedModel and/or model.tflite, metadata.json optional), or a\n" +
			".tflite file, or a .tar.gz/.tgz/.tar/.zip of a version directory, to the model registry as N:V.\n" +
			"A worker checks it (loads it, warms it up) before the gateway routes to it; with --wait the command\n" +
			"waits until it is ready.",
		Args: args(1, "DIR"),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if name == "" || version == "" {
				return usagef("--name and --version are required")
			}
			return a.push(cmd.Context(), argv[0], name, version, metadata, wait)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "model name (required)")
	cmd.Flags().StringVar(&version, "version", "", "version (required)")
	cmd.Flags().StringVar(&metadata, "metadata", "", "metadata.json to send when DIR has none")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until a worker serves the version")
	return cmd
}

func (a *app) push(ctx context.Context, dir, name, version, metadata string, wait bool) error {
	var opts client.PushOptions
	if metadata != "" {
		b, err := os.ReadFile(metadata)
		if err != nil {
			return err
		}
		opts.Metadata = b
	}
	v, err := a.c.PushModel(ctx, name, version, dir, opts)
	if err != nil {
		return err
	}
	for wait && v.State != api.StateReady {
		if err := sleepCtx(ctx, time.Second); err != nil {
			return err
		}
		if v, err = a.registryVersion(ctx, name, version); err != nil {
			return err
		}
	}
	return a.result(v, func(w io.Writer) { fmt.Fprintf(w, "%s:%s %s\n", v.Name, v.Version, v.State) })
}

// registryVersion is one version of the registry's listing.
func (a *app) registryVersion(ctx context.Context, name, version string) (*api.RegistryVersion, error) {
	vs, err := a.c.Versions(ctx, name)
	if err != nil {
		return nil, err
	}
	for i := range vs.Versions {
		if vs.Versions[i].Version == version {
			return &vs.Versions[i], nil
		}
	}
	return nil, &api.Error{Code: api.CodeUnknownModel, Message: fmt.Sprintf("model %s has no version %s", name, version), Status: 404}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *app) predictCmd() *cobra.Command {
	var opts client.PredictOptions
	var model string
	cmd := &cobra.Command{
		Use:   "predict -m MODEL [FILE]",
		Short: "Predict the items of FILE (or stdin) now: one ItemInput JSON per line, a result per line out",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if model == "" {
				return usagef("--model is required")
			}
			in, err := a.readItems(argv)
			if err != nil {
				return err
			}
			p, err := a.c.Predict(cmd.Context(), model, in, opts)
			if err != nil {
				return err
			}
			if a.g.json {
				return a.printJSON(p)
			}
			enc := json.NewEncoder(a.io.out)
			for _, it := range p.Items {
				if err := enc.Encode(it); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&model, "model", "m", "", "model (required)")
	cmd.Flags().StringVar(&opts.Version, "version", "", "model version")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 0, "how long the gateway waits (default its own)")
	return cmd
}

// readItems reads one JSON item per line of the file named by argv (stdin
// when none or "-").
func (a *app) readItems(argv []string) ([]client.Input, error) {
	r := a.io.in
	if len(argv) == 1 && argv[0] != "-" {
		f, err := os.Open(argv[0])
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	var in []client.Input
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			in = append(in, client.Input(bytes.Clone(line)))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(in) == 0 {
		return nil, usagef("no items: give one ItemInput JSON per line")
	}
	return in, nil
}
