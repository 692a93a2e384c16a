// Package daemon is the tray app: it keeps every credential fresh with the
// scheduler, answers the helper on the control socket, runs sign-ins when a
// person is needed, and shows all of it in the tray menu.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/feedkey/feedkey/app/creds"
	"github.com/feedkey/feedkey/app/page"
	"github.com/feedkey/feedkey/app/schedule"
	"github.com/feedkey/feedkey/assets"
	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/posit"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/auth/untrusted"
	"github.com/feedkey/feedkey/config"
	"github.com/feedkey/feedkey/control"
	"github.com/feedkey/feedkey/tray"
)

// Autostart turns start-at-login on and off (tray/autostart).
type Autostart interface {
	Enabled() (bool, error)
	Enable(exe string, args ...string) error
	Disable() error
}

// Options configure a tray run. Zero fields get the real thing where there
// is one.
type Options struct {
	// Title names the app in the menu header and tooltip; empty means
	// "feedkey". The demo's tray says it is the demo.
	Title       string
	ConfigPath  string
	Keychain    store.Keychain
	NewProvider func(kind feed.Kind, trust feed.Trust) auth.Provider
	OpenURL     func(url string) error
	Notify      func(ctx context.Context, title, body string) error // nil: no notifications
	Copy        func(text string) error                             // the clipboard; nil: notify instead
	Clock       schedule.Clock
	SocketPath  string
	Executable  string
	Autostart   Autostart
	Logf        func(format string, args ...any)
	// LookupEnv reads the environment the config depends on; nil means
	// os.LookupEnv. Tests pass their own, and never touch the process's.
	LookupEnv func(string) (string, bool)
	// RunUI shows the menu until ctx ends or Quit is clicked; nil means
	// tray.Run. Tests pass one that records the views and clicks.
	RunUI func(ctx context.Context, icons tray.Icons, act tray.Actions, views <-chan tray.View)
}

// App is a running tray.
type App struct {
	opts  Options
	mgr   *creds.Manager
	sched *schedule.Scheduler
	page  *page.Server
	views chan tray.View
	quit  context.CancelFunc

	mem memory // the config and credentials, without disk or keychain

	pubMu sync.Mutex // serialises publish, so the newest view is the last sent
	shown *tray.View // the last view sent, so an unchanged one is not sent again

	mu      sync.Mutex
	signins map[string]*flight // credential id → sign-in in progress
	offers  map[string]*offer  // feed id → zero-config offer waiting for a click
	notice  string
	failed  map[string]bool // credentials whose refresh is failing (notified)
}

// flight is one sign-in that concurrent askers share.
type flight struct {
	done chan struct{}
	cred store.Credential
	err  error

	deadline time.Time
	page     string // the local page showing its code, if any
	mu       sync.Mutex
	prompt   *control.Prompt // what the person is asked to do, once known
	changed  chan struct{}   // closed and replaced when prompt changes
}

// show records what the person is asked to do and wakes the waiters, who
// pass it on to their helpers.
func (fl *flight) show(p control.Prompt) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	fl.prompt = &p
	close(fl.changed)
	fl.changed = make(chan struct{})
}

// current returns the prompt and the channel closed at its next change.
func (fl *flight) current() (*control.Prompt, <-chan struct{}) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	return fl.prompt, fl.changed
}

// signInLimit bounds a sign-in in the tray: a device code lives 15 minutes.
const signInLimit = 15 * time.Minute

