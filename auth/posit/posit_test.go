package posit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/simulator"
)

// clock is a fake clock shared by the client and the simulator: sleeping
// advances it, so a device flow of minutes runs at once.
type clock struct {
	mu      sync.Mutex
	t       time.Time
	sleeps  []time.Duration
	onSleep func(n int) // called after the n-th sleep (1-based)
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.sleeps = append(c.sleeps, d)
	n, hook := len(c.sleeps), c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return ctx.Err()
}

// prompter records what a person would be shown.
type prompter struct{ link, code string }

func (p *prompter) OpenBrowser(context.Context, string) error { return auth.ErrNoBrowser }

func (p *prompter) DeviceCode(_ context.Context, d auth.DeviceCode) error {
	p.link, p.code = d.URL, d.Code
	return nil
}

type fixture struct {
	srv    *simulator.Server
	ppm    *simulator.PPM
	clock  *clock
	client *Client
	feed   feed.Feed
	env    map[string]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	ppm := &simulator.PPM{Now: clk.Now, Interval: 1}
	srv, err := simulator.NewServer(ppm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	fx := &fixture{srv: srv, ppm: ppm, clock: clk, env: map[string]string{}}
	fx.client = &Client{HTTP: srv.Client(), Now: clk.Now, Sleep: clk.Sleep, Getenv: func(k string) string { return fx.env[k] }}
	fx.feed = feed.Feed{ID: "ppm", Kind: feed.Posit, URL: srv.URL + "/pypi-auth/latest/simple/", Address: srv.URL}
	return fx
}

func TestLoginDeviceFlow(t *testing.T) {
	fx := newFixture(t)
	fx.ppm.SlowDown = 1
	p := &prompter{}
	// The person approves while the client waits before its third poll.
	fx.clock.onSleep = func(n int) {
		if n == 3 {
			if err := fx.ppm.Approve(p.code); err != nil {
				t.Error(err)
			}
		}
	}
	c, err := fx.client.Login(context.Background(), fx.feed, p)
	if err != nil {
		t.Fatal(err)
	}
	// 1 s before the first poll; slow_down adds 5 s (RFC 8628 §3.5).
	if want := []time.Duration{time.Second, 6 * time.Second, 6 * time.Second}; !slices.Equal(fx.clock.sleeps, want) {
		t.Errorf("sleeps = %v, want %v", fx.clock.sleeps, want)
	}
	if !strings.Contains(p.link, "user_code="+p.code) || p.code == "" {
		t.Errorf("prompted with %q, code %q: want verification_uri_complete", p.link, p.code)
	}
	if c.Kind != "posit" || c.Username != "__token__" || c.Secret == "" || c.Data[dataIDToken] == "" {
		t.Errorf("credential = %+v", c)
	}
	if want := fx.clock.Now().Add(time.Hour); !c.Expires.Equal(want.Truncate(time.Second)) {
		t.Errorf("expires %v, want %v (the JWT's exp)", c.Expires, want)
	}
}

func TestLoginEnds(t *testing.T) {
	tests := []struct {
		name string
		act  func(fx *fixture, p *prompter, n int)
		want error
	}{
		{"denied", func(fx *fixture, p *prompter, n int) {
			if n == 2 {
				fx.ppm.Deny(p.code)
			}
		}, ErrAccessDenied},
		{"expired", func(fx *fixture, p *prompter, n int) {}, ErrCodeExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			p := &prompter{}
			fx.clock.onSleep = func(n int) { tt.act(fx, p, n) }
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := fx.client.Login(ctx, fx.feed, p)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Login = %v, want %v", err, tt.want)
			}
			if c.Secret != "" {
				t.Errorf("a credential came back: %+v", c)
			}
		})
	}
}

