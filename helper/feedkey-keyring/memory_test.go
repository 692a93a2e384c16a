//go:build linux

package main_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedkey/feedkey/internal/testbin"
	"github.com/feedkey/feedkey/internal/testbus"
)

// TestTrayAnswersFromMemory: with the tray running, the helper's answer
// comes from the tray's memory, with no keychain round trip: it keeps
// answering while the keychain is locked. A token replaced through the
// helper (`keyring set`) is served at once: the helper tells the tray.
func TestTrayAnswersFromMemory(t *testing.T) {
	s := testbus.Start(t, testbus.Options{})
	w := newWorld(t, s)
	sock, err := os.MkdirTemp("", "fkm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sock) })
	w.env = append(w.env, "FEEDKEY_SOCKET="+filepath.Join(sock, "run", "control.sock"), "CI=", "FEEDKEY_NONINTERACTIVE=")
	w.addToken(feedURL, token)

	tray := exec.Command(w.bin.Feedkey, "tray") // no tray host here: it runs without a menu
	tray.Env = w.env
	out, err := tray.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := tray.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tray.Process.Kill(); tray.Wait() })
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	testbin.WaitTray(t, filepath.Join(sock, "run", "control.sock"))

	if r := w.helper("", "get", feedURL, "__token__"); r.Code != 0 || r.Stdout != token+"\n" {
		t.Fatalf("get with the tray = %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	// A new token through the helper is served at once.
	const newToken = "pypi-rotated-token"
	if r := w.helper(newToken+"\n", "set", feedURL, "__token__"); r.Code != 0 {
		t.Fatalf("set = %d %q", r.Code, r.Stderr)
	}
	if r := w.helper("", "get", feedURL, "__token__"); r.Stdout != newToken+"\n" {
		t.Errorf("get after set = %d %q %q; want the new token", r.Code, r.Stdout, r.Stderr)
	}
	lock(t, s)
	if r := w.helper("", "get", feedURL, "__token__"); r.Code != 0 || r.Stdout != newToken+"\n" {
		t.Errorf("get with the keychain locked = %d %q %q; want the tray's answer from memory", r.Code, r.Stdout, r.Stderr)
	}
	// Without the tray the same lookup needs the keychain.
	tray.Process.Kill()
	tray.Wait()
	if r := w.helper("", "get", feedURL, "__token__"); r.Code != 1 || !strings.Contains(r.Stderr, "locked") {
		t.Errorf("get without the tray, keychain locked = %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
}
