//go:build linux

package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedkey/feedkey/internal/testbin"
	"github.com/feedkey/feedkey/simulator"
	"github.com/feedkey/feedkey/simulator/simtest"
)

// Stand-ins for the Windows feedkey inside WSL: shell scripts named as the
// Windows programs, answering with Windows line ends and logging every call
// (argv, and stdin when given) to calls.log beside them.
const (
	standInHelper = `#!/bin/sh
d=$(dirname "$0")
printf 'keyring.exe %s\n' "$*" >> "$d/calls.log"
in=$(cat)
[ -n "$in" ] && printf 'keyring.exe stdin %s\n' "$in" >> "$d/calls.log"
case "$(cat "$d/mode" 2>/dev/null)" in
garbage) printf 'tok\000en\r\n'; exit 0 ;;
fail) printf 'sign-in needed for feed team: run feedkey login team\r\n' >&2; exit 1 ;;
esac
for a; do
  case "$a" in
  get) printf '%s\r\n' "$(cat "$d/token")"; exit 0 ;;
  set|del) exit 0 ;;
  esac
done
exit 2
`
	standInFeedkey = `#!/bin/sh
d=$(dirname "$0")
printf 'feedkey.exe %s\n' "$*" >> "$d/calls.log"
case "$1" in
--version) printf 'feedkey version 9.9.9 (windows/amd64)\r\n' ;;
status) printf 'team  token  valid\r\n' ;;
add) printf 'feedkey.exe stdin %s\n' "$(cat)" >> "$d/calls.log"; printf 'Added token feed team\r\n' ;;
*) exit 3 ;;
esac
`
)

