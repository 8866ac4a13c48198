package benchload

import (
	"fmt"
	"io"
	"strings"
)

// datasetPhases are the phases of a dataset run, in order.
var datasetPhases = []string{"upload", "job", "download"}

// rssProcs are the processes whose memory the dataset tables show.
var rssProcs = []string{"gateway", "nats", "worker"}

// writeDatasets writes the dataset runs' tables: rates, peak memory per
// phase, and disk per million items.
func writeDatasets(w io.Writer, ds []labelled[DatasetResult]) {
	if len(ds) == 0 {
		return
	}
	fmt.Fprint(w, "| dataset | model | items | file MB | upload MB/s | job s | items/s (creation → end) | job's items_per_sec "+
		"| output MB | download MB/s (items/s) | check | load avg (start; end) |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, d := range ds {
		r := d.r
		check := r.Check.summary()
		if r.Error != "" {
			check = "**stopped**: " + strings.ReplaceAll(r.Error, "|", `\|`)
		}
		fmt.Fprintf(w, "| %s | %s | %d | %.0f | %.0f | %.1f | %.0f | %.0f | %.0f | %.0f (%.0f) | %s | %s |\n", d.label, r.Model, r.Items,
			float64(r.FileBytes)/1e6, MBps(r.FileBytes, r.Upload), r.Job.Seconds(), float64(r.Items)/r.Job.Seconds(),
			r.JobItemsPerSec, float64(r.OutputBytes)/1e6, MBps(r.OutputBytes, r.Download), float64(r.Items)/r.Download.Seconds(),
			check, strings.Join(r.LoadAvg, "; "))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "| dataset | peak RSS MB (%s): upload | job | download |\n|---|---|---|---|\n", strings.Join(rssProcs, " / "))
	for _, d := range ds {
		cells := make([]string, len(datasetPhases))
		for i, name := range datasetPhases {
			cells[i] = "—"
			if p := d.r.phase(name); p != nil {
				cells[i] = mbList(p.PeakRSS, rssProcs)
			}
		}
		fmt.Fprintf(w, "| %s | %s |\n", d.label, strings.Join(cells, " | "))
	}
	fmt.Fprintln(w)
	writeDatasetDisk(w, ds)
}

// writeDatasetDisk writes the disk each run used, per million items: the
// NATS store dir over the phases, and the streams that hold a dataset.
func writeDatasetDisk(w io.Writer, ds []labelled[DatasetResult]) {
	fmt.Fprint(w, "| dataset | MB per million items: store dir after upload | peak during job | after job | after download "+
		"| after the upload's deletion | UPLOADS after upload | JOBIN peak | RESULTS after job | KV_outputs after download |\n"+
		"|---|---|---|---|---|---|---|---|---|---|\n")
	for _, d := range ds {
		r := d.r
		per := func(b int64) string { return fmt.Sprintf("%.0f", float64(b)/1e6/(float64(r.Items)/1e6)) }
		up, job, dl := r.phase("upload"), r.phase("job"), r.phase("download")
		if up == nil || job == nil || dl == nil {
			continue
		}
		stream := func(p *Phase, name string, peak bool) string {
			v := p.End.Streams[name]
			if peak {
				v = p.Peak[name]
			}
			return per(v - r.Before.Streams[name])
		}
		outputs := float64(dl.End.Streams["KV_outputs"]-r.Before.Streams["KV_outputs"]) / 1e3 / (float64(r.Items) / 1e6)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", d.label,
			per(up.End.Store-r.Before.Store), per(job.PeakDisk-r.Before.Store), per(job.End.Store-r.Before.Store),
			per(dl.End.Store-r.Before.Store), per(r.After.Store-r.Before.Store),
			stream(up, "UPLOADS", false), stream(job, "JOBIN", true), stream(job, "RESULTS", false), fmt.Sprintf("%.1f KB", outputs))
	}
	fmt.Fprintln(w)
}

func (r DatasetResult) phase(name string) *Phase {
	for i := range r.Phases {
		if r.Phases[i].Name == name {
			return &r.Phases[i]
		}
	}
	return nil
}

func (c OutputCheck) summary() string {
	s := fmt.Sprintf("%d rows, %d failed, %d wrong classes", c.Items, c.Failed, c.Mismatches)
	if c.FirstFailed != "" {
		s += fmt.Sprintf(" (first failed: `%s`)", strings.ReplaceAll(c.FirstFailed, "|", `\|`))
	}
	return s
}

// mbList is each named value in MB, joined by " / " ("—" for one not there).
func mbList(m map[string]int64, names []string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = "—"
		if v, ok := m[n]; ok {
			parts[i] = fmt.Sprintf("%.0f", float64(v)/1e6)
		}
	}
	return strings.Join(parts, " / ")
}
