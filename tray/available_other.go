//go:build !linux

package tray

// Available reports whether a tray can be shown; macOS and Windows always
// have one.
func Available() error { return nil }
