package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/feedkey/feedkey/app/config"
	"github.com/feedkey/feedkey/auth/store"
)

func runDoctor(ctx context.Context, env *Env, args []string) error {
	if err := exactArgs("doctor", args); err != nil {
		return err
	}
	ok := true
	report := func(err error, good string) {
		if err != nil {
			ok = false
			fmt.Fprintf(env.Out, "FAIL  %s\n", oneLine(err.Error()))
			return
		}
		fmt.Fprintf(env.Out, "ok    %s\n", good)
	}

	cfg, err := config.Load(env.ConfigPath)
	if err == nil {
		report(nil, fmt.Sprintf("config %s (%d feeds)", env.ConfigPath, len(cfg.Feeds)))
	} else {
		report(err, "")
	}
	report(checkKeychain(ctx, env.Keychain), "keychain reachable and unlocked")
	helper, err := checkHelperOnPath(ctx, env)
	report(err, "`keyring` on PATH is feedkey's helper: "+helper)
	if !ok {
		return errSilent
	}
	return nil
}

// checkKeychain writes, reads back and deletes a probe entry.
func checkKeychain(ctx context.Context, k store.Keychain) error {
	const svc, user = store.ServicePrefix + "doctor", "probe"
	want := fmt.Sprintf("probe-%d", time.Now().UnixNano())
	if err := k.Set(ctx, svc, user, want); err != nil {
		return fmt.Errorf("keychain: %w", err)
	}
	got, err := k.Get(ctx, svc, user)
	_ = k.Delete(ctx, svc, user)
	switch {
	case err != nil:
		return fmt.Errorf("keychain: read back: %w", err)
	case got != want:
		return errors.New("keychain: read back a different value than was written")
	}
	return nil
}

// checkHelperOnPath finds the `keyring` pip will run and checks it is ours.
// pip skips a keyring inside the active virtual environment (SPEC §3.1).
func checkHelperOnPath(ctx context.Context, env *Env) (string, error) {
	path, err := env.LookPath(helperCommand())
	if err != nil {
		return "", errors.New("no `keyring` on PATH: run `feedkey install-helper`")
	}
	if venv := env.Getenv("VIRTUAL_ENV"); venv != "" && within(path, venv) {
		return "", fmt.Errorf("the first `keyring` on PATH, %s, is inside the active virtual environment, which pip ignores: run `feedkey install-helper`", path)
	}
	if !isHelper(ctx, path) {
		return "", fmt.Errorf("the first `keyring` on PATH, %s, is not feedkey's helper (a Python keyring?): run `feedkey install-helper` and put its directory first on PATH", path)
	}
	return path, nil
}

// isHelper reports whether the program at path is feedkey-keyring: it
// names its backend "feedkey" in --list-backends.
func isHelper(ctx context.Context, path string) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--list-backends").Output()
	return err == nil && strings.HasPrefix(string(out), "feedkey.")
}

func helperCommand() string {
	if runtime.GOOS == "windows" {
		return "keyring.exe"
	}
	return "keyring"
}

// within reports whether path is inside dir.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(os.PathSeparator))
}
