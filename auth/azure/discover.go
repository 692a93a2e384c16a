package azure

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/httpclient"
	"github.com/feedkey/feedkey/auth/untrusted"
)

// Discovery is what an Azure DevOps feed says about its sign-in in the 401
// answer to an unauthenticated request (SPEC §4.2), after validation.
type Discovery struct {
	Org          string
	Tenant       string // GUID; all zeros for personal-account orgs
	Authority    string // https://login.microsoftonline.com/{tenant}, or /organizations
	AuthEndpoint string // base of the token APIs, ending in '/'
}

// Microsoft's hosts, trusted without configuration (SPEC §4.2).
var (
	authorityHosts = []string{"login.microsoftonline.com", "login.windows.net", "login.microsoft.com"}
	tokenHosts     = []string{"vssps.dev.azure.com", "vssps.visualstudio.com", "app.vssps.dev.azure.com", "app.vssps.visualstudio.com"}
	tokenSuffixes  = []string{".vssps.visualstudio.com", ".vssps.dev.azure.com"}
)

// ErrUntrustedEndpoint is a discovered endpoint outside the allowlist: no
// token is sent there.
var ErrUntrustedEndpoint = errors.New("untrusted sign-in endpoint")

const personalTenant = "00000000-0000-0000-0000-000000000000"

var (
	bearerRE = regexp.MustCompile(`(?i)(?:^|[\s,])Bearer(?:\s+([^,]*))?`)
	paramRE  = regexp.MustCompile(`(?i)authorization_uri\s*=\s*"?([^",\s]+)"?`)
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// discover asks the feed, without credentials, who signs in for it. The
// answer is cached per credential (an org on one host) for the life of the
// Client.
func (c *Client) discover(ctx context.Context, f feed.Feed) (Discovery, error) {
	org, key := f.Org(c.Trust), f.CredentialID(c.Trust)
	c.mu.Lock()
	d, ok := c.discovered[key]
	c.mu.Unlock()
	if ok {
		return d, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return Discovery{}, err
	}
	resp, err := c.discoveryHTTP().Do(req)
	if err != nil {
		return Discovery{}, fmt.Errorf("reach %s: %w", feed.Redact(f.URL), httpclient.Clean(err))
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		return Discovery{}, fmt.Errorf("discover sign-in for %s: the feed answered HTTP %d, not 401", feed.Redact(f.URL), resp.StatusCode)
	}
	d, err = parseChallenge(resp.Header, org, f, c.Trust)
	if err != nil {
		return Discovery{}, fmt.Errorf("discover sign-in for %s: %w", feed.Redact(f.URL), err)
	}
	c.mu.Lock()
	if c.discovered == nil {
		c.discovered = map[string]Discovery{}
	}
	c.discovered[key] = d
	c.mu.Unlock()
	return d, nil
}

// parseChallenge reads and validates the three discovery headers.
func parseChallenge(h http.Header, org string, f feed.Feed, t feed.Trust) (Discovery, error) {
	d := Discovery{Org: org}
	bearer, uri := false, ""
	for _, v := range h.Values("WWW-Authenticate") {
		for _, m := range bearerRE.FindAllStringSubmatch(v, -1) {
			bearer = true
			if p := paramRE.FindStringSubmatch(m[1]); p != nil {
				uri = p[1]
			}
		}
	}
	if !bearer {
		return Discovery{}, errors.New("no Bearer challenge in the 401 answer: is this an Azure DevOps feed?")
	}
	d.Tenant = strings.TrimSpace(h.Get("X-VSS-ResourceTenant"))
	if d.Tenant != "" && !guidRE.MatchString(d.Tenant) {
		return Discovery{}, fmt.Errorf("X-VSS-ResourceTenant %q is not a tenant id", untrusted.OneLine(d.Tenant, 60))
	}
	if uri == "" {
		// Orgs backed by personal Microsoft accounts send a bare Bearer.
		d.Authority = "https://" + defaultAuthorityHost(t) + "/organizations"
	} else {
		a, err := validateAuthority(uri, t)
		if err != nil {
			return Discovery{}, err
		}
		d.Authority = a
	}
	ep := strings.TrimSpace(h.Get("X-VSS-AuthorizationEndpoint"))
	if ep == "" {
		ep = defaultAuthEndpoint(f, org)
	}
	a, err := validateAuthEndpoint(ep, t)
	if err != nil {
		return Discovery{}, err
	}
	d.AuthEndpoint = a
	return d, nil
}

// validateAuthority accepts https://{Microsoft login host}/{tenant} or a
// configured authority host, with nothing else in the URL.
func validateAuthority(raw string, t feed.Trust) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w: authority %q", ErrUntrustedEndpoint, untrusted.OneLine(raw, 100))
	}
	host := strings.ToLower(u.Host)
	if !allowed(host, authorityHosts, nil, t.AzureAuthorityHosts) {
		return "", fmt.Errorf("%w: authority host %q is not a Microsoft sign-in host (add it to [trust] azure_authority_hosts if you mean it)", ErrUntrustedEndpoint, host)
	}
	tenant := strings.Trim(u.Path, "/")
	if tenant == "" || strings.Contains(tenant, "/") {
		return "", fmt.Errorf("%w: authority %q does not name one tenant", ErrUntrustedEndpoint, untrusted.OneLine(raw, 100))
	}
	return "https://" + host + "/" + tenant, nil
}

