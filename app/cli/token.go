package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
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
	return cmd
}

// tokenOptions are the inputs of `feedkey token`.
type tokenOptions struct {
	URL  string
	JSON bool
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
	c, err := env.creds().Fresh(ctx, cfg, f, store.FreshFor)
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
