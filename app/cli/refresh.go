package cli

import (
	"context"
	"fmt"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/untrusted"
	"github.com/spf13/cobra"
)

func newCmdRefresh(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "refresh [FEED]",
		Short: "Refresh credentials now, without prompting",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("refresh: unexpected argument %q", feed.Redact(args[1]))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRefresh(cmd.Context(), env, args)
		},
	}
}

// runRefresh refreshes the feed pos names, or every feed.
func runRefresh(ctx context.Context, env *Env, pos []string) error {
	cfg, err := env.config()
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
