package cli

import (
	"context"
	"fmt"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/untrusted"
	"github.com/feedkey/feedkey/config"
)

func runRefresh(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet("refresh")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("refresh: unexpected argument %q", feed.Redact(pos[1]))
	}
	cfg, err := config.Load(env.ConfigPath)
	if err != nil {
		return err
	}
	feeds := cfg.Feeds
	if len(pos) == 1 {
		_, f, err := findFeed(env, pos[0])
		if err != nil {
			return err
		}
		feeds = []feed.Feed{f}
	}
	failed := false
	done := map[string]bool{}
	for _, f := range feeds {
		id := f.CredentialID(cfg.Trust)
		if f.Kind == feed.Token || done[id] {
			continue // static tokens have nothing to refresh
		}
		done[id] = true
		c, err := env.creds().Refresh(ctx, cfg, f)
		if err != nil {
			failed = true
			fmt.Fprintf(env.Err, "feedkey: %s\n", untrusted.OneLine(err.Error(), 0))
			continue
		}
		fmt.Fprintf(env.Out, "Refreshed %s%s.\n", f.ID, validFor(c, env.Now()))
	}
	if failed {
		return errSilent
	}
	return nil
}
