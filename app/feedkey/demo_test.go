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

// TestDemo runs `feedkey demo --headless` and follows its printed
// instructions with real pip: the sign-in it suggests, then the pip command
// it prints. Ctrl-C stops it and removes its keychain entries.
func TestDemo(t *testing.T) {
	bin := testbin.Build(t)
	s := testbus.Start(t, testbus.Options{})
	browserDir := t.TempDir()
	os.WriteFile(filepath.Join(browserDir, "xdg-open"), []byte(trayBrowser), 0o755)
	env := append(s.Env(os.Environ()), simtest.PipEnv(os.DevNull)...)
	env = append(env, "DISPLAY=", "PATH="+browserDir+":"+bin.Dir+":/usr/bin:/bin")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	demo := exec.CommandContext(ctx, bin.Feedkey, "demo", "--headless")
	demo.Env = env
	out, _ := demo.StdoutPipe()
	if err := demo.Start(); err != nil {
		t.Fatal(err)
	}
	var pipLine, loginLine string
	sc := bufio.NewScanner(out)
	for (pipLine == "" || loginLine == "") && sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "env ") && strings.HasSuffix(line, "feedkey-demo-ppm"):
			pipLine = line
		case strings.Contains(line, "feedkey login demo-ppm"):
			loginLine = regexp.MustCompile("`([^`]*)`").FindStringSubmatch(line)[1]
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if pipLine == "" || loginLine == "" {
		t.Fatalf("demo printed no pip command or login hint")
	}
	run := func(cmdline string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		c := exec.CommandContext(ctx, "sh", "-c", "exec "+cmdline)
		c.Env = env
		c.WaitDelay = time.Second
		return c.CombinedOutput()
	}
	if out, err := run(loginLine); err != nil {
		t.Fatalf("%s: %v\n%s", loginLine, err, out)
	}
	_, pip := simtest.Venv(t)
	if out, err := run(strings.Replace(pipLine, " pip install ", " "+pip+" install --no-cache-dir ", 1)); err != nil {
		t.Fatalf("the demo's pip command: %v\n%s", err, out)
	}

	demo.Process.Signal(syscall.SIGINT)
	if err := demo.Wait(); err != nil {
		t.Errorf("demo exit: %v", err)
	}
	ppmAddr := "https://" + regexp.MustCompile(`127\.0\.0\.1:\d+`).FindString(pipLine)
	items, _ := s.Items(positService(ppmAddr))
	if len(items) != 0 {
		t.Errorf("demo left keychain items: %v", items)
	}
}