func TestIdentityTokenFile(t *testing.T) {
	fx := newFixture(t)
	file := filepath.Join(t.TempDir(), "id-token")
	fx.env[EnvIdentityTokenFile] = file
	fx.env[EnvAddress] = fx.feed.Address + "/"

	// Missing and empty files are clear errors.
	if _, err := fx.client.Login(context.Background(), fx.feed, &prompter{}); err == nil || !strings.Contains(err.Error(), EnvIdentityTokenFile) {
		t.Errorf("missing file: %v", err)
	}
	os.WriteFile(file, []byte("  \n"), 0o600)
	if _, err := fx.client.Refresh(context.Background(), fx.feed, store.Credential{}); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("empty file: %v", err)
	}

	// Login exchanges the file's token without a device flow.
	os.WriteFile(file, []byte(fx.ppm.IssueIDToken("ci-job-1")+"\n"), 0o600)
	p := &prompter{}
	c1, err := fx.client.Login(context.Background(), fx.feed, p)
	if err != nil {
		t.Fatal(err)
	}
	if p.code != "" || c1.Secret == "" || c1.Data != nil {
		t.Errorf("Login with a token file: prompted %q, credential %+v", p.code, c1)
	}
	// The agent rotates the file; the next refresh uses the new token.
	fx.clock.Sleep(context.Background(), 50*time.Minute)
	os.WriteFile(file, []byte(fx.ppm.IssueIDToken("ci-job-2")), 0o600)
	c2, err := fx.client.Refresh(context.Background(), fx.feed, c1)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Secret == c1.Secret || !c2.Expires.After(c1.Expires) || subject(t, c2.Secret) != "ci-job-2" {
		t.Errorf("refresh did not use the rotated file: %s", subject(t, c2.Secret))
	}
	if got := fx.ppm.Exchanges(); got != 2 {
		t.Errorf("exchanges = %d, want 2", got)
	}
}

func TestRefreshFromStoredIDToken(t *testing.T) {
	fx := newFixture(t)
	old := store.Credential{Data: map[string]string{dataIDToken: fx.ppm.IssueIDToken("alice")}}
	c, err := fx.client.Refresh(context.Background(), fx.feed, old)
	if err != nil || c.Secret == "" || c.Data[dataIDToken] == "" {
		t.Fatalf("Refresh = %+v, %v", c, err)
	}
	// Once the identity token has expired, only a sign-in helps.
	fx.clock.Sleep(context.Background(), 2*time.Hour)
	if _, err := fx.client.Refresh(context.Background(), fx.feed, old); !errors.Is(err, auth.ErrSignInRequired) {
		t.Errorf("Refresh with an expired id token = %v, want ErrSignInRequired", err)
	}
	if _, err := fx.client.Refresh(context.Background(), fx.feed, store.Credential{}); !errors.Is(err, auth.ErrSignInRequired) {
		t.Errorf("Refresh with nothing = %v, want ErrSignInRequired", err)
	}
	// A token the server refuses is a sign-in too, not a crash.
	bad := store.Credential{Data: map[string]string{dataIDToken: "a.b.c"}}
	if _, err := fx.client.Refresh(context.Background(), fx.feed, bad); !errors.Is(err, auth.ErrSignInRequired) {
		t.Errorf("Refresh with a refused id token = %v, want ErrSignInRequired", err)
	}
}

func TestJWTExpiry(t *testing.T) {
	tests := map[string]bool{
		// Header {"alg":"HS256"}; the signature is not checked.
		"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.sig": true,  // {"exp":1700000000}
		"eyJhbGciOiJIUzI1NiJ9.eyJleHAiOiJzb29uIn0.sig":      false, // {"exp":"soon"}
		"eyJhbGciOiJIUzI1NiJ9.e30.sig":                      false, // {}
		"e30.eyJleHAiOjE3MDAwMDAwMDB9.sig":                  false, // no alg: not a JWS
		"not-a-jwt":                                         false,
		"eyJhbGciOiJIUzI1NiJ9.!!!.sig":                      false,
	}
	for in, ok := range tests {
		exp, err := jwtExpiry(in)
		if (err == nil) != ok || (ok && exp.Unix() != 1700000000) {
			t.Errorf("jwtExpiry(%q) = %v, %v", in, exp, err)
		}
	}
}

func subject(t *testing.T, jwt string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct{ Sub string }
	json.Unmarshal(payload, &claims)
	return claims.Sub
}
