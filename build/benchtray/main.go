//go:build linux

// Command benchtray measures the idle tray (SPEC §10): resident memory
// (target ≤ 40 MB) and CPU use (no busy polling: ≤ 1 % of one core) with
// three signed-in feeds.
//
// Usage (from anywhere inside the module):
//
//	go run ./build/benchtray [-duration 60s] [-settle 5s] [-interval 1s] [-strict]
//
// build/bench-tray.sh first installs the Debian packages it needs.
//
// benchtray builds app/feedkey and helper/feedkey-keyring into a temporary
// directory, starts a private D-Bus session with gnome-keyring
// (internal/testbus) and, in this process, the Azure (Entra ID + DevOps)
// and Package Manager simulators on one CA. It adds three feeds: a static
// token, the Posit feed of PACKAGEMANAGER_ADDRESS signed in with
// PACKAGEMANAGER_IDENTITY_TOKEN_FILE and
// an Azure feed signed in with AZURE_DEVOPS_EXT_PAT, none needing a person.
// It then starts the tray (`feedkey` with no arguments), waits until its
// control socket answers, lets it settle and samples /proc/PID once per
// interval over the window: VmRSS (median and peak), utime+stime (CPU
// seconds and % of one core) and context switches of all its threads
// (voluntary switches approximate wake-ups). It prints the figures with
// PASS or FAIL against the targets; the exit status is 0 whatever they say
// unless -strict is given, and 1 when the benchmark itself cannot run.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/feedkey/feedkey/control"
	"github.com/feedkey/feedkey/internal/testbin"
	"github.com/feedkey/feedkey/internal/testbus"
	"github.com/feedkey/feedkey/simulator"
)

// The feeds.
const (
	tokenFeedURL = "https://pypi.bench.example/simple/"
	tokenSecret  = "bench-static-token-0123456789abcdef"
	azTenant     = "6f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7"
	azOrg        = "bench"
	azFeed       = "py"
	azPAT        = "bench-ext-pat-0123456789abcdef"
)

// SPEC §10 targets.
const (
	maxRSSBytes    = 40_000_000 // 40 MB
	maxCPUFraction = 0.01       // of one core over the window
	// The idle targets of issue 16, with 100 feeds.
	maxCPUPerMinute     = 5.0 // ms
	maxWakeupsPerMinute = 100
)

// Timeouts of the setup steps.
const (
	upTimeout   = 30 * time.Second
	stopTimeout = 5 * time.Second
)

type options struct {
	duration, settle, interval time.Duration
	feeds                      int // 3 and more: the rest are static-token feeds
	strict                     bool
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "length of the measured idle window")
	flag.DurationVar(&o.settle, "settle", 5*time.Second, "wait after the tray is up before measuring")
	flag.DurationVar(&o.interval, "interval", time.Second, "time between samples")
	flag.IntVar(&o.feeds, "feeds", 3, "feeds in the config (at least 3: a token, a Posit and an Azure feed; more are static-token feeds)")
	flag.BoolVar(&o.strict, "strict", false, "exit with status 1 when a target is missed")
	flag.Parse()
	if flag.NArg() > 0 || o.feeds < 3 || o.duration < time.Second || o.settle < 0 || o.interval <= 0 || o.interval > o.duration {
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
		fmt.Fprintln(os.Stderr, "benchtray:", err)
		os.Exit(1)
	}
	if !pass && o.strict {
		os.Exit(1)
	}
}

