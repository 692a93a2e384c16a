package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/config"
	"github.com/feedkey/feedkey/control"
	"github.com/feedkey/feedkey/internal/console"
	"github.com/feedkey/feedkey/internal/gitcred"
	"github.com/spf13/cobra"
)

func newCmdGitCredential(env *Env) *cobra.Command {
	var opts gitCredentialOptions
	cmd := &cobra.Command{
		Use:   "git-credential get|store|erase",
		Short: "Answer git's credential requests for Azure Repos (a git credential.helper)",
		Long: "Answers git's credential helper protocol on stdin/stdout for Azure Repos remotes\n" +
			"(https://dev.azure.com/ORG/..., https://ORG.visualstudio.com/...) of organizations\n" +
			"with a configured Azure feed, with the same sign-in. Configure git for it with\n" +
			"  feedkey setup git ORG --apply",
		Hidden: true, // run by git, not by people
		Args:   exactly("ACTION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Action = args[0]
			return runGitCredential(cmd.Context(), env, opts)
		},
	}
	return cmd
}

// gitCredentialOptions are the inputs of `feedkey git-credential`.
type gitCredentialOptions struct {
	Action string // get, store or erase
}

func runGitCredential(ctx context.Context, env *Env, opts gitCredentialOptions) error {
	req, err := gitcred.Read(env.In)
	if err != nil {
		return fmt.Errorf("git-credential: %w", err)
	}
	switch opts.Action {
	case "get":
	case "store", "erase":
		// store: git hands back what get answered after it worked; feedkey
		// already keeps it (a second copy would be one more secret to
		// leak), and for other hosts it is not feedkey's to keep.
		//
		// erase: git calls it after a 401 with the credential it sent.
		// It must not delete feedkey's credential (the feeds share it),
		// nor mark it for refresh: Azure answers 401 for reasons that are
		// not the token's (no access to that repository, the wrong org in
		// the path), and a refresh at every failed git command would issue
		// tokens in a loop. A token Azure refuses before it expires has
		// been revoked, and `feedkey login` is the fix, which the next
		// get's error names once the refresh token is refused too.
		return nil
	default:
		// Helpers ignore actions they do not know (gitcredentials(7)),
		// so that newer gits keep working.
		return nil
	}
	cfg, err := env.config()
	if err != nil {
		return err
	}
	f, err := feed.ResolveRepo(cfg.Feeds, cfg.Trust, req.Protocol, req.Host, req.Path)
	switch {
	case errors.Is(err, feed.ErrNoMatch):
		if req.Path == "" && hasAzureFeed(cfg.Feeds) && strings.EqualFold(req.Protocol, "https") && strings.EqualFold(strings.TrimSuffix(req.Host, ":443"), "dev.azure.com") {
			fmt.Fprintln(env.Err, "feedkey: git sent no repository path for dev.azure.com, so the organization is unknown: set credential.https://dev.azure.com.useHttpPath true")
		}
		return nil // not feedkey's: git asks the next helper
	case err != nil:
		return fmt.Errorf("git-credential: %s: %w", req.Host, err)
	}
	c, err := env.creds().Repo(ctx, cfg, f)
	if errors.Is(err, auth.ErrSignInRequired) && mayWait(env) {
		if err = gitSignIn(ctx, env, cfg, f, err); err == nil {
			c, err = env.creds().Repo(ctx, cfg, f)
		}
	}
	if err != nil {
		// One line on stderr, which git shows; git then tries its next
		// helper or prompt.
		return fmt.Errorf("git-credential: %w", err)
	}
	a := gitcred.Answer{Username: f.User(c.Username), Password: c.Secret}
	if !c.Expires.IsZero() {
		a.PasswordExpiryUTC = c.Expires.Unix()
	}
	return gitcred.Write(env.Out, a)
}

func hasAzureFeed(feeds []feed.Feed) bool {
	for _, f := range feeds {
		if f.Kind == feed.Azure {
			return true
		}
	}
	return false
}

// mayWait reports whether a person may be waited for: not in CI or a
// scripted run (as the helper decides).
func mayWait(env *Env) bool {
	return env.Getenv("CI") != "true" && env.Getenv("FEEDKEY_NONINTERACTIVE") != "1"
}

// gitTrayWait bounds a sign-in run by the tray for git, as for pip's helper.
const gitTrayWait = 2 * time.Minute

// gitSignIn signs the person in to f when only that helps (needed is the
// error saying so): through a running tray, which shows the sign-in in its
// menu and the browser, what it reports passed on to the terminal (so git
// in an editor, with no terminal, works too); else, when a terminal
// exists, there, as `feedkey token --sign-in` does. git's stdin and stdout
// are pipes: the controlling terminal is what counts.
func gitSignIn(ctx context.Context, env *Env, cfg *config.Config, f feed.Feed, needed error) error {
	tell := console.Terminal(env.Err)
	tray := &control.Client{}
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	_, perr := tray.Ping(pctx)
	cancel()
	if perr == nil {
		_, _, err := tray.Credential(ctx, f.URL, gitTrayWait, func(p control.Prompt) {
			fmt.Fprintf(tell, "feedkey: %s\n", p.Text(env.Now()))
		})
		if err != nil {
			return fmt.Errorf("sign in to %s through the feedkey tray: %w", f.ID, err)
		}
		return nil
	}
	if !hasTerminal() {
		return needed
	}
	p := termPrompter{feed: f.ID, w: tell, open: env.OpenURL, now: env.Now}
	_, err := env.creds().SignIn(ctx, cfg, f, store.FreshFor, p, func() {
		fmt.Fprintf(tell, "Another sign-in to feed %s is under way (see its prompt); waiting for it…\n", f.ID)
	})
	return err
}

// hasTerminal reports whether the process has a controlling terminal.
func hasTerminal() bool {
	name := "/dev/tty"
	if runtime.GOOS == "windows" {
		name = "CONOUT$"
	}
	tty, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	tty.Close()
	return true
}
