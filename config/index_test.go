package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestLoadCached: the index answers while the files hold still, and any
// change to them or to the environment is seen at once.
func TestLoadCached(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path, ix := filepath.Join(dir, "config.toml"), filepath.Join(dir, "cache", "config.index")
	env := map[string]string{"FEEDKEY_SYSTEM_CONFIG": filepath.Join(dir, "system.toml")}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	write := func(text string, mod time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	load := func() []string {
		t.Helper()
		c, err := LoadCached(path, ix, lookup)
		if err != nil {
			t.Fatalf("LoadCached: %v", err)
		}
		var ids []string
		for _, f := range c.Feeds {
			ids = append(ids, f.ID)
		}
		return ids
	}
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	const one = "[[feed]]\nid = \"aaa\"\nkind = \"token\"\nurl = \"https://a.example/simple/\"\n"
	write(one, t0)
	if ids := load(); len(ids) != 1 || ids[0] != "aaa" {
		t.Fatalf("first load = %v", ids)
	}
	if fi, err := os.Stat(ix); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("index: %v, %v; want a 0600 file", fi, err)
	}
	// Same size and time, other content: only the index can answer "aaa",
	// which shows it is used.
	write("[[feed]]\nid = \"bbb\"\nkind = \"token\"\nurl = \"https://b.example/simple/\"\n", t0)
	if ids := load(); len(ids) != 1 || ids[0] != "aaa" {
		t.Fatalf("with the files unchanged by size and time = %v, want the indexed aaa", ids)
	}
	// A new time (an editor's save): loaded again.
	write("[[feed]]\nid = \"bbb\"\nkind = \"token\"\nurl = \"https://b.example/simple/\"\n", t0.Add(time.Second))
	if ids := load(); len(ids) != 1 || ids[0] != "bbb" {
		t.Errorf("after an edit = %v, want bbb", ids)
	}
	// A system file appears.
	os.WriteFile(env["FEEDKEY_SYSTEM_CONFIG"], []byte("[[feed]]\nid = \"sys\"\nkind = \"token\"\nurl = \"https://s.example/simple/\"\n"), 0o600)
	if ids := load(); len(ids) != 2 {
		t.Errorf("with a system file = %v, want sys and bbb", ids)
	}
	// The environment adds a feed.
	env["PACKAGEMANAGER_ADDRESS"] = "https://ppm.example"
	if ids := load(); len(ids) != 3 {
		t.Errorf("with PACKAGEMANAGER_ADDRESS = %v, want three feeds", ids)
	}
	// A broken config is an error, whatever the index says.
	write("[[feed]\n", t0.Add(2*time.Second))
	if _, err := LoadCached(path, ix, lookup); err == nil {
		t.Error("a broken config loaded through the index")
	}
	// A corrupt index costs nothing but speed.
	write(one, t0.Add(3*time.Second))
	os.WriteFile(ix, []byte("garbage"), 0o600)
	if ids := load(); len(ids) != 3 || ids[1] != "aaa" {
		t.Errorf("with a corrupt index = %v", ids)
	}
}
