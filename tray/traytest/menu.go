//go:build linux

// Package traytest reads and clicks a running tray's menu over its real
// D-Bus interfaces (StatusNotifierItem and com.canonical.dbusmenu), as a
// panel does.
package traytest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// Item is one menu entry.
type Item struct {
	ID       int32
	Label    string
	Enabled  bool
	Visible  bool
	Checked  bool
	Children []Item
}

// Menu is a tray's menu on a bus.
type Menu struct {
	conn *dbus.Conn
	dest string
	path dbus.ObjectPath
}

// Connect waits (up to ctx) for process pid's StatusNotifierItem on the bus
// at address and returns its menu.
func Connect(ctx context.Context, address string, pid int) (*Menu, error) {
	conn, err := dbus.Connect(address)
	if err != nil {
		return nil, err
	}
	dest := fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", pid)
	if err := conn.AddMatchSignal(dbus.WithMatchInterface("org.freedesktop.DBus"), dbus.WithMatchMember("NameOwnerChanged"), dbus.WithMatchArg(0, dest)); err != nil {
		conn.Close()
		return nil, err
	}
	signals := make(chan *dbus.Signal, 8)
	conn.Signal(signals)
	for {
		var owned bool
		if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, dest).Store(&owned); err != nil {
			conn.Close()
			return nil, err
		}
		if owned {
			break
		}
		select {
		case <-signals:
		case <-ctx.Done():
			conn.Close()
			return nil, fmt.Errorf("no %s on the bus: %w", dest, ctx.Err())
		}
	}
	conn.RemoveSignal(signals)
	// systray takes its name before it exports its properties; nothing
	// signals the export, so ask again briefly until they answer.
	var v dbus.Variant
	for {
		err := conn.Object(dest, "/StatusNotifierItem").CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0,
			"org.kde.StatusNotifierItem", "Menu").Store(&v)
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			conn.Close()
			return nil, fmt.Errorf("read the Menu property: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	path, ok := v.Value().(dbus.ObjectPath)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("Menu property is %T", v.Value())
	}
	return &Menu{conn: conn, dest: dest, path: path}, nil
}

// Close closes the bus connection.
func (m *Menu) Close() { m.conn.Close() }

type layout struct {
	ID       int32
	Props    map[string]dbus.Variant
	Children []dbus.Variant
}

// Layout reads the whole menu. The first GetLayout after start answers one
// level only (SPEC §12), so it asks twice.
func (m *Menu) Layout(ctx context.Context) (Item, error) {
	var rev uint32
	var l layout
	for range 2 {
		if err := m.conn.Object(m.dest, m.path).CallWithContext(ctx, "com.canonical.dbusmenu.GetLayout", 0,
			int32(0), int32(-1), []string{}).Store(&rev, &l); err != nil {
			return Item{}, err
		}
	}
	return convert(l), nil
}

func convert(l layout) Item {
	it := Item{ID: l.ID, Enabled: true, Visible: true}
	if v, ok := l.Props["label"]; ok {
		it.Label, _ = v.Value().(string)
	}
	if v, ok := l.Props["enabled"]; ok {
		it.Enabled, _ = v.Value().(bool)
	}
	if v, ok := l.Props["visible"]; ok {
		it.Visible, _ = v.Value().(bool)
	}
	if v, ok := l.Props["toggle-state"]; ok {
		s, _ := v.Value().(int32)
		it.Checked = s == 1
	}
	for _, c := range l.Children {
		var cl layout
		if err := dbus.Store([]any{c.Value()}, &cl); err == nil {
			it.Children = append(it.Children, convert(cl))
		}
	}
	return it
}

// Find returns the first item, depth first, whose label starts with prefix.
func (it Item) Find(prefix string) (Item, bool) {
	for _, c := range it.Children {
		if strings.HasPrefix(c.Label, prefix) {
			return c, true
		}
		if f, ok := c.Find(prefix); ok {
			return f, true
		}
	}
	return Item{}, false
}

// Labels lists every label, for failure messages.
func (it Item) Labels() []string {
	var out []string
	for _, c := range it.Children {
		out = append(out, c.Label)
		for _, l := range c.Labels() {
			out = append(out, "  "+l)
		}
	}
	return out
}

// Click sends a click on item id, as a panel does.
func (m *Menu) Click(ctx context.Context, id int32) error {
	return m.conn.Object(m.dest, m.path).CallWithContext(ctx, "com.canonical.dbusmenu.Event", 0,
		id, "clicked", dbus.MakeVariant(""), uint32(time.Now().Unix())).Err
}

// WaitFor reads the layout until cond holds or ctx ends. Menu changes come
// as LayoutUpdated signals; it waits for those between reads.
func (m *Menu) WaitFor(ctx context.Context, cond func(Item) bool) (Item, error) {
	if err := m.conn.AddMatchSignal(dbus.WithMatchObjectPath(m.path), dbus.WithMatchInterface("com.canonical.dbusmenu")); err != nil {
		return Item{}, err
	}
	signals := make(chan *dbus.Signal, 64)
	m.conn.Signal(signals)
	defer m.conn.RemoveSignal(signals)
	for {
		it, err := m.Layout(ctx)
		if err != nil {
			return Item{}, err
		}
		if cond(it) {
			return it, nil
		}
		select {
		case <-signals:
		case <-time.After(500 * time.Millisecond): // labels also change without a signal
		case <-ctx.Done():
			return it, fmt.Errorf("menu never matched: %w; it shows %q", ctx.Err(), it.Labels())
		}
	}
}
