// Package keyringcli is the whole keyring helper: Python keyring's command
// line (package pykeyring) answered from feedkey's feeds, the tray, the
// keychain and sign-in. It is the helper itself on Windows and macOS, and
// `feedkey keyring` on Linux, where the helper's quick path hands it every
// call it does not answer itself.
package keyringcli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/auth/store/oskeychain"
	"github.com/feedkey/feedkey/config"
	"github.com/feedkey/feedkey/config/index"
	"github.com/feedkey/feedkey/control"
	"github.com/feedkey/feedkey/internal/console"
	"github.com/feedkey/feedkey/internal/wsl"
)

// trayAnswer is how long the tray has to answer a ping before it counts as
// not running, when a credential is missing or expired (a valid one is
// served without asking). A live tray answers in microseconds; this leaves
// room for a loaded machine, and a stopped tray costs no more than this.
const trayAnswer = 3 * time.Second

// lookupAnswer is how long a tray has to answer a lookup from memory; it
// answers in well under a millisecond, and one that does not is passed by
// (the store answers instead) and not asked again in this run.
const lookupAnswer = 250 * time.Millisecond

// trayUnresponsive is set when the tray did not answer a lookup in time.
var trayUnresponsive atomic.Bool

// Main runs the helper with argv (without the program name) on the
// process's standard streams and returns its exit code: the whole helper,
// which the Linux `keyring` hands every call its quick path does not
// answer (`feedkey keyring ARGS`), and which is the helper itself on other
// systems.
func Main(ctx context.Context, argv []string) int {
	path, err := config.Path()
	if err != nil {
		fmt.Fprintf(os.Stderr, "feedkey-keyring: %v\n", err)
		return 1
	}
	if os.Getenv(control.TrayHungEnv) == "1" {
		trayUnresponsive.Store(true)
	}
	// Loaded at most once a run, by the store's choice or the lookup,
	// whichever needs it first (a tray's answer needs neither).
	loadConfig := sync.OnceValues(func() (*config.Config, error) {
		return config.LoadCached(path, index.File(path), nil)
	})
	// CI and scripted runs never wait for a person (SPEC §6).
	interactive := os.Getenv("CI") != "true" && os.Getenv("FEEDKEY_NONINTERACTIVE") != "1"
	delegate, err := windowsDelegate(loadConfig, interactive)
	if err != nil {
		fmt.Fprintf(os.Stderr, "feedkey-keyring: %v\n", err)
		return 1
	}
	return Run(ctx, argv, Env{
		Delegate:   delegate,
		Stdin:      os.Stdin,
		Stdout:     os.Stdout,
		Stderr:     os.Stderr,
		ConfigPath: path,
		LoadConfig: loadConfig,
		Keychain: store.Choose(func() string {
			if b := os.Getenv("FEEDKEY_STORE"); b != "" {
				return b
			}
			if cfg, err := loadConfig(); err == nil {
				return cfg.Store.Backend
			}
			return "" // the config's error is reported where it is used
		}, oskeychain.Keychain{}),
		Refresh: FeedkeyToken,
		SignIn:  FeedkeySignIn,
		Tell:    console.Terminal(os.Stderr),
		Tray: func(ctx context.Context, service string, wait time.Duration, onPrompt func(control.Prompt)) (string, string, error) {
			// A tray that does not answer a ping at once (stopped, hung)
			// counts as none: nobody should wait minutes on it.
			if trayUnresponsive.Load() {
				return "", "", fmt.Errorf("%w: it did not answer", control.ErrNoServer)
			}
			c := &control.Client{}
			pctx, cancel := context.WithTimeout(ctx, trayAnswer)
			_, err := c.Ping(pctx)
			cancel()
			if err != nil {
				return "", "", fmt.Errorf("%w: %w", control.ErrNoServer, err)
			}
			return c.Credential(ctx, service, wait, onPrompt)
		},
		Lookup: trayLookup,
		Changed: func(ctx context.Context) {
			ctx, cancel := context.WithTimeout(ctx, lookupAnswer)
			defer cancel()
			_ = (&control.Client{}).Reload(ctx)
		},
		RefreshBeside: func(ctx context.Context, service string) error {
			if !trayUnresponsive.Load() {
				if err := (&control.Client{}).StartRefresh(ctx, service); err == nil {
					return nil
				}
			}
			return StartFeedkeyToken(ctx, service)
		},
		Interactive: interactive,
	})
}

// trayLookup asks the tray for service's credential from its memory. A
// tray that does not answer in time is not asked again in this run, nor is
// one the quick path found so (control.TrayHungEnv).
func trayLookup(ctx context.Context, service string) (user, password, kind string, err error) {
	if trayUnresponsive.Load() {
		return "", "", "", fmt.Errorf("%w: it did not answer", control.ErrNoServer)
	}
	ctx, cancel := context.WithTimeout(ctx, lookupAnswer)
	defer cancel()
	user, password, kind, err = (&control.Client{}).Lookup(ctx, service)
	if errors.Is(err, context.DeadlineExceeded) {
		trayUnresponsive.Store(true)
	}
	return user, password, kind, err
}

// delegateWait bounds a run handed to the Windows helper; one that may wait
// for a person gets until a sign-in's code expires.
const (
	delegateWait       = time.Minute
	delegateSignInWait = control.MaxPromptWait + time.Minute
)

// windowsDelegate returns, inside WSL with the store "windows" (or "auto"
// and the Windows feedkey installed), the Windows helper this run is handed
// to; else nil. Outside WSL it costs one environment read and two stats.
func windowsDelegate(loadConfig func() (*config.Config, error), interactive bool) (Delegator, error) {
	asked := os.Getenv("FEEDKEY_STORE")
	if asked == "" {
		if !wsl.Running(os.Getenv) {
			return nil, nil
		}
		if cfg, err := loadConfig(); err == nil {
			asked = cfg.Store.Backend
		}
	}
	p, ok, err := wsl.Delegation(asked, os.Getenv, exec.LookPath)
	if err != nil || !ok {
		return nil, err
	}
	wait := delegateWait
	if interactive {
		wait = delegateSignInWait
	}
	return func(ctx context.Context, argv []string, stdin io.Reader) ([]byte, int, error) {
		ctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		return wsl.Run(ctx, p.Helper, argv, stdin, os.Stderr)
	}, nil
}
