//go:build linux || darwin

package control

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSocketAndDirModes(t *testing.T) {
	s := start(t, &Server{Handler: &fakeHandler{}})
	fi, err := os.Stat(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, want socket 0600", fi.Mode())
	}
	di, err := os.Stat(filepath.Dir(s.Path))
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v, want 0700", di.Mode().Perm())
	}
}

func TestLooseDirIsTightened(t *testing.T) {
	path := sockPath(t)
	if err := os.Mkdir(filepath.Dir(path), 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Dir(path), 0o777) // past the umask
	s := start(t, &Server{Path: path, Handler: &fakeHandler{}})
	di, _ := os.Stat(filepath.Dir(s.Path))
	if di.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v, want 0700", di.Mode().Perm())
	}
}

func TestDirOfAnotherUserIsRefused(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to chown the directory to another user")
	}
	path := sockPath(t)
	dir := filepath.Dir(path)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	s := &Server{Path: path, Handler: &fakeHandler{}}
	err := s.Listen()
	if err == nil {
		s.Close()
		t.Fatal("Listen accepted a directory owned by another user")
	}
	// The tray says what is wrong and what to do, and never advises
	// removing a directory that may be another user's.
	var ud *UnsafeDirError
	if !errors.As(err, &ud) || !ud.Listen {
		t.Fatalf("Listen = %v, want an *UnsafeDirError for listening", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "belongs to uid 65534") || !strings.Contains(msg, "will not listen") || !strings.Contains(msg, "XDG_RUNTIME_DIR") || strings.Contains(msg, "remove") {
		t.Errorf("err = %v", err)
	}
}

func TestSymlinkDirIsRefused(t *testing.T) {
	path := sockPath(t)
	target := t.TempDir()
	if err := os.Symlink(target, filepath.Dir(path)); err != nil {
		t.Fatal(err)
	}
	s := &Server{Path: path, Handler: &fakeHandler{}}
	if err := s.Listen(); err == nil {
		s.Close()
		t.Fatal("Listen accepted a symlinked socket directory")
	}
}

// TestClientRefusesOpenDir: a directory others can enter (someone created
// the /tmp fallback first) is never trusted by the helper's client.
func TestClientRefusesOpenDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "feedkey")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	_, err := (&Client{Path: filepath.Join(dir, "control.sock")}).Ping(context.Background())
	var ud *UnsafeDirError
	if !errors.As(err, &ud) || ud.Listen || !errors.Is(err, ErrNoServer) || !strings.Contains(err.Error(), "open to other users") || !strings.Contains(err.Error(), "cannot be reached") {
		t.Fatalf("Ping through an open directory = %v", err)
	}
	// It may be someone else's directory: never advise removing it.
	if strings.Contains(err.Error(), "remove") {
		t.Errorf("message advises removing the directory: %v", err)
	}
}
