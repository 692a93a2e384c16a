// Package posit signs in to Posit Package Manager (SPEC §5): the OAuth
// device flow with PKCE, answered with an identity token, which is
// exchanged for a Package Manager token that repositories accept as the
// password of user __token__.
package posit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/httpclient"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/auth/untrusted"
)

// Environment variables honoured, as posit-keyring does.
const (
	// EnvIdentityTokenFile names a file holding an identity token (CI
	// agents rotate it): it is exchanged directly, with no device flow,
	// and read again at every refresh. It is bound to the one server that
	// EnvAddress names: no other server ever receives it.
	EnvIdentityTokenFile = "PACKAGEMANAGER_IDENTITY_TOKEN_FILE"
	// EnvAddress is a Package Manager address; feedkey adds it as a feed,
	// and it is the only server EnvIdentityTokenFile is sent to.
	EnvAddress = "PACKAGEMANAGER_ADDRESS"
)

// dataIDToken is where the identity token from a device sign-in is kept in
// the credential's secret Data: it is re-exchanged while it is valid.
const dataIDToken = "id_token"

// Client is the Package Manager [auth.Provider]. The zero value uses an
// HTTP client with a timeout, the real clock and the process environment.
type Client struct {
	HTTP     *http.Client
	Now      func() time.Time
	Sleep    func(ctx context.Context, d time.Duration) error
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
}

var _ auth.Provider = (*Client)(nil)

// httpTimeout bounds every exchange: a server that never answers must not
// leave a refresh hanging (the scheduler relies on it).
const httpTimeout = 60 * time.Second

// http returns the client for every call: each one carries a secret (the
// PKCE verifier, the device code, an identity token), so none follows a
// redirect. The device poll loop handles 429 and 5xx itself.
func (c *Client) http() *http.Client {
	return httpclient.ForSecrets(httpclient.Options{Base: c.HTTP, Timeout: httpTimeout})
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) getenv(k string) string {
	if c.Getenv != nil {
		return c.Getenv(k)
	}
	return os.Getenv(k)
}

func (c *Client) readFile(name string) ([]byte, error) {
	if c.ReadFile != nil {
		return c.ReadFile(name)
	}
	return os.ReadFile(name)
}

// Address returns the server address of f: its address, or its URL's origin,
// without a trailing '/'.
func Address(f feed.Feed) string {
	if f.Address != "" {
		return strings.TrimRight(f.Address, "/")
	}
	scheme, rest, _ := strings.Cut(f.URL, "://")
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host
}

// Login implements [auth.Provider]: an identity token file if one is
// configured, else the device flow through p.
func (c *Client) Login(ctx context.Context, f feed.Feed, p auth.Prompter) (store.Credential, error) {
	addr := Address(f)
	if c.tokenFile(f) != "" {
		return c.Refresh(ctx, f, store.Credential{})
	}
	verifier := oauth2.GenerateVerifier()
	da, err := c.startDevice(ctx, addr, verifier)
	if err != nil {
		return store.Credential{}, err
	}
	link := da.VerificationURIComplete
	if link == "" {
		link = da.VerificationURI
	}
	// The server chooses the link: only an https page is ever opened or
	// shown (SPEC §8).
	if _, err := untrusted.URL(link); err != nil {
		return store.Credential{}, fmt.Errorf("%s: the server at %s sent a sign-in link that is not an https page: %w", f.ID, addr, err)
	}
	dc := auth.DeviceCode{URL: link, Code: untrusted.Text(da.UserCode), Expires: c.now().Add(da.lifetime())}
	if err := p.DeviceCode(ctx, dc); err != nil {
		return store.Credential{}, err
	}
	idToken, err := c.pollDevice(ctx, addr, da, verifier)
	if err != nil {
		return store.Credential{}, fmt.Errorf("sign in to %s: %w", addr, err)
	}
	return c.credential(ctx, addr, idToken, true)
}

