package control

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

func defaultDir() (string, error) {
	d, err := os.UserCacheDir() // %LocalAppData%
	if err != nil {
		return "", fmt.Errorf("finding the socket directory: %w", err)
	}
	return filepath.Join(d, "feedkey"), nil
}

// prepareDir creates the socket directory. On Windows there are no peer
// credentials for AF_UNIX; the guard is the ACL of the user's LocalAppData
// (the user, SYSTEM and Administrators), which the directory and the socket
// inherit: other users cannot reach the socket file to connect to it.
func prepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating socket directory: %w", err)
	}
	return nil
}

// wsaeconnrefused is WSAECONNREFUSED: Winsock's own code, which
// syscall.ECONNREFUSED (an invented Errno on Windows) does not match.
const wsaeconnrefused = syscall.Errno(10061)

// isNoServer reports whether a dial error means nobody listens on the path.
func isNoServer(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, wsaeconnrefused)
}

// restrictSocket does nothing: file modes mean little on Windows, and the
// socket inherits the ACL of its directory (see prepareDir).
func restrictSocket(string) error { return nil }

// checkDir has nothing to check on Windows: the ACL of LocalAppData guards
// the directory (see prepareDir).
func checkDir(string) error { return nil }
