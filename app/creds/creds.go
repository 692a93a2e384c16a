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

	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/config"
)

// Manager obtains credentials. Its fields must be set, but LockDir; it is
// safe for concurrent use if its keychain and providers are.
//
// One refresh per credential runs on the machine at a time, whichever
// process asks (the tray, `feedkey token` run by many helpers at once): a
// refresh takes the credential's lock file, reads the store again, and uses
// what another process stored meanwhile instead of refreshing again.
type Manager struct {
	Keychain    store.Keychain
	NewProvider func(kind feed.Kind, trust feed.Trust) auth.Provider // nil for kinds without sign-in
	Now         func() time.Time
	// LockDir holds the per-credential lock files; empty means feedkey's
	// directory in the user cache dir. Every process must use the same.
	LockDir string
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
	id := f.CredentialID(cfg.Trust)
	st := store.New(m.Keychain)
	c, err := st.LoadKind(ctx, id, string(f.Kind))
	if c, done, err := m.stored(f, id, c, err, d); done {
		return c, err
	}
	unlock, err := lockCredential(ctx, m.LockDir, id)
	if err != nil {
		return store.Credential{}, err
	}
	defer unlock()
	// Another process may have refreshed it while we waited.
	c, err = st.LoadKind(ctx, id, string(f.Kind))
	if c, done, err := m.stored(f, id, c, err, d); done {
		return c, err
	}
	return m.refresh(ctx, cfg, f, c)
}

// stored decides whether what the store holds answers Fresh: a credential
// good for d, or an error no refresh can fix.
func (m *Manager) stored(f feed.Feed, id string, c store.Credential, err error, d time.Duration) (_ store.Credential, done bool, _ error) {
	switch {
	case err == nil && c.Valid(m.Now(), d):
		return c, true, nil
	case errors.Is(err, store.ErrDamaged):
		return store.Credential{}, true, fmt.Errorf("%w: %s", err, f.Hint())
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return store.Credential{}, true, err
	case f.Kind == feed.Token && err != nil:
		return store.Credential{}, true, fmt.Errorf("no credential stored for feed %s: %s", f.ID, f.Hint())
	case f.Kind == feed.Token:
		return store.Credential{}, true, fmt.Errorf("the credential for feed %s has expired: %s", f.ID, f.Hint())
	}
	return c, false, nil
}

// Refresh refreshes f's credential now, without prompting. If another
// process stored a new credential while this one waited for the lock, that
// one is the refresh.
func (m *Manager) Refresh(ctx context.Context, cfg *config.Config, f feed.Feed) (store.Credential, error) {
	id := f.CredentialID(cfg.Trust)
	st := store.New(m.Keychain)
	before, err := st.Load(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrDamaged) {
		return store.Credential{}, err
	}
	unlock, err := lockCredential(ctx, m.LockDir, id)
	if err != nil {
		return store.Credential{}, err
	}
	defer unlock()
	c, err := st.Load(ctx, id)
	switch {
	case err == nil && c.Secret != before.Secret && c.Valid(m.Now(), store.UsableFor):
		return c, nil
	case err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrDamaged):
		return store.Credential{}, err
	}
	return m.refresh(ctx, cfg, f, c)
}

// refresh runs the provider's silent refresh and stores the result; the
// caller holds the credential's lock.
func (m *Manager) refresh(ctx context.Context, cfg *config.Config, f feed.Feed, old store.Credential) (store.Credential, error) {
	p, err := m.provider(cfg, f.Kind)
	if err != nil {
		return store.Credential{}, err
	}
	fresh, err := p.Refresh(ctx, f, old)
	if errors.Is(err, auth.ErrSignInRequired) {
		return store.Credential{}, fmt.Errorf("%w for feed %s: %s", auth.ErrSignInRequired, f.ID, f.Hint())
	}
	if err != nil {
		return store.Credential{}, fmt.Errorf("refresh %s: %w", f.ID, err)
	}
	fresh, err = m.save(ctx, cfg, f, fresh)
	if err == nil {
		// Under the lock no other feedkey writer runs: every chunk that is
		// not the new record's is garbage (killed or losing writers).
		_, _ = store.New(m.Keychain).Compact(ctx, f.CredentialID(cfg.Trust), 0)
	}
	return fresh, err
}

// SignIn returns a credential for f good for at least d like Fresh, and when
// only a person can help, signs in through p: one sign-in per credential on
// the machine. A process that finds another's sign-in under way calls
// waiting (if set) and waits for it, then uses what it stored.
func (m *Manager) SignIn(ctx context.Context, cfg *config.Config, f feed.Feed, d time.Duration, p auth.Prompter, waiting func()) (store.Credential, error) {
	c, err := m.Fresh(ctx, cfg, f, d)
	if !errors.Is(err, auth.ErrSignInRequired) || f.Kind == feed.Token {
		return c, err
	}
	id := f.CredentialID(cfg.Trust)
	unlock, err := lockSignIn(ctx, m.LockDir, id, waiting)
	if err != nil {
		return store.Credential{}, err
	}
	defer unlock()
	// Signed in by the process we waited for, if it succeeded.
	c, err = store.New(m.Keychain).LoadKind(ctx, id, string(f.Kind))
	if err == nil && c.Valid(m.Now(), d) {
		return c, nil
	}
	return m.Login(ctx, cfg, f, p)
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
	// The sign-in itself runs unlocked (it waits for a person); its write
	// takes the lock, so that a refresh collecting chunks never removes
	// the parts of a record about to be switched to.
	unlock, err := lockCredential(ctx, m.LockDir, f.CredentialID(cfg.Trust))
	if err != nil {
		return store.Credential{}, err
	}
	defer unlock()
	return m.save(ctx, cfg, f, c)
}

// save stores c, stamped with its issue time and with its expiry at the
// store's precision (whole seconds), and returns it as stored: the tray
// compares what it tracks with what the store holds.
func (m *Manager) save(ctx context.Context, cfg *config.Config, f feed.Feed, c store.Credential) (store.Credential, error) {
	if c.Issued.IsZero() {
		c.Issued = m.Now()
	}
	c.Issued = c.Issued.UTC().Truncate(time.Second)
	if !c.Expires.IsZero() {
		c.Expires = c.Expires.UTC().Truncate(time.Second)
	}
	if err := store.New(m.Keychain).Save(ctx, f.CredentialID(cfg.Trust), c); err != nil {
		return store.Credential{}, fmt.Errorf("store the credential of %s: %w", f.ID, err)
	}
	return c, nil
}
