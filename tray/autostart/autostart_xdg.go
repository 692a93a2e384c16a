//go:build !windows && !darwin

package autostart

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const desktopFile = Name + ".desktop"

// configHome is $XDG_CONFIG_HOME, or ~/.config when it is unset, empty or
// relative (the Base Directory Specification says to ignore relative paths).
func configHome() (string, error) {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("autostart: %w", err)
	}
	return filepath.Join(home, ".config"), nil
}

// configDirs is $XDG_CONFIG_DIRS (absolute entries only), default /etc/xdg.
func configDirs() []string {
	var dirs []string
	for _, d := range filepath.SplitList(os.Getenv("XDG_CONFIG_DIRS")) {
		if filepath.IsAbs(d) {
			dirs = append(dirs, d)
		}
	}
	if len(dirs) == 0 {
		dirs = []string{"/etc/xdg"}
	}
	return dirs
}

// userEntryPath is the path of the user's autostart entry.
func userEntryPath() (string, error) {
	dir, err := configHome()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "autostart", desktopFile), nil
}

// systemEntry returns the path of the first system-wide autostart entry
// named feedkey.desktop, or "" if there is none.
func systemEntry() string {
	for _, d := range configDirs() {
		p := filepath.Join(d, "autostart", desktopFile)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Enabled reports whether feedkey starts at login: the effective entry (the
// user's, else a system-wide one) exists and is neither Hidden nor
// disabled with X-GNOME-Autostart-enabled=false.
func Enabled() (bool, error) {
	p, err := userEntryPath()
	if err != nil {
		return false, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		sys := systemEntry()
		if sys == "" {
			return false, nil
		}
		p = sys
		data, err = os.ReadFile(p)
	}
	if err != nil {
		return false, fmt.Errorf("autostart: %w", err)
	}
	keys := desktopKeys(data)
	if keys["Hidden"] == "true" || keys["X-GNOME-Autostart-enabled"] == "false" {
		return false, nil
	}
	return true, nil
}

// Enable writes the user's autostart entry running exe with args.
func Enable(exe string, args ...string) error {
	if err := checkCommand(exe, args); err != nil {
		return err
	}
	p, err := userEntryPath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("autostart: %w", err)
	}
	if err := writeFileAtomic(p, []byte(desktopEntry(exe, args)), 0o644); err != nil {
		return fmt.Errorf("autostart: write %s: %w", p, err)
	}
	return nil
}

// Disable removes the user's autostart entry; if a system-wide entry would
// then apply, it writes a user entry with Hidden=true instead. Disabling
// when nothing is enabled is not an error.
func Disable() error {
	p, err := userEntryPath()
	if err != nil {
		return err
	}
	if systemEntry() != "" {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return fmt.Errorf("autostart: %w", err)
		}
		hidden := "[Desktop Entry]\nType=Application\nName=" + Name + "\nHidden=true\n"
		if err := writeFileAtomic(p, []byte(hidden), 0o644); err != nil {
			return fmt.Errorf("autostart: write %s: %w", p, err)
		}
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("autostart: %w", err)
	}
	return nil
}

// desktopKeys returns the raw key=value pairs of the [Desktop Entry] group
// (no localised keys, values not unescaped: enough for the booleans
// Enabled looks at).
func desktopKeys(data []byte) map[string]string {
	keys := map[string]string{}
	inGroup := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			inGroup = line == "[Desktop Entry]"
		case inGroup:
			if k, v, ok := strings.Cut(line, "="); ok {
				keys[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	return keys
}