// Run runs the tray until Quit or ctx ends. If another tray already runs, it
// asks that one to announce itself and returns nil (single instance).
func Run(ctx context.Context, opts Options) error {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if opts.Clock == nil {
		opts.Clock = schedule.Real()
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	if opts.RunUI == nil {
		opts.RunUI = tray.Run
	}
	if opts.Title == "" {
		opts.Title = "feedkey"
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a := newApp(opts)
	a.quit = cancel
	srv := &control.Server{Path: opts.SocketPath, Handler: a, Logf: opts.Logf}
	if err := srv.Listen(); errors.Is(err, control.ErrRunning) {
		c := &control.Client{Path: srv.Path}
		if err := c.Show(ctx); err != nil {
			return fmt.Errorf("another feedkey tray runs but does not answer: %w", err)
		}
		opts.Logf("feedkey is already running; asked it to show itself")
		return nil
	} else if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	defer srv.Close()
	if _, err := a.config(); err != nil {
		return err
	}
	tmpl, err := template.ParseFS(assets.Pages, "pages/signin.html")
	if err != nil {
		return err
	}
	if a.page, err = page.New(tmpl, assets.Static()); err != nil {
		return err
	}
	addTmpl, err := template.ParseFS(assets.Pages, "pages/add.html")
	if err != nil {
		return err
	}
	a.page.EnableAdd(addTmpl, a.addFeed, a.overview)
	if err := a.page.Start(); err != nil {
		return fmt.Errorf("sign-in page: %w", err)
	}
	defer a.page.Close()

	a.sched = &schedule.Scheduler{Clock: opts.Clock, Refresh: a.refresh, OnChange: func(schedule.Status) { a.publish() }}
	a.resync(ctx)
	go a.sched.Run(ctx)
	go func() {
		if err := srv.Serve(ctx); err != nil && ctx.Err() == nil {
			opts.Logf("control socket: %v", err)
		}
	}()
	go a.tick(ctx)
	a.publish()
	opts.RunUI(ctx, func(s tray.State) []byte { return assets.Icon(string(s), runtime.GOOS) }, a.actions(), a.views)
	return nil
}

// newApp makes an App over opts, whose defaults Run has filled in; Run
// adds the scheduler, the page server and the control socket.
func newApp(opts Options) *App {
	return &App{
		opts:    opts,
		mgr:     &creds.Manager{Keychain: opts.Keychain, NewProvider: opts.NewProvider, Now: opts.Clock.Now},
		views:   make(chan tray.View, 1),
		quit:    func() {},
		signins: map[string]*flight{},
		offers:  map[string]*offer{},
		failed:  map[string]bool{},
		mem: memory{
			creds:   map[string]cachedCred{},
			loadCfg: func() (*config.Config, error) { return config.LoadEnv(opts.ConfigPath, opts.LookupEnv) },
			stamp:   func() string { return config.Stamp(opts.ConfigPath, opts.LookupEnv) },
		},
	}
}

// tick redraws the menu every minute, on the one clock: its labels count
// down. It reads only memory, and sends the menu nothing when no label
// changed. Changes to the config or the keychain arrive as Reload.
func (a *App) tick(ctx context.Context) {
	for {
		t := a.opts.Clock.NewTimer(time.Minute)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
			a.publish()
		}
	}
}

// config returns the config, read again only when its files changed: the
// CLI may have changed it.
func (a *App) config() (*config.Config, error) { return a.mem.config() }

// resync brings the scheduler in line with the keychain: credentials the
// CLI stored, replaced or removed since are tracked, re-planned or dropped.
func (a *App) resync(ctx context.Context) {
	cfg, err := a.config()
	if err != nil {
		a.opts.Logf("%v", err)
		return
	}
	for _, g := range groups(cfg) {
		if g.feed.Kind == feed.Token {
			continue
		}
		status, tracked := a.sched.Status(g.id)
		c, err := a.stored(ctx, g.id)
		switch {
		case errors.Is(err, store.ErrNotFound) && tracked:
			a.sched.Forget(g.id)
		case err != nil || c.Expires.IsZero():
		case !tracked || !sameSecond(status.Expires, c.Expires):
			// The store keeps whole seconds: comparing finer would re-track
			// (and re-plan) every credential at every resync.
			a.sched.Track(g.id, c.Issued, c.Expires)
		}
	}
}

func sameSecond(a, b time.Time) bool { return a.Truncate(time.Second).Equal(b.Truncate(time.Second)) }

// Reload implements control.Reloader: the CLI changed the config or the
// keychain.
func (a *App) Reload(ctx context.Context) {
	a.forget()
	a.resync(ctx)
	a.publish()
}

// refreshTimeout bounds one silent refresh, so a hung server puts the
// credential into backoff instead of "refreshing…" forever.
const refreshTimeout = 2 * time.Minute

// refresh is the scheduler's RefreshFunc.
func (a *App) refresh(ctx context.Context, id string) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	cfg, err := a.config()
	if err != nil {
		return time.Time{}, err
	}
	f, ok := feedOf(cfg, id)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: no feed uses credential %s any more", schedule.ErrNeedsPerson, id)
	}
	c, err := a.mgr.Refresh(ctx, cfg, f)
	a.forget(id)
	if errors.Is(err, auth.ErrSignInRequired) {
		a.notify(ctx, "Sign-in needed", fmt.Sprintf("%s needs you to sign in again: use the feedkey menu.", f.ID))
		return time.Time{}, fmt.Errorf("%w: %w", schedule.ErrNeedsPerson, err)
	}
	if err != nil {
		a.failing(ctx, id, f, err)
		return time.Time{}, err
	}
	a.mu.Lock()
	delete(a.failed, id)
	a.mu.Unlock()
	return c.Expires, nil
}

// failing notifies once per run of failures that a refresh is failing; the
// old token keeps being served meanwhile.
func (a *App) failing(ctx context.Context, id string, f feed.Feed, err error) {
	a.mu.Lock()
	first := !a.failed[id]
	a.failed[id] = true
	a.mu.Unlock()
	if first {
		a.notify(ctx, "Refresh failing", fmt.Sprintf("%s: %v. feedkey keeps trying and serves the current token while it is valid.", f.ID, err))
	}
}