// run does the whole benchmark and reports whether every target was met.
// Everything it starts or creates is stopped and removed before it returns.
func run(ctx context.Context, o options) (pass bool, err error) {
	tmp, err := os.MkdirTemp("", "feedkey-benchtray-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)

	bin := filepath.Join(tmp, "bin")
	fmt.Println("building ./app/feedkey and ./helper/feedkey-keyring ...")
	if _, err := testbin.BuildTo(ctx, bin); err != nil {
		return false, err
	}
	feedkey := filepath.Join(bin, "feedkey")

	fmt.Println("starting a private D-Bus session with gnome-keyring ...")
	session, stopSession, err := testbus.StartMain(testbus.Options{})
	if err != nil {
		return false, err
	}
	defer stopSession()

	fmt.Println("starting the Azure and Package Manager simulators ...")
	sims, err := startSimulators()
	if err != nil {
		return false, err
	}
	defer sims.close()

	env, socket, err := prepare(tmp, session, sims)
	if err != nil {
		return false, err
	}
	fmt.Println("adding and signing in three feeds ...")
	if err := addFeeds(ctx, env, feedkey, sims, o.feeds); err != nil {
		return false, err
	}

	fmt.Println("starting the tray ...")
	tray, err := startTray(ctx, env, feedkey, filepath.Join(tmp, "tray.log"))
	if err != nil {
		return false, err
	}
	defer tray.stop()
	if err := tray.waitUp(ctx, socket); err != nil {
		return false, err
	}
	fmt.Printf("tray up (pid %d); settling %s, then sampling every %s for %s ...\n", tray.pid(), o.settle, o.interval, o.duration)
	if err := tray.sleep(ctx, o.settle); err != nil {
		return false, err
	}
	reqsBefore := sims.requests()
	m, err := measure(ctx, tray, o)
	if err != nil {
		return false, err
	}
	m.requests = sims.requests() - reqsBefore
	fmt.Println()
	return report(os.Stdout, o, m), nil
}

// simulators are the simulated services, all on one CA.
type simulators struct {
	az                    *simulator.Azure
	ppm                   *simulator.PPM
	ppmSrv                *simulator.Server
	entraRec, devopsRec   *simulator.Recorder
	ppmRec                *simulator.Recorder
	idToken, ppmIndexURL  string
	azFeedURL             string
	devopsHost, entraHost string
}

func startSimulators() (*simulators, error) {
	s := &simulators{entraRec: new(simulator.Recorder), devopsRec: new(simulator.Recorder), ppmRec: new(simulator.Recorder)}
	az, err := simulator.StartAzure(&simulator.Entra{Recorder: s.entraRec}, &simulator.DevOps{Recorder: s.devopsRec})
	if err != nil {
		return nil, err
	}
	s.az = az
	az.Entra.AddTenant(azTenant)
	az.DevOps.AddOrg(azOrg, azTenant)
	az.DevOps.AddFeed(azOrg, "", azFeed)
	s.ppm = &simulator.PPM{Recorder: s.ppmRec}
	if s.ppmSrv, err = simulator.NewServerWithCA(az.CA, s.ppm); err != nil {
		az.Close()
		return nil, err
	}
	s.idToken = s.ppm.IssueIDToken("bench")
	s.ppmIndexURL = s.ppmSrv.URL + simulator.PPMIndexPath
	s.azFeedURL = az.FeedURL(azOrg, "", azFeed)
	s.devopsHost = strings.TrimPrefix(az.DevOpsURL, "https://")
	s.entraHost = strings.TrimPrefix(az.EntraURL, "https://")
	return s, nil
}

// requests returns how many requests the simulators have served so far.
func (s *simulators) requests() int {
	return len(s.entraRec.Requests()) + len(s.devopsRec.Requests()) + len(s.ppmRec.Requests())
}

func (s *simulators) close() {
	s.ppmSrv.Close()
	s.az.Close()
}

// prepare writes the CA, the identity token and the config's trust table
// into tmp and returns the environment of every feedkey process and the
// control socket's path.
func prepare(tmp string, session *testbus.Session, sims *simulators) (env []string, socket string, err error) {
	caFile := filepath.Join(tmp, "ca.pem")
	if err := sims.az.CA.WriteFile(caFile); err != nil {
		return nil, "", err
	}
	idFile := filepath.Join(tmp, "id-token")
	if err := os.WriteFile(idFile, []byte(sims.idToken), 0o600); err != nil {
		return nil, "", err
	}
	cfg := filepath.Join(tmp, "config.toml")
	trust := fmt.Sprintf("[trust]\nazure_feed_hosts = [%q]\nazure_authority_hosts = [%q]\nazure_token_hosts = [%q]\n",
		sims.devopsHost, sims.entraHost, sims.devopsHost)
	if err := os.WriteFile(cfg, []byte(trust), 0o600); err != nil {
		return nil, "", err
	}
	runDir := filepath.Join(tmp, "run")
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return nil, "", err
	}
	socket = filepath.Join(runDir, "control.sock")
	// exec.Cmd keeps the last of duplicate variables: these override
	// whatever the machine exports.
	env = append(session.Env(os.Environ()),
		"FEEDKEY_CONFIG="+cfg,
		"FEEDKEY_SYSTEM_CONFIG=",
		"FEEDKEY_SOCKET="+socket,
		"SSL_CERT_FILE="+caFile,
		"SSL_CERT_DIR=",
		"DISPLAY=", "WAYLAND_DISPLAY=", "CI=", "FEEDKEY_NONINTERACTIVE=",
		// The identity token file goes only to the server this names; it
		// is also the Posit feed (id "packagemanager").
		"PACKAGEMANAGER_ADDRESS="+sims.ppmSrv.URL,
		"PACKAGEMANAGER_IDENTITY_TOKEN_FILE="+idFile,
		"AZURE_DEVOPS_EXT_PAT="+azPAT,
		"AZURE_CLIENT_ID=", "AZURE_TENANT_ID=", "AZURE_CLIENT_SECRET=", "AZURE_FEDERATED_TOKEN_FILE=",
		"KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN=", "AZURE_DEVOPS_PAT_DURATION=",
	)
	return env, socket, nil
}

