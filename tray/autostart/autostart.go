// Package autostart turns "start feedkey at login" on and off for the
// current user.
//
//   - Linux and other XDG desktops: an XDG autostart entry,
//     $XDG_CONFIG_HOME/autostart/feedkey.desktop (XDG_CONFIG_HOME falls back
//     to ~/.config). If a system-wide entry of the same name exists in
//     $XDG_CONFIG_DIRS, Disable hides it with a user entry (Hidden=true), as
//     the Desktop Application Autostart Specification prescribes.
//   - macOS: a LaunchAgent, ~/Library/LaunchAgents/dev.feedkey.tray.plist,
//     with RunAtLoad. It takes effect at the next login; Enable does not
//     load it into the running session (the app is already running).
//   - Windows: the value "feedkey" under
//     HKCU\Software\Microsoft\Windows\CurrentVersion\Run.
//
// Enable replaces any existing entry, so calling it again with a new
// executable path (after the app moved) repairs the entry.
package autostart

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Name is the entry name used on every platform (desktop file base name,
// Run value name).
const Name = "feedkey"

// LaunchAgentLabel is the macOS LaunchAgent label (and plist base name).
const LaunchAgentLabel = "dev.feedkey.tray"

// checkCommand validates Enable's arguments.
func checkCommand(exe string, args []string) error {
	if exe == "" {
		return errors.New("autostart: empty executable path")
	}
	if !filepath.IsAbs(exe) {
		return fmt.Errorf("autostart: executable path %q is not absolute", exe)
	}
	for _, a := range append([]string{exe}, args...) {
		if strings.ContainsRune(a, 0) {
			return fmt.Errorf("autostart: argument %q contains a NUL byte", a)
		}
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so that a reader sees the old or the new file,
// never a partial one.
func writeFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	// Persist the rename; not every system can sync a directory.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
