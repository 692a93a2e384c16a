//go:build unix

package control

import (
	"errors"
	"fmt"
	"io/fs"
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
	if !fi.IsDir() {
		return fmt.Errorf("socket directory %s is not a directory (a symlink?): remove it", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("socket directory %s belongs to uid %d, not to us: remove it", dir, st.Uid)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restricting socket directory: %w", err)
		}
	}
	return nil
}

// isNoServer reports whether a dial error means nobody listens on the path.
func isNoServer(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED)
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
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || (ok && int(st.Uid) != os.Getuid()) || fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("refusing the tray socket in %s: the directory is not ours alone (remove it)", dir)
	}
	return nil
}
