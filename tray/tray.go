// Package tray draws feedkey's system tray menu with fyne.io/systray. It is a
// view: the app pushes a [View] whenever something changes and gets the
// person's clicks back through [Actions].
package tray

import (
	"time"

	"github.com/feedkey/feedkey/internal/timeleft"
)

// State is the overall or per-credential state the icon and lines show.
type State string

// States, worst last.
const (
	OK         State = "ok"
	Refreshing State = "refreshing"
	SignIn     State = "signin"
	Error      State = "error"
)

// Line is one credential in the menu.
type Line struct {
	ID    string // feed id, passed back to Actions
	Label string // "contoso — valid 5 h 12 m"
	State State
	// Stored: there is a credential to refresh or sign out of; the menu
	// greys those out otherwise.
	Stored bool
	// Renewable: feedkey can refresh it (not a static token).
	Renewable bool
}

// Request is a feed that pip asked about and the person may add.
type Request struct {
	ID    string
	Label string // "Add contoso and sign in (asked by pip)"
}

// View is everything the menu shows.
type View struct {
	Title        string // "feedkey", or "feedkey demo": the item's title, and the header's and tooltip's first word
	State        State  // decides the icon
	Summary      string // "2 ready, 1 signing in": after the title in the header and tooltip
	Lines        []Line
	Requests     []Request
	StartAtLogin bool
	Notice       string // e.g. "Code ABCD-EFGH: enter it in the browser"
}

// Actions are what clicks do; nil ones are left out of the menu.
type Actions struct {
	SignIn, Refresh, SignOut, CopySetup func(id string)
	OpenFeed                            func(id string)
	Accept                              func(id string) // a Request
	SetStartAtLogin                     func(on bool)
	AddFeed                             func()
	OpenPage                            func()
	Quit                                func()
}

// Left formats a remaining time the way feedkey shows it everywhere (menu,
// status, prompts): "5 h 12 m", "3 days".
func Left(d time.Duration) string { return timeleft.String(d) }

// Icons returns the icon bytes for a state, in the platform's format.
type Icons func(State) []byte

// header is the menu's first line and the tooltip: "feedkey: 2 ready".
func (v View) header() string {
	title := v.Title
	if title == "" {
		title = "feedkey"
	}
	return title + ": " + v.Summary
}
