package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/config"
)

func runLogout(ctx context.Context, env *Env, args []string) error {
	cfg, f, err := feedArg(env, "logout", args)
	if err != nil {
		return err
	}
	id := f.CredentialID(cfg.Trust)
	if err := store.New(env.Keychain).Delete(ctx, id); err != nil {
		return fmt.Errorf("sign out of %s: %w", f.ID, err)
	}
	fmt.Fprintf(env.Out, "Signed out of %s: its credential is removed from the keychain.\n", f.ID)
	return nil
}

func runRemove(ctx context.Context, env *Env, args []string) error {
	cfg, f, err := feedArg(env, "remove", args)
	if err != nil {
		return err
	}
	id := f.CredentialID(cfg.Trust)
	shared := false
	for _, g := range cfg.Feeds {
		shared = shared || (g.ID != f.ID && g.CredentialID(cfg.Trust) == id)
	}
	if err := config.RemoveFeed(env.ConfigPath, f.ID); err != nil {
		return err
	}
	if !shared {
		if err := store.New(env.Keychain).Delete(ctx, id); err != nil {
			return fmt.Errorf("feed %s removed from the config, but its credential is still in the keychain: %w", f.ID, err)
		}
	}
	fmt.Fprintf(env.Out, "Removed feed %s.\n", f.ID)
	return nil
}

// feedArg parses the single FEED argument: a feed id or a URL it covers.
func feedArg(env *Env, cmd string, args []string) (*config.Config, feed.Feed, error) {
	fs := newFlagSet(cmd)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, feed.Feed{}, err
	}
	if err := exactArgs(cmd, pos, "FEED"); err != nil {
		return nil, feed.Feed{}, err
	}
	return findFeed(env, pos[0])
}

// findFeed finds a feed by id, or by a URL it covers.
func findFeed(env *Env, arg string) (*config.Config, feed.Feed, error) {
	cfg, err := config.Load(env.ConfigPath)
	if err != nil {
		return nil, feed.Feed{}, err
	}
	if f, ok := cfg.Feed(arg); ok {
		return cfg, f, nil
	}
	for _, f := range cfg.Feeds {
		if org := f.Org(cfg.Trust); org != "" && strings.EqualFold(org, arg) {
			return cfg, f, nil
		}
	}
	f, err := cfg.Resolve(arg)
	if err != nil {
		return nil, feed.Feed{}, fmt.Errorf("no feed %q (see `feedkey status`)", feed.Redact(arg))
	}
	return cfg, f, nil
}
