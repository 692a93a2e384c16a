// Package notify shows desktop notifications ("sign in needed", "refresh
// failing").
//
// On Linux and other systems with a freedesktop desktop, New returns a
// Notifier that calls org.freedesktop.Notifications.Notify on a session
// bus connection. On Windows it returns one that shows a balloon on
// feedkey's own notification-area icon, which Windows 10 and 11 show as a
// toast. On macOS New returns a Notifier that does nothing and returns nil:
// native notifications there (UserNotifications) are future work, so the
// tray's menu and icon are the only signal.
//
// Notifications are best effort: callers log a Notify error and go on.
package notify

import (
	"context"
	"errors"
)

// Notifier shows a notification with a title and a body.
type Notifier interface {
	Notify(ctx context.Context, title, body string) error
}

// ErrNoServer is wrapped by errors from Notify when no notification server
// is running: on Linux, nothing owns org.freedesktop.Notifications on the
// bus and the bus cannot start one; on Windows, this process shows no tray
// icon to hang a balloon on (`feedkey agent`, or before the tray is up).
var ErrNoServer = errors.New("no notification server")

// Nop is a Notifier that shows nothing and always returns nil.
type Nop struct{}

// Notify does nothing.
func (Nop) Notify(context.Context, string, string) error { return nil }
