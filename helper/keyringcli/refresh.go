package keyringcli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Refresher gets a fresh credential for service without prompting anyone,
// for a feed whose stored credential is missing or stale.
type Refresher func(ctx context.Context, service string) (user, password string, err error)

// refreshTimeout bounds a silent refresh: a token exchange or two over the
// network.
const refreshTimeout = 60 * time.Second

// FeedkeyToken is the [Refresher] of the installed helper: it runs
// `feedkey token --json SERVICE` (feedkey beside the helper, else on PATH),
// which refreshes silently when it can and never prompts (SPEC §1). The
// network code stays in feedkey; the helper does not link it.
func FeedkeyToken(ctx context.Context, service string) (string, string, error) {
	exe, err := feedkeyPath()
	if err != nil {
		return "", "", err
	}
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "token", "--json", service)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			// feedkey already said what to do, in one line.
			return "", "", errors.New(strings.TrimPrefix(lastLine(msg), "feedkey: "))
		}
		return "", "", fmt.Errorf("run %s token: %w", exe, err)
	}
	var out struct{ Username, Password string }
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || out.Password == "" {
		return "", "", fmt.Errorf("%s token gave no credential", exe)
	}
	return out.Username, out.Password, nil
}

// signInTimeout bounds a sign-in on the terminal: a device code lives 15
// minutes, and another process's sign-in may be waited for first.
const signInTimeout = 20 * time.Minute

// FeedkeySignIn is the interactive [Refresher] of the installed helper: it
// runs `feedkey token --json --sign-in SERVICE`, which refreshes silently
// when it can and otherwise signs the person in, telling them on the
// terminal (or the helper's stderr) which feed, which link, which code and
// how long is left; feedkey's lock makes it one sign-in per credential
// however many helpers ask.
func FeedkeySignIn(ctx context.Context, service string) (string, string, error) {
	exe, err := feedkeyPath()
	if err != nil {
		return "", "", err
	}
	ctx, cancel := context.WithTimeout(ctx, signInTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "token", "--json", "--sign-in", service)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	// The child talks to the person directly; its last word on failure is
	// the helper's too.
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", "", fmt.Errorf("no sign-in within %v", signInTimeout)
		}
		return "", "", errExit(1)
	}
	var out struct{ Username, Password string }
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || out.Password == "" {
		return "", "", fmt.Errorf("%s token gave no credential", exe)
	}
	return out.Username, out.Password, nil
}

// StartFeedkeyToken starts `feedkey token SERVICE` in the background and
// returns at once: the stored token was still valid and has been served; the
// refresh (one per machine, under feedkey's lock) lands in the store for the
// next caller. The child shares no pipe with the helper, so the tool that
// runs the helper does not wait for it.
func StartFeedkeyToken(_ context.Context, service string) error {
	exe, err := feedkeyPath()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, "token", "--json", service)
	cmd.SysProcAttr = detached()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s token: %w", exe, err)
	}
	return cmd.Process.Release()
}

func feedkeyPath() (string, error) {
	name := "feedkey"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", errors.New("feedkey is not on PATH: it refreshes credentials for the helper")
	}
	return p, nil
}

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
