package wsl

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func notFound(string) (string, error) { return "", errors.New("not found") }

// windowsDir makes a stand-in Windows install: feedkey.exe and keyring.exe
// (shell scripts) in a directory.
func windowsDir(t *testing.T, feedkey, helper string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{"feedkey.exe": feedkey, "keyring.exe": helper} {
		if body == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDelegation(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("WSL is Linux")
	}
	dir := windowsDir(t, "exit 0\n", "exit 0\n")
	exe := filepath.Join(dir, "feedkey.exe")
	onPath := func(name string) (string, error) {
		if name == "feedkey.exe" {
			return exe, nil
		}
		return "", errors.New("not found")
	}
	for _, tc := range []struct {
		name   string
		asked  string
		env    map[string]string
		look   func(string) (string, error)
		ok     bool
		err    error
		helper string
	}{
		{"auto outside WSL", "", map[string]string{"FEEDKEY_WINDOWS": exe}, onPath, false, nil, ""},
		{"auto in WSL, installed (PATH)", "", map[string]string{"WSL_DISTRO_NAME": "Ubuntu"}, onPath, true, nil, "keyring.exe"},
		{"auto in WSL, installed (FEEDKEY_WINDOWS)", "auto", map[string]string{"WSL_DISTRO_NAME": "Ubuntu", "FEEDKEY_WINDOWS": exe}, notFound, true, nil, "keyring.exe"},
		{"auto in WSL, not installed", "", map[string]string{"WSL_DISTRO_NAME": "Ubuntu"}, notFound, false, nil, ""},
		{"windows in WSL, not installed", "windows", map[string]string{"WSL_DISTRO_NAME": "Ubuntu"}, notFound, false, ErrNotInstalled, ""},
		{"windows outside WSL", "windows", map[string]string{"FEEDKEY_WINDOWS": exe}, onPath, false, ErrNotWSL, ""},
		{"another store in WSL", "keyctl", map[string]string{"WSL_DISTRO_NAME": "Ubuntu"}, onPath, false, nil, ""},
	} {
		p, ok, err := Delegation(tc.asked, env(tc.env), tc.look)
		if ok != tc.ok || !errors.Is(err, tc.err) || filepath.Base(p.Helper) != tc.helper && tc.helper != "" {
			t.Errorf("%s: %+v, %v, %v; want ok %v, err %v", tc.name, p, ok, err, tc.ok, tc.err)
		}
	}
	// feedkey.exe without a helper beside it is not an install.
	lone := windowsDir(t, "exit 0\n", "")
	if _, err := Find(env(map[string]string{"FEEDKEY_WINDOWS": filepath.Join(lone, "feedkey.exe")}), notFound); err == nil || !strings.Contains(err.Error(), "no keyring.exe") {
		t.Errorf("Find without keyring.exe: %v", err)
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the stand-ins are shell scripts")
	}
	dir := windowsDir(t, `case "$1" in
crlf) printf 'line one\r\nline two\r\n'; printf 'prompt\r\n' >&2;;
stdin) cat;;
code) exit 3;;
huge) head -c 2000000 /dev/zero;;
hang) sleep 30;;
esac
`, "")
	exe := filepath.Join(dir, "feedkey.exe")
	ctx := context.Background()
	var stderr strings.Builder
	out, code, err := Run(ctx, exe, []string{"crlf"}, nil, &stderr)
	if err != nil || code != 0 || string(out) != "line one\nline two\n" || stderr.String() != "prompt\n" {
		t.Errorf("crlf: %q %d %v, stderr %q", out, code, err, stderr.String())
	}
	if out, _, err := Run(ctx, exe, []string{"stdin"}, strings.NewReader("secret\r\n"), &stderr); err != nil || string(out) != "secret\n" {
		t.Errorf("stdin: %q %v", out, err)
	}
	if _, code, err := Run(ctx, exe, []string{"code"}, nil, &stderr); err != nil || code != 3 {
		t.Errorf("exit code: %d %v", code, err)
	}
	if _, _, err := Run(ctx, exe, []string{"huge"}, nil, &stderr); !errors.Is(err, ErrTooLong) {
		t.Errorf("huge answer: %v", err)
	}
	tctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, _, err := Run(tctx, exe, []string{"hang"}, nil, &stderr); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("hang: %v after %v", err, time.Since(start))
	}
}

func TestSafeArgs(t *testing.T) {
	t.Parallel()
	got := SafeArgs([]string{"get", "https://__token__:s3cret@h.example/simple/", "https://u@h.example/", "plain@text", "__token__"})
	want := []string{"get", "https://__token__@h.example/simple/", "https://u@h.example/", "plain@text", "__token__"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("SafeArgs = %q, want %q", got, want)
	}
}
