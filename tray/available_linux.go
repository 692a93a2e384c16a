package tray

import (
	"errors"

	"github.com/feedkey/feedkey/internal/sessionbus"
)

// Available reports whether a tray can be shown: on Linux it needs a D-Bus
// session bus (systray panics on Quit without one; SPEC §12).
func Available() error {
	if sessionbus.Available() {
		return nil
	}
	return errors.New("the tray needs a desktop session (no D-Bus session bus): use the feedkey commands, e.g. `feedkey status`")
}
