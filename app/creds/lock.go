package creds

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/feedkey/feedkey/internal/filelock"
)

// lockDir returns where the per-credential lock files live: dir if set,
// else feedkey's directory in the user cache dir. It is created 0700.
func lockDir(dir string) (string, error) {
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("find a directory for lock files: %w", err)
		}
		dir = filepath.Join(cache, "feedkey", "locks")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create the lock directory: %w", err)
	}
	return dir, nil
}

// lockCredential takes the machine-wide lock of credential id, so that one
// process at a time refreshes it (uv runs many helpers at once, CI many
// jobs). It waits as long as ctx allows and returns the function that
// releases it. The OS releases the lock when a holder dies, so a killed
// refresh never leaves it held.
func lockCredential(ctx context.Context, dir, id string) (unlock func(), err error) {
	return lockFile(ctx, dir, id, id+".lock", nil)
}

// lockSignIn takes the lock that keeps sign-ins to credential id to one on
// the machine (pip asks twice, uv runs helpers in parallel: one prompt).
// It is not the refresh lock, which a sign-in takes only to save. busy, if
// set, is called once when another process holds it.
func lockSignIn(ctx context.Context, dir, id string, busy func()) (unlock func(), err error) {
	return lockFile(ctx, dir, id, id+".signin.lock", busy)
}

func lockFile(ctx context.Context, dir, id, name string, busy func()) (unlock func(), err error) {
	dir, err = lockDir(dir)
	if err != nil {
		return nil, err
	}
	unlock, err = filelock.Lock(ctx, filepath.Join(dir, name), busy)
	if err != nil {
		return nil, fmt.Errorf("waiting for another process using %s: %w", id, err)
	}
	return unlock, nil
}
