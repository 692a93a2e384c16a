package cli

import "github.com/feedkey/feedkey/internal/winpath"

// addUserPath puts dir in front of the user's PATH (HKCU\Environment).
func addUserPath(dir string) (bool, error) { return winpath.AddUser(dir) }
