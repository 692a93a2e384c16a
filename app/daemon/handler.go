package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/feedkey/feedkey/app/schedule"
	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/config"
	"github.com/feedkey/feedkey/control"
)

// Credential implements control.Handler: the helper asks for a URL pip
// wants. Known feeds get a fresh credential, silently if possible, else
// after a sign-in in the browser. An unknown feed on a recognised Azure
// DevOps host is offered to the person first (zero-config first use).
func (a *App) Credential(ctx context.Context, service string, report func(control.Prompt)) (string, string, error) {
	cfg, err := a.config()
	if err != nil {
		return "", "", err
	}
	f, err := cfg.Resolve(service)
	if errors.Is(err, feed.ErrNoMatch) {
		if f, err = a.offer(ctx, cfg, service); err != nil {
			return "", "", err
		}
		if cfg, err = a.config(); err != nil {
			return "", "", err
		}
	} else if err != nil {
		return "", "", err
	}
	c, err := a.fresh(ctx, cfg, f)
	if errors.Is(err, auth.ErrSignInRequired) && f.Kind != feed.Token {
		c, err = a.signIn(ctx, cfg, f, report)
	}
	if errors.Is(err, auth.ErrSignInRequired) {
		return "", "", fmt.Errorf("%w: %v", control.ErrSignInNeeded, err)
	}
	if err != nil {
		return "", "", err
	}
	return f.User(c.Username), c.Secret, nil
}

// fresh returns f's credential good for store.FreshFor: the stored one, or the
// result of the scheduler's refresh, so that a request from the helper and
// the proactive loop share one refresh (one in flight per credential).
func (a *App) fresh(ctx context.Context, cfg *config.Config, f feed.Feed) (store.Credential, error) {
	id := f.CredentialID(cfg.Trust)
	if _, tracked := a.sched.Status(id); tracked && f.Kind != feed.Token {
		c, err := a.stored(ctx, id)
		if err == nil && c.Valid(a.mgr.Now(), store.FreshFor) {
			return c, nil
		}
		if err := a.sched.RefreshNow(ctx, id); err != nil {
			return store.Credential{}, err
		}
	}
	// Stored by the refresh above, or untracked: the manager's lock keeps
	// this to one refresh on the machine.
	defer a.forget(id)
	return a.mgr.Fresh(ctx, cfg, f, store.FreshFor)
}

// StartRefresh implements control.RefreshStarter: the helper served a token
// close to expiry and asks for a refresh beside it. A refresh in flight or
// a failure backoff is left alone: retrying on every helper call would
// hammer a failing server.
func (a *App) StartRefresh(service string) {
	cfg, err := a.config()
	if err != nil {
		return
	}
	f, err := cfg.Resolve(service)
	if err != nil || f.Kind == feed.Token {
		return
	}
	id := f.CredentialID(cfg.Trust)
	s, tracked := a.sched.Status(id)
	switch {
	case !tracked, s.State == schedule.Refreshing:
		return
	case (s.State == schedule.Failing || s.State == schedule.Expired) && (s.NextAttempt.IsZero() || s.NextAttempt.After(a.mgr.Now())):
		return
	}
	go func() {
		if err := a.sched.RefreshNow(context.Background(), id); err != nil {
			a.opts.Logf("refresh %s: %v", id, err)
		}
	}()
}

// Show implements control.Handler: a second start asks us to announce
// ourselves.
func (a *App) Show(ctx context.Context) {
	a.notify(ctx, "feedkey is running", "Its menu is in the system tray.")
}

// offer is a feed pip asked about that the person may add with one click.
type offer struct {
	feed   feed.Feed
	answer chan bool
}

// offer proposes a feed for service, if service is an Azure DevOps feed URL,
// and waits for the person to accept it from the menu.
func (a *App) offer(ctx context.Context, cfg *config.Config, service string) (feed.Feed, error) {
	f, ok := candidate(cfg, service)
	if !ok {
		return feed.Feed{}, control.ErrUnknownFeed
	}
	a.mu.Lock()
	o, exists := a.offers[f.ID]
	if !exists {
		o = &offer{feed: f, answer: make(chan bool, 1)}
		a.offers[f.ID] = o
	}
	a.mu.Unlock()
	if !exists {
		a.publish()
		a.notify(ctx, "New feed requested by pip", fmt.Sprintf("Add %s and sign in? Use the feedkey menu.", f.URL))
	}
	select {
	case yes := <-o.answer:
		o.answer <- yes // others waiting on the same offer see it too
		if !yes {
			return feed.Feed{}, control.ErrDeclined
		}
	case <-ctx.Done():
		return feed.Feed{}, control.ErrTimeout
	}
	return f, nil
}

// accept adds the offered feed to the config and answers its askers.
func (a *App) accept(id string) {
	a.mu.Lock()
	o := a.offers[id]
	delete(a.offers, id)
	a.mu.Unlock()
	if o == nil {
		return
	}
	err := config.AddFeed(a.opts.ConfigPath, o.feed)
	if err != nil {
		a.opts.Logf("add feed %s: %v", id, err)
	}
	o.answer <- err == nil
	a.publish()
}

// candidate makes a feed for an unknown Azure Artifacts URL.
func candidate(cfg *config.Config, service string) (feed.Feed, bool) {
	norm, _, err := feed.NormalizeURL(service)
	if err != nil {
		return feed.Feed{}, false
	}
	f := feed.Feed{ID: "new", Kind: feed.Azure, URL: norm}
	if f.Validate(cfg.Trust) != nil {
		return feed.Feed{}, false
	}
	u, _ := url.Parse(norm)
	name := ""
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i, s := range segs {
		if s == "_packaging" && i+1 < len(segs) {
			name = segs[i+1]
		}
	}
	base := feed.Slug(f.Org(cfg.Trust) + "-" + name)
	f.ID = base
	for i := 2; ; i++ {
		if _, taken := cfg.Feed(f.ID); !taken {
			break
		}
		f.ID = fmt.Sprintf("%s-%d", base, i)
	}
	return f, true
}
