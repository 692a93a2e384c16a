//go:build linux

package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/internal/testbin"
	"github.com/feedkey/feedkey/internal/testbus"
	"github.com/feedkey/feedkey/simulator"
	"github.com/feedkey/feedkey/simulator/simtest"
)

// codeLine is the line feedkey prints for a device sign-in, wherever it runs.
var codeLine = regexp.MustCompile(`Sign in to feed (\S+): open (https://\S+) and enter the code (\S+) \((\d+ m|less than a minute) left\)`)

// approver watches output streams for feedkey's sign-in line and approves
// each code it sees once at the simulator, as the person would.
type approver struct {
	t   *testing.T
	ppm *simulator.PPM

	mu    sync.Mutex
	seen  map[string]bool
	lines []string
}

func (a *approver) watch(r io.Reader, out *bytes.Buffer) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		a.mu.Lock()
		out.WriteString(line + "\n")
		a.lines = append(a.lines, line)
		m := codeLine.FindStringSubmatch(line)
		first := m != nil && !a.seen[m[3]]
		if first {
			a.seen[m[3]] = true
		}
		a.mu.Unlock()
		if first {
			if err := a.ppm.Approve(m[3]); err != nil {
				a.t.Errorf("approve %s: %v", m[3], err)
			}
		}
	}
}

// startPipLike runs cmd as pip 26.2 runs its keyring helper: stdin from
// /dev/null, stdout and stderr captured, and no controlling terminal (so
// the sign-in line must come on stderr). It returns a function that waits
// for it and returns its stdout, stderr and error.
func (a *approver) startPipLike(cmd *exec.Cmd) func() (string, string, error) {
	a.t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdin = nil
	cmd.Stdout = &stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	pr, err := cmd.StderrPipe()
	if err != nil {
		a.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		a.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { a.watch(pr, &stderr); close(done) }()
	return func() (string, string, error) {
		<-done
		err := cmd.Wait()
		a.mu.Lock()
		defer a.mu.Unlock()
		return stdout.String(), stderr.String(), err
	}
}

// newPersonWorld is a Package Manager world with the feed "team" added and
// no browser that opens; interactive says whether a person may be there.
func newPersonWorld(t *testing.T, ppm *simulator.PPM, interactive bool) *positWorld {
	t.Helper()
	w := newPositWorld(t, ppm)
	w.setBrowser("fail")
	if interactive {
		w.setenv("FEEDKEY_NONINTERACTIVE", "")
		w.setenv("CI", "")
	}
	if r := w.feedkey("add", w.url, "--kind", "posit", "--name", "team"); r.Code != 0 {
		t.Fatalf("add: %s", r.Stderr)
	}
	return w
}

// TestSignInWithoutTray: no tray runs and no browser opens (an SSH login).
// pip's helper signs the person in itself: the feed, link, code and time
// left reach them on stderr, the test approves the code as they would, and
// pip gets its answer. Two helpers asking at once make one sign-in.
func TestSignInWithoutTray(t *testing.T) {
	ppm := &simulator.PPM{Interval: 1}
	w := newPersonWorld(t, ppm, true)
	a := &approver{t: t, ppm: ppm, seen: map[string]bool{}}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var waits []func() (string, string, error)
	for range 2 {
		cmd := exec.CommandContext(ctx, w.bin.Keyring, "--mode=creds", "--output=json", "get", w.url)
		cmd.Env = w.env
		waits = append(waits, a.startPipLike(cmd))
	}
	for i, wait := range waits {
		stdout, stderr, err := wait()
		t.Logf("helper %d told the person:\n%s", i, stderr)
		var got struct{ Username, Password string }
		if err != nil || json.Unmarshal([]byte(stdout), &got) != nil || got.Username != "__token__" || got.Password == "" {
			t.Errorf("helper %d: %v, stdout %q, stderr:\n%s", i, err, stdout, stderr)
		}
	}
	if n := ppm.DeviceSignIns(); n != 1 {
		t.Errorf("%d device sign-ins for two helpers asking at once, want 1", n)
	}
	a.mu.Lock()
	printed := strings.Join(a.lines, "\n")
	a.mu.Unlock()
	if m := codeLine.FindStringSubmatch(printed); m == nil || m[1] != "team" || !strings.Contains(m[2], w.srv.Addr()) {
		t.Errorf("no sign-in line naming feed team and the server's link:\n%s", printed)
	}
	if !strings.Contains(printed, "open the link on any device") {
		t.Errorf("the person was not told that no browser opened:\n%s", printed)
	}

	// Real pip, signed out again: it installs after the person approves.
	if r := w.feedkey("logout", "team"); r.Code != 0 {
		t.Fatalf("logout: %s", r.Stderr)
	}
	_, pip := simtest.Venv(t)
	cmd := exec.CommandContext(ctx, pip, "install", "--no-cache-dir", "--keyring-provider", "subprocess",
		"--index-url", "https://__token__@"+w.srv.Addr()+"/pypi-auth/latest/simple/", "ppm-demo")
	cmd.Env = w.env
	before := ppm.DeviceSignIns()
	if stdout, stderr, err := a.startPipLike(cmd)(); err != nil {
		t.Fatalf("pip install: %v\n%s\n%s", err, stdout, stderr)
	}
	if n := ppm.DeviceSignIns() - before; n != 1 {
		t.Errorf("pip made %d device sign-ins, want 1", n)
	}
}

// TestSignInNonInteractive: in CI nobody can approve a code: the helper
// says which command signs in, at once, and starts no sign-in.
func TestSignInNonInteractive(t *testing.T) {
	ppm := &simulator.PPM{Interval: 1}
	w := newPersonWorld(t, ppm, true)
	w.setenv("CI", "true") // alone: CI is reason enough
	cmd := exec.Command(w.bin.Keyring, "get", w.url, "__token__")
	cmd.Env = w.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), "feedkey login team") {
		t.Errorf("helper in CI: %v, stderr %q; want a failure naming `feedkey login team`", err, stderr.String())
	}
	if n := ppm.DeviceSignIns(); n != 0 {
		t.Errorf("%d device sign-ins in CI, want 0", n)
	}
}