// TestWSLDelegation: inside WSL (WSL_DISTRO_NAME) with the Windows feedkey
// installed, real pip installs through the Linux helper, which hands the
// lookup to the Windows helper; the CLI hands its credential commands to
// feedkey.exe; secrets go through stdin, never argv; a garbage answer is one
// clear line; outside WSL nothing is handed over.
func TestWSLDelegation(t *testing.T) {
	const token = "windows-side-token-4242"
	bin := testbin.Build(t)
	win := t.TempDir()
	for name, body := range map[string]string{"feedkey.exe": standInFeedkey, "keyring.exe": standInHelper, "token": token} {
		if err := os.WriteFile(filepath.Join(win, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	calls := func() string {
		b, _ := os.ReadFile(filepath.Join(win, "calls.log"))
		os.Remove(filepath.Join(win, "calls.log"))
		return string(b)
	}
	setMode := func(m string) { os.WriteFile(filepath.Join(win, "mode"), []byte(m), 0o644) }

	indexURL, caFile := simtest.StaticIndex(t, token, nil,
		simulator.Wheel{Name: "wsl-demo", Version: "1.0", Files: map[string]string{"wsl_demo/__init__.py": "VALUE = 'via Windows'\n"}})
	pipURL := simtest.WithUser(indexURL, "__token__")
	home := t.TempDir()
	linux := append(session.Env(os.Environ()), simtest.PipEnv(caFile)...)
	linux = append(linux, "HOME="+home, "FEEDKEY_CONFIG="+filepath.Join(home, "config.toml"), "FEEDKEY_SYSTEM_CONFIG=",
		"FEEDKEY_STORE=", "FEEDKEY_NONINTERACTIVE=1", "PATH="+bin.Dir+":/usr/bin:/bin")
	wslEnv := append(append([]string{}, linux...), "WSL_DISTRO_NAME=Ubuntu", "FEEDKEY_WINDOWS="+filepath.Join(win, "feedkey.exe"))

	t.Run("pip through the Windows helper", func(t *testing.T) {
		_, pip := simtest.Venv(t)
		cmd := exec.Command(pip, "install", "--no-cache-dir", "--keyring-provider", "subprocess",
			"--index-url", pipURL, "wsl-demo")
		cmd.Env = wslEnv
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pip install: %v\n%s", err, out)
		}
		log := calls()
		if !strings.Contains(log, "keyring.exe get "+indexURL) || strings.Contains(log, token) {
			t.Errorf("calls:\n%s", log)
		}
	})

	t.Run("answers and secrets", func(t *testing.T) {
		r := testbin.Run(t, wslEnv, "", bin.Keyring, "get", "https://x.example/simple/", "__token__")
		if r.Code != 0 || r.Stdout != token+"\n" {
			t.Errorf("get = %d %q %q", r.Code, r.Stdout, r.Stderr)
		}
		calls()
		if r := testbin.Run(t, wslEnv, "hunter2\n", bin.Keyring, "set", "other-app", "bob"); r.Code != 0 {
			t.Errorf("set = %d %q", r.Code, r.Stderr)
		}
		if log := calls(); !strings.Contains(log, "keyring.exe set other-app bob\nkeyring.exe stdin hunter2\n") {
			t.Errorf("set calls (the secret must come on stdin only):\n%s", log)
		}
		setMode("garbage")
		r = testbin.Run(t, wslEnv, "", bin.Keyring, "get", "https://x.example/simple/", "__token__")
		if r.Code != 1 || r.Stdout != "" || !strings.Contains(r.Stderr, "the Windows feedkey's answer: not text") || strings.Count(r.Stderr, "\n") != 1 {
			t.Errorf("garbage answer = %d %q %q", r.Code, r.Stdout, r.Stderr)
		}
		setMode("fail")
		r = testbin.Run(t, wslEnv, "", bin.Keyring, "get", "https://x.example/simple/", "__token__")
		if r.Code != 1 || r.Stdout != "" || r.Stderr != "sign-in needed for feed team: run feedkey login team\n" {
			t.Errorf("failing answer = %d %q %q", r.Code, r.Stdout, r.Stderr)
		}
		setMode("")
	})

	t.Run("the CLI", func(t *testing.T) {
		calls()
		r := testbin.Run(t, wslEnv, "", bin.Feedkey, "status")
		if r.Code != 0 || !strings.Contains(r.Stdout, "Store: windows") || !strings.Contains(r.Stdout, "team  token  valid\n") {
			t.Errorf("status = %d %q %q", r.Code, r.Stdout, r.Stderr)
		}
		r = testbin.Run(t, wslEnv, token+"\n", bin.Feedkey, "add", "https://x.example/simple/", "--kind", "token")
		log := calls()
		if r.Code != 0 || !strings.Contains(log, "feedkey.exe add https://x.example/simple/ --kind token\n") || !strings.Contains(log, "feedkey.exe stdin "+token) ||
			strings.Contains(strings.Split(log, "stdin")[0], token) {
			t.Errorf("add = %d %q; calls:\n%s", r.Code, r.Stderr, log)
		}
		r = testbin.Run(t, wslEnv, "", bin.Feedkey, "doctor")
		if !strings.Contains(r.Stdout, "windows: add, login") || !strings.Contains(r.Stdout, "feedkey version 9.9.9") {
			t.Errorf("doctor does not explain the store:\n%s", r.Stdout)
		}
	})

	t.Run("outside WSL nothing is handed over", func(t *testing.T) {
		calls()
		outside := append(append([]string{}, linux...), "FEEDKEY_WINDOWS="+filepath.Join(win, "feedkey.exe"))
		r := testbin.Run(t, outside, "", bin.Keyring, "get", "https://x.example/simple/", "__token__")
		if r.Code != 1 || r.Stdout != "" {
			t.Errorf("get outside WSL = %d %q", r.Code, r.Stdout)
		}
		if log := calls(); log != "" {
			t.Errorf("a Windows program ran outside WSL:\n%s", log)
		}
		r = testbin.Run(t, append(outside, "FEEDKEY_STORE=windows"), "", bin.Keyring, "get", "https://x.example/simple/", "__token__")
		if r.Code != 1 || !strings.Contains(r.Stderr, "only works inside WSL") {
			t.Errorf("store windows outside WSL = %d %q", r.Code, r.Stderr)
		}
	})

	t.Run("not installed", func(t *testing.T) {
		missing := append(append([]string{}, linux...), "WSL_DISTRO_NAME=Ubuntu", "FEEDKEY_STORE=windows")
		r := testbin.Run(t, missing, "", bin.Keyring, "get", "https://x.example/simple/", "__token__")
		if r.Code != 1 || !strings.Contains(r.Stderr, "feedkey.exe) was not found") {
			t.Errorf("store windows, not installed = %d %q", r.Code, r.Stderr)
		}
		r = testbin.Run(t, missing, "", bin.Feedkey, "status")
		if r.Code != 1 || !strings.Contains(r.Stderr, "feedkey.exe) was not found") {
			t.Errorf("status, not installed = %d %q", r.Code, r.Stderr)
		}
	})
}
