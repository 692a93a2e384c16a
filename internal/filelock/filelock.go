// Package filelock takes exclusive locks on files that every process of the
// user shares: flock on Unix, LockFileEx on Windows. The OS drops a lock
// when its holder dies, so a killed process never leaves one behind.
package filelock

import (
	"context"
	"fmt"
	"os"
	"time"
)

// poll is how often a waiter tries a held lock again.
const poll = 20 * time.Millisecond

// Lock takes the lock of the file at path (created 0600 if needed), waiting
// as long as ctx allows; busy, if set, is called once when another process
// holds it. It returns the function that releases it.
func Lock(ctx context.Context, path string, busy func()) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the lock file: %w", err)
	}
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			return func() { unlockFile(f); f.Close() }, nil
		}
		if busy != nil {
			busy()
			busy = nil
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
