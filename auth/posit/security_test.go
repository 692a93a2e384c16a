package posit

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/httpclient"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/auth/untrusted"
	"github.com/feedkey/feedkey/simulator"
	"github.com/feedkey/feedkey/simulator/simtest"
)

// client trusts ca, as a real client trusts its system roots.
func client(ca *simulator.CA) *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.CertPool()}}}
}

func newCA(t *testing.T) *simulator.CA {
	t.Helper()
	ca, err := simulator.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// TestSecretsNeverFollowRedirects: every Package Manager POST carries a
// secret (the identity token, the device code and PKCE verifier), so a
// redirect (to another port, to plain http, to another host) is refused and
// nothing reaches its target.
func TestSecretsNeverFollowRedirects(t *testing.T) {
	t.Parallel()
	targets := simtest.RedirectTargets()
	for target, start := range targets {
		for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
			t.Run(target+"/"+http.StatusText(status), func(t *testing.T) {
				t.Parallel()
				ca := newCA(t)
				catcher := start(t, ca)
				ppm := simtest.NewHostile(t, ca, func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, catcher.URL+r.URL.Path, status)
				})
				client := &Client{HTTP: client(ca), Getenv: func(k string) string {
					return map[string]string{EnvAddress: ppm.URL, EnvIdentityTokenFile: writeFile(t, "SECRET-ID-TOKEN")}[k]
				}}
				f := feed.Feed{ID: "ppm", Kind: feed.Posit, URL: ppm.URL + "/pypi/latest/simple/", Address: ppm.URL}
				_, err := client.Refresh(context.Background(), f, store.Credential{})
				var re *httpclient.RedirectError
				if !errors.As(err, &re) || re.Status != status || !strings.Contains(err.Error(), catcher.URL) {
					t.Fatalf("Refresh = %v, want a refused %d redirect naming %s", err, status, catcher.URL)
				}
				if got := catcher.Received(); got != "" {
					t.Fatalf("the redirect target received:\n%s", got)
				}
				if !strings.Contains(ppm.Received(), "SECRET-ID-TOKEN") {
					t.Fatal("the server itself never got the exchange")
				}
			})
		}
	}
}

// TestDevicePollNeverFollowsRedirects: the device_access poll carries the
// device code and the PKCE verifier.
func TestDevicePollNeverFollowsRedirects(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	catcher := simtest.NewHostile(t, ca, nil)
	ppm := simtest.NewHostile(t, ca, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/__api__/device":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"device_code":"DEVCODE-SECRET","user_code":"ABCD","verification_uri":"https://ppm.example/device","interval":1,"expires_in":60}`)
		default:
			http.Redirect(w, r, catcher.URL+r.URL.Path, http.StatusTemporaryRedirect)
		}
	})
	clk := &clock{}
	client := &Client{HTTP: client(ca), Now: clk.Now, Sleep: clk.Sleep, Getenv: func(string) string { return "" }}
	f := feed.Feed{ID: "ppm", Kind: feed.Posit, URL: ppm.URL + "/simple/", Address: ppm.URL}
	_, err := client.Login(context.Background(), f, &prompter{})
	if !errors.Is(err, httpclient.ErrRedirect) {
		t.Fatalf("Login = %v, want a refused redirect", err)
	}
	if got := catcher.Received(); got != "" {
		t.Fatalf("the redirect target received:\n%s", got)
	}
}

