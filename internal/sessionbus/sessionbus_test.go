//go:build linux

package sessionbus

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
)

func TestAvailable(t *testing.T) {
	if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
		t.Skip("this machine has a systemd user bus: the no-bus case cannot be shown")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	if Available() {
		t.Error("no address and no socket: Available() = true")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "autolaunch:")
	if Available() {
		t.Error("autolaunch: would start a stray bus, yet Available() = true")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/somewhere")
	if !Available() {
		t.Error("an address is set: Available() = false")
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	ln, err := net.Listen("unix", filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "bus"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	before := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if !Available() {
		t.Error("a bus socket in XDG_RUNTIME_DIR: Available() = false")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != before {
		t.Error("Available changed the environment")
	}
}
