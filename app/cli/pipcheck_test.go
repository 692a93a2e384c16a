package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/config"
)

func TestPipVersion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		out  string
		want [2]int
		ok   bool
	}{
		{"pip 23.2.1 from /v/lib/python3.11/site-packages/pip (python 3.11)\n", [2]int{23, 2}, true},
		{"pip 26.2 from x (python 3.13)", [2]int{26, 2}, true},
		{"Python 3.11.2", [2]int{}, false},
		{"", [2]int{}, false},
	} {
		got, ok := pipVersion(tc.out)
		if got != tc.want || ok != tc.ok {
			t.Errorf("pipVersion(%q) = %v, %v; want %v, %v", tc.out, got, ok, tc.want, tc.ok)
		}
	}
}

func TestPipConfig(t *testing.T) {
	t.Parallel()
	got := pipConfig("global.index-url='https://a.example/simple/'\nglobal.keyring-provider='import'\ninstall.keyring-provider='subprocess'\nfreeze.timeout='10'\nnot a setting\n")
	if got["index-url"].value != "https://a.example/simple/" || got["keyring-provider"].value != "subprocess" || got["keyring-provider"].from != "pip config install.keyring-provider" {
		t.Errorf("pipConfig = %+v", got)
	}
	if _, ok := got["timeout"]; ok {
		t.Errorf("a freeze setting was read as an install one: %+v", got)
	}
}

// TestDoctorSettings: keyring-provider values and index URLs, as doctor
// reports them for pip and uv.
func TestDoctorSettings(t *testing.T) {
	t.Parallel()
	cfg := &config.Config{Feeds: []feed.Feed{{ID: "team", Kind: feed.Token, URL: "https://pypi.example/team/simple/", Username: "__token__"}}}
	for _, tc := range []struct {
		name     string
		run      func(d *doctor)
		wantFail bool
		want     string
	}{
		{"subprocess", func(d *doctor) { checkProvider(d, "pip", setting{"subprocess", "PIP_KEYRING_PROVIDER"}, "how") }, false, "keyring-provider = subprocess"},
		{"unset", func(d *doctor) { checkProvider(d, "pip", setting{}, "set PIP_KEYRING_PROVIDER=subprocess") }, false, "set PIP_KEYRING_PROVIDER=subprocess"},
		{"import", func(d *doctor) { checkProvider(d, "uv", setting{"disabled", "uv.toml"}, "how") }, true, "never runs feedkey's helper"},
		{"index without user", func(d *doctor) {
			checkIndexUser(d, "pip", cfg, "https://pypi.example/team/simple/", "PIP_INDEX_URL")
		}, true, "use https://__token__@pypi.example/team/simple/"},
		{"index with user", func(d *doctor) {
			checkIndexUser(d, "pip", cfg, "https://__token__@pypi.example/team/simple/", "PIP_INDEX_URL")
		}, false, "has the user name __token__"},
		{"other index", func(d *doctor) { checkIndexUser(d, "pip", cfg, "https://pypi.org/simple/", "PIP_INDEX_URL") }, false, ""},
	} {
		d := &doctor{}
		tc.run(d)
		if d.failed != tc.wantFail {
			t.Errorf("%s: failed = %v, want %v: %+v", tc.name, d.failed, tc.wantFail, d.checks)
		}
		if tc.want == "" && len(d.checks) != 0 {
			t.Errorf("%s: checks %+v, want none", tc.name, d.checks)
		}
		if tc.want != "" && (len(d.checks) != 1 || !strings.Contains(d.checks[0].Detail, tc.want)) {
			t.Errorf("%s: checks %+v, want one saying %q", tc.name, d.checks, tc.want)
		}
	}
}

// TestDoctorUV reads uv's user config and environment.
func TestDoctorUV(t *testing.T) {
	e := newTestEnv(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "uv"), 0o700)
	os.WriteFile(filepath.Join(dir, "uv", "uv.toml"), []byte("keyring-provider = \"subprocess\"\n[[index]]\nurl = \"https://pypi.example/team/simple/\"\n"), 0o600)
	e.Getenv = func(k string) string {
		return map[string]string{"XDG_CONFIG_HOME": dir}[k]
	}
	if code := e.run("tok\n", "add", "https://pypi.example/team/simple/", "--kind", "token", "--name", "team"); code != 0 {
		t.Fatalf("add: %s", e.err)
	}
	e.run("", "doctor", "--json")
	var got struct {
		OK     bool
		Checks []check
	}
	if err := json.Unmarshal(e.out.Bytes(), &got); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, e.out)
	}
	var uv []string
	for _, c := range got.Checks {
		if c.Name == "uv" {
			uv = append(uv, c.Detail)
			if c.OK {
				continue
			}
			if !strings.Contains(c.Detail, "https://__token__@pypi.example/team/simple/") {
				t.Errorf("uv problem without the fix: %q", c.Detail)
			}
		}
	}
	if got.OK || len(uv) != 2 || !strings.Contains(uv[0], "subprocess") {
		t.Errorf("doctor ok=%v, uv checks %q; want the provider ok and the user-less index a problem", got.OK, uv)
	}
}
