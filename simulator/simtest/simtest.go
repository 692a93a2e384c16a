// Package simtest holds test helpers for running real clients, such as pip,
// against the services of package simulator.
package simtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Venv creates a Python virtual environment, with pip, in a temporary
// directory removed when the test ends, and returns the paths of its python
// and pip executables. It uses python3 from PATH; without one the test
// fails, because real pip is what these tests are about.
func Venv(t testing.TB) (python, pip string) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 with venv and pip is needed (build/test.sh installs it): %v", err)
	}
	dir := filepath.Join(t.TempDir(), "venv")
	cmd := exec.Command(py, "-m", "venv", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s -m venv: %v\n%s", py, err, out)
	}
	bin, exe := "bin", ""
	if runtime.GOOS == "windows" {
		bin, exe = "Scripts", ".exe"
	}
	python = filepath.Join(dir, bin, "python"+exe)
	pip = filepath.Join(dir, bin, "pip"+exe)
	for _, f := range []string{python, pip} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("virtual environment lacks %s: %v", filepath.Base(f), err)
		}
	}
	return python, pip
}

// PipEnv returns environment variables, to append to os.Environ(), that make
// pip trust only the CA in caFile and ignore the machine's pip configuration:
// configuration files, find-links and extra index URLs, the version check
// and interactive prompts. Later entries override earlier ones in
// exec.Cmd.Env, so callers can append their own settings.
func PipEnv(caFile string) []string {
	return []string{
		"PIP_CONFIG_FILE=" + os.DevNull,
		"PIP_FIND_LINKS=",
		"PIP_EXTRA_INDEX_URL=",
		"PIP_CERT=" + caFile,
		"REQUESTS_CA_BUNDLE=" + caFile,
		"SSL_CERT_FILE=" + caFile,
		"PIP_DISABLE_PIP_VERSION_CHECK=1",
		"PIP_NO_INPUT=1",
	}
}
