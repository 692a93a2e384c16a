//go:build linux

// Package sessionbus tells whether a D-Bus session bus can be reached,
// without starting one and without changing the environment.
//
// godbus finds the bus itself: DBUS_SESSION_BUS_ADDRESS, else the socket
// systemd puts at $XDG_RUNTIME_DIR/bus or /run/user/UID/bus. When there is
// none it runs `dbus-launch`, which starts a stray bus (and, for the
// keychain, an empty one) that outlives the process. Callers check here
// first so that never happens.
package sessionbus

import (
	"fmt"
	"os"
	"path/filepath"
)

// Available reports whether a session bus is there to connect to.
func Available() bool {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return true
	}
	for _, dir := range []string{os.Getenv("XDG_RUNTIME_DIR"), fmt.Sprintf("/run/user/%d", os.Getuid())} {
		if dir == "" {
			continue
		}
		if fi, err := os.Stat(filepath.Join(dir, "bus")); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return true
		}
	}
	return false
}
