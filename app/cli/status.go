package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/auth/untrusted"
	"github.com/feedkey/feedkey/config"
	"github.com/feedkey/feedkey/tray"
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
	Store  string       `json:"store,omitempty"` // which store keeps the credentials
	Feeds  []feedStatus `json:"feeds"`
}

func newCmdStatus(env *Env) *cobra.Command {
	var opts statusOptions
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show feeds and their credentials (never secrets); exit 1 if any needs you",
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
	out := statusOutput{Config: env.ConfigPath, Store: storeName(env.Keychain), Feeds: feedStates(ctx, env, cfg)}
	// Scripts branch on the exit status: 0 only when pip can use every
	// feed now.
	var ready error
	for _, s := range out.Feeds {
		if s.State != "valid" {
			ready = errSilent
		}
	}
	if opts.JSON {
		enc := json.NewEncoder(env.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
		return ready
	}
	if len(out.Feeds) == 0 {
		fmt.Fprintf(env.Out, "No feeds yet (config: %s).\nAdd one: feedkey add URL --kind token < token.txt\n", env.ConfigPath)
		return nil
	}
	tw := tabwriter.NewWriter(env.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FEED\tKIND\tURL\tCREDENTIAL")
	for i, s := range out.Feeds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.ID, s.Kind, s.URL, describe(s, cfg.Feeds[i], env.Now()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if out.Store != "" {
		fmt.Fprintf(env.Out, "\nStore: %s\n", storeDescription(env.Keychain))
	}
	return ready
}

// storeName is the name of the store env's keychain chose, if it says.
func storeName(k store.Keychain) string {
	if c, ok := k.(interface{ Name() string }); ok {
		return c.Name()
	}
	return ""
}

// storeDescription says which store keeps the credentials, and how.
func storeDescription(k store.Keychain) string {
	if c, ok := k.(interface{ Describe() string }); ok {
		return c.Describe()
	}
	return storeName(k)
}

// feedStates reads the state of each feed's credential, in config order.
func feedStates(ctx context.Context, env *Env, cfg *config.Config) []feedStatus {
	out := []feedStatus{}
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
		out = append(out, s)
	}
	return out
}

// describe says a feed's state and, when pip cannot use it now, the command
// that fixes it.
func describe(s feedStatus, f feed.Feed, now time.Time) string {
	switch s.State {
	case "missing":
		return "not signed in: " + f.Hint()
	case "error":
		return "error: " + s.Error
	case "expired":
		return "expired " + s.Expires.Local().Format(time.RFC1123) + ": " + f.Hint()
	}
	if s.Expires == nil {
		return "valid (" + s.Username + ", no expiry)"
	}
	return fmt.Sprintf("valid (%s, %s left)", s.Username, tray.Left(s.Expires.Sub(now)))
}
