//go:build linux

package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// results is everything report prints.
type results struct {
	helper, python []time.Duration // wall times
	size           int64           // helper binary size in bytes
	rss, rssFloor  int64           // helper peak RSS (median) and what it cannot go below, in KiB
	offenders      []string        // forbidden packages the helper links
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
		median: median(s),
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
func median[T ~int64](v []T) T {
	s := slices.Clone(v)
	slices.Sort(s)
	return percentile(s, 50)
}

// report prints r to w and reports whether every target was met.
func report(w io.Writer, r results) bool {
	h, py := summarize(r.helper), summarize(r.python)
	ratio := float64(py.median) / float64(h.median)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "median\tp10\tp90\tmin\truns\t  command")
	row := func(name string, n int, s summary) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t  %s\n", ms(s.median), ms(s.p10), ms(s.p90), ms(s.min), n, name)
	}
	row("feedkey-keyring get "+feedURL+" "+feedUser, len(r.helper), h)
	row("python3 -m keyring get "+pyService+" "+pyUser, len(r.python), py)
	tw.Flush()
	fmt.Fprintf(w, "\nratio of medians (python/helper): %.1f×\n", ratio)

	fmt.Fprintf(w, "helper binary size:               %s (%d bytes)\n", mib(r.size), r.size)
	fmt.Fprintf(w, "helper peak RSS (Maxrss, median): %s (floor: launcher's own peak %s)\n", mib(r.rss*1024), mib(r.rssFloor*1024))
	if r.rss <= r.rssFloor {
		fmt.Fprintln(w, "  the helper figure is at the floor: read it as an upper bound")
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

// ms formats d in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// mib formats a byte count in MiB.
func mib(bytes int64) string {
	return fmt.Sprintf("%.1f MiB", float64(bytes)/(1<<20))
}
