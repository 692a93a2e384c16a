//go:build linux || darwin

package control

import (
	"fmt"
	"net"
	"os"
)

// checkPeer accepts only a peer running as our own uid (SPEC §8).
func checkPeer(c net.Conn) error {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return fmt.Errorf("peer credentials: not a unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return fmt.Errorf("peer credentials: %w", err)
	}
	uid, uerr := -1, error(nil)
	if err := raw.Control(func(fd uintptr) { uid, uerr = peerUID(int(fd)) }); err != nil {
		return fmt.Errorf("peer credentials: %w", err)
	}
	if uerr != nil {
		return fmt.Errorf("peer credentials: %w", uerr)
	}
	if uid != os.Getuid() {
		return fmt.Errorf("peer uid %d is not ours", uid)
	}
	return nil
}
