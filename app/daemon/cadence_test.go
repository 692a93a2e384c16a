package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/feedkey/feedkey/app/schedule"
	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/auth/store/storetest"
)

// testEnv is the environment daemon tests run in: no system config, no
// PACKAGEMANAGER_ADDRESS, whatever the process has.
func testEnv(k string) (string, bool) {
	if k == "FEEDKEY_SYSTEM_CONFIG" {
		return "", true
	}
	return "", false
}

// manualClock is a clock the test moves by hand. The test drives refreshes
// itself (see TestRefreshCadence), so its timers never fire.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func (c *manualClock) NewTimer(time.Duration) schedule.Timer { return idleTimer{} }

type idleTimer struct{}

func (idleTimer) C() <-chan time.Time { return nil }
func (idleTimer) Stop() bool          { return true }

// lifetimeProvider issues tokens of a fixed lifetime, with a fractional
// second in the expiry as Azure DevOps' validTo has, and counts refreshes.
type lifetimeProvider struct {
	clock *manualClock
	life  time.Duration
	mu    sync.Mutex
	calls int
}

func (p *lifetimeProvider) Refresh(_ context.Context, f feed.Feed, _ store.Credential) (store.Credential, error) {
	p.mu.Lock()
	p.calls++
	n := p.calls
	p.mu.Unlock()
	now := p.clock.Now()
	return store.Credential{Kind: string(f.Kind), Secret: fmt.Sprintf("token-%d", n), Expires: now.Add(p.life + 123456789*time.Nanosecond)}, nil
}

func (p *lifetimeProvider) Login(ctx context.Context, f feed.Feed, _ auth.Prompter) (store.Credential, error) {
	return p.Refresh(ctx, f, store.Credential{})
}

// TestRefreshCadence runs the tray's refresh logic (the minute resync with
// the keychain, the scheduler's plan, the refresh) over simulated time and
// counts refreshes: tokens of every lifetime are refreshed when about 25 %
// of their life (at least 5 minutes) remains, no more often.
func TestRefreshCadence(t *testing.T) {
	t.Parallel()
	feeds := map[feed.Kind]string{
		feed.Azure: `[[feed]]
id = "contoso"
kind = "azure"
url = "https://pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple/"
`,
		feed.Posit: `[[feed]]
id = "ppm"
kind = "posit"
url = "https://ppm.example.com/pypi/latest/simple/"
`,
	}
	for _, tc := range []struct {
		life, span time.Duration
	}{
		{8 * time.Minute, time.Hour},
		{time.Hour, 24 * time.Hour},
		{8 * time.Hour, 24 * time.Hour},
	} {
		for kind, cfgText := range feeds {
			t.Run(fmt.Sprintf("%s/%s", kind, tc.life), func(t *testing.T) {
				t.Parallel()
				clock := &manualClock{now: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
				prov := &lifetimeProvider{clock: clock, life: tc.life}
				cfgPath := filepath.Join(t.TempDir(), "config.toml")
				if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
					t.Fatal(err)
				}
				a := newApp(Options{
					ConfigPath:  cfgPath,
					Keychain:    &storetest.Memory{},
					NewProvider: func(feed.Kind, feed.Trust) auth.Provider { return prov },
					Clock:       clock,
					Logf:        t.Logf,
					LookupEnv:   testEnv,
				})
				a.mgr.LockDir = t.TempDir()
				a.sched = &schedule.Scheduler{Clock: clock, Refresh: a.refresh, Rand: func() float64 { return 0 }}
				ctx := context.Background()
				cfg, err := a.config()
				if err != nil {
					t.Fatal(err)
				}
				f := cfg.Feeds[0]
				id := f.CredentialID(cfg.Trust)
				if _, err := a.mgr.Login(ctx, cfg, f, nil); err != nil {
					t.Fatal(err)
				}
				prov.calls = 0

				const step = 10 * time.Second
				end := clock.Now().Add(tc.span)
				for i := 0; clock.Now().Before(end); i++ {
					if i%6 == 0 {
						a.resync(ctx) // the tray's minute tick
					}
					if s, ok := a.sched.Status(id); ok && !s.NextAttempt.IsZero() && !clock.Now().Before(s.NextAttempt) {
						if err := a.sched.RefreshNow(ctx, id); err != nil {
							t.Fatal(err)
						}
					}
					c, err := store.New(a.opts.Keychain).Load(ctx, id)
					if err != nil || !c.Valid(clock.Now(), 5*time.Minute-step) {
						t.Fatalf("at %s: stored credential %v valid until %s", clock.Now().Format(time.TimeOnly), err, c.Expires)
					}
					clock.advance(step)
				}
				lead := max(tc.life/4, 5*time.Minute)
				want := int(tc.span / (tc.life - lead))
				if prov.calls < want-1 || float64(prov.calls) > 1.1*float64(want) {
					t.Errorf("%d refreshes of %s tokens in %s, want %d (within 10 %%)", prov.calls, tc.life, tc.span, want)
				}
				t.Logf("%d refreshes of %s tokens in %s (need %d)", prov.calls, tc.life, tc.span, want)
			})
		}
	}
}
