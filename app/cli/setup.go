package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"

	"github.com/feedkey/feedkey/app/setup"
	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/config"
	"github.com/spf13/cobra"
)

// setupOptions are the inputs of `feedkey setup`.
type setupOptions struct {
	Tool      string
	Feed      string // feed id (git: also an organization); empty: the only one
	Apply     bool
	Extra     bool
	UploadURL string
	Source    string // Package Manager's local source for uploads
	Wheel     string
	Dir       string // the project directory; empty: the working directory
}

func newCmdSetup(env *Env) *cobra.Command {
	var opts setupOptions
	cmd := &cobra.Command{
		Use:   "setup TOOL [FEED]",
		Short: "Show (or --apply) the settings that make a tool take its credentials from feedkey",
		Long: "Prints the configuration that makes TOOL use feedkey for FEED (the only feed when there is one):\n" +
			"files and the settings in them, or commands. With --apply it writes the files (changing only\n" +
			"those settings) and runs the commands. No password is written anywhere.\n\n" +
			"Tools: " + strings.Join(setup.Tools, ", ") + ". For git, FEED may name the Azure organization.",
		Example: "  feedkey setup pip team\n  feedkey setup uv team --apply\n  feedkey setup twine team\n  feedkey setup git contoso --apply",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("setup: missing TOOL (one of %s)", strings.Join(setup.Tools, ", "))
			}
			if len(args) > 2 {
				return usagef("setup: too many arguments: %q", args[2:])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Tool = args[0]
			if len(args) == 2 {
				opts.Feed = args[1]
			}
			return runSetup(cmd.Context(), env, opts)
		},
		ValidArgsFunction: func(cmd *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return setup.Tools, cobra.ShellCompDirectiveNoFileComp
			}
			return completeFeeds(env)(cmd, args[1:], prefix)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Apply, "apply", false, "write the files and run the commands")
	f.BoolVar(&opts.Extra, "extra", false, "add the feed beside the tool's index instead of replacing it (pip, uv, pixi)")
	f.StringVar(&opts.UploadURL, "upload-url", "", "where uploads go (twine, hatch, pdm), when feedkey cannot derive it")
	f.StringVar(&opts.Source, "source", "", "Package Manager: the local source that takes uploads")
	f.StringVar(&opts.Wheel, "wheel", "", "the keyrings.feedkey wheel to install (default: the one shipped beside feedkey)")
	return cmd
}

func runSetup(ctx context.Context, env *Env, opts setupOptions) error {
	if !knownTool(opts.Tool) {
		return usagef("setup: unknown tool %q (known: %s)", opts.Tool, strings.Join(setup.Tools, ", "))
	}
	cfg, err := env.config()
	if err != nil {
		return err
	}
	f, err := setupFeed(cfg, opts)
	if err != nil {
		return err
	}
	t := setup.Target{
		Feed:    f,
		User:    f.DefaultUsername(),
		Feedkey: env.Executable,
		Wheel:   opts.Wheel,
		Extra:   opts.Extra,
		Org:     f.Org(cfg.Trust),
	}
	if t.Wheel == "" {
		t.Wheel = findWheel(env.Executable)
	}
	switch opts.Tool {
	case "twine", "hatch":
		if t.UploadURL, err = setupUploadURL(cfg, f, opts); err != nil {
			return err
		}
	case "pdm": // uploads are optional for pdm
		t.UploadURL, _ = setupUploadURL(cfg, f, opts)
	}
	if opts.Tool == "poetry" {
		t.PoetryLegacy = poetryLegacy(ctx, env)
	}
	dir := opts.Dir
	if dir == "" {
		dir, _ = os.Getwd()
	}
	paths := setup.Paths{
		GOOS: runtime.GOOS, Home: env.Getenv("HOME"), ConfigHome: env.Getenv("XDG_CONFIG_HOME"),
		AppData: env.Getenv("APPDATA"), LocalAppData: env.Getenv("LOCALAPPDATA"), Dir: dir,
	}
	if runtime.GOOS == "windows" && paths.Home == "" {
		paths.Home = env.Getenv("USERPROFILE")
	}
	steps, err := setup.Plan(opts.Tool, t, paths)
	if err != nil {
		return err
	}
	if !opts.Apply {
		printSteps(env, steps)
		return nil
	}
	return applySteps(ctx, env, steps, dir)
}

func knownTool(tool string) bool {
	for _, t := range setup.Tools {
		if t == tool {
			return true
		}
	}
	return false
}

// setupFeed finds the feed to set up: named, or the only one (of an Azure
// organization, for git, which may also name the organization).
func setupFeed(cfg *config.Config, opts setupOptions) (feed.Feed, error) {
	if opts.Feed != "" {
		if f, ok := cfg.Feed(opts.Feed); ok {
			return f, nil
		}
		if opts.Tool == "git" {
			for _, f := range cfg.Feeds {
				if f.Kind == feed.Azure && strings.EqualFold(f.Org(cfg.Trust), opts.Feed) {
					return f, nil
				}
			}
			return feed.Feed{}, fmt.Errorf("setup git: no Azure feed of organization %s: add one with `feedkey add URL`", opts.Feed)
		}
		return feed.Feed{}, usagef("setup: no feed %q (see `feedkey status`)", opts.Feed)
	}
	var ids []string
	var only feed.Feed
	for _, f := range cfg.Feeds {
		if opts.Tool == "git" && f.Kind != feed.Azure {
			continue
		}
		ids = append(ids, f.ID)
		only = f
	}
	switch len(ids) {
	case 0:
		return feed.Feed{}, errors.New("no feeds configured: add one with `feedkey add URL`")
	case 1:
		return only, nil
	}
	return feed.Feed{}, usagef("setup %s: name the feed: %s", opts.Tool, strings.Join(ids, ", "))
}

