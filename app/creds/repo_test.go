package creds

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/auth/store/storetest"
	"github.com/feedkey/feedkey/config"
)

// entraProvider plays the Azure provider's silent path: for a feed asking
// for token = "entra" it answers an Entra token and rotated refresh
// material; anything else is a mistake of Repo.
type entraProvider struct {
	t     *testing.T
	now   time.Time
	calls int
	seen  []string // the refresh material of each call
	err   error
}

func (p *entraProvider) Refresh(_ context.Context, f feed.Feed, old store.Credential) (store.Credential, error) {
	if f.Token != "entra" {
		p.t.Errorf("Refresh asked for token %q, want entra", f.Token)
	}
	p.calls++
	p.seen = append(p.seen, old.Data["rt"])
	if p.err != nil {
		return store.Credential{}, p.err
	}
	return store.Credential{Kind: "azure", Username: feed.AzureUsername, Secret: fmt.Sprintf("entra-%d", p.calls),
		Expires: p.now.Add(time.Hour), Data: map[string]string{"rt": fmt.Sprintf("rt-%d", p.calls)}}, nil
}

func (p *entraProvider) Login(context.Context, feed.Feed, auth.Prompter) (store.Credential, error) {
	return store.Credential{}, errors.New("no login in these tests")
}

func newRepoManager(t *testing.T, token string) (*Manager, *entraProvider, *config.Config, feed.Feed) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	toml := "[[feed]]\nid = \"contoso\"\nkind = \"azure\"\nurl = \"https://pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple/\"\n"
	if token != "" {
		toml += "token = \"" + token + "\"\n"
	}
	if err := os.WriteFile(path, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	p := &entraProvider{t: t, now: now}
	m := &Manager{
		Keychain:    &storetest.Memory{},
		NewProvider: func(feed.Kind, feed.Trust) auth.Provider { return p },
		Now:         func() time.Time { return now },
		LockDir:     t.TempDir(),
	}
	return m, p, cfg, cfg.Feeds[0]
}

// TestRepoEntraFromSessionCredential: the feed's session token is not what
// git gets; the Entra token is, and the refresh material the provider
// rotated replaces the feed credential's, which keeps its own token.
func TestRepoEntraFromSessionCredential(t *testing.T) {
	t.Parallel()
	m, p, cfg, f := newRepoManager(t, "")
	ctx := context.Background()
	id := f.CredentialID(cfg.Trust)
	session := store.Credential{Kind: "azure", Username: feed.AzureUsername, Secret: "session", Expires: p.now.Add(8 * time.Hour),
		Data: map[string]string{"rt": "rt-0", "authority": "a"}}
	if err := store.New(m.Keychain).Save(ctx, id, session); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		c, err := m.Repo(ctx, cfg, f)
		if err != nil || c.Secret != fmt.Sprintf("entra-%d", i) || c.Data != nil {
			t.Fatalf("Repo #%d = %q, data %v, %v", i, c.Secret, c.Data, err)
		}
	}
	if want := []string{"rt-0", "rt-1"}; fmt.Sprint(p.seen) != fmt.Sprint(want) {
		t.Errorf("refresh material used = %v, want %v (each call the one the last left)", p.seen, want)
	}
	stored, err := store.New(m.Keychain).Load(ctx, id)
	if err != nil || stored.Secret != "session" || !stored.Expires.Equal(session.Expires) ||
		stored.Data["rt"] != "rt-2" || stored.Data["authority"] != "a" {
		t.Errorf("feed credential after Repo = %q %v %v, %v", stored.Secret, stored.Expires, stored.Data, err)
	}
}

// TestRepoEntraFeed: with token = "entra" the feed credential is the Entra
// token: no refresh while it is fresh.
func TestRepoEntraFeed(t *testing.T) {
	t.Parallel()
	m, p, cfg, f := newRepoManager(t, "entra")
	ctx := context.Background()
	cred := store.Credential{Kind: "azure", Secret: "entra-stored", Expires: p.now.Add(time.Hour)}
	if err := store.New(m.Keychain).Save(ctx, f.CredentialID(cfg.Trust), cred); err != nil {
		t.Fatal(err)
	}
	if c, err := m.Repo(ctx, cfg, f); err != nil || c.Secret != "entra-stored" || p.calls != 0 {
		t.Errorf("Repo = %q, %v, %d refreshes", c.Secret, err, p.calls)
	}
}

// TestRepoSignInRequired: nothing stored and no silent source: the error
// says which command signs in, and nothing is stored.
func TestRepoSignInRequired(t *testing.T) {
	t.Parallel()
	m, p, cfg, f := newRepoManager(t, "")
	p.err = fmt.Errorf("contoso: %w", auth.ErrSignInRequired)
	_, err := m.Repo(context.Background(), cfg, f)
	if !errors.Is(err, auth.ErrSignInRequired) || err.Error() != "sign-in needed for feed contoso: run `feedkey login contoso`" {
		t.Errorf("Repo = %v", err)
	}
	if _, err := store.New(m.Keychain).Load(context.Background(), f.CredentialID(cfg.Trust)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("something was stored: %v", err)
	}
}
