package tray

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Available reports whether a tray can be shown: on Linux it needs a D-Bus
// session bus (systray panics on Quit without one; SPEC §12).
func Available() error {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" {
		return nil
	}
	p := filepath.Join(fmt.Sprintf("/run/user/%d", os.Getuid()), "bus")
	if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+p)
		return nil
	}
	return errors.New("the tray needs a desktop session (no D-Bus session bus): use the feedkey commands, e.g. `feedkey status`")
}
