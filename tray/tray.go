// Package tray draws feedkey's system tray menu with fyne.io/systray. It is a
// view: the app pushes a [View] whenever something changes and gets the
// person's clicks back through [Actions].
package tray

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/feedkey/feedkey/internal/timeleft"

	"fyne.io/systray"
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

// Run shows the tray and applies views until ctx ends or Quit is clicked.
// It must be called from the main goroutine (macOS requires it) and, like
// systray.Run, only once per process.
func Run(ctx context.Context, icons Icons, act Actions, views <-chan View) {
	m := &menu{icons: icons, act: act}
	systray.Run(func() {
		go m.loop(ctx, views)
		// Panels can miss the first icon when it arrives while they are
		// still registering the item (xfce4-panel does, about one start
		// in ten): set it once more when things have settled.
		time.AfterFunc(2*time.Second, m.resetIcon)
	}, nil)
}

func (m *menu) resetIcon() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.built {
		systray.SetIcon(m.icons(m.shown.State))
	}
}

type menu struct {
	icons Icons
	act   Actions

	mu      sync.Mutex
	shown   View
	built   bool
	stop    chan struct{} // closed to end the click goroutines of a build
	summary *systray.MenuItem
	notice  *systray.MenuItem
	lines   map[string]*systray.MenuItem
	subs    map[string]subItems
	login   *systray.MenuItem
}

// subItems are the per-credential entries that are greyed out when they
// cannot act.
type subItems struct{ refresh, signOut *systray.MenuItem }

func (m *menu) loop(ctx context.Context, views <-chan View) {
	for {
		select {
		case <-ctx.Done():
			systray.Quit()
			return
		case v, ok := <-views:
			if !ok {
				systray.Quit()
				return
			}
			m.apply(v)
		}
	}
}

// apply shows v: titles change in place; the menu is rebuilt only when its
// shape (which feeds, which requests) changes.
func (m *menu) apply(v View) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v.State != m.shown.State || !m.built {
		systray.SetIcon(m.icons(v.State))
	}
	if v.Title != m.shown.Title || !m.built {
		systray.SetTitle(v.Title)
	}
	systray.SetTooltip(v.header())
	if !m.built || !sameShape(v, m.shown) {
		m.build(v)
	} else {
		m.summary.SetTitle(v.header())
		m.setNotice(v.Notice)
		for _, l := range v.Lines {
			m.lines[l.ID].SetTitle(l.Label)
			m.enable(l)
		}
		if v.StartAtLogin != m.shown.StartAtLogin {
			setChecked(m.login, v.StartAtLogin)
		}
	}
	m.shown = v
}

// header is the menu's first line and the tooltip: "feedkey: 2 ready".
func (v View) header() string {
	title := v.Title
	if title == "" {
		title = "feedkey"
	}
	return title + ": " + v.Summary
}

// enable greys out what cannot act on l's credential now.
func (m *menu) enable(l Line) {
	s := m.subs[l.ID]
	setEnabled(s.refresh, l.Stored && l.Renewable)
	setEnabled(s.signOut, l.Stored)
}

func setEnabled(item *systray.MenuItem, on bool) {
	if item == nil {
		return
	}
	if on {
		item.Enable()
	} else {
		item.Disable()
	}
}

func sameShape(a, b View) bool {
	ids := func(v View) []string {
		var s []string
		for _, l := range v.Lines {
			s = append(s, "l:"+l.ID)
		}
		for _, r := range v.Requests {
			s = append(s, "r:"+r.ID+r.Label)
		}
		return s
	}
	return slices.Equal(ids(a), ids(b))
}

func (m *menu) build(v View) {
	if m.stop != nil {
		close(m.stop)
		systray.ResetMenu()
	}
	m.stop = make(chan struct{})
	m.built = true
	m.lines = map[string]*systray.MenuItem{}
	m.subs = map[string]subItems{}

	m.summary = systray.AddMenuItem(v.header(), "")
	m.summary.Disable()
	m.notice = systray.AddMenuItem(v.Notice, "")
	m.notice.Disable()
	m.setNotice(v.Notice)
	systray.AddSeparator()
	for _, l := range v.Lines {
		item := systray.AddMenuItem(l.Label, "")
		m.lines[l.ID] = item
		m.sub(item, "Sign in", m.act.SignIn, l.ID)
		m.subs[l.ID] = subItems{
			refresh: m.sub(item, "Refresh now", m.act.Refresh, l.ID),
			signOut: m.sub(item, "Sign out", m.act.SignOut, l.ID),
		}
		m.enable(l)
		m.sub(item, "Copy pip setup", m.act.CopySetup, l.ID)
		m.sub(item, "Open feed page", m.act.OpenFeed, l.ID)
	}
	for _, r := range v.Requests {
		m.click(systray.AddMenuItem(r.Label, ""), func() { m.act.Accept(r.ID) }, m.act.Accept != nil)
	}
	m.click(systray.AddMenuItem("Add feed…", ""), m.act.AddFeed, m.act.AddFeed != nil)
	systray.AddSeparator()
	m.login = systray.AddMenuItemCheckbox("Start at login", "", v.StartAtLogin)
	m.click(m.login, func() {
		if m.act.SetStartAtLogin != nil {
			m.act.SetStartAtLogin(!m.login.Checked())
		}
	}, true)
	m.click(systray.AddMenuItem("Open feedkey page", ""), m.act.OpenPage, m.act.OpenPage != nil)
	systray.AddSeparator()
	m.click(systray.AddMenuItem("Quit", ""), func() {
		if m.act.Quit != nil {
			m.act.Quit()
		}
		systray.Quit()
	}, true)
}

func (m *menu) setNotice(text string) {
	if text == "" {
		m.notice.Hide()
		return
	}
	m.notice.SetTitle(text)
	m.notice.Show()
}

func (m *menu) sub(parent *systray.MenuItem, title string, do func(string), id string) *systray.MenuItem {
	if do == nil {
		return nil
	}
	item := parent.AddSubMenuItem(title, "")
	m.click(item, func() { do(id) }, true)
	return item
}

// click runs do on every click of item until the menu is rebuilt. systray
// drops a click when nobody waits on ClickedCh, so each item has its own
// goroutine waiting (SPEC §12).
func (m *menu) click(item *systray.MenuItem, do func(), enabled bool) {
	if !enabled || do == nil {
		item.Disable()
		return
	}
	stop := m.stop
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-item.ClickedCh:
				go do()
			}
		}
	}()
}

func setChecked(item *systray.MenuItem, on bool) {
	if on {
		item.Check()
	} else {
		item.Uncheck()
	}
}
