//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// Peak RSS needs a detour. os/exec starts children with vfork, and Linux
// charges a vfork'ed child that calls exec with its parent's peak RSS too,
// so the Maxrss of a command bench starts directly is at least bench's own
// peak, about as large as the helper's. A launcher, a second bench process
// that does nothing but start the command and report its Maxrss, keeps that
// floor at the launcher's own, much smaller, peak.

// launcherEnv, set to "1", makes bench a launcher (see launch).
const launcherEnv = "FEEDKEY_BENCH_LAUNCHER"

// launch is main for a launcher: it runs args with bench's standard
// streams, writes "MAXRSS FLOOR" (the command's Maxrss and the launcher's
// own peak RSS, both in KiB) to file descriptor 3 and exits with the
// command's exit status.
func launch(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "bench launcher: no command")
		return 2
	}
	syscall.CloseOnExec(3) // the report is for bench, not for the command
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		fmt.Fprintln(os.Stderr, "bench launcher:", err)
		return 2
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil {
		ru = new(syscall.Rusage)
	}
	report := os.NewFile(3, "report")
	defer report.Close()
	if _, err := fmt.Fprintln(report, ru.Maxrss, selfPeakRSS()); err != nil {
		fmt.Fprintln(os.Stderr, "bench launcher:", err)
		return 2
	}
	return cmd.ProcessState.ExitCode()
}

// peakRSS runs p through a launcher and returns p's peak RSS and the
// launcher's own, the floor below which the figure means nothing, in KiB.
func peakRSS(ctx context.Context, env []string, p probe) (rss, floor int64, err error) {
	self, err := os.Executable()
	if err != nil {
		return 0, 0, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 0, 0, err
	}
	defer r.Close()
	launched := probe{path: self, args: append([]string{p.path}, p.args...), want: p.want}
	_, err = launched.runWith(ctx, append(env, launcherEnv+"=1"), func(cmd *exec.Cmd) {
		cmd.ExtraFiles = []*os.File{w}
	})
	w.Close()
	if err != nil {
		return 0, 0, err
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return 0, 0, err
	}
	fields := strings.Fields(string(out))
	if len(fields) != 2 {
		return 0, 0, fmt.Errorf("bench launcher reported %q", out)
	}
	rss, err1 := strconv.ParseInt(fields[0], 10, 64)
	floor, err2 := strconv.ParseInt(fields[1], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("bench launcher reported %q: %w", out, err)
	}
	return rss, floor, nil
}

// selfPeakRSS returns the peak RSS of this process's own memory in KiB
// (VmHWM in /proc/self/status; 0 if unknown). Getrusage would not do: it
// includes the peak of whatever process exec'd this one.
func selfPeakRSS() int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kib
		}
	}
	return 0
}