// validateAuthEndpoint accepts the Azure DevOps token API hosts of SPEC §4.2
// or a configured one, with at most one path segment.
func validateAuthEndpoint(raw string, t feed.Trust) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w: authorization endpoint %q", ErrUntrustedEndpoint, untrusted.OneLine(raw, 100))
	}
	host := strings.ToLower(u.Host)
	if !allowed(host, tokenHosts, tokenSuffixes, t.AzureTokenHosts) {
		return "", fmt.Errorf("%w: authorization endpoint host %q is not an Azure DevOps host (add it to [trust] azure_token_hosts if you mean it)", ErrUntrustedEndpoint, host)
	}
	path := strings.Trim(u.Path, "/")
	if strings.Contains(path, "/") {
		return "", fmt.Errorf("%w: authorization endpoint %q has more than one path segment", ErrUntrustedEndpoint, untrusted.OneLine(raw, 100))
	}
	if path == "" {
		return "https://" + host + "/", nil
	}
	return "https://" + host + "/" + path + "/", nil
}

// allowed reports whether host (with an optional port) is one of exact or
// ends in one of suffixes on port 443, or is listed in trusted exactly.
func allowed(host string, exact, suffixes, trusted []string) bool {
	for _, h := range trusted {
		if strings.EqualFold(h, host) {
			return true
		}
	}
	name := strings.TrimSuffix(host, ":443")
	if strings.Contains(name, ":") {
		return false // another port is never Microsoft's
	}
	for _, h := range exact {
		if name == h {
			return true
		}
	}
	for _, s := range suffixes {
		if label, ok := strings.CutSuffix(name, s); ok && label != "" && !strings.Contains(label, ".") {
			return true
		}
	}
	return false
}

func defaultAuthorityHost(t feed.Trust) string {
	if len(t.AzureAuthorityHosts) > 0 {
		return strings.ToLower(t.AzureAuthorityHosts[0])
	}
	return authorityHosts[0]
}

// defaultAuthEndpoint is where the token APIs live when the feed does not
// say: vssps for dev.azure.com, {org}.vssps.visualstudio.com for the legacy
// host.
func defaultAuthEndpoint(f feed.Feed, org string) string {
	if strings.Contains(f.URL, ".pkgs.visualstudio.com") {
		return "https://" + org + ".vssps.visualstudio.com/"
	}
	return "https://vssps.dev.azure.com/" + org + "/"
}
