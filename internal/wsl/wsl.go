// Package wsl lets feedkey's Linux programs, inside WSL, hand their work to
// the Windows feedkey (the store "windows", SPEC §2.4), as Git Credential
// Manager's WSL mode does: the Windows browser, the Windows sign-in and the
// device state Conditional Access checks are used, and Linux and Windows
// share one sign-in and one set of feeds (the Windows feedkey's).
package wsl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Backend is the store name that asks for delegation.
const Backend = "windows"

// ErrNotInstalled means no Windows feedkey was found.
var ErrNotInstalled = errors.New("the Windows feedkey (feedkey.exe) was not found: install it on Windows (`feedkey install` there), or set FEEDKEY_WINDOWS to its path")

// ErrNotWSL means the store "windows" was asked for outside WSL.
var ErrNotWSL = errors.New(`the store "windows" hands credentials to the Windows feedkey, which only works inside WSL`)

// ErrTooLong means a Windows program answered more than MaxOutput bytes.
var ErrTooLong = errors.New("the Windows feedkey answered too much")

// MaxOutput bounds what is read of a Windows program's answer: a
// credential, or `feedkey status`.
const MaxOutput = 1 << 20

// Running reports whether this is a WSL distribution: WSL sets
// WSL_DISTRO_NAME for every process it starts, and registers its interop
// with binfmt_misc (as WSLInterop-late in newer WSL 2 releases).
func Running(getenv func(string) string) bool {
	if getenv("WSL_DISTRO_NAME") != "" {
		return true
	}
	for _, p := range []string{"/proc/sys/fs/binfmt_misc/WSLInterop", "/proc/sys/fs/binfmt_misc/WSLInterop-late"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

// SafeArgs returns args with the password of any URL among them removed:
// a command line is visible to every process of the machine, and a service
// given as https://user:secret@host/ must not put the secret there. The
// user name stays (it is part of what the service names).
func SafeArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if !strings.Contains(a, "://") || !strings.Contains(a, "@") {
			continue
		}
		if u, err := url.Parse(a); err == nil && u.User != nil {
			if _, has := u.User.Password(); has {
				u.User = url.User(u.User.Username())
				out[i] = u.String()
			}
		}
	}
	return out
}

// Programs are the Windows programs feedkey hands work to.
type Programs struct {
	Feedkey string // feedkey.exe
	Helper  string // its keyring helper, beside it
	Via     string // how feedkey.exe was found, for doctor
}

// Find looks for the Windows feedkey: $FEEDKEY_WINDOWS (the path of
// feedkey.exe); feedkey.exe on PATH (WSL appends Windows' PATH unless
// appendWindowsPath is off); then where `feedkey install` puts it,
// %LOCALAPPDATA%\feedkey\bin, for every user of every drive under /mnt.
func Find(getenv func(string) string, lookPath func(string) (string, error)) (Programs, error) {
	if p := getenv("FEEDKEY_WINDOWS"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return Programs{}, fmt.Errorf("FEEDKEY_WINDOWS: %w", err)
		}
		return programs(p, "FEEDKEY_WINDOWS")
	}
	if p, err := lookPath("feedkey.exe"); err == nil {
		return programs(p, "PATH")
	}
	m, _ := filepath.Glob("/mnt/*/Users/*/AppData/Local/feedkey/bin/feedkey.exe")
	if len(m) > 0 {
		return programs(m[0], "the install directory")
	}
	return Programs{}, ErrNotInstalled
}

// programs finds the helper beside feedkey.exe: `keyring.exe` as `feedkey
// install` names it, or `feedkey-keyring.exe` as the archives do.
func programs(feedkey, via string) (Programs, error) {
	dir := filepath.Dir(feedkey)
	for _, name := range []string{"keyring.exe", "feedkey-keyring.exe"} {
		if h := filepath.Join(dir, name); isFile(h) {
			return Programs{Feedkey: feedkey, Helper: h, Via: via}, nil
		}
	}
	return Programs{}, fmt.Errorf("%s has no keyring.exe beside it: run `feedkey install` on Windows", feedkey)
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// Delegation decides, for the store asked for ("" or "auto", "windows", or
// another), whether to hand work to the Windows feedkey. "windows" must
// find it; "auto" uses it inside WSL when it is installed.
func Delegation(asked string, getenv func(string) string, lookPath func(string) (string, error)) (Programs, bool, error) {
	switch asked {
	case Backend:
		if !Running(getenv) {
			return Programs{}, false, ErrNotWSL
		}
		p, err := Find(getenv, lookPath)
		if err != nil {
			return Programs{}, false, err
		}
		return p, true, nil
	case "", "auto":
		if !Running(getenv) {
			return Programs{}, false, nil
		}
		if p, err := Find(getenv, lookPath); err == nil {
			return p, true, nil
		}
	}
	return Programs{}, false, nil
}

// Run runs a Windows program with args (never a secret: those go through
// stdin), stdin passed on and its stderr (sign-in prompts) to stderr, and
// returns its exit code and its stdout with Windows line ends made Unix
// ones. A program that answers more than MaxOutput bytes, or is still
// running at ctx's deadline, is an error.
func Run(ctx context.Context, prog string, args []string, stdin io.Reader, stderr io.Writer) (stdout []byte, code int, err error) {
	var out limited
	cmd := exec.CommandContext(ctx, prog, SafeArgs(args)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, crlfWriter{stderr}
	// A Windows program whose pipes outlive it must not hold us.
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	if out.over {
		return nil, 0, fmt.Errorf("%s: %w", filepath.Base(prog), ErrTooLong)
	}
	if ctx.Err() != nil {
		return nil, 0, fmt.Errorf("%s did not answer in time: %w", filepath.Base(prog), ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() >= 0 {
		return crlf(out.buf.Bytes()), ee.ExitCode(), nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("running the Windows feedkey: %w", err)
	}
	return crlf(out.buf.Bytes()), 0, nil
}

// limited keeps up to MaxOutput bytes and notes more.
type limited struct {
	buf  bytes.Buffer
	over bool
}

func (l *limited) Write(p []byte) (int, error) {
	if l.buf.Len()+len(p) > MaxOutput {
		l.over = true
		return 0, ErrTooLong
	}
	return l.buf.Write(p)
}

func crlf(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")) }

// crlfWriter turns Windows line ends into Unix ones on the way to w.
type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(p []byte) (int, error) {
	if _, err := c.w.Write([]byte(strings.ReplaceAll(string(p), "\r\n", "\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}
