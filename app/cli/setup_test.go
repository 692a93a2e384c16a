package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedkey/feedkey/app/setup"
)

func TestSetup(t *testing.T) {
	e := newTestEnv(t)
	home := t.TempDir()
	e.Getenv = func(k string) string {
		if k == "HOME" {
			return home
		}
		return ""
	}
	e.Executable = filepath.Join(t.TempDir(), "feedkey")

	if code := e.run("", "setup", "pip"); code != 1 || !strings.Contains(e.err.String(), "no feeds configured") {
		t.Errorf("setup with no feed: %d %q", code, e.err)
	}
	if code := e.run("tok\n", "add", "https://pkgs.example.com/team/simple/", "--kind", "token", "--name", "team"); code != 0 {
		t.Fatalf("add: %s", e.err)
	}
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"setup"}, 2, "missing TOOL"},
		{[]string{"setup", "conda"}, 2, `unknown tool "conda"`},
		{[]string{"setup", "pip", "nope"}, 2, `no feed "nope"`},
		{[]string{"setup", "pip", "team", "extra"}, 2, "too many arguments"},
		{[]string{"setup", "twine"}, 1, "give it with --upload-url"},
		{[]string{"setup", "twine", "--upload-url", "https://pkgs.example.com/other/"}, 1, "would never send it there"},
		{[]string{"setup", "git"}, 1, "no feeds configured"},
	} {
		if code := e.run("", tc.args...); code != tc.code || !strings.Contains(e.err.String(), tc.err) {
			t.Errorf("%q = %d %q, want %d and %q", tc.args, code, e.err, tc.code, tc.err)
		}
	}

	// Printing writes nothing; --apply writes pip.conf with the feed.
	if code := e.run("", "setup", "pip"); code != 0 || !strings.Contains(e.out.String(), "index-url = https://__token__@pkgs.example.com/team/simple/") {
		t.Fatalf("setup pip = %d %q %q", code, e.out, e.err)
	}
	conf := filepath.Join(home, ".config", "pip", "pip.conf")
	if _, err := os.Stat(conf); err == nil {
		t.Fatal("setup without --apply wrote pip.conf")
	}
	if code := e.run("", "setup", "pip", "--apply"); code != 0 || !strings.Contains(e.out.String(), "Wrote "+conf) {
		t.Fatalf("setup pip --apply = %d %q %q", code, e.out, e.err)
	}
	b, _ := os.ReadFile(conf)
	if v, _ := setup.GetINI(b, "global", "keyring-provider"); v != "subprocess" {
		t.Errorf("pip.conf =\n%s", b)
	}
	if fi, _ := os.Stat(conf); fi.Mode().Perm() != 0o600 {
		t.Errorf("pip.conf mode %v", fi.Mode())
	}
	if code := e.run("", "setup", "pip", "--apply"); code != 0 || !strings.Contains(e.out.String(), "Unchanged: "+conf) {
		t.Errorf("second apply = %d %q", code, e.out)
	}
	// A broken file is refused, not overwritten.
	uv := filepath.Join(home, ".config", "uv", "uv.toml")
	os.MkdirAll(filepath.Dir(uv), 0o700)
	os.WriteFile(uv, []byte("index = [\n"), 0o644)
	if code := e.run("", "setup", "uv", "--apply"); code != 1 || !strings.Contains(e.err.String(), "cannot edit the file safely") {
		t.Errorf("setup uv over a broken file = %d %q", code, e.err)
	}
	if b, _ := os.ReadFile(uv); string(b) != "index = [\n" {
		t.Errorf("the broken uv.toml was changed: %q", b)
	}
	// A command-based tool that is not installed: the commands to run.
	if code := e.run("", "setup", "pdm", "--apply"); code != 1 || !strings.Contains(e.err.String(), "pdm is not on PATH; run this yourself") {
		t.Errorf("setup pdm --apply without pdm = %d %q", code, e.err)
	}
}
