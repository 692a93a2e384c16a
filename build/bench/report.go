//go:build linux

package main

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// results is everything report prints.
type results struct {
	helper, python []sample
	size           int64    // helper binary size in bytes
	offenders      []string // forbidden packages the helper links
}

// summary condenses a set of wall times.
type summary struct {
	median, p10, p90, min time.Duration
}

// summarize returns the summary of d; d is not modified.
func summarize(d []time.Duration) summary {
	s := slices.Clone(d)
	slices.Sort(s)
	return summary{
		median: percentile(s, 50),
		p10:    percentile(s, 10),
		p90:    percentile(s, 90),
		min:    s[0],
	}
}

// percentile returns the p-th percentile (0 ≤ p ≤ 100) of the sorted,
// non-empty s, interpolating linearly between neighbouring samples.
func percentile[T ~int64](s []T, p float64) T {
	pos := p / 100 * float64(len(s)-1)
	i := int(pos)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	frac := pos - float64(i)
	return s[i] + T(frac*float64(s[i+1]-s[i]))
}

// median returns the median of the non-empty v; v is not modified.
func median[T cmp.Ordered](v []T) T {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// walls returns the wall times of samples.
func walls(samples []sample) []time.Duration {
	d := make([]time.Duration, len(samples))
	for i, s := range samples {
		d[i] = s.wall
	}
	return d
}

// rss returns the peak RSS figures of samples, in KiB.
func rss(samples []sample) []int64 {
	v := make([]int64, len(samples))
	for i, s := range samples {
		v[i] = s.maxRSS
	}
	return v
}

// report prints r to w and reports whether every target was met.
func report(w io.Writer, r results) bool {
	h, py := summarize(walls(r.helper)), summarize(walls(r.python))
	ratio := float64(py.median) / float64(h.median)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "command\truns\tmedian\tp10\tp90\tmin\t")
	row := func(name string, n int, s summary) {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t\n", name, n, ms(s.median), ms(s.p10), ms(s.p90), ms(s.min))
	}
	row("feedkey-keyring get "+feedURL+" "+feedUser, len(r.helper), h)
	row("python3 -m keyring get "+pyService+" "+pyUser, len(r.python), py)
	tw.Flush()
	fmt.Fprintf(w, "\nratio of medians (python/helper): %.1f×\n", ratio)

	helperRSS, pyRSS := median(rss(r.helper)), median(rss(r.python))
	fmt.Fprintf(w, "helper binary size:               %s (%d bytes)\n", mib(r.size), r.size)
	fmt.Fprintf(w, "peak RSS, median (Maxrss):        helper %s, python %s\n", mib(helperRSS*1024), mib(pyRSS*1024))
	// Linux charges a child started with vfork (as os/exec does) with its
	// parent's peak RSS too: a figure at or below bench's own peak is only
	// an upper bound.
	if self := selfPeakRSS(); helperRSS <= self {
		fmt.Fprintf(w, "  (helper figure is at most bench's own peak RSS %s, which Linux charges to vfork'ed children: read it as an upper bound)\n", mib(self*1024))
	}
	deps := "OK"
	if len(r.offenders) > 0 {
		deps = "forbidden: " + strings.Join(r.offenders, ", ")
	}
	fmt.Fprintf(w, "go list -deps ./helper/feedkey-keyring: %s\n\n", deps)

	pass := true
	target := func(name, got string, ok bool) {
		verdict := "PASS"
		if !ok {
			verdict, pass = "FAIL", false
		}
		fmt.Fprintf(w, "target %-28s %-10s %s\n", name+":", got, verdict)
	}
	target(fmt.Sprintf("helper median ≤ %v", maxHelperMedian), ms(h.median), h.median <= maxHelperMedian)
	target(fmt.Sprintf("ratio ≥ %.0f×", minRatio), fmt.Sprintf("%.1f×", ratio), ratio >= minRatio)
	target("no forbidden deps", fmt.Sprintf("%d", len(r.offenders)), len(r.offenders) == 0)
	return pass
}

// selfPeakRSS returns the peak RSS of this process's own memory in KiB
// (VmHWM in /proc/self/status; 0 if unknown). Getrusage would not do: it
// too includes the peak of the process that started bench (go run).
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

// ms formats d in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// mib formats a byte count in MiB.
func mib(bytes int64) string {
	return fmt.Sprintf("%.1f MiB", float64(bytes)/(1<<20))
}
