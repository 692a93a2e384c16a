//go:build windows

package autostart

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

const (
	runKey = `Software\Microsoft\Windows\CurrentVersion\Run`
	// Task Manager's Startup tab (and Settings > Apps > Startup) records
	// entries the user switched off here: a binary value whose first byte
	// is odd (0x03, 0x07) for disabled, even (0x02, 0x06) for enabled.
	approvedKey = `Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run`
)

// Enabled reports whether the Run value exists and the user has not
// switched it off in Task Manager's Startup tab.
func Enabled() (bool, error) {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("autostart: open HKCU\\%s: %w", runKey, err)
	}
	defer k.Close()
	if _, _, err := k.GetStringValue(Name); err != nil {
		if errors.Is(err, registry.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("autostart: read HKCU\\%s\\%s: %w", runKey, Name, err)
	}
	return !approvedDisabled(), nil
}

func approvedDisabled() bool {
	k, err := registry.OpenKey(registry.CURRENT_USER, approvedKey, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	defer k.Close()
	b, _, err := k.GetBinaryValue(Name)
	return err == nil && len(b) > 0 && b[0]&1 == 1
}

// Enable sets the Run value to the quoted command line of exe and args.
// It also clears a "disabled" mark Task Manager may have left, so that the
// user's choice in feedkey takes effect.
func Enable(exe string, args ...string) error {
	if err := checkCommand(exe, args); err != nil {
		return err
	}
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("autostart: open HKCU\\%s: %w", runKey, err)
	}
	defer k.Close()
	if err := k.SetStringValue(Name, commandLine(exe, args)); err != nil {
		return fmt.Errorf("autostart: set HKCU\\%s\\%s: %w", runKey, Name, err)
	}
	if approvedDisabled() {
		deleteApproved()
	}
	return nil
}

// Disable deletes the Run value (and any Task Manager mark); a missing
// value is not an error.
func Disable() error {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("autostart: open HKCU\\%s: %w", runKey, err)
	}
	defer k.Close()
	if err := k.DeleteValue(Name); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return fmt.Errorf("autostart: delete HKCU\\%s\\%s: %w", runKey, Name, err)
	}
	deleteApproved()
	return nil
}

func deleteApproved() {
	k, err := registry.OpenKey(registry.CURRENT_USER, approvedKey, registry.SET_VALUE)
	if err != nil {
		return
	}
	defer k.Close()
	k.DeleteValue(Name) // best effort: without the mark Windows treats the entry as enabled
}

// commandLine quotes exe (always) and args (as needed) for CreateProcess.
func commandLine(exe string, args []string) string {
	parts := []string{`"` + exe + `"`}
	for _, a := range args {
		parts = append(parts, windows.EscapeArg(a))
	}
	return strings.Join(parts, " ")
}
