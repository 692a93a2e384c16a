// Package simtest holds test helpers for running real clients, such as pip,
// against the services of package simulator.
package simtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/feedkey/feedkey/simulator"
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

// StaticIndex serves wheels from a package index that wants token (user
// __token__, Basic auth), on loopback for the rest of the test: a
// static-token feed as pip meets it. It returns the index's /simple/ URL
// and the file of the CA that pip must trust (PipEnv). rec, if not nil,
// records the requests.
func StaticIndex(t testing.TB, token string, rec *simulator.Recorder, wheels ...simulator.Wheel) (indexURL, caFile string) {
	t.Helper()
	ix := &simulator.Index{Auth: simulator.BasicToken("__token__", token), Recorder: rec}
	for _, w := range wheels {
		if err := ix.Add(w); err != nil {
			t.Fatalf("wheel %s: %v", w.Name, err)
		}
	}
	srv, err := simulator.NewServer(ix)
	if err != nil {
		t.Fatalf("index server: %v", err)
	}
	t.Cleanup(srv.Close)
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := srv.CA.WriteFile(caFile); err != nil {
		t.Fatalf("CA file: %v", err)
	}
	return "https://" + srv.Addr() + "/simple/", caFile
}

// WithUser returns the https URL u with user in it, as pip is given an
// index URL whose password the keyring supplies.
func WithUser(u, user string) string {
	return strings.Replace(u, "https://", "https://"+user+"@", 1)
}
