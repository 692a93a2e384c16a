package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/internal/console"
	"github.com/spf13/cobra"
)

func newCmdToken(env *Env) *cobra.Command {
	var opts tokenOptions
	cmd := &cobra.Command{
		Use:   "token URL|FEED",
		Short: "Print the credential for URL, refreshing it silently if needed",
		Args:  exactly("URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.URL = args[0]
			return runToken(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, `print {"username", "password", "expires"} as JSON`)
	cmd.Flags().BoolVar(&opts.SignIn, "sign-in", false, "when only a sign-in helps, run it here (code and link on the terminal); one at a time per credential")
	return cmd
}

// tokenOptions are the inputs of `feedkey token`.
type tokenOptions struct {
	URL    string
	JSON   bool
	SignIn bool // the helper's fallback when no tray can show a sign-in
}

func runToken(ctx context.Context, env *Env, opts tokenOptions) error {
	cfg, err := env.config()
	if err != nil {
		return err
	}
	f, err := cfg.Resolve(opts.URL)
	if g, ok := cfg.Feed(opts.URL); err != nil && ok {
		f, err = g, nil // a feed id works where a URL does
	}
	if err != nil {
		return fmt.Errorf("%s: %w", feed.Redact(opts.URL), err)
	}
	var c store.Credential
	if opts.SignIn {
		// Run by the helper on behalf of pip, whose stderr may be captured:
		// the person is told on the terminal.
		tell := console.Terminal(env.Err)
		p := termPrompter{feed: f.ID, w: tell, open: env.OpenURL, now: env.Now}
		c, err = env.creds().SignIn(ctx, cfg, f, store.FreshFor, p, func() {
			fmt.Fprintf(tell, "Another sign-in to feed %s is under way (see its prompt); waiting for it…\n", f.ID)
		})
	} else {
		c, err = env.creds().Fresh(ctx, cfg, f, store.FreshFor)
	}
	if err != nil {
		return err
	}
	user := f.User(c.Username)
	if opts.JSON {
		out := struct {
			Username string `json:"username"`
			Password string `json:"password"`
			Expires  string `json:"expires,omitempty"`
		}{Username: user, Password: c.Secret}
		if !c.Expires.IsZero() {
			out.Expires = c.Expires.UTC().Format("2006-01-02T15:04:05Z")
		}
		return json.NewEncoder(env.Out).Encode(out)
	}
	_, err = fmt.Fprintln(env.Out, c.Secret)
	return err
}
