package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/feedkey/feedkey/app/schedule"
	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/auth/store/storetest"
	"github.com/feedkey/feedkey/control"
	"github.com/feedkey/feedkey/tray"
)

// fakeUI stands in for the system tray: it keeps the newest view and the
// actions, so a test reads the menu and clicks as a person would.
type fakeUI struct {
	ready   chan struct{}
	act     tray.Actions
	mu      sync.Mutex
	last    tray.View
	changed chan struct{}
}

func newFakeUI() *fakeUI {
	return &fakeUI{ready: make(chan struct{}), changed: make(chan struct{}, 1)}
}

func (u *fakeUI) run(ctx context.Context, _ tray.Icons, act tray.Actions, views <-chan tray.View) {
	u.act = act
	close(u.ready)
	for {
		select {
		case <-ctx.Done():
			return
		case v := <-views:
			u.mu.Lock()
			u.last = v
			u.mu.Unlock()
			select {
			case u.changed <- struct{}{}:
			default:
			}
		}
	}
}

// waitView waits for a view that satisfies ok and returns it.
func (u *fakeUI) waitView(t *testing.T, what string, ok func(tray.View) bool) tray.View {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		u.mu.Lock()
		v := u.last
		u.mu.Unlock()
		if ok(v) {
			return v
		}
		select {
		case <-u.changed:
		case <-deadline:
			t.Fatalf("no view with %s; the last: %+v", what, v)
		}
	}
}

// fakeProvider signs in and refreshes on command.
type fakeProvider struct {
	logins, refreshes atomic.Int32
	release           chan struct{} // Login waits for it when set
	refreshErr        atomic.Value  // error to return from Refresh
}

func (p *fakeProvider) Login(ctx context.Context, f feed.Feed, _ auth.Prompter) (store.Credential, error) {
	p.logins.Add(1)
	if p.release != nil {
		select {
		case <-p.release:
		case <-ctx.Done():
			return store.Credential{}, ctx.Err()
		}
	}
	return store.Credential{Kind: string(f.Kind), Secret: "signed-in", Expires: time.Now().Add(time.Hour)}, nil
}

func (p *fakeProvider) Refresh(_ context.Context, f feed.Feed, _ store.Credential) (store.Credential, error) {
	p.refreshes.Add(1)
	if err, _ := p.refreshErr.Load().(error); err != nil {
		return store.Credential{}, err
	}
	return store.Credential{Kind: string(f.Kind), Secret: "refreshed", Expires: time.Now().Add(time.Hour)}, nil
}

type harness struct {
	ui     *fakeUI
	client *control.Client
	kc     *storetest.Memory
	cfg    string
	notes  chan string // notification titles
}

// start runs the tray in process: its real control socket and pages, a
// keychain in memory, fake providers and UI.
func start(t *testing.T, cfgText string, p auth.Provider) *harness {
	t.Helper()
	return startWith(t, cfgText, p, &storetest.Memory{})
}

// startWith is start over the keychain kc.
func startWith(t *testing.T, cfgText string, p auth.Provider, kc store.Keychain) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{ui: newFakeUI(), cfg: filepath.Join(dir, "config.toml"), notes: make(chan string, 16)}
	h.kc, _ = kc.(*storetest.Memory)
	if err := os.WriteFile(h.cfg, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "run", "control.sock")
	h.client = &control.Client{Path: sock}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{
			ConfigPath:  h.cfg,
			Keychain:    kc,
			NewProvider: func(feed.Kind, feed.Trust) auth.Provider { return p },
			Clock:       schedule.Real(),
			SocketPath:  sock,
			Logf:        t.Logf,
			LookupEnv:   testEnv,
			RunUI:       h.ui.run,
			Notify: func(_ context.Context, title, _ string) error {
				select {
				case h.notes <- title:
				default:
				}
				return nil
			},
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select {
	case <-h.ui.ready:
	case err := <-done:
		t.Fatalf("Run ended early: %v", err)
	}
	return h
}

