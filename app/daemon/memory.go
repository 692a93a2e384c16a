package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/config"
	"github.com/feedkey/feedkey/control"
)

// memory is what the tray knows without asking the disk or the keychain:
// the config, loaded again only when one of its files changes, and each
// credential as last read or written. The helper asks the tray first
// (control "lookup"), so a running tray answers pip from here; the menu is
// drawn from here too, so an idle tray touches neither disk nor keychain.
//
// Every write feedkey makes goes through the tray (refresh, sign-in, sign
// out) or tells it (the CLI's and the helper's Reload), which forget what
// they changed.
type memory struct {
	mu      sync.Mutex
	cfg     *config.Config
	cfgKey  string // config.Stamp of cfg
	creds   map[string]cachedCred
	loadCfg func() (*config.Config, error)
	stamp   func() string // config.Stamp now
}

// cachedCred is a credential as the store last gave it, or ErrNotFound.
type cachedCred struct {
	c   store.Credential
	err error
}

// config returns the config, loading it again only when a file changed.
func (m *memory) config() (*config.Config, error) {
	key := m.stamp()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cfg != nil && key == m.cfgKey {
		return m.cfg, nil
	}
	cfg, err := m.loadCfg()
	if err != nil {
		return nil, err
	}
	m.cfg, m.cfgKey = cfg, key
	return cfg, nil
}

// stored returns credential id from memory, else from the store (and keeps
// it, or its absence).
func (a *App) stored(ctx context.Context, id string) (store.Credential, error) {
	m := &a.mem
	m.mu.Lock()
	cc, ok := m.creds[id]
	m.mu.Unlock()
	if ok {
		return cc.c, cc.err
	}
	c, err := store.New(a.opts.Keychain).Load(ctx, id)
	if err == nil || errors.Is(err, store.ErrNotFound) {
		m.mu.Lock()
		m.creds[id] = cachedCred{c, err}
		m.mu.Unlock()
	}
	return c, err
}

// forget drops credential id from memory (all of them with no id): it was
// written, or may have been.
func (a *App) forget(ids ...string) {
	m := &a.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(ids) == 0 {
		clear(m.creds)
	}
	for _, id := range ids {
		delete(m.creds, id)
	}
}

// lookupWait bounds the one keychain read a lookup may make when the
// credential is not in memory yet.
const lookupWait = 2 * time.Second

// Lookup implements control.Looker: the credential for service, from
// memory, if it can be served now (valid for store.UsableFor); one close
// to expiry is served and refreshed beside, as the helper would.
func (a *App) Lookup(service string) (user, password, kind string, err error) {
	cfg, err := a.config()
	if err != nil {
		return "", "", "", err
	}
	f, err := cfg.Resolve(service)
	switch {
	case errors.Is(err, feed.ErrNoMatch):
		return "", "", "", control.ErrUnknownFeed
	case err != nil:
		return "", "", "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), lookupWait)
	defer cancel()
	id := f.CredentialID(cfg.Trust)
	c, err := a.stored(ctx, id)
	now := a.mgr.Now()
	switch {
	case err != nil:
		return "", "", "", err
	case c.Kind != string(f.Kind):
		return "", "", "", fmt.Errorf("credential %s is of another kind", id)
	case !c.Valid(now, store.UsableFor):
		return "", "", "", control.ErrMiss
	case f.Kind != feed.Token && !c.Valid(now, store.FreshFor):
		a.StartRefresh(service)
	}
	return f.User(c.Username), c.Secret, string(f.Kind), nil
}
