//go:build !linux

// Command bench measures feedkey's keyring helper against Python keyring on
// a private Secret Service; it runs on Linux only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench: runs on Linux only (it needs D-Bus and gnome-keyring's Secret Service)")
	os.Exit(1)
}
