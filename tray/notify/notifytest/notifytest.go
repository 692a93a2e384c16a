// Package notifytest is a fake freedesktop notification server for tests:
// it owns org.freedesktop.Notifications on a given (private) bus and
// records every Notify call.
//
//	bus := testbus.Start(t, testbus.Options{NoSecretService: true})
//	srv := notifytest.Start(t, bus.Address)
//	... code under test notifies ...
//	got, err := srv.Wait(ctx, 1)
package notifytest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/godbus/dbus/v5"
)

const (
	// BusName, ObjectPath and Interface are where the server answers.
	BusName    = "org.freedesktop.Notifications"
	ObjectPath = dbus.ObjectPath("/org/freedesktop/Notifications")
	Interface  = "org.freedesktop.Notifications"
)

// Notification is one recorded Notify call.
type Notification struct {
	ID            uint32 // the id the server answered with (1, 2, …)
	AppName       string
	ReplacesID    uint32
	AppIcon       string
	Summary       string // the title
	Body          string
	Actions       []string
	Hints         map[string]dbus.Variant
	ExpireTimeout int32
}

// Server is a running fake notification server.
type Server struct {
	conn *dbus.Conn

	mu      sync.Mutex
	notes   []Notification
	caps    []string
	changed chan struct{} // closed and replaced on every Notify
}

// Start connects to the bus at address, takes the name
// org.freedesktop.Notifications and serves it until the test ends (or
// Close). It fails the test if the name is already owned. The server
// advertises the capabilities "body" and "actions" (see SetCapabilities).
func Start(t testing.TB, address string) *Server {
	t.Helper()
	conn, err := dbus.Connect(address)
	if err != nil {
		t.Fatalf("notifytest: connect to %s: %v", address, err)
	}
	s := &Server{conn: conn, caps: []string{"body", "actions"}, changed: make(chan struct{})}
	if err := conn.Export(handler{s}, ObjectPath, Interface); err != nil {
		conn.Close()
		t.Fatalf("notifytest: export: %v", err)
	}
	reply, err := conn.RequestName(BusName, dbus.NameFlagDoNotQueue)
	if err != nil {
		conn.Close()
		t.Fatalf("notifytest: request name %s: %v", BusName, err)
	}
	if reply != dbus.RequestNameReplyPrimaryOwner {
		conn.Close()
		t.Fatalf("notifytest: %s is already owned (reply %d)", BusName, reply)
	}
	t.Cleanup(s.Close)
	return s
}

// Close releases the name and disconnects; later Notify calls from clients
// fail as if no notification server were running. Safe to call twice.
func (s *Server) Close() {
	s.conn.ReleaseName(BusName)
	s.conn.Close()
}

// SetCapabilities sets what GetCapabilities answers (e.g. "body-markup").
func (s *Server) SetCapabilities(caps ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.caps = slices.Clone(caps)
}

// Notifications returns the notifications received so far, oldest first.
func (s *Server) Notifications() []Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.notes)
}

// Wait returns the notifications received so far once there are at least
// n of them, or ctx's error (with what arrived) when ctx ends first.
func (s *Server) Wait(ctx context.Context, n int) ([]Notification, error) {
	for {
		s.mu.Lock()
		notes, changed := slices.Clone(s.notes), s.changed
		s.mu.Unlock()
		if len(notes) >= n {
			return notes, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return notes, fmt.Errorf("notifytest: %d of %d notifications: %w", len(notes), n, ctx.Err())
		}
	}
}

// handler holds the exported D-Bus methods (kept apart from Server so that
// only these are callable over the bus).
type handler struct{ s *Server }

func (h handler) Notify(appName string, replacesID uint32, appIcon, summary, body string,
	actions []string, hints map[string]dbus.Variant, expireTimeout int32) (uint32, *dbus.Error) {
	s := h.s
	s.mu.Lock()
	defer s.mu.Unlock()
	id := uint32(len(s.notes) + 1)
	s.notes = append(s.notes, Notification{
		ID:            id,
		AppName:       appName,
		ReplacesID:    replacesID,
		AppIcon:       appIcon,
		Summary:       summary,
		Body:          body,
		Actions:       actions,
		Hints:         hints,
		ExpireTimeout: expireTimeout,
	})
	close(s.changed)
	s.changed = make(chan struct{})
	return id, nil
}

func (h handler) GetCapabilities() ([]string, *dbus.Error) {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return slices.Clone(h.s.caps), nil
}

func (h handler) GetServerInformation() (name, vendor, version, specVersion string, err *dbus.Error) {
	return "notifytest", "feedkey", "1.0", "1.2", nil
}

func (h handler) CloseNotification(id uint32) *dbus.Error {
	return nil
}
