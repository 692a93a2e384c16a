// Package cli implements feedkey's command line: one file per verb, each an
// options struct and a run function that tests call without flag parsing.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/feedkey/feedkey/app/creds"
	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/azure"
	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/posit"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/auth/untrusted"
	"github.com/feedkey/feedkey/config"
	"github.com/feedkey/feedkey/control"
)

// Env holds what a command touches outside its arguments. [System] returns
// the real one; tests fill in buffers, a temporary config and a keychain.
type Env struct {
	In       io.Reader
	Out, Err io.Writer
	// InTTY reports whether In is a terminal (prompts then hide input).
	InTTY bool
	// ReadSecret reads a line from the terminal without echo; used when InTTY.
	ReadSecret func() (string, error)

	ConfigPath string
	Keychain   store.Keychain
	// Executable is the path of the running feedkey binary; the helper is
	// looked for beside it.
	Executable string
	Getenv     func(string) string
	LookPath   func(string) (string, error)
	Now        func() time.Time
	// OpenURL opens a page in the person's browser.
	OpenURL func(string) error
	// NewProvider returns the sign-in provider of a kind of feed, for the
	// config's trusted hosts; nil for kinds without one (static tokens).
	NewProvider func(kind feed.Kind, trust feed.Trust) auth.Provider
}

// creds returns the credential manager over env's keychain and providers.
func (env *Env) creds() *creds.Manager {
	return &creds.Manager{Keychain: env.Keychain, NewProvider: env.NewProvider, Now: env.Now}
}

// providers makes the real providers.
func providers(kind feed.Kind, trust feed.Trust) auth.Provider {
	switch kind {
	case feed.Posit:
		return &posit.Client{}
	case feed.Azure:
		return &azure.Client{Trust: trust}
	}
	return nil
}

// System returns the Env of the real process.
func System() (*Env, error) {
	path, err := config.Path()
	if err != nil {
		return nil, err
	}
	exe, _ := os.Executable()
	return &Env{
		In:          os.Stdin,
		Out:         os.Stdout,
		Err:         os.Stderr,
		InTTY:       isTerminal(os.Stdin),
		ReadSecret:  readSecretTTY,
		ConfigPath:  path,
		Keychain:    store.OS{},
		Executable:  exe,
		Getenv:      os.Getenv,
		LookPath:    exec.LookPath,
		Now:         time.Now,
		OpenURL:     openBrowser,
		NewProvider: providers,
	}, nil
}

// mutates lists the commands after which a running tray should reload.
var mutates = map[string]bool{"add": true, "login": true, "logout": true, "remove": true, "refresh": true}

// usageError is bad command-line usage: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// errSilent reports failure whose explanation was already printed.
var errSilent = errors.New("")

type command struct {
	name, args, summary string
	run                 func(ctx context.Context, env *Env, args []string) error
}

func commands() []command {
	return []command{
		{"add", "URL [--kind token] [--name ID] [--username USER]", "add a feed; a token is read from stdin", runAdd},
		{"status", "[--json]", "show feeds and their credentials (never secrets)", runStatus},
		{"login", "FEED|ORG|URL [--device-code]", "sign in (Azure: browser or device code; Posit: device code; static: token from stdin)", runLogin},
		{"token", "URL [--json]", "print the credential for URL, refreshing it silently if needed", runToken},
		{"refresh", "[FEED]", "refresh credentials now, without prompting", runRefresh},
		{"logout", "FEED", "remove a feed's credential from the keychain", runLogout},
		{"remove", "FEED", "remove a feed from the config and its credential from the keychain", runRemove},
		{"doctor", "", "check the keychain, the config and which keyring pip will run", runDoctor},
		{"install-helper", "[--dir DIR] [--force]", "put the helper on PATH as `keyring`", runInstallHelper},
		{"tray", "", "run the tray app (also: feedkey with no arguments)", runTray},
		{"demo", "[--headless]", "try feedkey against a simulated Azure DevOps and Package Manager", runDemo},
	}
}

// Main runs feedkey with argv (without the program name) and returns the
// exit code: 0 success, 1 failure, 2 bad usage.
func Main(ctx context.Context, argv []string, env *Env) int {
	err := dispatch(ctx, env, argv)
	if err == nil && len(argv) > 0 && mutates[argv[0]] {
		changed(ctx)
	}
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(env.Err, "feedkey: %s\nRun 'feedkey help' for usage.\n", ue.msg)
		return 2
	case errors.Is(err, errSilent):
		return 1
	}
	fmt.Fprintf(env.Err, "feedkey: %s\n", untrusted.OneLine(err.Error(), 0))
	return 1
}

func dispatch(ctx context.Context, env *Env, argv []string) error {
	if len(argv) == 0 {
		return runTray(ctx, env, nil)
	}
	name := argv[0]
	switch name {
	case "help", "-h", "--help":
		printHelp(env.Out)
		return nil
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, env, argv[1:])
		}
	}
	return usagef("unknown command %q", name)
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "feedkey signs you in to private Python package feeds and keeps the tokens fresh.")
	fmt.Fprintln(w, "\nUsage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  feedkey %s %s\n      %s\n", c.name, c.args, c.summary)
	}
}

// newFlagSet returns a flag set that reports errors to its caller only.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses flags that may appear before, between or after the
// positional arguments, and returns the positionals.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// flag stops at the first positional (or consumes "--"): take it
		// and go on parsing what follows.
		if len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// exactArgs checks the number of positionals.
func exactArgs(cmd string, pos []string, names ...string) error {
	if len(pos) < len(names) {
		return usagef("%s: missing %s", cmd, strings.Join(names[len(pos):], " "))
	}
	if len(pos) > len(names) {
		return usagef("%s: unexpected argument %q", cmd, feed.Redact(pos[len(names)]))
	}
	return nil
}

// changed tells a running tray that the config or keychain changed, so its
// menu and schedule follow at once. No tray running is fine.
func changed(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_ = (&control.Client{}).Reload(ctx)
}