// addFeeds adds the three feeds, signs in the two that need it, adds n-3
// more static-token feeds, and checks that `feedkey status` shows all valid.
func addFeeds(ctx context.Context, env []string, feedkey string, sims *simulators, n int) error {
	steps := []struct {
		stdin string
		args  []string
	}{
		{tokenSecret + "\n", []string{"add", tokenFeedURL, "--kind", "token", "--name", "pypi"}},
		{"", []string{"login", "packagemanager"}},
		{"", []string{"add", sims.azFeedURL, "--name", azOrg}},
		{"", []string{"login", azOrg}},
	}
	for i := range n - 3 {
		steps = append(steps, struct {
			stdin string
			args  []string
		}{fmt.Sprintf("token-%d\n", i), []string{"add", fmt.Sprintf("https://pypi%03d.bench.example/simple/", i), "--kind", "token"}})
	}
	for _, s := range steps {
		if _, err := runCmd(ctx, env, s.stdin, feedkey, s.args...); err != nil {
			return err
		}
	}
	out, err := runCmd(ctx, env, "", feedkey, "status", "--json")
	if err != nil {
		return err
	}
	var st struct {
		Feeds []struct {
			ID, Kind, State string
			Expires         *time.Time
		}
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return fmt.Errorf("feedkey status --json: %w", err)
	}
	var kinds []string
	for _, f := range st.Feeds {
		if f.State != "valid" {
			return fmt.Errorf("feed %s (%s) is %s after sign-in", f.ID, f.Kind, f.State)
		}
		k := f.ID + " (" + f.Kind
		if f.Expires != nil {
			k += fmt.Sprintf(", expires in %s", time.Until(*f.Expires).Round(time.Minute))
		}
		kinds = append(kinds, k+")")
	}
	if len(st.Feeds) != n {
		return fmt.Errorf("feedkey status lists %d feeds, want %d", len(st.Feeds), n)
	}
	if len(kinds) > 4 {
		kinds = append(kinds[:3], fmt.Sprintf("and %d static-token feeds", len(kinds)-3))
	}
	fmt.Println("  feeds, all valid:", strings.Join(kinds, ", "))
	return nil
}