// TestSignInHeadlessTray: the tray runs where no tray host would show it
// (a session bus without a panel): it says so in one line and runs without
// a menu. A helper's sign-in still reaches the person: the tray runs it and
// the helper prints the tray's feed, link, code and time left on stderr.
func TestSignInHeadlessTray(t *testing.T) {
	ppm := &simulator.PPM{Interval: 1}
	w := newPersonWorld(t, ppm, true)
	sock, err := os.MkdirTemp("", "fks")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sock) })
	w.setenv("FEEDKEY_SOCKET", filepath.Join(sock, "run", "control.sock"))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tray := exec.CommandContext(ctx, w.bin.Feedkey, "tray")
	tray.Env = w.env
	trayErr, err := tray.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := tray.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tray.Process.Kill(); tray.Wait() })
	first, err := bufio.NewReader(trayErr).ReadString('\n')
	if err != nil || !strings.Contains(first, "no system tray here") || !strings.Contains(first, "Running without a menu") {
		t.Fatalf("tray's first line = %q, %v; want it to say it runs without a menu", first, err)
	}
	go io.Copy(io.Discard, trayErr)
	testbin.WaitTray(t, filepath.Join(sock, "run", "control.sock"))

	a := &approver{t: t, ppm: ppm, seen: map[string]bool{}}
	var waits []func() (string, string, error)
	for range 2 {
		cmd := exec.CommandContext(ctx, w.bin.Keyring, "get", w.url, "__token__")
		cmd.Env = w.env
		waits = append(waits, a.startPipLike(cmd))
	}
	for i, wait := range waits {
		stdout, stderr, err := wait()
		t.Logf("helper %d told the person:\n%s", i, stderr)
		if err != nil || strings.TrimSpace(stdout) == "" {
			t.Errorf("helper %d: %v, stdout %q, stderr:\n%s", i, err, stdout, stderr)
		}
		if m := codeLine.FindStringSubmatch(stderr); m == nil || m[1] != "team" || !strings.HasPrefix(stderr, "feedkey-keyring: ") {
			t.Errorf("helper %d did not pass on the tray's sign-in line:\n%s", i, stderr)
		}
	}
	if n := ppm.DeviceSignIns(); n != 1 {
		t.Errorf("%d device sign-ins for two helpers asking at once, want 1", n)
	}
}

// TestSignInWithKernelKeyring: an SSH box with a bus but no Secret Service
// and no browser. The helper signs the person in on the terminal, keeps the
// credential in the kernel keyring, and a new process then uses it silently.
func TestSignInWithKernelKeyring(t *testing.T) {
	if !store.KeyctlAvailable() {
		t.Skip("the kernel keyring is blocked here (seccomp)")
	}
	ppm := &simulator.PPM{Interval: 1}
	w := newPersonWorld(t, ppm, true)
	bare := testbus.Start(t, testbus.Options{NoSecretService: true})
	w.env = append(bare.Env(w.env), "FEEDKEY_STORE=") // automatic: no Secret Service here
	if r := w.feedkey("add", w.url, "--kind", "posit", "--name", "team"); r.Code != 0 {
		t.Fatalf("add: %s", r.Stderr)
	}
	t.Cleanup(func() { w.feedkey("remove", "team") })
	a := &approver{t: t, ppm: ppm, seen: map[string]bool{}}
	cmd := exec.Command(w.bin.Keyring, "get", w.url, "__token__")
	cmd.Env = w.env
	stdout, stderr, err := a.startPipLike(cmd)()
	if err != nil || strings.TrimSpace(stdout) == "" || codeLine.FindString(stderr) == "" {
		t.Fatalf("sign-in through the helper: %v, stdout %q, stderr:\n%s", err, stdout, stderr)
	}
	before := ppm.DeviceSignIns()
	r := testbin.Run(t, w.env, "", w.bin.Keyring, "get", w.url, "__token__")
	if r.Code != 0 || r.Stdout != stdout || ppm.DeviceSignIns() != before {
		t.Errorf("a new process: %d %q %q; want the same token, silently", r.Code, r.Stdout, r.Stderr)
	}
	if r := w.feedkey("status"); !strings.Contains(r.Stdout, "Store: keyctl") {
		t.Errorf("status does not name the kernel keyring:\n%s", r.Stdout)
	}
}
