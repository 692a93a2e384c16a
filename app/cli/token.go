package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/config"
)

func runToken(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet("token")
	asJSON := fs.Bool("json", false, `print {"username", "password", "expires"} as JSON`)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := exactArgs("token", pos, "URL"); err != nil {
		return err
	}
	cfg, err := config.Load(env.ConfigPath)
	if err != nil {
		return err
	}
	f, err := cfg.Resolve(pos[0])
	if err != nil {
		return fmt.Errorf("%s: %w", feed.Redact(pos[0]), err)
	}
	c, err := env.creds().Fresh(ctx, cfg, f, store.FreshFor)
	if err != nil {
		return err
	}
	user := f.User(c.Username)
	if *asJSON {
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
