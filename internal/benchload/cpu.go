package benchload

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of /proc/PID/stat's times (USER_HZ, 100 on every
// Linux build that matters).
const clockTick = 10 * time.Millisecond

// Process is a server process whose CPU time is measured.
type Process struct {
	Name string
	PID  int
}

// ParseProcesses reads name=pid entries.
func ParseProcesses(list []string) ([]Process, error) {
	var ps []Process
	for _, e := range list {
		name, pid, ok := strings.Cut(e, "=")
		n, err := strconv.Atoi(pid)
		if !ok || err != nil || name == "" {
			return nil, fmt.Errorf("process %q: want name=pid", e)
		}
		ps = append(ps, Process{Name: name, PID: n})
	}
	return ps, nil
}

// CPUTime is a process's user + system time so far.
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: fields count from the
	// last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// cpuMeter measures the CPU time processes spend between start and stop.
type cpuMeter struct {
	procs []Process
	at    map[string]time.Duration
}

func startCPU(ps []Process) (*cpuMeter, error) {
	m := &cpuMeter{procs: ps, at: map[string]time.Duration{}}
	for _, p := range ps {
		t, err := CPUTime(p.PID)
		if err != nil {
			return nil, err
		}
		m.at[p.Name] = t
	}
	self, _ := CPUTime(os.Getpid())
	m.at["loadgen"] = self
	return m, nil
}

// stop returns each process's CPU time since start, the load generator's
// own as "loadgen".
func (m *cpuMeter) stop() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, p := range m.procs {
		if t, err := CPUTime(p.PID); err == nil {
			out[p.Name] = t - m.at[p.Name]
		}
	}
	self, _ := CPUTime(os.Getpid())
	out["loadgen"] = self - m.at["loadgen"]
	return out
}