// TestHostileVerificationURI: a link the server chooses is opened or shown
// only if it is an https page.
func TestHostileVerificationURI(t *testing.T) {
	t.Parallel()
	for _, link := range []string{
		"file:///etc/passwd",
		"javascript:alert(1)",
		"smb://host/x.desktop",
		"--no-sandbox https://ppm.example/device",
		"-a https://ppm.example/device",
		"https://user:pw@ppm.example/device",
		"http://ppm.example/device",
		`\\\\evil\\share\\run.exe`,
	} {
		t.Run(link, func(t *testing.T) {
			t.Parallel()
			ca := newCA(t)
			ppm := simtest.NewHostile(t, ca, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"device_code":"d","user_code":"ABCD","verification_uri_complete":"`+strings.ReplaceAll(link, `\`, `\\`)+`","interval":1}`)
			})
			client := &Client{HTTP: client(ca), Getenv: func(string) string { return "" }}
			f := feed.Feed{ID: "ppm", Kind: feed.Posit, URL: ppm.URL + "/simple/", Address: ppm.URL}
			p := &prompter{}
			_, err := client.Login(context.Background(), f, p)
			if !errors.Is(err, untrusted.ErrURL) || !strings.HasPrefix(err.Error(), "ppm: ") || strings.Contains(err.Error(), "pw@") {
				t.Fatalf("Login = %v, want ErrURL naming the feed", err)
			}
			if p.link != "" || p.code != "" {
				t.Fatalf("the prompter was shown %q %q", p.link, p.code)
			}
		})
	}
}

// TestIdentityTokenFileIsBound: with two Package Managers configured, the
// identity token file goes only to the one PACKAGEMANAGER_ADDRESS names, or
// to the feed whose config names the file.
func TestIdentityTokenFileIsBound(t *testing.T) {
	t.Parallel()
	first := newFixture(t)
	other := simtest.NewHostile(t, first.srv.CA, nil)
	file := writeFile(t, first.ppm.IssueIDToken("ci-job"))
	second := feed.Feed{ID: "other", Kind: feed.Posit, URL: other.URL + "/simple/", Address: other.URL}

	for name, env := range map[string]map[string]string{
		"address names the first": {EnvIdentityTokenFile: file, EnvAddress: first.feed.Address},
		"no address":              {EnvIdentityTokenFile: file},
	} {
		client := &Client{HTTP: first.srv.Client(), Now: first.clock.Now, Sleep: first.clock.Sleep, Getenv: func(k string) string { return env[k] }}
		for _, call := range []func() error{
			func() error { _, err := client.Refresh(context.Background(), second, store.Credential{}); return err },
			func() error { _, err := client.Login(context.Background(), second, &prompter{}); return err },
		} {
			_ = call()
		}
		if got := other.Received(); strings.Contains(got, "ci-job") || strings.Contains(got, "token-exchange") {
			t.Fatalf("%s: the second server received the identity token:\n%s", name, got)
		}
		_, err := client.Refresh(context.Background(), second, store.Credential{})
		if !errors.Is(err, auth.ErrSignInRequired) || !strings.Contains(err.Error(), EnvAddress) {
			t.Errorf("%s: Refresh of the second = %v, want sign-in needed that explains the binding", name, err)
		}
	}

	// The first server gets it when bound; the second when its own config
	// names the file.
	first.env[EnvIdentityTokenFile], first.env[EnvAddress] = file, first.feed.Address
	if _, err := first.client.Refresh(context.Background(), first.feed, store.Credential{}); err != nil {
		t.Fatalf("bound server: %v", err)
	}
	bound := first.feed
	bound.IdentityTokenFile = file
	delete(first.env, EnvAddress)
	if _, err := first.client.Refresh(context.Background(), bound, store.Credential{}); err != nil {
		t.Fatalf("identity_token_file: %v", err)
	}
	if got := first.ppm.Exchanges(); got != 2 {
		t.Errorf("exchanges at the bound server = %d, want 2", got)
	}
}

// TestForgottenIdentityToken: a server that no longer knows the stored
// identity token (restarted, revoked) means a sign-in, not a refresh to
// retry.
func TestForgottenIdentityToken(t *testing.T) {
	t.Parallel()
	for _, answer := range []http.HandlerFunc{
		func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant"}`)
		},
		func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) },
	} {
		ca := newCA(t)
		ppm := simtest.NewHostile(t, ca, answer)
		clk := &clock{}
		c := &Client{HTTP: client(ca), Now: clk.Now, Getenv: func(string) string { return "" }}
		f := feed.Feed{ID: "ppm", Kind: feed.Posit, URL: ppm.URL + "/simple/", Address: ppm.URL}
		old := store.Credential{Data: map[string]string{dataIDToken: "not-a-jwt"}}
		if _, err := c.Refresh(context.Background(), f, old); !errors.Is(err, auth.ErrSignInRequired) {
			t.Errorf("Refresh = %v, want sign-in needed", err)
		}
	}
}

func TestSameAddress(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"https://ppm.example.com", "https://ppm.example.com/", true},
		{"https://PPM.example.com:443", "https://ppm.example.com", true},
		{"https://ppm.example.com/rspm", "https://ppm.example.com/rspm/", true},
		{"https://ppm.example.com/rspm", "https://ppm.example.com", false},
		{"https://ppm.example.com", "https://ppm.example.com.evil", false},
		{"https://ppm.example.com:8443", "https://ppm.example.com", false},
		{"http://ppm.example.com", "https://ppm.example.com", false},
		{"", "https://ppm.example.com", false},
		{"https://u:p@ppm.example.com", "https://ppm.example.com", false},
	} {
		if got := SameAddress(c.a, c.b); got != c.want {
			t.Errorf("SameAddress(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}
