package keyringcli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/feedkey/feedkey/internal/sibling"
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
	return runToken(ctx, refreshTimeout, nil, "token", "--json", service)
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
	// The child talks to the person directly; its last word on failure is
	// the helper's too.
	return runToken(ctx, signInTimeout, os.Stderr, "token", "--json", "--sign-in", service)
}

// runToken runs feedkey with args, within timeout, and reads the credential
// it prints as JSON. With stderr nil, feedkey's last line of stderr becomes
// the error; else stderr gets all of it.
func runToken(ctx context.Context, timeout time.Duration, stderr io.Writer, args ...string) (string, string, error) {
	exe, err := feedkeyPath()
	if err != nil {
		return "", "", err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	var stdout, captured bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	if stderr == nil {
		cmd.Stderr = &captured
	}
	if err := cmd.Run(); err != nil {
		switch msg := strings.TrimSpace(captured.String()); {
		case ctx.Err() != nil:
			return "", "", fmt.Errorf("%s %s: no answer within %v", exe, args[0], timeout)
		case msg != "":
			// feedkey already said what to do, in one line.
			return "", "", errors.New(strings.TrimPrefix(lastLine(msg), "feedkey: "))
		case stderr != nil:
			return "", "", errExit(1) // said on stderr already
		}
		return "", "", fmt.Errorf("run %s %s: %w", exe, args[0], err)
	}
	var out struct{ Username, Password string }
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || out.Password == "" {
		return "", "", fmt.Errorf("%s %s gave no credential", exe, args[0])
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
	self, _ := os.Executable()
	p, err := sibling.Find(self, "feedkey", exec.LookPath)
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
