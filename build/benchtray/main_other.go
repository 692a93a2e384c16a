//go:build !linux

// Command benchtray measures the idle tray's memory and CPU; it runs on
// Linux only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "benchtray: runs on Linux only (it needs /proc, D-Bus and gnome-keyring's Secret Service)")
	os.Exit(1)
}