// runCmd runs name with args in env, feeding it stdin, and returns its
// standard output.
func runCmd(ctx context.Context, env []string, stdin, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w; stderr: %q", filepath.Base(name), strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// trayProc is the running tray.
type trayProc struct {
	cmd    *exec.Cmd
	log    *os.File
	exited chan struct{} // closed when it has exited
	err    error         // cmd.Wait's error, once exited is closed
}

func startTray(ctx context.Context, env []string, feedkey, logPath string) (*trayProc, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(feedkey)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive benchtray
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start the tray: %w", err)
	}
	t := &trayProc{cmd: cmd, log: log, exited: make(chan struct{})}
	go func() {
		t.err = cmd.Wait()
		close(t.exited)
	}()
	return t, nil
}

func (t *trayProc) pid() int { return t.cmd.Process.Pid }

// died returns the error for a tray that exited on its own, with its output.
func (t *trayProc) died() error {
	out, _ := os.ReadFile(t.log.Name())
	return fmt.Errorf("the tray exited (%v); its output:\n%s", t.err, out)
}

// waitUp waits until the tray answers a ping on socket.
func (t *trayProc) waitUp(ctx context.Context, socket string) error {
	ctx, cancel := context.WithTimeout(ctx, upTimeout)
	defer cancel()
	c := control.Client{Path: socket}
	for {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		pid, err := c.Ping(pctx)
		pcancel()
		switch {
		case err == nil && pid == t.pid():
			return nil
		case err == nil:
			return fmt.Errorf("the control socket %s is answered by pid %d, not the tray (pid %d)", socket, pid, t.pid())
		}
		select {
		case <-t.exited:
			return t.died()
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				return fmt.Errorf("the tray did not answer on %s within %s: %v", socket, upTimeout, err)
			}
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// sleep waits for d, failing if the tray exits or ctx ends.
func (t *trayProc) sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-t.exited:
		return t.died()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop ends the tray: SIGTERM, then SIGKILL if it lingers.
func (t *trayProc) stop() {
	defer t.log.Close()
	select {
	case <-t.exited:
		return
	default:
	}
	t.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-t.exited:
	case <-time.After(stopTimeout):
		t.cmd.Process.Kill()
		<-t.exited
	}
}

// measurement is what the idle window showed.
type measurement struct {
	samples              []sample
	hwm                  int64 // VmHWM at the end, KiB
	rssAnon, rssFile     int64 // at the end, KiB
	voluntary, involunt  int64 // context switches over the window, all threads
	cpuSeconds, wallSecs float64
	cpuNanos             int64 // schedstat's CPU time over the window, all threads
	requests             int   // simulator requests during the window
}

// measure samples the tray every o.interval for o.duration.
func measure(ctx context.Context, t *trayProc, o options) (measurement, error) {
	var m measurement
	pid := t.pid()
	sw := newSwitches()
	first, err := take(pid, sw)
	if err != nil {
		return m, err
	}
	vol0, invol0 := sw.totals()
	cpu0 := sw.cpu()
	m.samples = append(m.samples, first)
	ticker := time.NewTicker(o.interval)
	defer ticker.Stop()
	end := first.at.Add(o.duration)
	for {
		select {
		case <-ticker.C:
		case <-t.exited:
			return m, t.died()
		case <-ctx.Done():
			return m, ctx.Err()
		}
		s, err := take(pid, sw)
		if err != nil {
			return m, err
		}
		m.samples = append(m.samples, s)
		if !s.at.Before(end.Add(-o.interval / 2)) {
			break
		}
	}
	st, err := readStatus(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	m.hwm, m.rssAnon, m.rssFile = st["VmHWM"], st["RssAnon"], st["RssFile"]
	vol1, invol1 := sw.totals()
	m.voluntary, m.involunt = vol1-vol0, invol1-invol0
	m.cpuNanos = sw.cpu() - cpu0
	last := m.samples[len(m.samples)-1]
	m.wallSecs = last.at.Sub(first.at).Seconds()
	m.cpuSeconds = float64(last.cpuTicks-first.cpuTicks) / float64(clockTicks())
	return m, nil
}

// report prints the figures and targets and returns whether all were met.
func report(w io.Writer, o options, m measurement) bool {
	rss := make([]int64, len(m.samples))
	for i, s := range m.samples {
		rss[i] = s.rss
	}
	slices.Sort(rss)
	med, peak := rss[len(rss)/2], rss[len(rss)-1]
	if len(rss)%2 == 0 {
		med = (rss[len(rss)/2-1] + rss[len(rss)/2]) / 2
	}
	perMin := func(n int64) float64 { return float64(n) * 60 / m.wallSecs }
	cpuPct := 100 * m.cpuSeconds / m.wallSecs
	cpuLimit := maxCPUFraction * m.wallSecs

	rssOK := peak*1024 <= maxRSSBytes
	cpuOK := m.cpuSeconds <= cpuLimit
	cpuMin := float64(m.cpuNanos) / 1e6 * 60 / m.wallSecs
	wakeMin := perMin(m.voluntary)
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}

	fmt.Fprintf(w, "feedkey tray idle, %d feeds (token, posit, azure, and %d more static-token feeds): %d samples over %.1f s, after %s settling\n\n",
		o.feeds, o.feeds-3, len(m.samples), m.wallSecs, o.settle)
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tvalue\ttarget\t")
	fmt.Fprintf(tw, "RSS median (VmRSS)\t%s\t\t\n", mb(med))
	fmt.Fprintf(tw, "RSS peak (VmRSS)\t%s\t≤ %s\t%s\n", mb(peak), mb(maxRSSBytes/1024), verdict(rssOK))
	fmt.Fprintf(tw, "RSS high-water (VmHWM, since start)\t%s\t\t\n", mb(m.hwm))
	fmt.Fprintf(tw, "  anonymous / file-backed at end\t%s / %s\t\t\n", mb(m.rssAnon), mb(m.rssFile))
	fmt.Fprintf(tw, "threads\t%d\t\t\n", m.samples[len(m.samples)-1].threads)
	fmt.Fprintf(tw, "CPU time (user+sys)\t%.3f s\t≤ %.2f s\t%s\n", m.cpuSeconds, cpuLimit, verdict(cpuOK))
	fmt.Fprintf(tw, "CPU, %% of one core\t%.3f %%\t≤ %.0f %%\t\n", cpuPct, 100*maxCPUFraction)
	fmt.Fprintf(tw, "CPU per minute (clock ticks)\t%.1f ms\t\t\n", 1000*m.cpuSeconds*60/m.wallSecs)
	fmt.Fprintf(tw, "CPU per minute (schedstat, ns)\t%.2f ms\t≤ %.0f ms\t%s\n", cpuMin, maxCPUPerMinute, verdict(cpuMin <= maxCPUPerMinute))
	fmt.Fprintf(tw, "voluntary switches (≈ wake-ups)\t%d (%.0f/min)\t≤ %d/min\t%s\n", m.voluntary, wakeMin, maxWakeupsPerMinute, verdict(wakeMin <= maxWakeupsPerMinute))
	fmt.Fprintf(tw, "involuntary switches\t%d (%.0f/min)\t\t\n", m.involunt, perMin(m.involunt))
	fmt.Fprintf(tw, "simulator requests in window\t%d\t\t\n", m.requests)
	tw.Flush()
	for line := range strings.Lines(table.String()) {
		fmt.Fprintln(w, strings.TrimRight(line, " \n"))
	}

	// The per-minute targets are issue 16's for 100 feeds; with fewer the
	// tray does less.
	pass := rssOK && cpuOK && cpuMin <= maxCPUPerMinute && wakeMin <= maxWakeupsPerMinute
	fmt.Fprintf(w, "\nSPEC §10 tray idle: %s\n", verdict(pass))
	return pass
}

// mb formats KiB as decimal megabytes, the unit of the SPEC's target.
func mb(kib int64) string {
	return fmt.Sprintf("%.1f MB", float64(kib)*1024/1e6)
}
