// Package testbin builds feedkey's two programs for end-to-end tests, once
// per test process, so that tests run the real binaries as subprocesses.
package testbin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedkey/feedkey/control"
)

// Bin holds the paths of the built programs.
type Bin struct {
	Dir     string // holds all three; put it first on PATH
	Feedkey string // the feedkey program
	Helper  string // feedkey-keyring
	Keyring string // a copy of the helper named keyring, as pip looks for it
}

var (
	once   sync.Once
	bin    Bin
	errBin error
)

// Installed names the environment variable that points the tests at an
// installed feedkey instead of a fresh build: a directory holding `feedkey`
// and `keyring` (the .deb's /usr/lib/feedkey/bin). build/release-check.sh
// sets it to run the end-to-end tests against the installed package.
const Installed = "FEEDKEY_TEST_INSTALLED"

// Build builds the programs on first use and returns them (or the installed
// ones, see [Installed]). The directory is removed by [Cleanup], which a
// TestMain calls after m.Run.
func Build(t testing.TB) Bin {
	t.Helper()
	once.Do(func() {
		if dir := os.Getenv(Installed); dir != "" {
			bin, errBin = installed(dir)
			return
		}
		bin, errBin = build()
	})
	if errBin != nil {
		t.Fatalf("build feedkey: %v", errBin)
	}
	return bin
}

// installed returns the programs of an installed feedkey in dir.
func installed(dir string) (Bin, error) {
	b := Bin{Dir: dir, Feedkey: filepath.Join(dir, "feedkey"), Helper: filepath.Join(dir, "keyring"), Keyring: filepath.Join(dir, "keyring")}
	for _, p := range []string{b.Feedkey, b.Keyring} {
		if _, err := os.Stat(p); err != nil {
			return Bin{}, fmt.Errorf("%s=%s: %w", Installed, dir, err)
		}
	}
	return b, nil
}

// Cleanup removes the built programs (never an installed feedkey).
func Cleanup() {
	if bin.Dir != "" && os.Getenv(Installed) == "" {
		os.RemoveAll(bin.Dir)
	}
}

func build() (Bin, error) {
	dir, err := os.MkdirTemp("", "feedkey-testbin-")
	if err != nil {
		return Bin{}, err
	}
	b, err := BuildTo(context.Background(), dir)
	if err != nil {
		os.RemoveAll(dir)
	}
	return b, err
}

// ModuleRoot returns the directory of the feedkey module's go.mod.
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a Go module: run this from the feedkey repository")
	}
	return filepath.Dir(gomod), nil
}

// BuildTo builds feedkey and the helper into dir as build/build.sh does —
// pure Go, which also starts faster (no dynamic loader), and trimmed — and
// adds the helper's copy named keyring, as pip looks for it. Tests use
// [Build]; the benchmarks in build/ call this directly.
func BuildTo(ctx context.Context, dir string) (Bin, error) {
	root, err := ModuleRoot(ctx)
	if err != nil {
		return Bin{}, err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", dir+string(os.PathSeparator), "./app/feedkey", "./helper/feedkey-keyring")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return Bin{}, fmt.Errorf("go build: %v\n%s", err, out)
	}
	exe := ""
	if runtime.GOOS == "windows" {
		exe = ".exe"
	}
	b := Bin{
		Dir:     dir,
		Feedkey: filepath.Join(dir, "feedkey"+exe),
		Helper:  filepath.Join(dir, "feedkey-keyring"+exe),
		Keyring: filepath.Join(dir, "keyring"+exe),
	}
	data, err := os.ReadFile(b.Helper)
	if err == nil {
		err = os.WriteFile(b.Keyring, data, 0o755)
	}
	if err != nil {
		return Bin{}, err
	}
	return b, nil
}

// WaitTray waits until a tray (or agent) started by the test answers on its
// control socket, up to 20 s.
func WaitTray(t testing.TB, socket string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := &control.Client{Path: socket}
	for {
		if _, err := c.Ping(ctx); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no tray answered on %s", socket)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
