package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"batchinfer/api"
	"batchinfer/client"
)

// transfer are the flags of uploads and downloads.
type transfer struct {
	chunkSize int64
	limitRate int64
}

// upload sends a file through the resumable uploads with a meter, going
// on with an upload of the same file that an earlier run left unfinished.
func (a *app) upload(ctx context.Context, path string, t transfer) (*client.Upload, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	m := a.newMeter("upload", true, fi.Size())
	defer m.finish()
	saved := resumeFile(a.c.BaseURL, path, fi)
	opts := client.UploadOptions{
		ChunkSize: t.chunkSize, RateLimit: t.limitRate,
		Progress: func(sent, total int64) { m.set(sent, total) },
		OnCreate: func(url string) { saveResume(saved, url) },
	}
	if url := loadResume(saved); url != "" {
		opts.URL = url
		m.note("upload: going on with " + url)
	}
	up, err := a.c.UploadFile(ctx, path, opts)
	if opts.URL != "" && (client.ErrorCode(err) == api.CodeNotFound || client.ErrorCode(err) == api.CodeExpired) {
		m.note("upload: the earlier upload is gone: starting over")
		opts.URL = ""
		up, err = a.c.UploadFile(ctx, path, opts)
	}
	if err != nil {
		return nil, err
	}
	dropResume(saved)
	return up, nil
}

// follow shows a job's progress until it ends and returns its final
// status.
func (a *app) follow(ctx context.Context, id string) (*api.JobStatus, error) {
	m := a.newMeter("job", false, 0)
	defer m.finish()
	for ev, err := range a.c.Follow(ctx, id, client.FollowOptions{ProgressOnly: true}) {
		if err != nil {
			return nil, err
		}
		switch ev.Type {
		case client.EventReconnect:
			m.note(fmt.Sprintf("job %s: connection lost (%v): following again", id, ev.Err))
		case client.EventProgress, client.EventEnd:
			if st := ev.Status; st != nil {
				m.set(int64(st.Done+st.Failed+st.Skipped), int64(st.Total))
			}
			if ev.Type == client.EventEnd {
				return ev.Status, nil
			}
		}
	}
	return nil, errNoEnd
}

// download writes a finished job's file to path with a meter.
func (a *app) download(ctx context.Context, id string, f client.File, path, format string, t transfer) (*client.Download, error) {
	m := a.newMeter("download", true, 0)
	defer m.finish()
	return a.c.Download(ctx, id, f, path, client.DownloadOptions{Format: format, RateLimit: t.limitRate,
		Progress: func(done, total int64) { m.set(done, total) }})
}

// fileFormat is the format of an output file named path: csv for .csv,
// else ndjson; explicit wins.
func fileFormat(path, explicit string) string {
	if explicit != "" {
		return explicit
	}
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		return "csv"
	}
	return "ndjson"
}

// errorsPath is the errors file beside an output file: out.csv gives
// out.errors.csv.
func errorsPath(out string) string {
	ext := filepath.Ext(out)
	return strings.TrimSuffix(out, ext) + ".errors" + ext
}

// outcome is the job's end as an error when not every item succeeded.
func outcome(st *api.JobStatus) error {
	if st.State == api.StateCompleted && st.Failed == 0 && st.Skipped == 0 {
		return nil
	}
	return &incompleteError{st: st}
}
