//go:build unix

package control

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

func defaultDir() (string, error) {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "feedkey"), nil
	}
	// os.TempDir is shared on Linux (/tmp), so prepareDir refuses a directory
	// another user created there first.
	return filepath.Join(os.TempDir(), "feedkey-"+strconv.Itoa(os.Getuid())), nil
}

// prepareDir creates the socket directory with mode 0700 and checks that it
// is a real directory, owned by us, that nobody else can enter.
func prepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating socket directory: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("checking socket directory: %w", err)
	}
	if err := safeDir(dir, fi, false); err != nil {
		err.Listen = true
		return err
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restricting socket directory: %w", err)
		}
	}
	return nil
}

// listen removes a stale socket file at path, listens on it and makes it
// owner-only.
func listen(path string) (net.Listener, error) {
	if err := removeStale(path); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listening on the control socket: %w", err)
	}
	if err := restrictSocket(path); err != nil {
		ln.Close()
		return nil, fmt.Errorf("restricting the control socket: %w", err)
	}
	return ln, nil
}

// dialSocket connects to the unix socket at path. Where there is no socket
// file no tray listens: a stat says so in microseconds, where the net
// package's dial costs the helper about 0.05 ms on every run without a
// tray (SPEC §10).
func dialSocket(ctx context.Context, network, path string) (net.Conn, error) {
	if _, err := os.Lstat(path); err != nil {
		return nil, err
	}
	return (&net.Dialer{}).DialContext(ctx, network, path)
}

// restrictSocket makes the socket file owner-only. The directory (0700) is
// the real guard; this keeps the file right if the directory is loosened.
func restrictSocket(path string) error { return os.Chmod(path, 0o600) }

// checkDir is the client's side of prepareDir: it talks only to a socket in
// a directory that is ours and closed to others, so nobody who created
// the directory first (the /tmp fallback) can pose as the tray.
func checkDir(dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w (%s)", ErrNoServer, dir)
	}
	if err != nil {
		return err
	}
	if err := safeDir(dir, fi, true); err != nil {
		return err // not returned directly: a nil *UnsafeDirError is a non-nil error
	}
	return nil
}

// safeDir checks that dir is a real directory owned by us and, if closed,
// that nobody else can enter it. It never advises removing the directory:
// it may be another user's.
func safeDir(dir string, fi fs.FileInfo, closed bool) *UnsafeDirError {
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return &UnsafeDirError{Dir: dir, Reason: "is not a directory (a symlink?)"}
	case ok && int(st.Uid) != os.Getuid():
		return &UnsafeDirError{Dir: dir, Reason: fmt.Sprintf("belongs to uid %d, not to you", st.Uid)}
	case closed && fi.Mode().Perm()&0o077 != 0:
		return &UnsafeDirError{Dir: dir, Reason: fmt.Sprintf("is open to other users (mode %04o)", fi.Mode().Perm())}
	}
	return nil
}

// removeStale removes a socket file nobody listens on; it refuses to remove
// anything that is not a socket.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking the control socket: %w", err)
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket: remove it", path)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("removing stale control socket: %w", err)
	}
	return nil
}
