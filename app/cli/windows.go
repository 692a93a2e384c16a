package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/feedkey/feedkey/control"
	"github.com/feedkey/feedkey/internal/wsl"
)

// onWindows are the commands that, inside WSL with the store "windows", the
// Windows feedkey runs: they read or change its feeds and credentials, which
// are the ones both sides use. The others (doctor, setup, install, demo,
// exec, the tray and agent) stay on Linux.
var onWindows = map[string]bool{
	"add": true, "login": true, "logout": true, "remove": true,
	"token": true, "refresh": true, "status": true, "git-credential": true,
}

// windowsWait bounds a command run by the Windows feedkey: one that may
// wait for a sign-in gets until its code expires; the others (which never
// prompt) a minute.
const (
	windowsWait       = time.Minute
	windowsSignInWait = control.MaxPromptWait + time.Minute
)

// mayPrompt are the commands that can wait for a person.
var mayPrompt = map[string]bool{"add": true, "login": true, "token": true, "refresh": true, "git-credential": true}

// windowsPrograms returns the Windows feedkey to hand commands to, when
// this is WSL and the store is "windows" (or "auto" with it installed).
func (env *Env) windowsPrograms() (wsl.Programs, bool, error) {
	asked := env.Getenv("FEEDKEY_STORE")
	if asked == "" {
		if !wsl.Running(env.Getenv) {
			return wsl.Programs{}, false, nil
		}
		if cfg, err := env.config(); err == nil {
			asked = cfg.Store.Backend
		}
	}
	return wsl.Delegation(asked, env.Getenv, env.LookPath)
}

// runOnWindows runs argv with the Windows feedkey when it should, with
// stdin (a token given there stays there) and stderr passed on. ok is false
// when the command runs here.
func runOnWindows(ctx context.Context, argv []string, env *Env) (code int, ok bool) {
	if len(argv) == 0 || !onWindows[argv[0]] {
		return 0, false
	}
	p, ok, err := env.windowsPrograms()
	if err != nil {
		fmt.Fprintf(env.Err, "feedkey: %v\n", err)
		return 1, true
	}
	if !ok {
		return 0, false
	}
	if argv[0] == "status" && !hasFlag(argv, "--json") {
		fmt.Fprintf(env.Out, "Store: windows (the Windows feedkey's: %s)\n\n", p.Feedkey)
	}
	wait := windowsWait
	if mayPrompt[argv[0]] && mayWait(env) {
		wait = windowsSignInWait
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	out, code, err := wsl.Run(ctx, p.Feedkey, argv, env.In, env.Err)
	if err != nil {
		fmt.Fprintf(env.Err, "feedkey: %v\n", err)
		return 1, true
	}
	env.Out.Write(out)
	return code, true
}

func hasFlag(argv []string, flag string) bool {
	for _, a := range argv {
		if a == flag {
			return true
		}
	}
	return false
}

// checkWindows tells doctor whether commands go to the Windows feedkey, and
// whether it answers; delegating reports that they do (then no keychain is
// used here).
func checkWindows(ctx context.Context, env *Env, d *doctor) (delegating bool) {
	p, ok, err := env.windowsPrograms()
	switch {
	case err != nil:
		d.fail("store", err)
		return true
	case !ok:
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, code, err := wsl.Run(ctx, p.Feedkey, []string{"--version"}, nil, env.Err)
	if err == nil && code != 0 {
		err = fmt.Errorf("%s --version exited %d", p.Feedkey, code)
	}
	if err != nil {
		d.fail("store", fmt.Errorf("windows: the Windows feedkey does not answer: %w", err))
		return true
	}
	version, _, _ := strings.Cut(string(out), "\n")
	d.ok("store", fmt.Sprintf("windows: add, login, logout, remove, token, refresh, status and git-credential run in the Windows feedkey, %s (found on %s; %s), and the helper hands pip's requests to %s; its feeds and sign-ins are the ones both sides use",
		p.Feedkey, p.Via, version, p.Helper))
	return true
}
