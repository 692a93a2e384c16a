//go:build linux

// Command bench measures, side by side, how long pip waits for
// `keyring get URL USER` when feedkey's helper answers it and when Debian's
// Python keyring does, both reading the same private gnome-keyring (SPEC §10).
//
// Usage (from anywhere inside the module):
//
//	go run ./build/bench [-n 200] [-pyn 30] [-warmup 3] [-rssn 20] [-strict]
//
// build/bench.sh first installs the Debian packages it needs.
//
// bench builds app/feedkey and helper/feedkey-keyring into a temporary
// directory, starts a private D-Bus session with gnome-keyring
// (internal/testbus), stores a static token with `feedkey add` and a Python
// keyring item with `python3 -m keyring set`, then times both `get`
// commands, interleaved so that machine noise falls on both alike. It
// prints the figures, the SPEC targets with PASS or FAIL, the helper's
// binary size and peak RSS (measured in separate runs, see rss.go) and
// whether the helper links any forbidden package. The exit status is 0 whatever the targets say unless -strict is
// given; it is 1 when the benchmark itself cannot run.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/feedkey/feedkey/internal/testbin"
	"github.com/feedkey/feedkey/internal/testbus"
)

// What the two commands read.
const (
	feedURL   = "https://pypi.bench.example/simple/"
	feedUser  = "__token__"
	feedToken = "bench-static-token-0123456789abcdef"

	pyService  = "svc"
	pyUser     = "user"
	pyPassword = "bench-python-password"

	python = "/usr/bin/python3"
)

// SPEC §10 targets.
const (
	maxHelperMedian = 5 * time.Millisecond
	minRatio        = 30.0
)

// forbidden lists packages (and everything below them) the helper must
// never link: they would bloat it and slow its start.
var forbidden = []string{
	"net/http",
	"crypto/tls",
	"github.com/Azure/azure-sdk-for-go",
	"github.com/AzureAD/microsoft-authentication-library-for-go",
	"fyne.io/systray",
	"golang.org/x/oauth2",
	"github.com/pkg/browser",
}

// options are the command-line flags.
type options struct {
	helperRuns  int
	pythonRuns  int
	warmup      int
	rssRuns     int
	ratioRounds int
	strict      bool
}

func main() {
	if os.Getenv(launcherEnv) == "1" {
		os.Exit(launch(os.Args[1:]))
	}
	var o options
	flag.IntVar(&o.helperRuns, "n", 200, "timed runs of the helper")
	flag.IntVar(&o.pythonRuns, "pyn", 30, "timed runs of Python keyring")
	flag.IntVar(&o.warmup, "warmup", 3, "untimed warm-up runs of each command")
	flag.IntVar(&o.rssRuns, "rssn", 20, "runs of the helper through a launcher to measure its peak RSS")
	flag.IntVar(&o.ratioRounds, "rounds", 100, "rounds of the side-by-side comparison (each runs every variant once)")
	flag.BoolVar(&o.strict, "strict", false, "exit with status 1 when a target is missed")
	flag.Parse()
	if flag.NArg() > 0 || o.helperRuns < 1 || o.pythonRuns < 1 || o.warmup < 0 || o.rssRuns < 1 {
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	pass, err := run(ctx, o)
	if err != nil && ctx.Err() != nil {
		err = errors.New("interrupted")
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if !pass && o.strict {
		os.Exit(1)
	}
}

// run does the whole benchmark and reports whether every target was met.
// Everything it starts or creates is stopped and removed before it returns.
func run(ctx context.Context, o options) (pass bool, err error) {
	tmp, err := os.MkdirTemp("", "feedkey-bench-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)

	bin := filepath.Join(tmp, "bin")
	fmt.Println("building ./app/feedkey and ./helper/feedkey-keyring ...")
	if _, err := testbin.BuildTo(ctx, bin); err != nil {
		return false, err
	}
	helperPath := filepath.Join(bin, "feedkey-keyring")
	fi, err := os.Stat(helperPath)
	if err != nil {
		return false, err
	}
	root, err := testbin.ModuleRoot(ctx)
	if err != nil {
		return false, err
	}
	offenders, err := forbiddenDeps(ctx, root)
	if err != nil {
		return false, err
	}

	fmt.Println("starting a private D-Bus session with gnome-keyring ...")
	session, stopSession, err := testbus.StartMain(testbus.Options{})
	if err != nil {
		return false, err
	}
	defer stopSession()
	env := append(session.Env(os.Environ()),
		"FEEDKEY_CONFIG="+filepath.Join(tmp, "config.toml"),
		"FEEDKEY_SYSTEM_CONFIG=")

	if err := store(ctx, env, filepath.Join(bin, "feedkey"), session); err != nil {
		return false, err
	}
	helper := probe{path: helperPath, args: []string{"get", feedURL, feedUser}, want: feedToken + "\n"}
	py := probe{path: python, args: []string{"-m", "keyring", "get", pyService, pyUser}, want: pyPassword + "\n"}

	fmt.Printf("warming up (%d runs each) ...\n", o.warmup)
	for range o.warmup {
		if _, err := helper.run(ctx, env); err != nil {
			return false, err
		}
		if _, err := py.run(ctx, env); err != nil {
			return false, err
		}
	}
	fmt.Printf("measuring wall time (%d helper runs, %d Python runs, interleaved) ...\n", o.helperRuns, o.pythonRuns)
	hs, ps, err := measure(ctx, env, helper, py, o.helperRuns, o.pythonRuns)
	if err != nil {
		return false, err
	}
	fmt.Printf("measuring peak RSS (%d helper runs through a launcher) ...\n\n", o.rssRuns)
	rss, floor, err := helperRSS(ctx, env, helper, o.rssRuns)
	if err != nil {
		return false, err
	}
	pass = report(os.Stdout, results{
		helper: hs, python: ps,
		size: fi.Size(), rss: rss, rssFloor: floor,
		offenders: offenders,
	})
	fmt.Printf("\nmeasuring side by side (%d rounds: floor, helper with and without the tray, 1000 feeds, chunked, Python) ...\n", o.ratioRounds)
	ratios, err := measureRatios(ctx, o.ratioRounds, env, bin, tmp)
	if err != nil {
		return false, err
	}
	reportRatios(os.Stdout, ratios)
	return pass, nil
}

// forbiddenDeps returns the packages of `go list -deps` of the helper that
// are, or lie below, a forbidden package.
func forbiddenDeps(ctx context.Context, root string) ([]string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "./helper/feedkey-keyring")
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps: %w", err)
	}
	var bad []string
	for _, pkg := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if pkg == f || strings.HasPrefix(pkg, f+"/") {
				bad = append(bad, pkg)
				break
			}
		}
	}
	return bad, nil
}

