package daemon

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/feedkey/feedkey/app/schedule"
	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/auth/untrusted"
	"github.com/feedkey/feedkey/config"
	"github.com/feedkey/feedkey/tray"
)

// group is one credential and the feeds it serves.
type group struct {
	id    string
	name  string // what the menu calls it
	feed  feed.Feed
	feeds int
}

// groups lists the credentials of cfg in config order.
func groups(cfg *config.Config) []group {
	var out []group
	seen := map[string]int{}
	for _, f := range cfg.Feeds {
		id := f.CredentialID(cfg.Trust)
		if i, ok := seen[id]; ok {
			out[i].feeds++
			continue
		}
		name := f.ID
		if org := f.Org(cfg.Trust); org != "" {
			name = org
		}
		seen[id] = len(out)
		out = append(out, group{id: id, name: name, feed: f, feeds: 1})
	}
	return out
}

// feedOf returns a feed that uses credential id.
func feedOf(cfg *config.Config, id string) (feed.Feed, bool) {
	for _, g := range groups(cfg) {
		if g.id == id {
			return g.feed, true
		}
	}
	return feed.Feed{}, false
}

// publish queues a fresh view, replacing one not yet shown.
func (a *App) publish() {
	a.pubMu.Lock()
	defer a.pubMu.Unlock()
	v := a.view()
	select {
	case <-a.views:
	default:
	}
	select {
	case a.views <- v:
	default:
	}
}

// view builds what the menu shows, from the config, the scheduler and the
// keychain.
func (a *App) view() tray.View {
	cfg, err := a.config()
	if err != nil {
		return tray.View{State: tray.Error, Summary: "Config error: " + untrusted.OneLine(err.Error(), 0)}
	}
	now := a.opts.Clock.Now()
	v := tray.View{State: tray.OK}
	a.mu.Lock()
	v.Notice = a.notice
	signingIn := map[string]bool{}
	for id := range a.signins {
		signingIn[id] = true
	}
	for _, o := range a.offers {
		v.Requests = append(v.Requests, tray.Request{ID: o.feed.ID, Label: fmt.Sprintf("Add %s and sign in (asked by pip)", o.feed.ID)})
	}
	a.mu.Unlock()
	sort.Slice(v.Requests, func(i, j int) bool { return v.Requests[i].ID < v.Requests[j].ID })
	if on, err := a.autostartEnabled(); err == nil {
		v.StartAtLogin = on
	}
	st := store.New(a.opts.Keychain)
	needs, failing := 0, 0
	for _, g := range groups(cfg) {
		l := tray.Line{ID: g.id}
		state, text := a.describe(st, g, now, signingIn[g.id])
		l.State, l.Label = state, g.name+" — "+text
		switch state {
		case tray.SignIn:
			needs++
		case tray.Error:
			failing++
		}
		v.State = worst(v.State, state)
		v.Lines = append(v.Lines, l)
	}
	switch {
	case len(v.Lines) == 0:
		v.Summary = "No feeds yet: feedkey add URL"
	case needs+failing == 0:
		v.Summary = fmt.Sprintf("feedkey: %d %s ready", len(v.Lines), plural(len(v.Lines), "credential", "credentials"))
	case needs > 0:
		v.Summary = fmt.Sprintf("feedkey: %d %s sign-in", needs, plural(needs, "needs", "need"))
	default:
		v.Summary = fmt.Sprintf("feedkey: %d failing", failing)
	}
	return v
}

func (a *App) describe(st *store.Store, g group, now time.Time, signingIn bool) (tray.State, string) {
	if signingIn {
		return tray.Refreshing, "signing in…"
	}
	if s, ok := a.sched.Status(g.id); ok {
		switch s.State {
		case schedule.Refreshing:
			return tray.Refreshing, "refreshing…"
		case schedule.Valid:
			return tray.OK, "valid " + tray.Left(s.Expires.Sub(now))
		case schedule.Failing:
			return tray.Error, "refresh failing, valid " + tray.Left(s.Expires.Sub(now))
		case schedule.Expired:
			return tray.SignIn, "sign in needed"
		}
	}
	c, err := st.Load(context.Background(), g.id)
	switch {
	case errors.Is(err, store.ErrNotFound) && g.feed.Kind == feed.Token:
		return tray.SignIn, "no token stored"
	case errors.Is(err, store.ErrNotFound):
		return tray.SignIn, "sign in needed"
	case err != nil:
		return tray.Error, "keychain error"
	case c.Expires.IsZero():
		return tray.OK, "token stored"
	case !c.Valid(now, 0):
		return tray.SignIn, "sign in needed"
	}
	return tray.OK, "valid " + tray.Left(c.Expires.Sub(now))
}

var rank = map[tray.State]int{tray.OK: 0, tray.Refreshing: 1, tray.SignIn: 2, tray.Error: 3}

func worst(a, b tray.State) tray.State {
	if rank[b] > rank[a] {
		return b
	}
	return a
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
