package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/auth/untrusted"
	"github.com/feedkey/feedkey/control"
	"github.com/spf13/cobra"
)

func newCmdLogin(env *Env) *cobra.Command {
	var opts loginOptions
	cmd := &cobra.Command{
		Use:   "login FEED|ORG|URL",
		Short: "Sign in (Azure: browser or device code; Posit: device code; static: token from stdin)",
		Args:  exactly("FEED"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Feed = args[0]
			return runLogin(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.DeviceCode, "device-code", false, "sign in with a code shown here instead of a browser redirect")
	return cmd
}

// loginOptions are the inputs of `feedkey login`.
type loginOptions struct {
	Feed       string // a feed id, an Azure organization, or a URL a feed covers
	DeviceCode bool
}

func runLogin(ctx context.Context, env *Env, opts loginOptions) error {
	cfg, f, err := findFeed(env, opts.Feed)
	if err != nil {
		return err
	}
	id := f.CredentialID(cfg.Trust)
	st := store.New(env.Keychain)
	if f.Kind == feed.Token {
		token, err := readToken(env, f.URL)
		if err != nil {
			return err
		}
		if err := st.Save(ctx, id, store.Credential{Kind: string(f.Kind), Username: f.Username, Secret: token}); err != nil {
			return fmt.Errorf("store token for %s: %w", f.ID, err)
		}
		fmt.Fprintf(env.Out, "Stored the token of feed %s.\n", f.ID)
		return nil
	}
	if opts.DeviceCode {
		f.SignIn = "device-code"
	}
	c, err := env.creds().Login(ctx, cfg, f, termPrompter{feed: f.ID, w: env.Err, open: env.OpenURL, now: env.Now})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Out, "Signed in to %s%s.\n", f.ID, validFor(c, env.Now()))
	return nil
}

// validFor describes how long c is good for, for messages.
func validFor(c store.Credential, now time.Time) string {
	if c.Expires.IsZero() {
		return ""
	}
	return fmt.Sprintf(": token valid for %s", c.Expires.Sub(now).Round(time.Minute))
}

// termPrompter shows a device sign-in in the terminal, on stderr (stdout may
// be a pipe to a program that reads a token), and opens the browser.
type termPrompter struct {
	feed string // the feed's id, for messages
	w    io.Writer
	open func(string) error
	now  func() time.Time // nil: time.Now
}

// OpenBrowser opens a sign-in page, after checking that it is one.
func (p termPrompter) OpenBrowser(_ context.Context, raw string) error {
	link, err := untrusted.URL(raw)
	if err != nil {
		return fmt.Errorf("sign in to %s: %w", p.feed, err)
	}
	if p.open == nil {
		return auth.ErrNoBrowser
	}
	fmt.Fprintf(p.w, "Opening your browser to sign in: %s\n", link)
	if err := p.open(link); err != nil {
		return fmt.Errorf("%w: %v", auth.ErrNoBrowser, err)
	}
	return nil
}

// DeviceCode prints the server's link and code, which are checked (the
// providers check the link too) and printed without control characters, in
// the line the helper prints for a tray's sign-in.
func (p termPrompter) DeviceCode(_ context.Context, d auth.DeviceCode) error {
	link, err := untrusted.URL(d.URL)
	if err != nil {
		return fmt.Errorf("sign in to %s: %w", p.feed, err)
	}
	prompt := control.Prompt{Feed: p.feed, URL: link, Code: untrusted.Text(d.Code)}
	if !d.Expires.IsZero() {
		prompt.Expires = d.Expires.Unix()
	}
	now := time.Now
	if p.now != nil {
		now = p.now
	}
	fmt.Fprintln(p.w, prompt.Text(now()))
	if p.open == nil || p.open(link) != nil {
		fmt.Fprintln(p.w, "(No browser could be opened here: open the link on any device.)")
	}
	fmt.Fprintln(p.w, "Waiting for you to approve…")
	return nil
}