// store puts the two secrets into the session's keychain: the feed token
// through `feedkey add`, the Python item through `python3 -m keyring set`.
// It checks, with secret-tool, that Python really wrote to the Secret
// Service rather than to some other keyring backend.
func store(ctx context.Context, env []string, feedkey string, s *testbus.Session) error {
	if err := runWithStdin(ctx, env, feedToken+"\n", feedkey, "add", feedURL, "--kind", "token"); err != nil {
		return err
	}
	// python3-keyring 23.9 reads the password up to a newline.
	if err := runWithStdin(ctx, env, pyPassword+"\n", python, "-m", "keyring", "set", pyService, pyUser); err != nil {
		return err
	}
	got, found, err := s.Lookup(pyService, pyUser)
	switch {
	case err != nil:
		return err
	case !found || got != pyPassword:
		return fmt.Errorf("python3 -m keyring set did not store %s/%s in the Secret Service (found %v): is another keyring backend configured?", pyService, pyUser, found)
	}
	return nil
}

// runWithStdin runs name with args in env, feeding it stdin.
func runWithStdin(ctx context.Context, env []string, stdin, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %w; output: %q", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return nil
}

// probe is one command under measurement.
type probe struct {
	path string
	args []string
	want string // its expected standard output
}

// run runs p once and returns its wall time. It fails unless p exits with
// status 0 and prints exactly what it should.
func (p probe) run(ctx context.Context, env []string) (time.Duration, error) {
	return p.runWith(ctx, env, nil)
}

// runWith is run with a hook to adjust the command before it starts.
func (p probe) runWith(ctx context.Context, env []string, adjust func(*exec.Cmd)) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, p.path, p.args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if adjust != nil {
		adjust(cmd)
	}

	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)

	name := filepath.Base(p.path) + " " + strings.Join(p.args, " ")
	if err != nil {
		return 0, fmt.Errorf("%s: %w; stderr: %q", name, err, stderr.String())
	}
	if got := stdout.String(); got != p.want {
		return 0, fmt.Errorf("%s: printed %q, want %q", name, got, p.want)
	}
	return wall, nil
}

// measure runs a n times and b m times, each spread evenly over the whole
// run (strictly a, b, a, b, … when n == m), so that machine noise falls on
// both alike.
func measure(ctx context.Context, env []string, a, b probe, n, m int) (as, bs []time.Duration, err error) {
	for len(as) < n || len(bs) < m {
		// Run a unless it is ahead of b in proportion to its count.
		p, dst := b, &bs
		if len(bs) >= m || (len(as) < n && len(as)*m <= len(bs)*n) {
			p, dst = a, &as
		}
		d, err := p.run(ctx, env)
		if err != nil {
			return nil, nil, err
		}
		*dst = append(*dst, d)
	}
	return as, bs, nil
}

// helperRSS runs the helper n times through a launcher and returns the
// median of its peak RSS and the highest launcher floor, in KiB.
func helperRSS(ctx context.Context, env []string, helper probe, n int) (rss, floor int64, err error) {
	all := make([]int64, 0, n)
	for range n {
		r, f, err := peakRSS(ctx, env, helper)
		if err != nil {
			return 0, 0, err
		}
		all = append(all, r)
		floor = max(floor, f)
	}
	return median(all), floor, nil
}
