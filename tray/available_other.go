//go:build !linux && !(darwin && !cgo)

package tray

import "errors"

// ErrNoHost means nothing here can show a tray icon. macOS and Windows
// always have a tray, so Available never returns it there.
var ErrNoHost = errors.New("no system tray here")

// Available reports whether a tray icon would be seen; macOS and Windows
// always have a tray.
func Available() error { return nil }
