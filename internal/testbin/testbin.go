// Package testbin builds feedkey's two programs for end-to-end tests, once
// per test process, so that tests run the real binaries as subprocesses.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
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

// Build builds the programs on first use and returns them. The directory is
// removed by [Cleanup], which a TestMain calls after m.Run.
func Build(t testing.TB) Bin {
	t.Helper()
	once.Do(func() { bin, errBin = build() })
	if errBin != nil {
		t.Fatalf("build feedkey: %v", errBin)
	}
	return bin
}

// Cleanup removes the built programs.
func Cleanup() {
	if bin.Dir != "" {
		os.RemoveAll(bin.Dir)
	}
}

func build() (Bin, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return Bin{}, fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	dir, err := os.MkdirTemp("", "feedkey-testbin-")
	if err != nil {
		return Bin{}, err
	}
	cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "./app/feedkey", "./helper/feedkey-keyring")
	cmd.Dir = root
	// As released: pure Go, which also starts faster (no dynamic loader).
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
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
		os.RemoveAll(dir)
		return Bin{}, err
	}
	return b, nil
}
