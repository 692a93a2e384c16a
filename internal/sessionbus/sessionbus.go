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
	"net/url"
	"os"
	"path/filepath"
	"strings"
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

// UnixSocket returns the socket of a session bus address's first unix
// transport ("@name" for an abstract one), or of the systemd user bus when
// the address is unset. ok is false for anything else.
func UnixSocket(addr, runtimeDir string) (name string, ok bool) {
	if addr == "" {
		for _, dir := range []string{runtimeDir, fmt.Sprintf("/run/user/%d", os.Getuid())} {
			if dir == "" {
				continue
			}
			p := filepath.Join(dir, "bus")
			if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
				return p, true
			}
		}
		return "", false
	}
	for _, a := range strings.Split(addr, ";") {
		rest, found := strings.CutPrefix(a, "unix:")
		if !found {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			v, err := url.PathUnescape(v)
			if err != nil || v == "" {
				continue
			}
			switch k {
			case "path":
				return v, true
			case "abstract":
				return "@" + v, true
			}
		}
	}
	return "", false
}
