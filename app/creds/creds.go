// Package creds obtains feed credentials for the CLI and the tray alike:
// from the keychain, by a silent refresh, or by a sign-in, storing what it
// gets. The helper only reads the keychain; everything that talks to the
// network goes through here.
package creds

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/feedkey/feedkey/app/config"
	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
)

// Manager obtains credentials. Its fields must be set; it is safe for
// concurrent use if its keychain and providers are.
type Manager struct {
	Keychain    store.Keychain
	NewProvider func(kind feed.Kind, trust feed.Trust) auth.Provider // nil for kinds without sign-in
	Now         func() time.Time
}

// Hint says how a person gets a credential for f.
func Hint(f feed.Feed) string {
	if f.Kind == feed.Token {
		return fmt.Sprintf("store one with `feedkey add %s --kind token`", f.URL)
	}
	return fmt.Sprintf("run `feedkey login %s`", f.ID)
}

func (m *Manager) provider(cfg *config.Config, kind feed.Kind) (auth.Provider, error) {
	if m.NewProvider != nil {
		if p := m.NewProvider(kind, cfg.Trust); p != nil {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%s feeds have no sign-in: store a token with `feedkey login`", kind)
}

// Fresh returns a credential for f good for at least d: the stored one, or a
// silent refresh, which it stores. It never prompts; when only a person can
// help, the error wraps auth.ErrSignInRequired and names the command.
func (m *Manager) Fresh(ctx context.Context, cfg *config.Config, f feed.Feed, d time.Duration) (store.Credential, error) {
	c, err := store.New(m.Keychain).Load(ctx, f.CredentialID(cfg.Trust))
	switch {
	case err == nil && c.Kind != "" && c.Kind != string(f.Kind):
		return store.Credential{}, fmt.Errorf("keychain item %s holds a %s credential, not %s: run `feedkey logout %s`", store.Service(f.CredentialID(cfg.Trust)), c.Kind, f.Kind, f.ID)
	case err == nil && c.Valid(m.Now(), d):
		return c, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return store.Credential{}, err
	case f.Kind == feed.Token && err != nil:
		return store.Credential{}, fmt.Errorf("no credential stored for feed %s: %s", f.ID, Hint(f))
	case f.Kind == feed.Token:
		return store.Credential{}, fmt.Errorf("the credential for feed %s has expired: %s", f.ID, Hint(f))
	}
	return m.refresh(ctx, cfg, f, c)
}

// Refresh refreshes f's credential now, without prompting.
func (m *Manager) Refresh(ctx context.Context, cfg *config.Config, f feed.Feed) (store.Credential, error) {
	c, err := store.New(m.Keychain).Load(ctx, f.CredentialID(cfg.Trust))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Credential{}, err
	}
	return m.refresh(ctx, cfg, f, c)
}

func (m *Manager) refresh(ctx context.Context, cfg *config.Config, f feed.Feed, old store.Credential) (store.Credential, error) {
	p, err := m.provider(cfg, f.Kind)
	if err != nil {
		return store.Credential{}, err
	}
	fresh, err := p.Refresh(ctx, f, old)
	if errors.Is(err, auth.ErrSignInRequired) {
		return store.Credential{}, fmt.Errorf("%w for feed %s: %s", auth.ErrSignInRequired, f.ID, Hint(f))
	}
	if err != nil {
		return store.Credential{}, fmt.Errorf("refresh %s: %w", f.ID, err)
	}
	return fresh, m.save(ctx, cfg, f, fresh)
}

// Login signs in to f through p and stores the credential.
func (m *Manager) Login(ctx context.Context, cfg *config.Config, f feed.Feed, p auth.Prompter) (store.Credential, error) {
	prov, err := m.provider(cfg, f.Kind)
	if err != nil {
		return store.Credential{}, err
	}
	c, err := prov.Login(ctx, f, p)
	if err != nil {
		return store.Credential{}, fmt.Errorf("sign in to %s: %w", f.ID, err)
	}
	return c, m.save(ctx, cfg, f, c)
}

func (m *Manager) save(ctx context.Context, cfg *config.Config, f feed.Feed, c store.Credential) error {
	if err := store.New(m.Keychain).Save(ctx, f.CredentialID(cfg.Trust), c); err != nil {
		return fmt.Errorf("store the credential of %s: %w", f.ID, err)
	}
	return nil
}
