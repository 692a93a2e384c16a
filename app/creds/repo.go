package creds

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/config"
)

// Repo returns the credential git presents to Azure Repos for the
// organization of f, an Azure feed.
//
// Azure Repos takes as the password an Entra access token for Azure DevOps
// (or a PAT with a vso.code scope), with any user name. The feed
// credential is by default a session token or PAT scoped to packaging
// (vso.packaging_write), which Azure Repos refuses; only with token =
// "entra" is it the Entra token itself, and then it is what git gets.
// Otherwise Repo asks the provider for the Entra token, silently, from the
// refresh material the feed credential holds (MSAL's cache: its access
// token while valid, else a refresh token grant). It stores no second
// secret: refresh material the provider rotated is written back into the
// feed credential, under the credential's lock as every refresh, so the
// feed's next refresh and the next git request (which then finds the
// access token in that cache, with no network call) use the newest.
//
// Like [Manager.Fresh] it never prompts; when only a person can help the
// error wraps auth.ErrSignInRequired.
func (m *Manager) Repo(ctx context.Context, cfg *config.Config, f feed.Feed) (store.Credential, error) {
	if f.Kind != feed.Azure {
		return store.Credential{}, fmt.Errorf("feed %s is not an Azure DevOps feed", f.ID)
	}
	if f.Token == "entra" {
		return m.Fresh(ctx, cfg, f, store.FreshFor)
	}
	p, err := m.provider(cfg, f.Kind)
	if err != nil {
		return store.Credential{}, err
	}
	id := f.CredentialID(cfg.Trust)
	unlock, err := lockCredential(ctx, m.LockDir, id)
	if err != nil {
		return store.Credential{}, err
	}
	defer unlock()
	st := store.New(m.Keychain)
	old, err := st.LoadKind(ctx, id, string(f.Kind))
	switch {
	case errors.Is(err, store.ErrDamaged):
		return store.Credential{}, fmt.Errorf("%w: %s", err, f.Hint())
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return store.Credential{}, err
	}
	entra := f
	entra.Token = "entra"
	c, err := p.Refresh(ctx, entra, old)
	if errors.Is(err, auth.ErrSignInRequired) {
		return store.Credential{}, fmt.Errorf("%w for feed %s: %s", auth.ErrSignInRequired, f.ID, f.Hint())
	}
	if err != nil {
		return store.Credential{}, fmt.Errorf("get an Entra token for %s: %w", f.ID, err)
	}
	// MSAL hands out a cached access token while it has five minutes
	// left, as Fresh does with store.FreshFor; this is the floor.
	if !c.Valid(m.Now(), store.UsableFor) {
		return store.Credential{}, fmt.Errorf("get an Entra token for %s: it expires at %s", f.ID, c.Expires.UTC().Format(time.RFC3339))
	}
	if old.Secret != "" && rotated(old.Data, c.Data) {
		upd := old
		upd.Data = maps.Clone(old.Data)
		maps.Copy(upd.Data, c.Data)
		if _, err := m.save(ctx, cfg, f, upd); err != nil {
			return store.Credential{}, err
		}
	}
	c.Data = nil // refresh material is not for git
	return c, nil
}

// rotated reports whether fresh holds refresh material that old lacks.
func rotated(old, fresh map[string]string) bool {
	for k, v := range fresh {
		if old[k] != v {
			return true
		}
	}
	return false
}
