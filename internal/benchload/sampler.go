package benchload

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Sample is what the sampler saw at one moment: each process's resident
// memory, the NATS store directory's size and each stream's bytes.
type Sample struct {
	RSS     map[string]int64 // bytes, by process name
	Store   int64            // bytes of files under the NATS store dir
	Streams map[string]int64 // bytes, by stream name (JetStream info)
}

// Phase is what the sampler saw during one phase: the peaks, and the last
// sample (the state at the phase's end).
type Phase struct {
	Name     string
	Seconds  float64
	PeakRSS  map[string]int64
	PeakDisk int64            // the store dir's largest size
	Peak     map[string]int64 // each stream's largest size
	End      Sample
}

// Sampler reads /proc/PID/status of each process, the NATS store
// directory and the NATS monitoring endpoint's JetStream info every
// second, and keeps the peaks of the current phase.
type Sampler struct {
	procs    []Process
	storeDir string // "" not measured
	jsz      string // monitoring URL of /jsz ("" not measured)
	every    time.Duration
	http     *http.Client

	mu     sync.Mutex
	cur    *Phase
	start  time.Time
	phases []Phase
	stop   chan struct{}
	done   chan struct{}
}

// NewSampler samples procs, the store dir and the JetStream info at
// monitor (e.g. http://127.0.0.1:8222; "" for none), every interval.
func NewSampler(procs []Process, storeDir, monitor string, interval time.Duration) *Sampler {
	s := &Sampler{procs: procs, storeDir: storeDir, every: interval, http: &http.Client{Timeout: 5 * time.Second}}
	if monitor != "" {
		s.jsz = strings.TrimRight(monitor, "/") + "/jsz?streams=true"
	}
	return s
}

// Snapshot takes one sample now.
func (s *Sampler) Snapshot(ctx context.Context) Sample {
	sm := Sample{RSS: map[string]int64{}, Streams: map[string]int64{}}
	for _, p := range s.procs {
		if v, err := RSS(p.PID); err == nil {
			sm.RSS[p.Name] = v
		}
	}
	if s.storeDir != "" {
		sm.Store = DirSize(s.storeDir)
	}
	if s.jsz != "" {
		if st, err := s.streams(ctx); err == nil {
			sm.Streams = st
		}
	}
	return sm
}

// Begin starts a phase (ending the current one), sampling every interval
// until End.
func (s *Sampler) Begin(ctx context.Context, name string) {
	s.End(ctx)
	s.mu.Lock()
	s.cur = &Phase{Name: name, PeakRSS: map[string]int64{}, Peak: map[string]int64{}}
	s.start = time.Now()
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	s.mu.Unlock()
	s.add(s.Snapshot(ctx))
	go s.loop(ctx, s.stop, s.done)
}

func (s *Sampler) loop(ctx context.Context, stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			s.add(s.Snapshot(ctx))
		}
	}
}

// End ends the current phase with a last sample; it returns the phase
// (nil when none was running).
func (s *Sampler) End(ctx context.Context) *Phase {
	s.mu.Lock()
	stop, done := s.stop, s.done
	s.stop = nil
	s.mu.Unlock()
	if stop == nil {
		return nil
	}
	close(stop)
	<-done
	s.add(s.Snapshot(ctx))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur.Seconds = time.Since(s.start).Seconds()
	s.phases = append(s.phases, *s.cur)
	p := &s.phases[len(s.phases)-1]
	s.cur = nil
	return p
}

// Phases are the phases ended so far, in order.
func (s *Sampler) Phases() []Phase {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Phase(nil), s.phases...)
}

func (s *Sampler) add(sm Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur == nil {
		return
	}
	for k, v := range sm.RSS {
		s.cur.PeakRSS[k] = max(s.cur.PeakRSS[k], v)
	}
	for k, v := range sm.Streams {
		s.cur.Peak[k] = max(s.cur.Peak[k], v)
	}
	s.cur.PeakDisk = max(s.cur.PeakDisk, sm.Store)
	s.cur.End = sm
}

// streams reads each stream's bytes from the monitoring endpoint (the
// streams that hold some).
func (s *Sampler) streams(ctx context.Context) (map[string]int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.jsz, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", s.jsz, resp.Status)
	}
	var info struct {
		Accounts []struct {
			Streams []struct {
				Name  string `json:"name"`
				State struct {
					Bytes int64 `json:"bytes"`
				} `json:"state"`
			} `json:"stream_detail"`
		} `json:"account_details"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return nil, fmt.Errorf("%s: %w", s.jsz, err)
	}
	out := map[string]int64{}
	for _, a := range info.Accounts {
		for _, st := range a.Streams {
			if st.State.Bytes > 0 {
				out[st.Name] += st.State.Bytes
			}
		}
	}
	return out, nil
}

// RSS is a process's resident set size in bytes (VmRSS).
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/status: VmRSS %q", pid, v)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
}

// DirSize is the bytes allocated on disk to the files under dir (what du
// counts; a file being deleted meanwhile is skipped).
func DirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			n += allocated(fi)
		}
		return nil
	})
	return n
}

// allocated is a file's bytes on disk (its blocks), else its size.
func allocated(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}
