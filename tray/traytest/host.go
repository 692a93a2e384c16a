//go:build linux

package traytest

import (
	"errors"
	"fmt"
	"sync"

	"github.com/godbus/dbus/v5"
)

// Host is a tray host on a bus: it owns org.kde.StatusNotifierWatcher and
// accepts the items that register with it, as a desktop panel does, so
// that a tray started on a private bus knows it will be seen.
type Host struct {
	conn *dbus.Conn

	mu    sync.Mutex
	items []string
}

// NewHost registers a tray host on the bus at address. Close it to leave.
func NewHost(address string) (*Host, error) {
	conn, err := dbus.Connect(address)
	if err != nil {
		return nil, err
	}
	h := &Host{conn: conn}
	if err := conn.Export(watcher{h}, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher"); err != nil {
		conn.Close()
		return nil, err
	}
	reply, err := conn.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		conn.Close()
		return nil, errors.Join(fmt.Errorf("own org.kde.StatusNotifierWatcher: reply %v", reply), err)
	}
	return h, nil
}

// Items returns the bus names of the items registered so far.
func (h *Host) Items() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.items...)
}

// Close leaves the bus.
func (h *Host) Close() error { return h.conn.Close() }

// watcher is the exported org.kde.StatusNotifierWatcher object.
type watcher struct{ h *Host }

// RegisterStatusNotifierItem records an item; systray passes its object
// path, so the sender names it.
func (w watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	w.h.mu.Lock()
	w.h.items = append(w.h.items, string(sender))
	w.h.mu.Unlock()
	return nil
}

// RegisterStatusNotifierHost accepts a host (none other registers here).
func (w watcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }
