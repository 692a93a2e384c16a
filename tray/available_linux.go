package tray

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/feedkey/feedkey/internal/sessionbus"
)

// Watcher is the D-Bus name a tray host (a panel: GNOME's AppIndicator
// extension, KDE, xfce4-panel's plugin, waybar…) owns; items register with
// it to be shown.
const Watcher = "org.kde.StatusNotifierWatcher"

// ErrNoHost means nothing here can show a tray icon: an SSH login, a
// container, a window manager without a panel. The menu would be drawn for
// nobody, so feedkey runs without it.
var ErrNoHost = errors.New("no system tray here")

// Available reports whether a tray icon would be seen: on Linux a session
// bus (systray panics on Quit without one; SPEC §12) on which a tray host
// has registered. The error wraps ErrNoHost and says what is missing.
func Available() error {
	if !sessionbus.Available() {
		return fmt.Errorf("%w: no D-Bus session bus", ErrNoHost)
	}
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return fmt.Errorf("%w: the D-Bus session bus does not answer (%v)", ErrNoHost, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var owned bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, Watcher).Store(&owned); err != nil {
		return fmt.Errorf("%w: the session bus does not say whether a tray host runs (%v)", ErrNoHost, err)
	}
	if !owned {
		return fmt.Errorf("%w: no tray host on the session bus (nothing owns %s)", ErrNoHost, Watcher)
	}
	return nil
}
