package azure

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/httpclient"
	"github.com/feedkey/feedkey/simulator"
	"github.com/feedkey/feedkey/simulator/simtest"
)

const entraSecret = "ENTRA-ACCESS-TOKEN-SECRET"

func trusting(ca *simulator.CA) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.CertPool()}}}
}

func hostOf(raw string) string {
	u, _ := url.Parse(raw)
	return u.Host
}

// TestTokenAPIsNeverFollowRedirects: a trusted Azure DevOps token host that
// answers the SessionTokens or PAT POST with a redirect, to another port, to
// cleartext http on the same host or to another host, never gets the Entra token re-sent
// there (Go's client keeps Authorization when only the port or scheme
// changes).
func TestTokenAPIsNeverFollowRedirects(t *testing.T) {
	t.Parallel()
	apis := map[string]func(c *Client, d Discovery) error{
		"session": func(c *Client, d Discovery) error {
			_, err := c.sessionToken(context.Background(), d, entraSecret)
			return err
		},
		"pat": func(c *Client, d Discovery) error { _, err := c.pat(context.Background(), d, entraSecret); return err },
	}
	targets := simtest.RedirectTargets()
	for api, call := range apis {
		for target, start := range targets {
			for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
				t.Run(api+"/"+target+"/"+http.StatusText(status), func(t *testing.T) {
					t.Parallel()
					ca, _ := simulator.NewCA()
					catcher := start(t, ca)
					devops := simtest.NewHostile(t, ca, func(w http.ResponseWriter, r *http.Request) {
						http.Redirect(w, r, catcher.URL+r.URL.RequestURI(), status)
					})
					c := &Client{HTTP: trusting(ca), Trust: feed.Trust{AzureTokenHosts: []string{hostOf(devops.URL)}}}
					err := call(c, Discovery{Org: "contoso", AuthEndpoint: devops.URL + "/contoso/"})
					var re *httpclient.RedirectError
					if !errors.As(err, &re) || re.Status != status || !strings.Contains(err.Error(), catcher.URL) {
						t.Fatalf("got %v, want a refused %d redirect naming %s", err, status, catcher.URL)
					}
					if got := catcher.Received(); got != "" {
						t.Fatalf("the redirect target received:\n%s", got)
					}
					if !strings.Contains(devops.Received(), entraSecret) {
						t.Fatal("the token API itself never got the call")
					}
				})
			}
		}
	}
}

// TestDiscoveryRedirects: the unauthenticated feed request may follow a
// redirect to another Azure DevOps feed host, and to nothing else.
func TestDiscoveryRedirects(t *testing.T) {
	t.Parallel()
	ca, _ := simulator.NewCA()
	challenge := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", "Bearer authorization_uri=https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47")
		w.Header().Set("X-VSS-AuthorizationEndpoint", "https://vssps.dev.azure.com/contoso/")
		w.WriteHeader(http.StatusUnauthorized)
	}
	trustedFeed := simtest.NewHostile(t, ca, challenge)
	untrustedFeed := simtest.NewHostile(t, ca, challenge)
	plain := simtest.HostilePlain(t, challenge)
	for name, c := range map[string]struct {
		target  string
		wantErr bool
	}{
		"to a trusted feed host": {trustedFeed.URL + "/contoso/_packaging/py/pypi/simple/", false},
		"to an untrusted host":   {untrustedFeed.URL + "/contoso/_packaging/py/pypi/simple/", true},
		"to plain http":          {plain.URL + "/contoso/_packaging/py/pypi/simple/", true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			start := simtest.NewHostile(t, ca, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, c.target, http.StatusFound)
			})
			trust := feed.Trust{AzureFeedHosts: []string{hostOf(start.URL), hostOf(trustedFeed.URL)}}
			client := &Client{HTTP: trusting(ca), Trust: trust}
			f := feed.Feed{ID: "contoso", Kind: feed.Azure, URL: start.URL + "/contoso/_packaging/py/pypi/simple/"}
			d, err := client.discover(context.Background(), f)
			if c.wantErr {
				if !errors.Is(err, httpclient.ErrRedirect) {
					t.Fatalf("discover = %+v, %v; want a refused redirect", d, err)
				}
				return
			}
			if err != nil || d.AuthEndpoint != "https://vssps.dev.azure.com/contoso/" {
				t.Fatalf("discover = %+v, %v", d, err)
			}
		})
	}
	t.Cleanup(func() {
		if got := untrustedFeed.Received() + plain.Received(); got != "" {
			t.Errorf("an untrusted host was asked:\n%s", got)
		}
	})
}
