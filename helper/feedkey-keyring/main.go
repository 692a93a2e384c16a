// Command feedkey-keyring answers pip's, uv's and pixi's `keyring` calls from
// the OS keychain. Install it on PATH as `keyring` (`feedkey install`).
//
// It stays small and starts in milliseconds: see deps_test.go for what it
// must never link.
package main

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
	"github.com/feedkey/feedkey/config"
	"github.com/feedkey/feedkey/control"
	"github.com/feedkey/feedkey/helper/keyringcli"
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

func main() {
	path, err := config.Path()
	if err != nil {
		fmt.Fprintf(os.Stderr, "feedkey-keyring: %v\n", err)
		os.Exit(1)
	}
	// Loaded at most once a run, by the store's choice or the lookup,
	// whichever needs it first (a tray's answer needs neither).
	loadConfig := sync.OnceValues(func() (*config.Config, error) {
		return config.LoadCached(path, keyringcli.IndexPath(path), nil)
	})
	// CI and scripted runs never wait for a person (SPEC §6).
	interactive := os.Getenv("CI") != "true" && os.Getenv("FEEDKEY_NONINTERACTIVE") != "1"
	delegate, err := windowsDelegate(loadConfig, interactive)
	if err != nil {
		fmt.Fprintf(os.Stderr, "feedkey-keyring: %v\n", err)
		os.Exit(1)
	}
	os.Exit(keyringcli.Run(context.Background(), os.Args[1:], keyringcli.Env{
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
		}),
		Refresh: keyringcli.FeedkeyToken,
		SignIn:  keyringcli.FeedkeySignIn,
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
		Lookup: func(ctx context.Context, service string) (string, string, string, error) {
			ctx, cancel := context.WithTimeout(ctx, lookupAnswer)
			defer cancel()
			user, password, kind, err := (&control.Client{}).Lookup(ctx, service)
			if errors.Is(err, context.DeadlineExceeded) {
				trayUnresponsive.Store(true)
			}
			return user, password, kind, err
		},
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
			return keyringcli.StartFeedkeyToken(ctx, service)
		},
		Interactive: interactive,
	}))
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
func windowsDelegate(loadConfig func() (*config.Config, error), interactive bool) (keyringcli.Delegator, error) {
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
