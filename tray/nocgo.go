//go:build darwin && !cgo

package tray

import (
	"context"
	"errors"
)

// ErrNoHost means nothing here can show a tray icon: this macOS build has
// no tray at all.
var ErrNoHost = errors.New("this build of feedkey has no tray (macOS builds without cgo): the commands work; the tray needs the Mac build (see build/release.sh)")

// Available reports that this build cannot show a tray.
func Available() error { return ErrNoHost }

// Run returns at once: there is no menu to show. Callers check Available
// first and run without a menu.
func Run(ctx context.Context, icons Icons, act Actions, views <-chan View) {}