// setupUploadURL returns the upload URL: given (and covered by the feed's
// credential, or feedkey would never send the token there), or derived.
func setupUploadURL(cfg *config.Config, f feed.Feed, opts setupOptions) (string, error) {
	if opts.UploadURL == "" {
		return setup.UploadURL(f, opts.Source)
	}
	g, err := cfg.Resolve(opts.UploadURL)
	if err != nil || g.ID != f.ID {
		return "", fmt.Errorf("setup: feed %s's credential does not cover %s, so feedkey would never send it there", f.ID, feed.Redact(opts.UploadURL))
	}
	return opts.UploadURL, nil
}

// findWheel returns the keyrings.feedkey wheel shipped with feedkey, else
// the project's name.
func findWheel(exe string) string {
	if exe != "" {
		dir := filepath.Dir(exe)
		// Beside it (archives), /usr/share/feedkey from /usr/bin or from
		// /usr/lib/feedkey/bin (packages).
		for _, d := range []string{dir, filepath.Join(dir, "..", "share", "feedkey"), filepath.Join(dir, "..", "..", "..", "share", "feedkey")} {
			if m, _ := filepath.Glob(filepath.Join(d, "keyrings?feedkey-*.whl")); len(m) > 0 {
				return filepath.Clean(m[len(m)-1])
			}
		}
	}
	return "keyrings.feedkey"
}

var poetryVersion = regexp.MustCompile(`(\d+)\.(\d+)`)

// poetryLegacy reports whether the Poetry on PATH is older than 1.5.
func poetryLegacy(ctx context.Context, env *Env) bool {
	path, err := env.LookPath("poetry")
	if err != nil {
		return false
	}
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return false
	}
	m := poetryVersion.FindStringSubmatch(string(out))
	if m == nil {
		return false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return major < 1 || major == 1 && minor < 5
}

func printSteps(env *Env, steps []setup.Step) {
	acts := false
	for i, s := range steps {
		if i > 0 {
			fmt.Fprintln(env.Out)
		}
		fmt.Fprintf(env.Out, "# %s\n", s.Say)
		switch {
		case s.File != "":
			acts = true
			fmt.Fprintf(env.Out, "# in %s:\n%s", s.File, s.Text)
		case len(s.Argv) > 0:
			acts = true
			fmt.Fprintln(env.Out, shellLine(s.Argv))
		case len(s.Env) > 0:
			for _, kv := range s.Env {
				k, v, _ := strings.Cut(kv, "=")
				if runtime.GOOS == "windows" {
					fmt.Fprintf(env.Out, "$env:%s = %q\n", k, v)
				} else {
					fmt.Fprintf(env.Out, "export %s=%s\n", k, setup.ShellQuote(v))
				}
			}
		default:
			fmt.Fprint(env.Out, s.Text)
		}
	}
	if acts {
		fmt.Fprintln(env.Out, "\n# `--apply` writes these files and runs these commands.")
	}
}

func applySteps(ctx context.Context, env *Env, steps []setup.Step, dir string) error {
	for _, s := range steps {
		switch {
		case s.File != "":
			if err := applyEdit(env, s); err != nil {
				return err
			}
		case len(s.Argv) > 0:
			path, err := env.LookPath(s.Argv[0])
			if err != nil {
				return fmt.Errorf("setup: %s is not on PATH; run this yourself where it is: %s", s.Argv[0], shellLine(s.Argv))
			}
			fmt.Fprintf(env.Err, "running: %s\n", shellLine(s.Argv))
			cmd := exec.CommandContext(ctx, path, s.Argv[1:]...)
			cmd.Dir = dir
			cmd.Stdin, cmd.Stdout, cmd.Stderr = env.In, env.Err, env.Err
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("setup: %s: %w", shellLine(s.Argv), err)
			}
		case len(s.Env) > 0:
			fmt.Fprintf(env.Out, "Not applied (put these in your shell profile): %s\n", strings.Join(s.Env, " "))
		}
	}
	return nil
}

// applyEdit edits one file, changing only its step's settings, and keeps
// the file's mode (0600 for a new one).
func applyEdit(env *Env, s setup.Step) error {
	old, err := os.ReadFile(s.File)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("setup: %w", err)
	}
	if err != nil && s.Existing {
		fmt.Fprintf(env.Out, "Skipped: no %s here (run it in the project, or add the settings there yourself)\n", s.File)
		return nil
	}
	out, err := s.Edit(old)
	if err != nil {
		return fmt.Errorf("setup: %s: %w", s.File, err)
	}
	if string(out) == string(old) {
		fmt.Fprintf(env.Out, "Unchanged: %s\n", s.File)
		return nil
	}
	mode := fs.FileMode(0o600)
	if fi, err := os.Stat(s.File); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := os.MkdirAll(filepath.Dir(s.File), 0o700); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.File), ".feedkey-setup-*")
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return fmt.Errorf("setup: writing %s: %w", s.File, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("setup: writing %s: %w", s.File, err)
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.File); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	fmt.Fprintf(env.Out, "Wrote %s\n", s.File)
	return nil
}

// shellLine renders argv as a POSIX shell command line.
func shellLine(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = setup.ShellQuote(a)
	}
	return strings.Join(q, " ")
}