func (a *App) notify(ctx context.Context, title, body string) {
	if a.opts.Notify == nil {
		return
	}
	if err := a.opts.Notify(ctx, title, body); err != nil {
		a.opts.Logf("notification: %v", err)
	}
}

// signIn runs one sign-in per credential; concurrent callers share it, and
// each gets the prompts through report (nil: none wanted).
func (a *App) signIn(ctx context.Context, cfg *config.Config, f feed.Feed, report func(control.Prompt)) (store.Credential, error) {
	id := f.CredentialID(cfg.Trust)
	a.mu.Lock()
	fl, running := a.signins[id]
	if !running {
		fl = &flight{done: make(chan struct{}), changed: make(chan struct{}), deadline: a.mgr.Now().Add(signInLimit)}
		a.signins[id] = fl
	}
	a.mu.Unlock()
	if !running {
		go func() {
			// The sign-in outlives the asker that started it: others may
			// wait for it, and a browser may already be open.
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), signInLimit)
			defer cancel()
			fl.cred, fl.err = a.mgr.Login(sctx, cfg, f, prompter{a: a, feed: f, flight: fl})
			a.forget(id)
			fl.mu.Lock()
			pageID := fl.page
			fl.mu.Unlock()
			if pageID != "" {
				a.page.Finish(pageID, outcome(fl.err))
			}
			a.mu.Lock()
			delete(a.signins, id)
			a.notice = ""
			a.mu.Unlock()
			if fl.err == nil && !fl.cred.Expires.IsZero() {
				a.sched.Track(id, fl.cred.Issued, fl.cred.Expires)
			}
			if fl.err != nil {
				a.notify(sctx, "Sign-in failed", fmt.Sprintf("%s: %v", f.ID, fl.err))
			}
			close(fl.done)
			a.publish()
		}()
		a.publish()
	}
	for {
		p, changed := fl.current()
		if p != nil && report != nil {
			report(*p)
		}
		select {
		case <-fl.done:
			return fl.cred, fl.err
		case <-changed:
		case <-ctx.Done():
			return store.Credential{}, control.ErrTimeout
		}
	}
}

// outcome is how a sign-in that ended with err reads on its page.
func outcome(err error) page.Outcome {
	switch {
	case err == nil:
		return page.Outcome{State: page.StateDone}
	case errors.Is(err, posit.ErrAccessDenied):
		return page.Outcome{State: page.StateDenied}
	case errors.Is(err, posit.ErrCodeExpired), errors.Is(err, context.DeadlineExceeded):
		return page.Outcome{State: page.StateExpired}
	}
	return page.Outcome{State: page.StateFailed, Message: untrusted.OneLine(err.Error(), 300)}
}

// prompter shows a sign-in from the tray: the browser opens; a device code
// also goes into the menu, a notification and the local page.
type prompter struct {
	a      *App
	feed   feed.Feed
	flight *flight
}

func (p prompter) OpenBrowser(_ context.Context, raw string) error {
	link, err := untrusted.URL(raw)
	if err != nil {
		return fmt.Errorf("sign in to %s: %w", p.feed.ID, err)
	}
	if p.a.opts.OpenURL == nil {
		return auth.ErrNoBrowser
	}
	if err := p.a.opts.OpenURL(link); err != nil {
		return fmt.Errorf("%w: %v", auth.ErrNoBrowser, err)
	}
	p.flight.show(control.Prompt{Feed: p.feed.ID, URL: link, Expires: p.flight.deadline.Unix()})
	return nil
}

// DeviceCode shows the code everywhere the person may look. The link and
// the code come from the server: the link is checked again here (the
// providers check it too) and the code is shown without control characters.
func (p prompter) DeviceCode(ctx context.Context, d auth.DeviceCode) error {
	link, err := untrusted.URL(d.URL)
	if err != nil {
		return fmt.Errorf("sign in to %s: %w", p.feed.ID, err)
	}
	code := untrusted.Text(d.Code)
	expires := p.flight.deadline
	if !d.Expires.IsZero() && d.Expires.Before(expires) {
		expires = d.Expires
	}
	p.flight.show(control.Prompt{Feed: p.feed.ID, URL: link, Code: code, Expires: expires.Unix()})
	pageURL := p.a.page.Show(p.feed.ID, code, link)
	p.flight.mu.Lock()
	p.flight.page = pageURL
	p.flight.mu.Unlock()
	p.a.mu.Lock()
	p.a.notice = fmt.Sprintf("%s: enter code %s", p.feed.ID, code)
	p.a.mu.Unlock()
	p.a.publish()
	p.a.notify(ctx, "Sign in to "+p.feed.ID, fmt.Sprintf("Enter the code %s at %s", code, link))
	if p.a.opts.OpenURL != nil {
		if err := p.a.opts.OpenURL(link); err != nil {
			p.a.opts.Logf("open %s: %v", link, err)
		}
	}
	return nil
}
