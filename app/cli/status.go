package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/auth/untrusted"
	"github.com/spf13/cobra"
)

// feedStatus is one feed in `feedkey status --json`. Its fields are a stable
// interface for scripts: add fields, never rename them.
type feedStatus struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	URL        string     `json:"url"`
	Credential string     `json:"credential"`
	Username   string     `json:"username,omitempty"`
	State      string     `json:"state"` // valid | expired | missing | error
	Expires    *time.Time `json:"expires,omitempty"`
	Error      string     `json:"error,omitempty"`
}

type statusOutput struct {
	Config string       `json:"config"`
	Feeds  []feedStatus `json:"feeds"`
}

func newCmdStatus(env *Env) *cobra.Command {
	var opts statusOptions
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show feeds and their credentials (never secrets)",
		Args:  exactly(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStatus(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

// statusOptions are the inputs of `feedkey status`.
type statusOptions struct {
	JSON bool
}

func runStatus(ctx context.Context, env *Env, opts statusOptions) error {
	cfg, err := env.config()
	if err != nil {
		return err
	}
	out := statusOutput{Config: env.ConfigPath, Feeds: []feedStatus{}}
	st := store.New(env.Keychain)
	for _, f := range cfg.Feeds {
		s := feedStatus{ID: f.ID, Kind: string(f.Kind), URL: f.URL, Credential: f.CredentialID(cfg.Trust)}
		c, err := st.Load(ctx, s.Credential)
		switch {
		case errors.Is(err, store.ErrNotFound):
			s.State = "missing"
		case err != nil:
			s.State, s.Error = "error", untrusted.OneLine(err.Error(), 0)
		default:
			s.Username = f.User(c.Username)
			s.State = "valid"
			if !c.Expires.IsZero() {
				exp := c.Expires.UTC()
				s.Expires = &exp
				if !c.Valid(env.Now(), 0) {
					s.State = "expired"
				}
			}
		}
		out.Feeds = append(out.Feeds, s)
	}
	if opts.JSON {
		enc := json.NewEncoder(env.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(out.Feeds) == 0 {
		fmt.Fprintf(env.Out, "No feeds yet (config: %s).\nAdd one: feedkey add URL --kind token < token.txt\n", env.ConfigPath)
		return nil
	}
	tw := tabwriter.NewWriter(env.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEED\tKIND\tURL\tCREDENTIAL")
	for _, s := range out.Feeds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.ID, s.Kind, s.URL, describe(s, env.Now()))
	}
	return tw.Flush()
}

func describe(s feedStatus, now time.Time) string {
	switch s.State {
	case "missing":
		return "missing: run `feedkey add " + s.URL + " --kind " + s.Kind + "`"
	case "error":
		return "error: " + s.Error
	case "expired":
		return "expired " + s.Expires.Local().Format(time.RFC1123)
	}
	if s.Expires == nil {
		return "valid (" + s.Username + ", no expiry)"
	}
	return fmt.Sprintf("valid (%s, %s left)", s.Username, s.Expires.Sub(now).Round(time.Minute))
}
