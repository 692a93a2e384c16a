//go:build linux

package main_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/feedkey/feedkey/internal/testbin"
	"github.com/feedkey/feedkey/internal/testbus"
	"github.com/feedkey/feedkey/simulator/simtest"
)

// TestDemo runs `feedkey demo --headless` and pastes its numbered steps
// into a shell, as a newcomer would: `eval "$(feedkey demo env)"`, then the
// two pip commands, whose sign-ins the browser (xdg-open, approving like a
// person) completes, then `feedkey status`. Ctrl-C stops the demo and
// removes its keychain entries and its state.
func TestDemo(t *testing.T) {
	bin := testbin.Build(t)
	s := testbus.Start(t, testbus.Options{})
	browserDir := t.TempDir()
	os.WriteFile(filepath.Join(browserDir, "xdg-open"), []byte(trayBrowser), 0o755)
	env := append(s.Env(os.Environ()), simtest.PipEnv(os.DevNull)...)
	env = append(env, "DISPLAY=", "CI=", "FEEDKEY_NONINTERACTIVE=", "FEEDKEY_CONFIG=", "FEEDKEY_SOCKET=",
		"XDG_CACHE_HOME="+t.TempDir(), "PATH="+browserDir+":/usr/bin:/bin")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	demo := exec.CommandContext(ctx, bin.Feedkey, "demo", "--headless")
	demo.Env = env
	out, _ := demo.StdoutPipe()
	if err := demo.Start(); err != nil {
		t.Fatal(err)
	}
	// The steps: "  N. what to do" followed by indented command lines.
	var steps [][]string
	var all []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		all = append(all, line)
		switch {
		case regexp.MustCompile(`^  \d+\. `).MatchString(line):
			steps = append(steps, nil)
		case strings.HasPrefix(line, "       ") && len(steps) > 0:
			steps[len(steps)-1] = append(steps[len(steps)-1], strings.TrimSpace(line))
		}
		if len(steps) == 5 && len(steps[4]) > 0 {
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if len(steps) != 5 {
		t.Fatalf("demo printed %d steps, want 5:\n%s", len(steps), strings.Join(all, "\n"))
	}
	for _, line := range all {
		if len(line) > 110 {
			t.Errorf("a line of %d characters (want a short paste): %q", len(line), line)
		}
	}

	// Step 1 makes a venv with the machine's python3; the test's venv
	// (with pip >= 23.1) stands in for it.
	python, _ := simtest.Venv(t)
	script := "set -e\n. " + filepath.Join(filepath.Dir(python), "activate") + "\n"
	for _, step := range steps[1:] {
		script += strings.Join(step, "\n") + "\n"
	}
	run := exec.CommandContext(ctx, "sh", "-c", script)
	run.Env = env
	run.WaitDelay = time.Second
	pasted, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("the demo's steps failed: %v\n%s\n%s", err, script, pasted)
	}
	for _, want := range []string{"Successfully installed feedkey-demo-azure", "Successfully installed feedkey-demo-ppm", "demo-azure", "demo-ppm"} {
		if !strings.Contains(string(pasted), want) {
			t.Errorf("the steps' output lacks %q:\n%s", want, pasted)
		}
	}
	if strings.Count(string(pasted), "valid (") != 2 {
		t.Errorf("feedkey status does not show both feeds valid:\n%s", pasted)
	}

	demo.Process.Signal(syscall.SIGINT)
	if err := demo.Wait(); err != nil {
		t.Errorf("demo exit: %v", err)
	}
	m := regexp.MustCompile(`Package Manager +(https://\S+)`).FindStringSubmatch(strings.Join(all, "\n"))
	if m == nil {
		t.Fatalf("the demo did not say where Package Manager runs")
	}
	if items, _ := s.Items(positService(m[1])); len(items) != 0 {
		t.Errorf("demo left keychain items: %v", items)
	}
	env2 := exec.Command(bin.Feedkey, "demo", "env")
	env2.Env = env
	if out, err := env2.CombinedOutput(); err == nil || !strings.Contains(string(out), "no feedkey demo is running") {
		t.Errorf("demo env after the demo stopped: %v %q", err, out)
	}
}
