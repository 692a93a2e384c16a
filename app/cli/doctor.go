package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/auth/untrusted"
	"github.com/feedkey/feedkey/config"
	"github.com/spf13/cobra"
)

func newCmdDoctor(env *Env) *cobra.Command {
	var opts doctorOptions
	cmd := &cobra.Command{
		Use:     "doctor",
		Short:   "Check the keychain, the feeds, which keyring pip runs, and pip's and uv's settings; exit 1 on any problem",
		Example: "  feedkey doctor\n  feedkey doctor --json | jq '.checks[] | select(.ok | not)'\n  feedkey doctor --fix   # remove orphaned keychain items",
		Args:    exactly(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDoctor(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Fix, "fix", false, "remove orphaned keychain items (chunks no record uses)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the checks as JSON")
	return cmd
}

// doctorOptions are the inputs of `feedkey doctor`.
type doctorOptions struct {
	Fix  bool // remove orphaned keychain items
	JSON bool
}

// check is one line of `feedkey doctor`. Its JSON is a stable interface for
// scripts: fields are added, never renamed.
type check struct {
	Name   string `json:"check"`          // e.g. "keychain", "feed demo-ppm", "pip"
	OK     bool   `json:"ok"`             // false: a problem; doctor exits 1
	Note   bool   `json:"note,omitempty"` // true: worth knowing, not a problem
	Detail string `json:"detail"`         // what was found, and on a problem what to do
}

// doctor collects the checks of one run.
type doctor struct {
	checks []check
	failed bool
}

func (d *doctor) ok(name, detail string) {
	d.checks = append(d.checks, check{Name: name, OK: true, Detail: detail})
}

func (d *doctor) note(name, detail string) {
	d.checks = append(d.checks, check{Name: name, OK: true, Note: true, Detail: detail})
}

func (d *doctor) fail(name string, err error) {
	d.failed = true
	d.checks = append(d.checks, check{Name: name, Detail: untrusted.OneLine(err.Error(), 0)})
}

func (d *doctor) add(name string, err error, good string) {
	if err != nil {
		d.fail(name, err)
		return
	}
	d.ok(name, good)
}

func runDoctor(ctx context.Context, env *Env, opts doctorOptions) error {
	d := &doctor{}
	cfg, err := env.config()
	if err == nil {
		d.ok("config", fmt.Sprintf("%s (%d %s)", env.ConfigPath, len(cfg.Feeds), plural(len(cfg.Feeds), "feed", "feeds")))
	} else {
		d.fail("config", err)
	}
	if checkWindows(ctx, env, d) {
		d.note("keychain", "none used here: the Windows feedkey keeps the credentials")
	} else {
		checkStore(ctx, env, cfg, opts, d)
	}
	helper, err := checkHelperOnPath(ctx, env)
	d.add("helper", err, "`keyring` on PATH is feedkey's helper: "+helper)
	if p, err := env.LookPath(feedkeyCommand()); err != nil {
		d.fail("feedkey", errors.New("`feedkey` is not on PATH: the helper runs it to refresh and sign in; run `feedkey install`"))
	} else {
		d.ok("feedkey", "on PATH: "+p)
	}
	if cfg != nil {
		checkPip(ctx, env, cfg, d)
		checkUV(env, cfg, d)
	}

	if opts.JSON {
		enc := json.NewEncoder(env.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			OK     bool    `json:"ok"`
			Checks []check `json:"checks"`
		}{!d.failed, d.checks}); err != nil {
			return err
		}
	} else {
		for _, c := range d.checks {
			mark := "ok  "
			switch {
			case !c.OK:
				mark = "FAIL"
			case c.Note:
				mark = "note"
			}
			fmt.Fprintf(env.Out, "%s  %s: %s\n", mark, c.Name, c.Detail)
		}
	}
	if d.failed {
		return errSilent
	}
	return nil
}

// checkFeeds reports each feed whose credential pip cannot use now, with
// the command that fixes it (as `feedkey status`).
func checkFeeds(ctx context.Context, env *Env, cfg *config.Config, d *doctor) {
	for i, s := range feedStates(ctx, env, cfg) {
		text := describe(s, cfg.Feeds[i], env.Now())
		if s.State == "valid" {
			d.ok("feed "+s.ID, text)
		} else {
			d.fail("feed "+s.ID, errors.New(text))
		}
	}
}

func feedkeyCommand() string {
	if runtime.GOOS == "windows" {
		return "feedkey.exe"
	}
	return "feedkey"
}

// checkStore checks the keychain in use here and the feeds' records in it.
func checkStore(ctx context.Context, env *Env, cfg *config.Config, opts doctorOptions, d *doctor) {
	kerr := checkKeychain(ctx, env.Keychain)
	good := "reachable and unlocked"
	if name := storeDescription(env.Keychain); name != "" {
		good += ": " + name
	}
	d.add("keychain", kerr, good)
	if cfg == nil || kerr != nil {
		return
	}
	for _, err := range checkRecords(ctx, env.Keychain, cfg) {
		d.fail("keychain", err)
	}
	for _, err := range checkOrphans(ctx, env, cfg, opts.Fix) {
		d.fail("keychain", err)
	}
	checkFeeds(ctx, env, cfg, d)
}

// checkKeychain writes, reads back and deletes a probe entry.
func checkKeychain(ctx context.Context, k store.Keychain) error {
	const svc, user = store.ServicePrefix + "doctor", "probe"
	want := fmt.Sprintf("probe-%d", time.Now().UnixNano())
	if err := k.Set(ctx, svc, user, want); err != nil {
		return err
	}
	got, err := k.Get(ctx, svc, user)
	_ = k.Delete(ctx, svc, user)
	switch {
	case err != nil:
		return fmt.Errorf("read back a test entry: %w", err)
	case got != want:
		return errors.New("read back a different value than was written")
	}
	return nil
}

// foreignCounter is a keychain that can count the items another program
// left under one of feedkey's names ([oskeychain.Keychain] on Linux).
type foreignCounter interface {
	Foreign(ctx context.Context, service string) (int, error)
}

// credentials yields each credential id of cfg once, with the first feed
// that uses it.
func credentials(cfg *config.Config) iter.Seq2[string, feed.Feed] {
	return func(yield func(string, feed.Feed) bool) {
		seen := map[string]bool{}
		for _, f := range cfg.Feeds {
			id := f.CredentialID(cfg.Trust)
			if !seen[id] {
				seen[id] = true
				if !yield(id, f) {
					return
				}
			}
		}
	}
}

// checkRecords reports, for each credential of cfg, the items another
// program wrote under its name: they are never served.
func checkRecords(ctx context.Context, k store.Keychain, cfg *config.Config) []error {
	fc, ok := k.(foreignCounter)
	if !ok {
		return nil
	}
	var errs []error
	for id, f := range credentials(cfg) {
		n, err := fc.Foreign(ctx, store.Service(id))
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("check %s: %w", store.Service(id), err))
		case n > 0:
			errs = append(errs, fmt.Errorf("%d item(s) under %s were written by another program; feedkey never serves them: `feedkey logout %s` removes them (then sign in again)", n, store.Service(id), f.ID))
		}
	}
	return errs
}

