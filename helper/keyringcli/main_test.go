//go:build !windows

package keyringcli

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/feedkey/feedkey/control"
)

// TestTrayLookupHungTray: a tray that accepts and never answers costs the
// lookup's wait once a run; a run told the tray is hung (as the quick path
// tells the whole helper) does not wait at all.
func TestTrayLookupHungTray(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "control.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var held []net.Conn // read nothing, answer nothing
		for {
			c, err := l.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	t.Setenv("FEEDKEY_SOCKET", sock)
	t.Cleanup(func() { trayUnresponsive.Store(false) })

	trayUnresponsive.Store(false)
	start := time.Now()
	if _, _, _, err := trayLookup(context.Background(), "https://x.example/simple/"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hung tray: %v, want the lookup's deadline", err)
	}
	if took := time.Since(start); took < lookupAnswer {
		t.Errorf("answered in %s, before the lookup's wait", took)
	}
	if !trayUnresponsive.Load() {
		t.Error("the tray is not marked unresponsive after it did not answer")
	}

	start = time.Now()
	_, _, _, err = trayLookup(context.Background(), "https://x.example/simple/")
	if !errors.Is(err, control.ErrNoServer) {
		t.Errorf("marked tray: %v, want ErrNoServer", err)
	}
	if took := time.Since(start); took >= lookupAnswer/2 {
		t.Errorf("a tray marked hung was waited for (%s)", took)
	}
}
