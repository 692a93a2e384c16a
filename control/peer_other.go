//go:build !linux && !darwin && !windows

package control

import (
	"errors"
	"net"
)

// checkPeer fails closed where we have not wired up peer credentials.
func checkPeer(net.Conn) error {
	return errors.New("peer credentials are not supported on this OS")
}
