//go:build linux

package oskeychain

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestGetServiceUnsupportedNotRetried checks that GetService's "unsupported"
// (a service feedkey does not own) comes back at once: do retries other
// errors until its timeout, and the caller then falls back to reading entry
// by entry, so a retried "unsupported" would cost every read seconds.
func TestGetServiceUnsupportedNotRetried(t *testing.T) {
	start := time.Now()
	_, err := Keychain{Timeout: 2 * time.Second}.GetService(context.Background(), "not-feedkeys-service")
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("err = %v, want ErrUnsupported", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("GetService took %s: ErrUnsupported was retried", took)
	}
}
