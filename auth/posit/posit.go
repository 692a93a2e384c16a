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
	"os"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
)

// Environment variables honoured, as posit-keyring does.
const (
	// EnvIdentityTokenFile names a file holding an identity token (CI
	// agents rotate it): it is exchanged directly, with no device flow,
	// and read again at every refresh.
	EnvIdentityTokenFile = "PACKAGEMANAGER_IDENTITY_TOKEN_FILE"
	// EnvAddress is a Package Manager address; feedkey adds it as a feed.
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

// defaultHTTP bounds every exchange: a server that never answers must not
// leave a refresh hanging (the scheduler relies on it).
var defaultHTTP = &http.Client{Timeout: 60 * time.Second}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
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
	if c.getenv(EnvIdentityTokenFile) != "" {
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
	if err := p.DeviceCode(ctx, link, da.UserCode); err != nil {
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
	if name := c.getenv(EnvIdentityTokenFile); name != "" {
		data, err := c.readFile(name)
		if err != nil {
			return store.Credential{}, fmt.Errorf("read %s: %w", EnvIdentityTokenFile, err)
		}
		idToken := strings.TrimSpace(string(data))
		if idToken == "" {
			return store.Credential{}, fmt.Errorf("%s=%s is empty", EnvIdentityTokenFile, name)
		}
		return c.credential(ctx, addr, idToken, false)
	}
	idToken := old.Data[dataIDToken]
	if idToken == "" {
		return store.Credential{}, fmt.Errorf("%s: %w", f.ID, auth.ErrSignInRequired)
	}
	if exp, err := jwtExpiry(idToken); err == nil && !exp.After(c.now().Add(time.Minute)) {
		return store.Credential{}, fmt.Errorf("%s: the identity token expired: %w", f.ID, auth.ErrSignInRequired)
	}
	cred, err := c.credential(ctx, addr, idToken, true)
	var e *Error
	if errors.As(err, &e) && e.Code == "invalid_grant" {
		// The server no longer takes it (revoked, or expired early).
		return store.Credential{}, fmt.Errorf("%s: %w: %w", f.ID, err, auth.ErrSignInRequired)
	}
	return cred, err
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
