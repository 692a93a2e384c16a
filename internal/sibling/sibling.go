// Package sibling finds the programs feedkey installs side by side
// (feedkey, feedkey-keyring): in the running program's directory, else on
// PATH. Every package, archive and `feedkey install` puts them together,
// so the one beside is the matching version.
package sibling

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
)

// ErrNotFound means the program is neither beside self nor on PATH.
var ErrNotFound = errors.New("neither beside this program nor on PATH")

// Find returns the path of the program name (".exe" added on Windows) in
// the directory of self, the running program's path ("" for unknown), else
// the one lookPath finds (exec.LookPath, or a stand-in in tests).
func Find(self, name string, lookPath func(string) (string, error)) (string, error) {
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if self != "" {
		p := filepath.Join(filepath.Dir(self), name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	if p, err := lookPath(name); err == nil {
		return p, nil
	}
	return "", ErrNotFound
}