// checkOrphans reports, or with fix removes, the chunk items that no record
// uses: left by refreshes killed mid-write before feedkey collected them.
func checkOrphans(ctx context.Context, env *Env, cfg *config.Config, fix bool) []error {
	st := store.New(env.Keychain)
	var errs []error
	for id := range credentials(cfg) {
		n, err := st.Orphans(ctx, id)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("count the items of %s: %w", store.Service(id), err))
		case n > 0 && fix:
			removed, err := st.Compact(ctx, id, time.Minute)
			if err != nil {
				errs = append(errs, fmt.Errorf("remove orphaned items of %s: %w", store.Service(id), err))
			} else {
				fmt.Fprintf(env.Out, "fixed removed %d orphaned item(s) of %s\n", removed, store.Service(id))
			}
		case n > 0:
			errs = append(errs, fmt.Errorf("%d orphaned item(s) under %s (parts of interrupted writes): `feedkey doctor --fix` removes them", n, store.Service(id)))
		}
	}
	return errs
}

// checkHelperOnPath finds the `keyring` pip will run and checks it is ours.
// pip skips a keyring inside the active virtual environment (SPEC §3.1).
func checkHelperOnPath(ctx context.Context, env *Env) (string, error) {
	path, err := env.LookPath(helperCommand())
	if err != nil {
		return "", errors.New("no `keyring` on PATH: run `feedkey install`")
	}
	if venv := env.Getenv("VIRTUAL_ENV"); venv != "" && within(path, venv) {
		return "", fmt.Errorf("the first `keyring` on PATH, %s, is inside the active virtual environment, which pip ignores: run `feedkey install`", path)
	}
	if !isHelper(ctx, path) {
		return "", fmt.Errorf("the first `keyring` on PATH, %s, is not feedkey's helper (a Python keyring?): run `feedkey install` and put its directory first on PATH", path)
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

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
