package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// meter shows the progress of a transfer (bytes) or a job (items): a bar
// on a terminal, JSON lines on stderr with --json, a line every
// textEvery otherwise, nothing with --no-progress.
type meter interface {
	set(done, total int64)
	note(msg string)
	finish()
}

// textEvery is how often a progress line is written when stderr is not a
// terminal.
const textEvery = 10 * time.Second

// newMeter makes the meter of one step: name is upload, job or download;
// bytes says whether it counts bytes (else items).
func (a *app) newMeter(name string, bytes bool, total int64) meter {
	unit := "items"
	if bytes {
		unit = "bytes"
	}
	switch {
	case a.g.json:
		return &jsonMeter{w: a.io.err, name: name, unit: unit, every: a.rate}
	case a.g.noProgress:
		return nopMeter{}
	case a.tty:
		return newBar(a.io.err, name, bytes, total)
	}
	return &textMeter{w: a.io.err, name: name, unit: unit, every: textEvery}
}

type nopMeter struct{}

func (nopMeter) set(int64, int64) {}
func (nopMeter) note(string)      {}
func (nopMeter) finish()          {}

// barMeter is a progress bar: MB and MB/s for bytes, items, items/s and
// the time left for a job.
type barMeter struct {
	w   io.Writer
	bar *progressbar.ProgressBar
	max int64
}

func newBar(w io.Writer, name string, bytes bool, total int64) *barMeter {
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(fmt.Sprintf("%-8s", name)),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	}
	if bytes { // MB and MB/s
		opts = append(opts, progressbar.OptionShowBytes(true), progressbar.OptionShowTotalBytes(true))
	} else { // items and items/s
		opts = append(opts, progressbar.OptionShowIts(), progressbar.OptionSetItsString("items"))
	}
	return &barMeter{w: w, bar: progressbar.NewOptions64(max(total, 1), opts...), max: max(total, 1)}
}

func (b *barMeter) set(done, total int64) {
	if total > 0 && total != b.max {
		b.max = total
		b.bar.ChangeMax64(total)
	}
	_ = b.bar.Set64(min(done, b.max))
}

func (b *barMeter) note(msg string) {
	_ = b.bar.Clear()
	fmt.Fprintln(b.w, msg)
}

func (b *barMeter) finish() { _ = b.bar.Finish() }

// jsonMeter writes {"event","done","total","unit"} lines, at most one per
// every (and the last).
type jsonMeter struct {
	mu          sync.Mutex
	w           io.Writer
	name, unit  string
	every       time.Duration
	last        time.Time
	done, total int64
}

func (m *jsonMeter) set(done, total int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.done, m.total = done, total
	if time.Since(m.last) >= m.every {
		m.write()
	}
}

func (m *jsonMeter) write() {
	m.last = time.Now()
	_ = json.NewEncoder(m.w).Encode(map[string]any{"event": m.name, "done": m.done, "total": m.total, "unit": m.unit})
}

func (m *jsonMeter) note(msg string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_ = json.NewEncoder(m.w).Encode(map[string]any{"event": m.name, "note": msg})
}

func (m *jsonMeter) finish() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.write()
}

// textMeter writes a line every so often.
type textMeter struct {
	w          io.Writer
	name, unit string
	every      time.Duration
	last       time.Time
}

func (m *textMeter) set(done, total int64) {
	if time.Since(m.last) < m.every {
		return
	}
	m.last = time.Now()
	fmt.Fprintf(m.w, "%s: %s\n", m.name, amount(done, total, m.unit))
}

func (m *textMeter) note(msg string) { fmt.Fprintln(m.w, msg) }
func (m *textMeter) finish()         {}

// amount is "done of total unit", in MB for bytes.
func amount(done, total int64, unit string) string {
	if unit == "bytes" {
		return fmt.Sprintf("%.1f of %.1f MB", float64(done)/1e6, float64(total)/1e6)
	}
	return fmt.Sprintf("%d of %d %s", done, total, unit)
}
