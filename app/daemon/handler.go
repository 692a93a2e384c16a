package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/feedkey/feedkey/app/config"
	"github.com/feedkey/feedkey/app/control"
	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/feed"
)

// minValidity is what the tray hands out at least (SPEC §10).
const minValidity = 5 * time.Minute

// Credential implements control.Handler: the helper asks for a URL pip
// wants. Known feeds get a fresh credential, silently if possible, else
// after a sign-in in the browser. An unknown feed on a recognised Azure
// DevOps host is offered to the person first (zero-config first use).
func (a *App) Credential(ctx context.Context, service string) (string, string, error) {
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
	c, err := a.mgr.Fresh(ctx, cfg, f, minValidity)
	if errors.Is(err, auth.ErrSignInRequired) && f.Kind != feed.Token {
		c, err = a.signIn(ctx, cfg, f)
	}
	if errors.Is(err, auth.ErrSignInRequired) {
		return "", "", fmt.Errorf("%w: %v", control.ErrSignInNeeded, err)
	}
	if err != nil {
		return "", "", err
	}
	user := c.Username
	if user == "" {
		user = f.DefaultUsername()
	}
	return user, c.Secret, nil
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
