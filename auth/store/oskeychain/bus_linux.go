//go:build linux

package oskeychain

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"sync"

	"github.com/feedkey/feedkey/internal/sessionbus"
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
	name, ok := sessionbus.UnixSocket(os.Getenv("DBUS_SESSION_BUS_ADDRESS"), os.Getenv("XDG_RUNTIME_DIR"))
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

// bufferedConn is a bus socket read through a buffer. godbus's handshake
// reads its lines through a buffer of its own; that is safe because the bus
// sends nothing after its OK line until the client's BEGIN.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