const positFeed = "[[feed]]\nid = \"ppm\"\nkind = \"posit\"\nurl = \"https://ppm.example.com/simple/\"\n"

// TestOneSignInPerCredential: helpers asking at once for a credential that
// needs a sign-in share one sign-in, and all get its result.
func TestOneSignInPerCredential(t *testing.T) {
	t.Parallel()
	p := &fakeProvider{release: make(chan struct{})}
	p.refreshErr.Store(auth.ErrSignInRequired)
	h := start(t, positFeed, p)
	var wg sync.WaitGroup
	secrets := make([]string, 5)
	for i := range secrets {
		wg.Go(func() {
			_, secret, err := h.client.Credential(context.Background(), "https://ppm.example.com/simple/pkg/", 10*time.Second, nil)
			if err != nil {
				t.Error(err)
			}
			secrets[i] = secret
		})
	}
	h.ui.waitView(t, "a sign-in in progress", func(v tray.View) bool {
		return len(v.Lines) == 1 && strings.Contains(v.Lines[0].Label, "signing in")
	})
	close(p.release)
	wg.Wait()
	if n := p.logins.Load(); n != 1 {
		t.Errorf("%d sign-ins for 5 askers, want 1", n)
	}
	for _, s := range secrets {
		if s != "signed-in" {
			t.Errorf("askers got %q", secrets)
			break
		}
	}
	h.ui.waitView(t, "the credential valid", func(v tray.View) bool {
		return v.State == tray.OK && strings.Contains(v.Lines[0].Label, "valid")
	})
}

// TestZeroConfigOffer: pip asks about an unknown Azure DevOps feed; the
// menu offers it, the click adds it to the config and signs in, and the
// waiting helper gets the token.
func TestZeroConfigOffer(t *testing.T) {
	t.Parallel()
	p := &fakeProvider{}
	p.refreshErr.Store(auth.ErrSignInRequired)
	h := start(t, "", p)
	const url = "https://pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple/"
	got := make(chan error, 1)
	go func() {
		_, secret, err := h.client.Credential(context.Background(), url, 10*time.Second, nil)
		if err == nil && secret != "signed-in" {
			err = errors.New("wrong secret " + secret)
		}
		got <- err
	}()
	v := h.ui.waitView(t, "an offer", func(v tray.View) bool { return len(v.Requests) == 1 })
	h.ui.act.Accept(v.Requests[0].ID)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	cfg, _ := os.ReadFile(h.cfg)
	if !strings.Contains(string(cfg), url) {
		t.Errorf("the config does not have the accepted feed:\n%s", cfg)
	}
	// An unknown URL on no recognised host is not offered.
	if _, _, err := h.client.Credential(context.Background(), "https://elsewhere.example/simple/", time.Second, nil); !errors.Is(err, control.ErrUnknownFeed) {
		t.Errorf("unknown host: %v", err)
	}
}

