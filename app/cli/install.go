package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/feedkey/feedkey/internal/sibling"
	"github.com/spf13/cobra"
)

// installOptions are the inputs of `feedkey install`.
type installOptions struct {
	Dir     string
	Force   bool
	Service bool // also run `feedkey agent` as a systemd user service
	NoPath  bool // Windows: leave the user's Path alone
}

func newCmdInstall(env *Env) *cobra.Command {
	var opts installOptions
	cmd := &cobra.Command{
		Use:     "install",
		Aliases: []string{"install-helper"},
		Short:   "Put feedkey and its helper (as `keyring`) in one directory on PATH, outside any virtual environment",
		Example: "  feedkey install                # ~/.local/bin\n  feedkey install --dir /opt/bin",
		Args:    exactly(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return install(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "", "directory on PATH to install into (default ~/.local/bin; Windows %LOCALAPPDATA%\\feedkey\\bin)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace a `keyring` that is not feedkey's")
	cmd.Flags().BoolVar(&opts.Service, "service", false, "also run `feedkey agent` as a systemd user service (Linux)")
	cmd.Flags().BoolVar(&opts.NoPath, "no-path", false, "Windows: do not add the directory to your user PATH (HKCU\\Environment)")
	return cmd
}

// install copies the helper (as keyring) and feedkey itself into one
// directory: the helper runs `feedkey token` from beside itself, and start
// at login points at the installed feedkey, not at a build directory.
func install(ctx context.Context, env *Env, opts installOptions) error {
	src, err := findHelper(env)
	if err != nil {
		return err
	}
	dir := opts.Dir
	if dir == "" {
		if dir, err = defaultBinDir(env); err != nil {
			return err
		}
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	if venv := env.Getenv("VIRTUAL_ENV"); venv != "" && within(dir, venv) {
		return fmt.Errorf("%s is inside the active virtual environment, where pip ignores a keyring: choose a directory outside it", dir)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "pyvenv.cfg")); err == nil {
		return fmt.Errorf("%s belongs to a Python virtual environment, where pip ignores a keyring: choose a directory outside it", dir)
	}
	dst := filepath.Join(dir, helperCommand())
	if _, err := os.Stat(dst); err == nil && !opts.Force && !isHelper(ctx, dst) {
		return fmt.Errorf("%s exists and is not feedkey's helper (a Python keyring?): pass --force to replace it", dst)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("install helper: %w", err)
	}
	if err := copyExecutable(src, dst); err != nil {
		return fmt.Errorf("install helper: %w", err)
	}
	fmt.Fprintf(env.Out, "Installed %s as %s.\n", src, dst)
	if env.Executable != "" {
		self := filepath.Join(dir, "feedkey"+filepath.Ext(env.Executable))
		if !sameFile(env.Executable, self) {
			if err := copyExecutable(env.Executable, self); err != nil {
				return fmt.Errorf("install feedkey: %w", err)
			}
			fmt.Fprintf(env.Out, "Installed %s as %s.\n", env.Executable, self)
		}
	}
	if first, lerr := env.LookPath(helperCommand()); lerr != nil || !sameFile(first, dst) {
		now := describeLookPath(first, lerr)
		manual := true
		if !opts.NoPath && runtime.GOOS == "windows" {
			// Windows has one place for a user's PATH, which every new
			// terminal reads: set it rather than print a line to paste.
			switch added, err := addUserPath(dir); {
			case err != nil:
				fmt.Fprintf(env.Out, "Could not add %s to your user PATH: %v\n", dir, err)
			case added:
				fmt.Fprintf(env.Out, "Added %s to the front of your user PATH (HKCU\\Environment): terminals opened from now on run this keyring (this one: %s).\n", dir, now)
				manual = false
			default:
				fmt.Fprintf(env.Out, "%s is on your user PATH already (this terminal: %s).\n", dir, now)
				manual = false
			}
		}
		if manual {
			fmt.Fprintf(env.Out, "Put %s first on PATH so that pip and uv run it (now: %s):\n  %s\n", dir, now, pathLine(env, dir))
		}
	}
	if opts.Service {
		return installService(ctx, env, filepath.Join(dir, "feedkey"+filepath.Ext(env.Executable)))
	}
	return nil
}

// pathLine is the line that puts dir first on PATH in the user's shell.
func pathLine(env *Env, dir string) string {
	switch {
	case runtime.GOOS == "windows":
		return fmt.Sprintf(`[Environment]::SetEnvironmentVariable("Path", "%s;" + [Environment]::GetEnvironmentVariable("Path", "User"), "User")`, dir)
	case strings.HasSuffix(env.Getenv("SHELL"), "/fish"):
		return "fish_add_path " + dir
	case strings.HasSuffix(env.Getenv("SHELL"), "/zsh"):
		return fmt.Sprintf(`echo 'export PATH="%s:$PATH"' >> ~/.zshrc`, dir)
	}
	return fmt.Sprintf(`echo 'export PATH="%s:$PATH"' >> ~/.bashrc`, dir)
}

func describeLookPath(path string, err error) string {
	if err != nil {
		return "no keyring on PATH"
	}
	return path + " comes first"
}

// findHelper locates feedkey-keyring beside the running feedkey, else on PATH.
func findHelper(env *Env) (string, error) {
	p, err := sibling.Find(env.Executable, "feedkey-keyring", env.LookPath)
	if err != nil {
		return "", fmt.Errorf("cannot find feedkey-keyring next to %s or on PATH: build it with build/build.sh", env.Executable)
	}
	return p, nil
}

func defaultBinDir(env *Env) (string, error) {
	if runtime.GOOS == "windows" {
		if d := env.Getenv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, "feedkey", "bin"), nil
		}
		return "", errors.New("LOCALAPPDATA is not set: pass --dir")
	}
	home := env.Getenv("HOME")
	if home == "" {
		return "", errors.New("HOME is not set: pass --dir")
	}
	return filepath.Join(home, ".local", "bin"), nil
}

// copyExecutable copies src to dst through a temporary file and a rename, so
// a running pip never executes a half-written helper.
func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".keyring-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o755); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb) || strings.EqualFold(a, b) && err1 == nil
}
