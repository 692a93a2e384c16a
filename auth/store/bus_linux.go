//go:build linux

package store

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/godbus/dbus/v5"
)

// bus is feedkey's own session bus connection, for its Secret Service calls
// (go-keyring's writes use godbus's shared one).
var bus struct {
	sync.Mutex
	conn *dbus.Conn
}

// sessionBus returns the session bus connection, made on first use. It
// saves two of the six round trips of godbus's SessionBus, which matter to
// the helper (a process per lookup, SPEC §10): the connection is a plain
// stream, so the handshake does not negotiate passing file descriptors
// (nothing here passes any), and Hello is sent without waiting for its
// answer, which the bus gives before it handles the calls queued behind it.
// Reads are buffered: godbus decodes a message field by field from its
// transport, which on a bare socket is a system call for every field.
// Addresses other than a local unix socket go through godbus.
func sessionBus() (*dbus.Conn, error) {
	bus.Lock()
	defer bus.Unlock()
	if bus.conn != nil && bus.conn.Connected() {
		return bus.conn, nil
	}
	name, ok := unixBusAddress(os.Getenv("DBUS_SESSION_BUS_ADDRESS"), os.Getenv("XDG_RUNTIME_DIR"))
	if !ok {
		return dbus.SessionBus()
	}
	nc, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: name, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("connecting to the session bus: %w", err)
	}
	conn, err := dbus.NewConn(bufferedConn{nc, bufio.NewReaderSize(nc, 4096)})
	if err != nil {
		nc.Close()
		return nil, err
	}
	if err := conn.Auth(nil); err != nil {
		conn.Close()
		return nil, fmt.Errorf("session bus handshake: %w", err)
	}
	conn.BusObject().Go("org.freedesktop.DBus.Hello", 0, make(chan *dbus.Call, 1))
	bus.conn = conn
	return conn, nil
}

// unixBusAddress returns the socket of a session bus address's first unix
// transport ("@name" for an abstract one), or of the systemd user bus when
// the address is unset. ok is false for anything else.
func unixBusAddress(addr, runtimeDir string) (name string, ok bool) {
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

// bufferedConn is a bus socket read through a buffer. godbus's handshake
// reads its lines through a buffer of its own; that is safe because the bus
// sends nothing after its OK line until the client's BEGIN.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
