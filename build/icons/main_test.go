package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedIconsUpToDate fails when assets/icons was not regenerated
// after a change to this generator (run `go generate ./assets`); it also
// shows that the output is deterministic.
func TestCommittedIconsUpToDate(t *testing.T) {
	files, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3*len(States) {
		t.Errorf("Generate wrote %d files, want %d", len(files), 3*len(States))
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", "..", "assets", "icons", name))
		if err != nil {
			t.Errorf("%s: %v (run go generate ./assets)", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("assets/icons/%s is stale: run go generate ./assets", name)
		}
	}
}

func TestSymbolsInsideBadge(t *testing.T) {
	// Every symbol point lies well inside its badge, at both badge sizes.
	for _, size := range []int{16, 64} {
		c, r := badgeGeometry(size)
		for _, st := range States {
			s := symbol(st, c, r)
			const n = 200
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					p := vec{float64(i) / n, float64(j) / n}
					if s(p) <= 0 && p.sub(c).length() > 0.85*r {
						t.Fatalf("size %d %s: symbol point %v outside 85%% of the badge", size, st, p)
					}
				}
			}
		}
	}
}
