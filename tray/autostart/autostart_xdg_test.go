//go:build !windows && !darwin

package autostart

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func setupXDG(t *testing.T) (configHome string) {
	t.Helper()
	configHome = t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", configHome)
	t.Setenv("XDG_CONFIG_DIRS", t.TempDir()) // no system-wide entries
	return configHome
}

func TestEnableDisable(t *testing.T) {
	cfg := setupXDG(t)
	path := filepath.Join(cfg, "autostart", "feedkey.desktop")

	if on, err := Enabled(); err != nil || on {
		t.Fatalf("Enabled() = %v, %v before Enable; want false, nil", on, err)
	}
	if err := Enable("/opt/My Apps/feedkey", "tray"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "[Desktop Entry]\n" +
		"Type=Application\n" +
		"Version=1.0\n" +
		"Name=feedkey\n" +
		"Comment=Keeps package feed credentials fresh\n" +
		"Exec=\"/opt/My Apps/feedkey\" tray\n" +
		"Terminal=false\n" +
		"X-GNOME-Autostart-enabled=true\n"
	if string(data) != want {
		t.Errorf("%s:\n%s\nwant:\n%s", path, data, want)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v; want 0644", fi.Mode(), err)
	}
	if on, err := Enabled(); err != nil || !on {
		t.Fatalf("Enabled() = %v, %v after Enable; want true, nil", on, err)
	}
	// No temporary files left behind.
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("autostart dir holds %d entries, want 1", len(entries))
	}

	// Enable again replaces the entry.
	if err := Enable("/usr/bin/feedkey"); err != nil {
		t.Fatal(err)
	}
	keys := desktopKeys(mustRead(t, path))
	if keys["Exec"] != "/usr/bin/feedkey" {
		t.Errorf("Exec after re-Enable = %q", keys["Exec"])
	}

	if err := Disable(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("entry still there after Disable: %v", err)
	}
	if on, err := Enabled(); err != nil || on {
		t.Fatalf("Enabled() = %v, %v after Disable; want false, nil", on, err)
	}
	if err := Disable(); err != nil {
		t.Errorf("second Disable: %v", err)
	}
}

func TestEnableRejectsRelative(t *testing.T) {
	cfg := setupXDG(t)
	if err := Enable("feedkey"); err == nil {
		t.Error("Enable(relative path) succeeded")
	}
	if _, err := os.Stat(filepath.Join(cfg, "autostart")); !os.IsNotExist(err) {
		t.Errorf("autostart dir created on error: %v", err)
	}
}

func TestHomeFallback(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_DIRS", t.TempDir())
	for _, v := range []string{"", "relative/dir"} {
		t.Setenv("XDG_CONFIG_HOME", v)
		if err := Enable("/usr/bin/feedkey"); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(home, ".config", "autostart", "feedkey.desktop")); err != nil {
			t.Errorf("XDG_CONFIG_HOME=%q: %v", v, err)
		}
		if err := Disable(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEnabledHonoursDisabledKeys(t *testing.T) {
	cfg := setupXDG(t)
	path := filepath.Join(cfg, "autostart", "feedkey.desktop")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	for content, want := range map[string]bool{
		"[Desktop Entry]\nType=Application\nExec=/x\n":                                      true,
		"[Desktop Entry]\nType=Application\nExec=/x\nHidden=true\n":                         false,
		"[Desktop Entry]\nType=Application\nExec=/x\nX-GNOME-Autostart-enabled=false\n":     false,
		"[Desktop Entry]\nExec=/x\n[Desktop Action foo]\nX-GNOME-Autostart-enabled=false\n": true,
	} {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if on, err := Enabled(); err != nil || on != want {
			t.Errorf("Enabled() = %v, %v for\n%s\nwant %v", on, err, content, want)
		}
	}
}

func TestSystemEntryHidden(t *testing.T) {
	cfg := t.TempDir()
	sys := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("XDG_CONFIG_DIRS", sys)
	sysEntry := filepath.Join(sys, "autostart", "feedkey.desktop")
	if err := os.MkdirAll(filepath.Dir(sysEntry), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sysEntry, []byte(desktopEntry("/usr/bin/feedkey", nil)), 0o644); err != nil {
		t.Fatal(err)
	}
	if on, err := Enabled(); err != nil || !on {
		t.Fatalf("Enabled() = %v, %v with a system entry; want true", on, err)
	}
	if err := Disable(); err != nil {
		t.Fatal(err)
	}
	if on, err := Enabled(); err != nil || on {
		t.Fatalf("Enabled() = %v, %v after Disable; want false", on, err)
	}
	if keys := desktopKeys(mustRead(t, filepath.Join(cfg, "autostart", "feedkey.desktop"))); keys["Hidden"] != "true" {
		t.Errorf("user entry does not hide the system one: %v", keys)
	}
	if _, err := os.Stat(sysEntry); err != nil {
		t.Errorf("system entry touched: %v", err)
	}
	if err := Enable("/usr/bin/feedkey"); err != nil {
		t.Fatal(err)
	}
	if on, err := Enabled(); err != nil || !on {
		t.Fatalf("Enabled() = %v, %v after Enable; want true", on, err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestExecWithGLib has GLib (gio launch, what GNOME's session manager uses
// to read autostart entries) parse and run an entry whose paths and
// arguments need quoting, and checks the arguments the program receives.
// (The path avoids "%": GLib checks that the program exists before
// expanding %%, so it cannot launch a program whose path contains "%".)
func TestExecWithGLib(t *testing.T) {
	gio, err := exec.LookPath("gio")
	if err != nil {
		t.Skip("gio not installed")
	}
	root := t.TempDir()
	dir := filepath.Join(root, `My $Apps\x "q" (1) it's`)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "args")
	exe := filepath.Join(dir, "feed key")
	script := "#!/bin/sh\nfor a in \"$0\" \"$@\"; do printf '%s\\n' \"$a\"; done > " + out + ".tmp && mv " + out + ".tmp " + out + "\n"
	if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"a b", "it's", "%u", "`x`", `$HOME`, `back\slash`, "tab\there"}
	entry := filepath.Join(root, "feedkey.desktop")
	if err := os.WriteFile(entry, []byte(desktopEntry(exe, args)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, gio, "launch", entry)
	// Keep GLib away from any session bus (and from autolaunching one).
	cmd.Env = append(os.Environ(), "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(root, "no-bus"), "DISPLAY=", "WAYLAND_DISPLAY=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gio launch: %v\n%s", err, b)
	}
	var got []byte
	for ctx.Err() == nil {
		if got, err = os.ReadFile(out); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("program did not run: %v", err)
	}
	want := strings.Join(append([]string{exe}, args...), "\n") + "\n"
	if string(got) != want {
		t.Errorf("program received\n%s\nwant\n%s", got, want)
	}
}
