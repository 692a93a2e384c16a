//go:build !windows

package store_test

import "testing"

// tempDir is t.TempDir; see tempdir_windows_test.go for why Windows differs.
func tempDir(t *testing.T) string { return t.TempDir() }
