//go:build linux

package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// sample is what one look at /proc/PID tells about the tray.
type sample struct {
	at       time.Time
	rss      int64 // VmRSS, KiB
	cpuTicks int64 // utime+stime of all threads, dead ones included, in clock ticks
	threads  int
}

// switches counts context switches and CPU time per thread. /proc/PID/status
// only counts the main thread, so every task is read; a thread that exits
// keeps the last count seen for it. CPU time comes from each task's
// schedstat, in nanoseconds: /proc/PID/stat's clock ticks (10 ms) are too
// coarse for an idle minute's few milliseconds.
type switches struct {
	voluntary, involuntary, cpuNanos map[int]int64
}

func newSwitches() *switches {
	return &switches{voluntary: map[int]int64{}, involuntary: map[int]int64{}, cpuNanos: map[int]int64{}}
}

// update reads the counters of every current thread of pid.
func (s *switches) update(pid int) error {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		st, err := readStatus(filepath.Join("/proc", strconv.Itoa(pid), "task", t.Name(), "status"))
		if err != nil {
			continue // the thread just exited
		}
		s.voluntary[tid] = st["voluntary_ctxt_switches"]
		s.involuntary[tid] = st["nonvoluntary_ctxt_switches"]
		if b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "task", t.Name(), "schedstat")); err == nil {
			// "time on CPU (ns)  time waiting (ns)  timeslices"
			if f := strings.Fields(string(b)); len(f) > 0 {
				if ns, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					s.cpuNanos[tid] = ns
				}
			}
		}
	}
	return nil
}

// cpu returns the summed CPU time, in nanoseconds.
func (s *switches) cpu() (ns int64) {
	for _, v := range s.cpuNanos {
		ns += v
	}
	return ns
}

// totals returns the summed counters.
func (s *switches) totals() (voluntary, involuntary int64) {
	for _, v := range s.voluntary {
		voluntary += v
	}
	for _, v := range s.involuntary {
		involuntary += v
	}
	return voluntary, involuntary
}

// readStatus parses a /proc status file into numbers (sizes in KiB as
// printed, " kB" dropped); non-numeric fields are left out.
func readStatus(path string) (map[string]int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := make(map[string]int64)
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSuffix(strings.TrimSpace(v), " kB")
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			m[k] = n
		}
	}
	return m, nil
}

// cpuTicks returns utime+stime from /proc/PID/stat: the whole thread
// group's CPU time, in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, b)
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3, the state
	const utime, stime = 14 - 3, 15 - 3
	if len(f) <= stime {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	u, err1 := strconv.ParseInt(f[utime], 10, 64)
	s, err2 := strconv.ParseInt(f[stime], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q stime %q", pid, f[utime], f[stime])
	}
	return u + s, nil
}

// take samples pid and updates sw.
func take(pid int, sw *switches) (sample, error) {
	now := time.Now()
	st, err := readStatus(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return sample{}, err
	}
	ticks, err := cpuTicks(pid)
	if err != nil {
		return sample{}, err
	}
	if err := sw.update(pid); err != nil {
		return sample{}, err
	}
	return sample{at: now, rss: st["VmRSS"], cpuTicks: ticks, threads: int(st["Threads"])}, nil
}

// clockTicks returns the kernel's USER_HZ, the unit of /proc/PID/stat
// times, from the AT_CLKTCK entry of this process's auxiliary vector
// (sysconf(_SC_CLK_TCK) without cgo); 100, its value on every Linux
// architecture Go supports, if that cannot be read.
func clockTicks() int64 {
	const atClkTck = 17
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 100
	}
	for ; len(b) >= 16; b = b[16:] {
		k, v := binary.NativeEndian.Uint64(b), binary.NativeEndian.Uint64(b[8:])
		if k == atClkTck && v > 0 {
			return int64(v)
		}
		if k == 0 {
			break
		}
	}
	return 100
}
