package sibling

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestFind(t *testing.T) {
	t.Parallel()
	exe := ""
	if runtime.GOOS == "windows" {
		exe = ".exe"
	}
	dir := t.TempDir()
	self := filepath.Join(dir, "feedkey-keyring"+exe)
	onPath := func(string) (string, error) { return "/on/path/feedkey", nil }
	nowhere := func(string) (string, error) { return "", errors.New("not on PATH") }

	if p, err := Find(self, "feedkey", onPath); err != nil || p != "/on/path/feedkey" {
		t.Errorf("nothing beside: %q, %v; want the one on PATH", p, err)
	}
	if _, err := Find(self, "feedkey", nowhere); !errors.Is(err, ErrNotFound) {
		t.Errorf("nowhere: %v, want ErrNotFound", err)
	}
	os.Mkdir(filepath.Join(dir, "feedkey"+exe), 0o755) // a directory is no program
	if p, err := Find(self, "feedkey", onPath); err != nil || p != "/on/path/feedkey" {
		t.Errorf("a directory beside: %q, %v; want the one on PATH", p, err)
	}
	os.Remove(filepath.Join(dir, "feedkey"+exe))
	os.WriteFile(filepath.Join(dir, "feedkey"+exe), nil, 0o755)
	if p, err := Find(self, "feedkey", onPath); err != nil || p != filepath.Join(dir, "feedkey"+exe) {
		t.Errorf("beside: %q, %v; want the one beside, before PATH", p, err)
	}
	if p, err := Find("", "feedkey", onPath); err != nil || p != "/on/path/feedkey" {
		t.Errorf("self unknown: %q, %v", p, err)
	}
}
