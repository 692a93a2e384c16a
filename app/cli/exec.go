package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"slices"
	"strings"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/spf13/cobra"
)

// execOptions are the inputs of `feedkey exec`.
type execOptions struct {
	Feeds    []string // feed ids; none means every feed
	PipIndex string   // feed whose URL, with user and token, becomes PIP_INDEX_URL
	Command  []string
}

func newCmdExec(env *Env) *cobra.Command {
	var opts execOptions
	cmd := &cobra.Command{
		Use:   "exec [--feed ID]... [--pip-index-url ID] -- COMMAND [ARG]...",
		Short: "Run a command with feed credentials in the environment variables uv, Poetry and twine read (never on argv)",
		Long: "Runs COMMAND with, for each feed (all, or those named with --feed), the variables the tools read:\n" +
			"UV_INDEX_<ID>_USERNAME/PASSWORD, POETRY_HTTP_BASIC_<ID>_USERNAME/PASSWORD, and with one feed\n" +
			"TWINE_USERNAME/PASSWORD. <ID> is the feed id in upper case with '-' and '.' as '_'.\n" +
			"--pip-index-url ID also sets PIP_INDEX_URL to that feed's URL with its user and token in it.\n" +
			"Credentials are refreshed silently if needed; nothing prompts.",
		Example: "  feedkey exec --feed team -- uv sync\n  feedkey exec --feed team -- twine upload dist/*\n  feedkey exec --pip-index-url team -- pip install mypkg",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("exec: missing COMMAND (after --)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Command = args
			return runExec(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.Feeds, "feed", nil, "a feed to pass (repeatable; default: every feed)")
	cmd.Flags().StringVar(&opts.PipIndex, "pip-index-url", "", "set PIP_INDEX_URL to this feed's URL with its credential in it")
	cmd.Flags().SetInterspersed(false)
	cmd.ValidArgsFunction = completeFeeds(env)
	return cmd
}

// envName is a feed id as uv and Poetry spell it in variable names.
func envName(id string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, id)
}

// errChildExit carries a child's exit status through Main.
type errChildExit int

func (e errChildExit) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func runExec(ctx context.Context, env *Env, opts execOptions) error {
	cfg, err := env.config()
	if err != nil {
		return err
	}
	ids := opts.Feeds
	if len(ids) == 0 {
		for _, f := range cfg.Feeds {
			ids = append(ids, f.ID)
		}
	}
	if opts.PipIndex != "" && !slices.Contains(ids, opts.PipIndex) {
		ids = append(ids, opts.PipIndex)
	}
	if len(ids) == 0 {
		return errors.New("no feeds configured: add one with `feedkey add URL`")
	}
	vars := env.environ()
	for _, id := range ids {
		f, ok := cfg.Feed(id)
		if !ok {
			return usagef("exec: no feed %q (see `feedkey status`)", id)
		}
		c, err := env.creds().Fresh(ctx, cfg, f, store.FreshFor)
		if err != nil {
			return err
		}
		user, name := f.User(c.Username), envName(f.ID)
		vars = append(vars,
			"UV_INDEX_"+name+"_USERNAME="+user, "UV_INDEX_"+name+"_PASSWORD="+c.Secret,
			"POETRY_HTTP_BASIC_"+name+"_USERNAME="+user, "POETRY_HTTP_BASIC_"+name+"_PASSWORD="+c.Secret)
		if len(ids) == 1 {
			vars = append(vars, "TWINE_USERNAME="+user, "TWINE_PASSWORD="+c.Secret)
		}
		if id == opts.PipIndex {
			u, err := url.Parse(f.URL)
			if err != nil {
				return fmt.Errorf("feed %s: %w", f.ID, err)
			}
			u.User = url.UserPassword(user, c.Secret)
			vars = append(vars, "PIP_INDEX_URL="+u.String())
		}
	}
	path, err := exec.LookPath(opts.Command[0])
	if err != nil {
		return fmt.Errorf("exec: %s: %w", feed.Redact(opts.Command[0]), err)
	}
	cmd := exec.CommandContext(ctx, path, opts.Command[1:]...)
	cmd.Env = vars
	cmd.Stdin, cmd.Stdout, cmd.Stderr = env.In, env.Out, env.Err
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() >= 0 {
			return errChildExit(ee.ExitCode())
		}
		return fmt.Errorf("exec %s: %w", feed.Redact(opts.Command[0]), err)
	}
	return nil
}
