package store_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// tempDir is t.TempDir removed file by file: the store contract runs under
// Wine in CI (build/wine-test.sh), and Wine 8.0 fails the handle-relative
// delete that Go's RemoveAll (and so t.TempDir's cleanup) uses since Go 1.25
// with "Invalid function", while os.Remove by path works there and on
// Windows alike.
func tempDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "feedkey-store-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var paths []string
		filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
			paths = append(paths, p)
			return nil
		})
		slices.Reverse(paths) // children before their directory
		for _, p := range paths {
			if err := os.Remove(p); err != nil {
				t.Errorf("cleaning up: %v", err)
			}
		}
	})
	return dir
}