// Refresh implements [auth.Provider]. In order: the identity token file
// (re-read every time: CI agents rotate it), then the identity token of the
// last device sign-in while it is still valid. Package Manager returns no
// refresh token, so after that only Login helps.
func (c *Client) Refresh(ctx context.Context, f feed.Feed, old store.Credential) (store.Credential, error) {
	addr := Address(f)
	if name := c.tokenFile(f); name != "" {
		src := "identity_token_file"
		if f.IdentityTokenFile == "" {
			src = EnvIdentityTokenFile
		}
		data, err := c.readFile(name)
		if err != nil {
			return store.Credential{}, fmt.Errorf("read %s: %w", src, err)
		}
		idToken := strings.TrimSpace(string(data))
		if idToken == "" {
			return store.Credential{}, fmt.Errorf("%s=%s is empty", src, name)
		}
		return c.credential(ctx, addr, idToken, false)
	}
	idToken := old.Data[dataIDToken]
	if idToken == "" {
		if c.getenv(EnvIdentityTokenFile) != "" {
			// Name the fix: the file is never guessed onto a server, not
			// even the only one configured (SPEC §8).
			return store.Credential{}, fmt.Errorf("%s: %w (%s is sent only to the server %s names, now %s; to use it here set %s=%s, or identity_token_file in feed %s's config)",
				f.ID, auth.ErrSignInRequired, EnvIdentityTokenFile, EnvAddress, orNone(c.getenv(EnvAddress)), EnvAddress, feed.Redact(addr), f.ID)
		}
		return store.Credential{}, fmt.Errorf("%s: %w", f.ID, auth.ErrSignInRequired)
	}
	if exp, err := jwtExpiry(idToken); err == nil && !exp.After(c.now().Add(time.Minute)) {
		return store.Credential{}, fmt.Errorf("%s: the identity token expired: %w", f.ID, auth.ErrSignInRequired)
	}
	cred, err := c.credential(ctx, addr, idToken, true)
	var e *Error
	if errors.As(err, &e) && (e.Code == "invalid_grant" || e.Status == http.StatusUnauthorized) {
		// The server no longer takes it (revoked, expired early, or a
		// restarted server that forgot it): retrying cannot help.
		return store.Credential{}, fmt.Errorf("%s: %w: %w", f.ID, err, auth.ErrSignInRequired)
	}
	return cred, err
}

// tokenFile returns the identity token file that f's server may receive:
// the feed's own identity_token_file, or PACKAGEMANAGER_IDENTITY_TOKEN_FILE
// when PACKAGEMANAGER_ADDRESS names this server. An identity token sent to
// another server could be replayed by its operator at the right one.
func (c *Client) tokenFile(f feed.Feed) string {
	if f.IdentityTokenFile != "" {
		return f.IdentityTokenFile
	}
	name := c.getenv(EnvIdentityTokenFile)
	if name != "" && SameAddress(c.getenv(EnvAddress), Address(f)) {
		return name
	}
	return ""
}

// SameAddress reports whether a and b name the same server: scheme and host
// compared without case, the default port implied, the path exactly, any
// trailing '/' ignored. An empty address matches nothing.
func SameAddress(a, b string) bool {
	norm := func(s string) (string, bool) {
		u, err := url.Parse(strings.TrimRight(s, "/"))
		if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return "", false
		}
		scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
		if scheme == "https" {
			host = strings.TrimSuffix(host, ":443")
		}
		return scheme + "://" + host + u.EscapedPath(), true
	}
	na, ok1 := norm(a)
	nb, ok2 := norm(b)
	return ok1 && ok2 && na == nb
}

func orNone(s string) string {
	if s == "" {
		return "unset"
	}
	return feed.Redact(s)
}

// credential exchanges idToken and builds the credential to store. The
// identity token is kept (as secret Data) only when it came from a device
// sign-in; a token file stays the source of its own tokens.
func (c *Client) credential(ctx context.Context, addr, idToken string, keep bool) (store.Credential, error) {
	tok, err := c.exchange(ctx, addr, idToken)
	if err != nil {
		return store.Credential{}, err
	}
	cred := store.Credential{
		Kind:     string(feed.Posit),
		Username: feed.PositUsername,
		Secret:   tok.AccessToken,
		Expires:  tok.Expiry,
	}
	if keep {
		cred.Data = map[string]string{dataIDToken: idToken}
	}
	return cred, nil
}
