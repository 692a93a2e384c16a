// Package cli implements feedkey's command line: one file per verb, each an
// options struct and a run function that tests call without flag parsing.
package cli

import (
	"context"
	"errors"
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
	"github.com/feedkey/feedkey/auth/store/oskeychain"
	"github.com/feedkey/feedkey/auth/untrusted"
	"github.com/feedkey/feedkey/config"
	"github.com/feedkey/feedkey/control"
	"github.com/feedkey/feedkey/internal/version"
	"github.com/spf13/cobra"
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
	// Environ is the environment children start from (`feedkey exec`,
	// pip run by doctor); nil means none.
	Environ func() []string
	// LookupEnv reads the variables the config depends on
	// (FEEDKEY_SYSTEM_CONFIG, PACKAGEMANAGER_ADDRESS); nil means the
	// process environment.
	LookupEnv func(string) (string, bool)
	LookPath  func(string) (string, error)
	Now       func() time.Time
	// OpenURL opens a page in the person's browser.
	OpenURL func(string) error
	// NewProvider returns the sign-in provider of a kind of feed, for the
	// config's trusted hosts; nil for kinds without one (static tokens).
	NewProvider func(kind feed.Kind, trust feed.Trust) auth.Provider
}

// config loads the config with env's environment.
func (env *Env) config() (*config.Config, error) {
	return config.LoadEnv(env.ConfigPath, env.LookupEnv)
}

// environ returns the environment for a child process.
func (env *Env) environ() []string {
	if env.Environ == nil {
		return nil
	}
	return env.Environ()
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
	env := &Env{
		In:          os.Stdin,
		Out:         os.Stdout,
		Err:         os.Stderr,
		InTTY:       isTerminal(os.Stdin),
		ReadSecret:  readSecretTTY,
		ConfigPath:  path,
		Executable:  exe,
		Getenv:      os.Getenv,
		Environ:     os.Environ,
		LookupEnv:   os.LookupEnv,
		LookPath:    exec.LookPath,
		Now:         time.Now,
		OpenURL:     openBrowser,
		NewProvider: providers,
	}
	env.Keychain = store.Choose(func() string {
		if b := env.Getenv("FEEDKEY_STORE"); b != "" {
			return b
		}
		if cfg, err := env.config(); err == nil {
			return cfg.Store.Backend
		}
		return "" // the config's error is reported where it is used
	}, oskeychain.Keychain{})
	return env, nil
}

// mutates lists the commands after which a running tray should reload.
var mutates = map[string]bool{"add": true, "login": true, "logout": true, "remove": true, "refresh": true}

// usageError is bad command-line usage: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// errSilent reports failure whose explanation was already printed.
var errSilent = errors.New("")

// Main runs feedkey with argv (without the program name) and returns the
// exit code: 0 success, 1 failure, 2 bad usage.
func Main(ctx context.Context, argv []string, env *Env) int {
	if code, ok := runOnWindows(ctx, argv, env); ok {
		return code
	}
	root := newRootCmd(env)
	root.SetArgs(argv)
	root.SetIn(env.In)
	root.SetOut(env.Out)
	root.SetErr(env.Err)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil && cmd != nil && mutates[cmd.Name()] {
		changed(ctx)
	}
	var ue *usageError
	var child errChildExit
	switch {
	case err == nil:
		return 0
	case errors.As(err, &child):
		return int(child) // the command's own status; it said why
	case errors.As(err, &ue):
		fmt.Fprintf(env.Err, "feedkey: %s\nRun 'feedkey help' for usage.\n", ue.msg)
		return 2
	case errors.Is(err, errSilent):
		return 1
	}
	fmt.Fprintf(env.Err, "feedkey: %s\n", untrusted.OneLine(err.Error(), 0))
	return 1
}

// newRootCmd builds the command tree: one constructor per verb, each
// filling an options struct that its run function takes (cli/cli's shape),
// so tests call the run functions without flag parsing.
func newRootCmd(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:           "feedkey",
		Short:         "Sign in to private Python package feeds once, and keep the tokens fresh",
		Long:          "feedkey signs you in to private Python package feeds and keeps the tokens fresh.\nWith no command it starts the tray.",
		Version:       version.Get().String(),
		SilenceErrors: true,
		SilenceUsage:  true,
		// Reached only when argv names no command: none starts the tray,
		// anything else is a mistyped command.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q", feed.Redact(args[0]))
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(" (did you mean %q?)", s[0])
			}
			return &usageError{msg}
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return runTray(cmd.Context(), env) },
	}
	root.SuggestionsMinimumDistance = 2
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usagef("%s: %s", cmd.Name(), feed.Redact(err.Error()))
	})
	root.AddCommand(
		newCmdAdd(env), newCmdStatus(env), newCmdLogin(env), newCmdToken(env),
		newCmdRefresh(env), newCmdLogout(env), newCmdRemove(env), newCmdDoctor(env),
		newCmdInstall(env), newCmdTray(env), newCmdAgent(env), newCmdExec(env), newCmdSetup(env), newCmdDemo(env),
		newCmdGitCredential(env), newCmdKeyring(env),
	)
	// Commands that take a feed complete its id.
	for _, c := range root.Commands() {
		switch c.Name() {
		case "login", "token", "refresh", "logout", "remove":
			c.ValidArgsFunction = completeFeeds(env)
		}
	}
	return root
}

// completeFeeds completes the first argument with the configured feed ids.
func completeFeeds(env *Env) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cfg, err := env.config()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, f := range cfg.Feeds {
			if strings.HasPrefix(f.ID, prefix) {
				out = append(out, cobra.CompletionWithDesc(f.ID, string(f.Kind)+" "+f.URL))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// exactly checks the positionals of a command that takes the named ones.
func exactly(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		return exactArgs(cmd.Name(), args, names...)
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
