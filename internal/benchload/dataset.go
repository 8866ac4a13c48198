package benchload

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"batchinfer/api"
	"batchinfer/client"
)

// DatasetOptions shape a dataset run.
type DatasetOptions struct {
	Format string // of the dataset file: ndjson or csv
	Output string // of the output file downloaded: ndjson or csv
	Items  int
	Dir    string // where the dataset and output files are written
	Keep   bool   // keep the files and the upload afterwards
	Procs  []Process
	// Sampler samples memory and disk during each phase (nil: a sampler
	// of Procs alone).
	Sampler *Sampler
}

// DatasetResult is one dataset job, end to end: the file written to disk,
// uploaded through tus, a job from the upload followed to its end, its
// output file downloaded and checked.
type DatasetResult struct {
	Model, Format, Output string
	Items                 int
	FileBytes             int64
	Generate              time.Duration // writing the file: not the system's
	UploadID, JobID       string
	Upload                time.Duration // first byte to the last acknowledged
	Job                   time.Duration // the job's creation to its end, by its own timestamps
	JobClient             time.Duration // the submission to the end seen over the WebSocket
	JobItemsPerSec        float64       // the job's own items_per_sec
	State                 string
	Done, Failed          int
	OutputBytes           int64
	Download              time.Duration
	Check                 OutputCheck
	Before, After         Sample // before the upload; after the upload is deleted
	Phases                []Phase
	CPU                   map[string]map[string]time.Duration // by phase, by process
	LoadAvg               []string                            // /proc/loadavg at the start and the end
	// Error is why the run stopped early (the figures are those before).
	Error string `json:",omitempty"`
}

// MBps is n bytes over d in MB (10⁶ bytes) per second.
func MBps(n int64, d time.Duration) float64 { return float64(n) / 1e6 / d.Seconds() }

// RunDataset runs a dataset of o.Items items of the corpus end to end.
func (c *Client) RunDataset(ctx context.Context, co *Corpus, o DatasetOptions) (*DatasetResult, error) {
	s := o.Sampler
	if s == nil {
		s = NewSampler(o.Procs, "", "", time.Second)
	}
	r := &DatasetResult{Model: co.Model, Format: o.Format, Output: o.Output, Items: o.Items,
		CPU: map[string]map[string]time.Duration{}, LoadAvg: []string{loadAvg()}}
	in := filepath.Join(o.Dir, fmt.Sprintf("%s-%d.%s", co.Model, o.Items, o.Format))
	out := filepath.Join(o.Dir, fmt.Sprintf("%s-%d.output.%s", co.Model, o.Items, o.Output))
	t0 := time.Now()
	var err error
	if r.FileBytes, err = co.WriteDataset(in, o.Format, o.Items); err != nil {
		return nil, err
	}
	r.Generate = time.Since(t0)
	if !o.Keep {
		defer os.Remove(in)
		defer os.Remove(out)
	}
	r.Before = s.Snapshot(ctx)
	defer func() { r.Phases = s.Phases() }()
	if err := c.phase(ctx, s, r, o.Procs, "upload", func() error { return c.upload(ctx, r, in) }); err != nil {
		return r, err
	}
	if err := c.phase(ctx, s, r, o.Procs, "job", func() error { return c.job(ctx, r) }); err != nil {
		return r, err
	}
	if err := c.phase(ctx, s, r, o.Procs, "download", func() error { return c.download(ctx, r, out) }); err != nil {
		return r, err
	}
	chk, err := co.CheckOutput(out, o.Output, o.Items)
	if err != nil {
		return r, err
	}
	r.Check = *chk
	if !o.Keep {
		if err := c.DeleteUpload(ctx, r.UploadID); err != nil {
			return r, fmt.Errorf("delete the upload: %w", err)
		}
	}
	r.After = s.Snapshot(ctx)
	r.LoadAvg = append(r.LoadAvg, loadAvg())
	return r, nil
}

// phase runs f as a named phase of the sampler, measuring the processes'
// CPU over it.
func (c *Client) phase(ctx context.Context, s *Sampler, r *DatasetResult, procs []Process, name string, f func() error) error {
	meter, err := startCPU(procs)
	if err != nil {
		return err
	}
	s.Begin(ctx, name)
	err = f()
	s.End(ctx)
	r.CPU[name] = meter.stop()
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (c *Client) upload(ctx context.Context, r *DatasetResult, path string) error {
	t0 := time.Now()
	up, err := c.UploadFile(ctx, path, client.UploadOptions{})
	if err != nil {
		return err
	}
	r.Upload, r.UploadID = time.Since(t0), up.ID
	return nil
}

func (c *Client) job(ctx context.Context, r *DatasetResult) error {
	t0 := time.Now()
	sub, err := c.SubmitUpload(ctx, r.UploadID, "", client.JobOptions{Model: r.Model})
	if err != nil {
		return err
	}
	r.JobID = sub.Job.ID
	st, err := c.Wait(ctx, sub.Job.ID)
	if err != nil {
		return err
	}
	r.JobClient = time.Since(t0)
	r.State, r.Done, r.Failed, r.JobItemsPerSec = st.State, st.Done, st.Failed, st.ItemsPerSec
	if st.FinishedAt != nil {
		r.Job = st.FinishedAt.Sub(st.CreatedAt)
	}
	if st.State != api.StateCompleted || st.Done != r.Items {
		return fmt.Errorf("job %s ended %s with %d of %d items done (%d failed): %s", st.ID, st.State, st.Done, r.Items, st.Failed, st.Error)
	}
	return nil
}

func (c *Client) download(ctx context.Context, r *DatasetResult, path string) error {
	t0 := time.Now()
	d, err := c.Download(ctx, r.JobID, client.FileOutput, path, client.DownloadOptions{Format: r.Output})
	if err != nil {
		return err
	}
	r.Download, r.OutputBytes = time.Since(t0), d.Size
	return nil
}

// loadAvg is the machine's load average (/proc/loadavg's first three).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