// TestStateTransitions: what the CLI stores shows after a reload; a failing
// refresh shows as failing while the token is valid; a refresh that needs a
// person shows sign-in needed.
func TestStateTransitions(t *testing.T) {
	t.Parallel()
	p := &fakeProvider{}
	h := start(t, positFeed, p)
	h.ui.waitView(t, "sign in needed", func(v tray.View) bool {
		return v.State == tray.SignIn && strings.Contains(v.Lines[0].Label, "sign in needed")
	})

	// The CLI signs in and tells the tray.
	id := feed.Feed{ID: "ppm", Kind: feed.Posit, URL: "https://ppm.example.com/simple/"}.CredentialID(feed.Trust{})
	if err := store.New(h.kc).Save(context.Background(), id, store.Credential{Kind: "posit", Secret: "from-cli", Issued: time.Now(), Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := h.client.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.ui.waitView(t, "valid after reload", func(v tray.View) bool {
		return v.State == tray.OK && strings.Contains(v.Lines[0].Label, "valid")
	})

	p.refreshErr.Store(errors.New("HTTP 503"))
	h.ui.act.Refresh(id)
	h.ui.waitView(t, "refresh failing", func(v tray.View) bool {
		return v.State == tray.Error && strings.Contains(v.Lines[0].Label, "refresh failing, valid")
	})

	if title := <-h.notes; title != "Refresh failing" {
		t.Errorf("notification %q, want Refresh failing", title)
	}

	// A refresh only a person can fix says so, once.
	p.refreshErr.Store(auth.ErrSignInRequired)
	h.ui.act.Refresh(id)
	if title := <-h.notes; title != "Sign-in needed" {
		t.Errorf("notification %q, want Sign-in needed", title)
	}
	// The helper's request for a refresh beside a valid token is not
	// retried against a credential that needs a person.
	before := p.refreshes.Load()
	if err := h.client.StartRefresh(context.Background(), "https://ppm.example.com/simple/"); err != nil {
		t.Fatal(err)
	}
	if err := h.client.Reload(context.Background()); err != nil { // a round trip after it
		t.Fatal(err)
	}
	if n := p.refreshes.Load(); n != before {
		t.Errorf("StartRefresh refreshed a credential that needs a person (%d → %d)", before, n)
	}
}

// countingKeychain counts reads of the keychain under it.
type countingKeychain struct {
	*storetest.Memory
	gets atomic.Int32
}

func (k *countingKeychain) Get(ctx context.Context, service, user string) (string, error) {
	k.gets.Add(1)
	return k.Memory.Get(ctx, service, user)
}

// TestLookupFromMemory: the helper's lookup is answered from the tray's
// memory: the keychain is read once per credential, not per lookup; a write
// the tray is told about (Reload) is served at once; a service no feed
// covers is "unknown", an expired credential a miss.
func TestLookupFromMemory(t *testing.T) {
	t.Parallel()
	kc := &countingKeychain{Memory: &storetest.Memory{}}
	const tokenFeed = "[[feed]]\nid = \"team\"\nkind = \"token\"\nurl = \"https://pypi.example/team/simple/\"\n"
	f := feed.Feed{ID: "team", Kind: feed.Token, URL: "https://pypi.example/team/simple/"}
	id := f.CredentialID(feed.Trust{})
	if err := store.New(kc).Save(context.Background(), id, store.Credential{Kind: "token", Username: "__token__", Secret: "one"}); err != nil {
		t.Fatal(err)
	}
	h := startWith(t, tokenFeed, &fakeProvider{}, kc)
	ctx := context.Background()
	lookup := func(service string) (string, error) {
		_, secret, _, err := h.client.Lookup(ctx, service)
		return secret, err
	}
	if s, err := lookup(f.URL + "pkg/"); err != nil || s != "one" {
		t.Fatalf("lookup = %q, %v", s, err)
	}
	before := kc.gets.Load()
	for range 20 {
		if s, err := lookup(f.URL); err != nil || s != "one" {
			t.Fatalf("lookup = %q, %v", s, err)
		}
	}
	if n := kc.gets.Load() - before; n != 0 {
		t.Errorf("20 lookups read the keychain %d times, want 0", n)
	}
	// The CLI replaces the token and tells the tray.
	if err := store.New(kc).Save(ctx, id, store.Credential{Kind: "token", Username: "__token__", Secret: "two"}); err != nil {
		t.Fatal(err)
	}
	if err := h.client.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if s, err := lookup(f.URL); err != nil || s != "two" {
		t.Errorf("after Reload: lookup = %q, %v; want the new token", s, err)
	}
	if _, err := lookup("https://elsewhere.example/simple/"); !errors.Is(err, control.ErrUnknownFeed) {
		t.Errorf("a service no feed covers: %v, want ErrUnknownFeed", err)
	}
}
