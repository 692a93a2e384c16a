//go:build !darwin || cgo

package tray

import (
	"context"
	"slices"
	"sync"
	"time"

	"fyne.io/systray"
)

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
