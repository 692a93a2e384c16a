// Package azure signs in to Azure DevOps Artifacts (SPEC §4): it discovers
// the organization's Microsoft Entra tenant from the feed's 401 answer,
// signs in through MSAL (browser with PKCE, or device code) or a
// non-interactive source, and turns the Entra token into the feed
// credential: a session token, a PAT, or the Entra token itself.
package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/httpclient"
	"github.com/feedkey/feedkey/auth/store"
)

// maxBody bounds every answer read from a server.
const maxBody = 1 << 20

// Keys of the credential's secret Data.
const (
	dataCache     = "msal_cache"    // MSAL's token cache: refresh tokens
	dataAccount   = "account"       // MSAL home account id
	dataAuthority = "authority"     // discovered, validated
	dataEndpoint  = "auth_endpoint" // discovered, validated
	dataSource    = "source"        // how it was obtained: browser, device-code, ...
)

// Client is the Azure DevOps [auth.Provider]. Trust must be the config's
// [feed.Trust]; the other fields default to the real thing.
type Client struct {
	Trust    feed.Trust
	HTTP     *http.Client
	Now      func() time.Time
	Getenv   func(string) string
	LookPath func(string) (string, error)

	mu              sync.Mutex
	client          *http.Client
	discoveryClient *http.Client
	discovered      map[string]Discovery
}

var _ auth.Provider = (*Client)(nil)

// http returns the client for every call that carries a secret (Azure
// DevOps token APIs, MSAL, azidentity): it never follows a redirect, and
// tries 429 and 5xx answers again.
func (c *Client) http() *http.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil {
		c.client = httpclient.ForSecrets(httpclient.Options{Base: c.HTTP, Retry: true})
	}
	return c.client
}

// discoveryHTTP returns the client for the unauthenticated feed request of
// discovery: it follows redirects only to Azure DevOps Artifacts hosts.
func (c *Client) discoveryHTTP() *http.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.discoveryClient == nil {
		c.discoveryClient = httpclient.ForDiscovery(httpclient.Options{Base: c.HTTP, Retry: true}, func(u *url.URL) bool {
			return feed.Feed{Kind: feed.Azure, URL: u.String()}.Org(c.Trust) != ""
		})
	}
	return c.discoveryClient
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) getenv(k string) string {
	if c.Getenv != nil {
		return c.Getenv(k)
	}
	return os.Getenv(k)
}

func (c *Client) lookPath(name string) (string, error) {
	if c.LookPath != nil {
		return c.LookPath(name)
	}
	return exec.LookPath(name)
}

// kind is the feed credential to make: session (default), pat or entra.
// KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN=true asks for entra, as in
// keyrings.artifacts.
func (c *Client) kind(f feed.Feed) string {
	if strings.EqualFold(c.getenv("KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN"), "true") {
		return "entra"
	}
	if f.Token == "" {
		return "session"
	}
	return f.Token
}

func clientID(f feed.Feed) string {
	if f.ClientID != "" {
		return f.ClientID
	}
	return DefaultClientID
}

// Login implements [auth.Provider]: the silent path first, then the browser
// (or a device code).
func (c *Client) Login(ctx context.Context, f feed.Feed, p auth.Prompter) (store.Credential, error) {
	if pat := c.getenv("AZURE_DEVOPS_EXT_PAT"); pat != "" {
		return patCredential(pat), nil
	}
	d, err := c.discover(ctx, f)
	if err != nil {
		return store.Credential{}, err
	}
	kc := &keychainCache{}
	pc, err := c.publicClient(d, clientID(f), kc)
	if err != nil {
		return store.Credential{}, err
	}
	res, err := c.interactive(ctx, pc, f.SignIn == "device-code", p)
	if err != nil {
		return store.Credential{}, explainEntra(err)
	}
	tok := entraToken{Token: res.AccessToken, Expires: res.ExpiresOn.UTC()}
	return c.feedCredential(ctx, f, d, tok, kc, res.Account.HomeAccountID)
}

