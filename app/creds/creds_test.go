package creds

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/auth/store/storetest"
	"github.com/feedkey/feedkey/config"
)

type countingProvider struct {
	calls atomic.Int32
	now   func() time.Time
}

func (p *countingProvider) Refresh(context.Context, feed.Feed, store.Credential) (store.Credential, error) {
	n := p.calls.Add(1)
	time.Sleep(20 * time.Millisecond) // a network call: others pile up behind the lock
	return store.Credential{Kind: string(feed.Posit), Secret: "fresh-" + string(rune('0'+n)), Expires: p.now().Add(time.Hour)}, nil
}

func (p *countingProvider) Login(ctx context.Context, f feed.Feed, _ auth.Prompter) (store.Credential, error) {
	return p.Refresh(ctx, f, store.Credential{})
}

func newManager(t *testing.T) (*Manager, *countingProvider, *config.Config, feed.Feed) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(path, []byte("[[feed]]\nid = \"ppm\"\nkind = \"posit\"\nurl = \"https://ppm.example.com/simple/\"\n"), 0o600)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProvider{now: time.Now}
	m := &Manager{
		Keychain:    &storetest.Memory{},
		NewProvider: func(feed.Kind, feed.Trust) auth.Provider { return p },
		Now:         time.Now,
		LockDir:     t.TempDir(),
	}
	return m, p, cfg, cfg.Feeds[0]
}

// TestFreshRefreshesOnce: concurrent callers of a missing credential wait
// for one refresh and all get its result.
func TestFreshRefreshesOnce(t *testing.T) {
	t.Parallel()
	m, p, cfg, f := newManager(t)
	var wg sync.WaitGroup
	got := make([]string, 20)
	for i := range got {
		wg.Go(func() {
			c, err := m.Fresh(context.Background(), cfg, f, 5*time.Minute)
			if err != nil {
				t.Error(err)
			}
			got[i] = c.Secret
		})
	}
	wg.Wait()
	if n := p.calls.Load(); n != 1 {
		t.Errorf("%d refreshes for 20 callers, want 1", n)
	}
	for _, s := range got {
		if s != got[0] {
			t.Fatalf("callers got different credentials: %q", got)
		}
	}
	c, err := store.New(m.Keychain).Load(context.Background(), f.CredentialID(cfg.Trust))
	if err != nil || c.Issued.IsZero() || c.Expires.Nanosecond() != 0 {
		t.Errorf("stored %+v, %v: want an issue time and an expiry in whole seconds", c, err)
	}
}

// TestLockHonoursContext: a caller waiting for another process's refresh
// gives up when its context ends, with an error that says what it waited
// for.
func TestLockHonoursContext(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	unlock, err := lockCredential(context.Background(), dir, "x")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := lockCredential(ctx, dir, "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second lock = %v, want the deadline", err)
	}
}
