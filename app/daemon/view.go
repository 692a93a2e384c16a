package daemon

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/feedkey/feedkey/app/page"
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

// overview lists the credentials and their states for feedkey's page.
func (a *App) overview() []page.FeedRow {
	var rows []page.FeedRow
	for _, l := range a.view().Lines {
		rows = append(rows, page.FeedRow{Label: l.Label, State: string(l.State)})
	}
	return rows
}

// publish queues a fresh view, replacing one not yet shown.
func (a *App) publish() {
	a.pubMu.Lock()
	defer a.pubMu.Unlock()
	v := a.view()
	if a.shown != nil && reflect.DeepEqual(*a.shown, v) {
		return // nothing changed: the menu is not touched
	}
	a.shown = &v
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
	v := tray.View{Title: a.opts.Title, State: tray.OK}
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
	count := map[tray.State]int{}
	for _, g := range groups(cfg) {
		l := tray.Line{ID: g.id, Renewable: g.feed.Kind != feed.Token}
		state, text, stored := a.describe(g, now, signingIn[g.id])
		l.State, l.Label, l.Stored = state, g.name+" — "+text, stored
		count[state]++
		v.State = worst(v.State, state)
		v.Lines = append(v.Lines, l)
	}
	v.Summary = summary(len(v.Lines), count, len(signingIn))
	return v
}

// summary counts the credentials by state, each once: "2 ready",
// "1 ready, 1 signing in", "1 needs sign-in, 1 failing".
func summary(total int, count map[tray.State]int, signingIn int) string {
	if total == 0 {
		return "no feeds yet (Add feed…)"
	}
	var parts []string
	if n := count[tray.OK]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d ready", n))
	}
	if n := count[tray.Refreshing]; n > 0 {
		what := "refreshing"
		if signingIn == n {
			what = "signing in"
		}
		parts = append(parts, fmt.Sprintf("%d %s", n, what))
	}
	if n := count[tray.SignIn]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d %s sign-in", n, plural(n, "needs", "need")))
	}
	if n := count[tray.Error]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d failing", n))
	}
	return strings.Join(parts, ", ")
}

// describe says what state g's credential is in, and whether one is stored
// (something to refresh or sign out of).
func (a *App) describe(g group, now time.Time, signingIn bool) (tray.State, string, bool) {
	if s, ok := a.sched.Status(g.id); ok && !signingIn {
		switch s.State {
		case schedule.Refreshing:
			return tray.Refreshing, "refreshing…", true
		case schedule.Valid:
			return tray.OK, "valid " + tray.Left(s.Expires.Sub(now)), true
		case schedule.Failing:
			return tray.Error, "refresh failing, valid " + tray.Left(s.Expires.Sub(now)), true
		}
	}
	c, err := a.stored(context.Background(), g.id)
	stored := err == nil || errors.Is(err, store.ErrDamaged)
	switch {
	case signingIn:
		return tray.Refreshing, "signing in…", stored
	case errors.Is(err, store.ErrNotFound) && g.feed.Kind == feed.Token:
		return tray.SignIn, "no token stored", false
	case errors.Is(err, store.ErrNotFound):
		return tray.SignIn, "sign in needed", false
	case err != nil:
		return tray.Error, "keychain error", stored
	case c.Expires.IsZero():
		return tray.OK, "token stored", true
	case !c.Valid(now, 0):
		return tray.SignIn, "sign in needed", true
	}
	return tray.OK, "valid " + tray.Left(c.Expires.Sub(now)), true
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
