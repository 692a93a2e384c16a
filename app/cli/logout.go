package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/config"
	"github.com/spf13/cobra"
)

func newCmdLogout(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "logout FEED",
		Short: "Remove a feed's credential from the keychain",
		Args:  exactly("FEED"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLogout(cmd.Context(), env, args[0])
		},
	}
}

func newCmdRemove(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "remove FEED",
		Short: "Remove a feed from the config and its credential from the keychain",
		Args:  exactly("FEED"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRemove(cmd.Context(), env, args[0])
		},
	}
}

// runLogout signs out of the feed named by arg (an id or a URL it covers).
func runLogout(ctx context.Context, env *Env, arg string) error {
	cfg, f, err := findFeed(env, arg)
	if err != nil {
		return err
	}
	id := f.CredentialID(cfg.Trust)
	st := store.New(env.Keychain)
	if _, err := st.Load(ctx, id); errors.Is(err, store.ErrNotFound) {
		if n, _ := st.Orphans(ctx, id); n == 0 {
			fmt.Fprintf(env.Out, "%s is not signed in.\n", f.ID)
			return nil
		}
	}
	if err := st.Delete(ctx, id); err != nil {
		return fmt.Errorf("sign out of %s: %w", f.ID, err)
	}
	fmt.Fprintf(env.Out, "Signed out of %s: its credential is removed from the keychain.\n", f.ID)
	return nil
}

// runRemove removes the feed named by arg from the config.
func runRemove(ctx context.Context, env *Env, arg string) error {
	cfg, f, err := findFeed(env, arg)
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

// findFeed finds a feed by id, or by a URL it covers.
func findFeed(env *Env, arg string) (*config.Config, feed.Feed, error) {
	cfg, err := env.config()
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
