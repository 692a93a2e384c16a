package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/config"
	"github.com/spf13/cobra"
)

// maxToken bounds what add reads from stdin; real tokens are far smaller.
const maxToken = 64 << 10

type addOptions struct {
	URL      string
	Kind     feed.Kind
	Name     string
	Username string
	Address  string
	Token    string // azure: session, pat or entra
	// TokenGiven: a token is on stdin (the tray's Add page): a feed of a
	// kind that takes none is an error rather than a token dropped.
	TokenGiven bool
}

func newCmdAdd(env *Env) *cobra.Command {
	var opts addOptions
	var kind string
	cmd := &cobra.Command{
		Use:   "add URL",
		Short: "Add a feed; a static token is read from stdin",
		Example: `  feedkey add https://pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple/
  feedkey add https://pypi.example.com/simple/ --kind token < token.txt`,
		Args: exactly("URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.URL, opts.Kind = args[0], feed.Kind(kind)
			return add(cmd.Context(), env, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&kind, "kind", "", "feed kind: azure, posit or token (default: detected)")
	fl.StringVar(&opts.Name, "name", "", "feed id (default: derived from the URL)")
	fl.StringVar(&opts.Username, "username", "", "user name to present (token feeds; default __token__)")
	fl.StringVar(&opts.Address, "address", "", "Posit Package Manager server address (default: the URL's origin)")
	fl.StringVar(&opts.Token, "token", "", "Azure: the credential to make: session (default), pat or entra")
	fl.BoolVar(&opts.TokenGiven, "token-given", false, "a token is on stdin: fail if the feed signs in by itself")
	fl.MarkHidden("token-given")
	return cmd
}

func add(ctx context.Context, env *Env, opts addOptions) error {
	normalized, urlUser, err := feed.NormalizeURL(opts.URL)
	if err != nil {
		return err
	}
	u, _ := url.Parse(normalized)
	cfg, err := env.config()
	if err != nil {
		return err
	}
	if opts.Kind == "" {
		if opts.Kind, opts.Address, err = detect(ctx, env, cfg, u, opts.Address); err != nil {
			return err
		}
	}
	f := feed.Feed{Kind: opts.Kind, URL: normalized}
	switch opts.Kind {
	case feed.Token:
		f.Username = opts.Username
		if f.Username == "" {
			f.Username = urlUser
		}
		if f.Username == "" {
			f.Username = feed.TokenUsername
		}
	case feed.Posit:
		f.Address = strings.TrimRight(opts.Address, "/")
		if f.Address == "" {
			f.Address = "https://" + u.Host
		}
		if !f.Covers(cfg.Trust, normalized) {
			return usagef("add: %s is not below the address %s", normalized, f.Address)
		}
	case feed.Azure:
		f.Token = opts.Token
	default:
		return usagef("add: unknown --kind %q (want azure, posit or token)", opts.Kind)
	}
	existing, update := sameFeed(cfg, f)
	switch {
	case update:
		f = existing
	case opts.Name != "":
		if !feed.ValidID(opts.Name) {
			return usagef("add: --name %q: use lower-case letters, digits, '.', '_' or '-'", opts.Name)
		}
		f.ID = opts.Name
	case f.Kind == feed.Azure:
		f.ID = freeID(cfg, feed.Slug(f.Org(cfg.Trust)+"-"+azureFeedName(u)))
	default:
		f.ID = freeID(cfg, feed.Slug(u.Hostname()+"-"+firstSegment(u)))
	}
	if err := f.Validate(cfg.Trust); err != nil {
		return err
	}
	if f.Kind != feed.Token {
		if opts.TokenGiven {
			return fmt.Errorf("%s is %s feed: feedkey signs in to it and needs no token. Leave the token empty, or add it with --kind token to use the token instead", normalized, kindName(f.Kind))
		}
		if update {
			fmt.Fprintf(env.Out, "Feed %s is already set up: sign in with `feedkey login %s`.\n", f.ID, f.ID)
			return nil
		}
		if err := config.AddFeed(env.ConfigPath, f); err != nil {
			return err
		}
		fmt.Fprintf(env.Out, "Added %s feed %s for %s.\nSign in with: feedkey login %s\n", f.Kind, f.ID, normalized, f.ID)
		return nil
	}
	token, err := readToken(env, normalized)
	if err != nil {
		return err
	}
	id := f.CredentialID(cfg.Trust)
	st := store.New(env.Keychain)
	if err := st.Save(ctx, id, store.Credential{Kind: string(f.Kind), Username: f.Username, Secret: token}); err != nil {
		return fmt.Errorf("store token for %s: %w", f.ID, err)
	}
	if update {
		fmt.Fprintf(env.Out, "Updated the token of feed %s.\n", f.ID)
		return nil
	}
	if err := config.AddFeed(env.ConfigPath, f); err != nil {
		// Nothing may be left half-done: drop the token we just stored.
		if derr := st.Delete(ctx, id); derr != nil {
			return fmt.Errorf("%w (and removing the stored token failed: %v)", err, derr)
		}
		return err
	}
	fmt.Fprintf(env.Out, "Added feed %s for %s.\n", f.ID, normalized)
	fmt.Fprintf(env.Out, "Try: pip install --keyring-provider subprocess --index-url %s PACKAGE\n", withUser(u, f.Username))
	return nil
}

// sameFeed finds a configured static feed with the same URL: adding it again
// replaces its token.
func sameFeed(cfg *config.Config, f feed.Feed) (feed.Feed, bool) {
	for _, g := range cfg.Feeds {
		if g.Kind == f.Kind && g.URL == f.URL {
			return g, true
		}
	}
	return feed.Feed{}, false
}

func freeID(cfg *config.Config, base string) string {
	id := base
	for i := 2; ; i++ {
		if _, taken := cfg.Feed(id); !taken {
			return id
		}
		id = fmt.Sprintf("%s-%d", base, i)
	}
}

func firstSegment(u *url.URL) string {
	seg, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if seg == "simple" {
		return ""
	}
	return seg
}

// kindName is a feed kind in a sentence: "an Azure DevOps".
func kindName(k feed.Kind) string {
	switch k {
	case feed.Azure:
		return "an Azure DevOps"
	case feed.Posit:
		return "a Posit Package Manager"
	}
	return "a static-token"
}

func withUser(u *url.URL, user string) string {
	c := *u
	c.User = url.User(user)
	return c.String()
}

// readToken reads the token from stdin: hidden at a terminal, else the
// whole input with surrounding white space removed. It never comes from argv,
// where other users could read it in the process list.
func readToken(env *Env, forURL string) (string, error) {
	var token string
	if env.InTTY && env.ReadSecret != nil {
		fmt.Fprintf(env.Err, "Token for %s: ", forURL)
		t, err := env.ReadSecret()
		if err != nil {
			return "", fmt.Errorf("read token: %w", err)
		}
		token = t
	} else {
		b, err := io.ReadAll(io.LimitReader(env.In, maxToken+1))
		if err != nil {
			return "", fmt.Errorf("read token from stdin: %w", err)
		}
		if len(b) > maxToken {
			return "", errors.New("token on stdin is larger than 64 KiB: nothing changed")
		}
		token = string(b)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", errors.New("no token on stdin: pipe it in, e.g. `feedkey add URL --kind token < token.txt`; nothing changed")
	}
	if strings.ContainsAny(token, "\r\n") {
		return "", errors.New("the token on stdin spans several lines: nothing changed")
	}
	return token, nil
}

// azureFeedName is the feed's name (or GUID) in an Azure Artifacts URL: the
// segment after _packaging.
func azureFeedName(u *url.URL) string {
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i, s := range segs {
		if s == "_packaging" && i+1 < len(segs) {
			return segs[i+1]
		}
	}
	return ""
}
