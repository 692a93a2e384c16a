//go:build !windows

package cli

import "errors"

// addUserPath is Windows-only: elsewhere install prints the shell line.
func addUserPath(string) (bool, error) { return false, errors.ErrUnsupported }