// Refresh implements [auth.Provider], without a person: an Azure DevOps PAT
// from AZURE_DEVOPS_EXT_PAT, a service principal or workload identity from
// the environment, the saved MSAL account, then the Azure CLI.
func (c *Client) Refresh(ctx context.Context, f feed.Feed, old store.Credential) (store.Credential, error) {
	if pat := c.getenv("AZURE_DEVOPS_EXT_PAT"); pat != "" {
		return patCredential(pat), nil
	}
	d, err := c.discovery(ctx, f, old)
	if err != nil {
		return store.Credential{}, err
	}
	if tok, ok, err := c.environmentToken(ctx, d); ok {
		if err != nil {
			return store.Credential{}, err
		}
		return c.feedCredential(ctx, f, d, tok, nil, "")
	}
	if cached := old.Data[dataCache]; cached != "" {
		kc := &keychainCache{data: []byte(cached)}
		pc, err := c.publicClient(d, clientID(f), kc)
		if err != nil {
			return store.Credential{}, err
		}
		res, err := c.silent(ctx, pc, old.Data[dataAccount])
		if err == nil {
			tok := entraToken{Token: res.AccessToken, Expires: res.ExpiresOn.UTC()}
			return c.feedCredential(ctx, f, d, tok, kc, res.Account.HomeAccountID)
		}
		if errors.Is(err, auth.ErrSignInRequired) {
			return store.Credential{}, fmt.Errorf("%s: %w", d.Org, err)
		}
		err = explainEntra(err)
		if errors.Is(err, auth.ErrSignInRequired) {
			return store.Credential{}, fmt.Errorf("%s: %w", d.Org, err)
		}
		return store.Credential{}, err
	}
	if tok, ok, err := c.cliToken(ctx, d); ok && err == nil {
		return c.feedCredential(ctx, f, d, tok, nil, "")
	}
	return store.Credential{}, fmt.Errorf("%s: %w", d.Org, auth.ErrSignInRequired)
}

// discovery returns what the last sign-in discovered, validated again
// against the current trust, or asks the feed.
func (c *Client) discovery(ctx context.Context, f feed.Feed, old store.Credential) (Discovery, error) {
	a, e := old.Data[dataAuthority], old.Data[dataEndpoint]
	if a != "" && e != "" {
		va, err1 := validateAuthority(a, c.Trust)
		ve, err2 := validateAuthEndpoint(e, c.Trust)
		if err1 == nil && err2 == nil {
			return Discovery{Org: f.Org(c.Trust), Authority: va, AuthEndpoint: ve}, nil
		}
	}
	return c.discover(ctx, f)
}

// feedCredential turns an Entra token into the credential pip gets.
func (c *Client) feedCredential(ctx context.Context, f feed.Feed, d Discovery, tok entraToken, kc *keychainCache, account string) (store.Credential, error) {
	cred := store.Credential{
		Kind:     string(feed.Azure),
		Username: feed.AzureUsername,
		Data:     map[string]string{dataAuthority: d.Authority, dataEndpoint: d.AuthEndpoint},
	}
	if kc != nil && len(kc.data) > 0 {
		cred.Data[dataCache] = string(refreshState(kc.data))
		cred.Data[dataAccount] = account
	}
	kind := c.kind(f)
	if tok.ServicePrincipal {
		kind = "entra" // app identities are not exchanged (SPEC §4.4)
	}
	switch kind {
	case "entra":
		cred.Secret, cred.Expires = tok.Token, tok.Expires
	case "pat":
		is, err := c.pat(ctx, d, tok.Token)
		if err != nil {
			return store.Credential{}, err
		}
		cred.Secret, cred.Expires = is.Token, is.Expires
	default:
		is, err := c.sessionToken(ctx, d, tok.Token)
		if err != nil {
			return store.Credential{}, err
		}
		cred.Secret, cred.Expires = is.Token, is.Expires
	}
	return cred, nil
}

// patCredential is AZURE_DEVOPS_EXT_PAT, used as is.
func patCredential(pat string) store.Credential {
	return store.Credential{Kind: string(feed.Azure), Username: feed.AzureUsername, Secret: pat}
}
