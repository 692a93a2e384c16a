package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedkey/feedkey/auth/feed"
)

// envOf is an environment with the given variables and no system config
// (tests never read the machine's /etc/feedkey) unless they set one.
func envOf(kv ...string) func(string) (string, bool) {
	m := map[string]string{"FEEDKEY_SYSTEM_CONFIG": ""}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

const sample = `# feeds for the team
future_top_level = "kept"

[[feed]]
id = "team"   # the shared index
kind = "token"
url = "https://pypi.team.example/simple/"
username = "__token__"
mirror = true # a key this version does not know

[trust]
azure_feed_hosts = ["127.0.0.1:8443"]
`

func write(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "feedkey", "config.toml")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	c, err := LoadEnv(write(t, sample), envOf())
	if err != nil {
		t.Fatal(err)
	}
	f, ok := c.Feed("team")
	if !ok || f.Kind != feed.Token || f.Username != "__token__" {
		t.Fatalf("Feed(team) = %+v, %v", f, ok)
	}
	if got := c.Trust.AzureFeedHosts; len(got) != 1 || got[0] != "127.0.0.1:8443" {
		t.Errorf("Trust.AzureFeedHosts = %v", got)
	}
	if _, err := c.Resolve("https://pypi.team.example/simple/x/"); err != nil {
		t.Errorf("Resolve: %v", err)
	}
}

func TestLoadMissingIsEmpty(t *testing.T) {
	c, err := LoadEnv(filepath.Join(t.TempDir(), "nope.toml"), envOf())
	if err != nil || len(c.Feeds) != 0 {
		t.Fatalf("LoadEnv(missing, envOf()) = %+v, %v", c, err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, content string
		line          int
		msg           string
	}{
		{"syntax", "[[feed]]\nid = \"a\"\nkind = \n", 3, ""},
		{"unterminated", "[[feed]]\nid = \"a\nkind = \"token\"\n", 2, ""},
		{"kind", "[[feed]]\nid = \"a\"\nkind = \"npm\"\nurl = \"https://h/\"\n", 0, "unknown kind"},
		{"http", "[[feed]]\nid = \"a\"\nkind = \"token\"\nurl = \"http://h/\"\n", 0, "not https"},
		{"dup", "[[feed]]\nid = \"a\"\nkind = \"token\"\nurl = \"https://h/a/\"\n[[feed]]\nid = \"a\"\nkind = \"token\"\nurl = \"https://h/b/\"\n", 0, "appears twice"},
		{"overlap", "[[feed]]\nid = \"a\"\nkind = \"token\"\nurl = \"https://h/a/\"\n[[feed]]\nid = \"b\"\nkind = \"token\"\nurl = \"https://h/a\"\n", 0, "cover the same URL"},
		{"type", "feed = 3\n", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(t, tt.content)
			_, err := LoadEnv(p, envOf())
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Load = %v, want *ParseError", err)
			}
			if pe.File != p || pe.Line != tt.line || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("Load = %+v, want line %d and %q", pe, tt.line, tt.msg)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestAddFeedKeepsTextAndMode(t *testing.T) {
	p := write(t, sample)
	f := feed.Feed{ID: "other", Kind: feed.Token, URL: "https://other.example/simple/"}
	if err := AddFeed(p, f); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	if !strings.HasPrefix(string(data), sample) {
		t.Errorf("AddFeed changed existing text:\n%s", data)
	}
	c, err := LoadEnv(p, envOf())
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Feed("other"); !ok || got != f {
		t.Errorf("Feed(other) = %+v, %v; want %+v", got, ok, f)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640 kept", fi.Mode().Perm())
	}
	if err := AddFeed(p, f); err == nil {
		t.Error("AddFeed of an existing id succeeded")
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestAddFeedCreates(t *testing.T) {
	p := filepath.Join(t.TempDir(), "new", "config.toml")
	f := feed.Feed{ID: "a", Kind: feed.Token, URL: "https://h/simple/"}
	if err := AddFeed(p, f); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stat = %v, %v; want 0600", fi, err)
	}
}

func TestEditsRefuseBrokenFile(t *testing.T) {
	const broken = "[[feed]]\nid = \"a\"\nkind = \n# keep me\n"
	p := write(t, broken)
	f := feed.Feed{ID: "b", Kind: feed.Token, URL: "https://h/simple/"}
	if err := AddFeed(p, f); err == nil {
		t.Error("AddFeed on a broken file succeeded")
	}
	if err := RemoveFeed(p, "a"); err == nil {
		t.Error("RemoveFeed on a broken file succeeded")
	}
	if data, _ := os.ReadFile(p); string(data) != broken {
		t.Errorf("broken file changed:\n%s", data)
	}
}

func TestAddFeedRejectsInvalid(t *testing.T) {
	p := write(t, sample)
	for _, f := range []feed.Feed{
		{ID: "x", Kind: feed.Token, URL: "http://h/simple/"},
		{ID: "y", Kind: feed.Token, URL: "https://pypi.team.example/simple/"}, // same URL as team
	} {
		if err := AddFeed(p, f); err == nil {
			t.Errorf("AddFeed(%+v) succeeded", f)
		}
	}
	if data, _ := os.ReadFile(p); string(data) != sample {
		t.Errorf("file changed:\n%s", data)
	}
}

func TestRemoveFeed(t *testing.T) {
	p := write(t, sample)
	if err := AddFeed(p, feed.Feed{ID: "other", Kind: feed.Token, URL: "https://other.example/simple/"}); err != nil {
		t.Fatal(err)
	}
	if err := RemoveFeed(p, "team"); err != nil {
		t.Fatal(err)
	}
	c, err := LoadEnv(p, envOf())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Feed("team"); ok {
		t.Error("team still present")
	}
	if _, ok := c.Feed("other"); !ok {
		t.Error("other removed too")
	}
	data, _ := os.ReadFile(p)
	for _, keep := range []string{"# feeds for the team", "future_top_level", "[trust]"} {
		if !strings.Contains(string(data), keep) {
			t.Errorf("lost %q:\n%s", keep, data)
		}
	}
	if err := RemoveFeed(p, "team"); err == nil {
		t.Error("RemoveFeed of a missing feed succeeded")
	}
}

func TestSystemFeedsAndUserWins(t *testing.T) {
	sys := write(t, "[[feed]]\nid = \"team\"\nkind = \"token\"\nurl = \"https://sys.example/simple/\"\n[[feed]]\nid = \"fleet\"\nkind = \"token\"\nurl = \"https://fleet.example/simple/\"\n")
	env := envOf("FEEDKEY_SYSTEM_CONFIG", sys)
	c, err := LoadEnv(write(t, sample), env)
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := c.Feed("team"); f.URL != "https://pypi.team.example/simple/" {
		t.Errorf("team = %s, want the user's", f.URL)
	}
	if _, ok := c.Feed("fleet"); !ok {
		t.Error("system feed fleet missing")
	}
}

func TestPath(t *testing.T) {
	t.Setenv("FEEDKEY_CONFIG", "/x/y.toml")
	if p, _ := Path(); p != "/x/y.toml" {
		t.Errorf("Path = %q", p)
	}
}

func TestPackageManagerAddress(t *testing.T) {
	env := envOf("PACKAGEMANAGER_ADDRESS", "https://ppm.example.com/")
	c, err := LoadEnv(filepath.Join(t.TempDir(), "none.toml"), env)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := c.Feed(EnvFeedID)
	if !ok || f.Kind != feed.Posit || f.Address != "https://ppm.example.com" {
		t.Fatalf("env feed = %+v, %v", f, ok)
	}
	if got, err := c.Resolve("https://ppm.example.com/pypi-auth/latest/simple/"); err != nil || got.ID != EnvFeedID {
		t.Errorf("Resolve = %v, %v", got.ID, err)
	}
	// A configured feed for the same server wins; no duplicate.
	p := write(t, "[[feed]]\nid = \"corp\"\nkind = \"posit\"\nurl = \"https://ppm.example.com/pypi-auth/latest/simple/\"\naddress = \"https://ppm.example.com\"\n")
	if c, err = LoadEnv(p, env); err != nil || len(c.Feeds) != 1 || c.Feeds[0].ID != "corp" {
		t.Errorf("with a configured feed: %+v, %v", c, err)
	}
	env = envOf("PACKAGEMANAGER_ADDRESS", "http://ppm.example.com")
	if _, err := LoadEnv(p, env); err == nil || !strings.Contains(err.Error(), "PACKAGEMANAGER_ADDRESS") {
		t.Errorf("http address: %v", err)
	}
}

func TestSystemTrustCoversUserFeeds(t *testing.T) {
	sys := write(t, "[trust]\nazure_feed_hosts = [\"devops.corp.example\"]\n")
	env := envOf("FEEDKEY_SYSTEM_CONFIG", sys)
	t.Setenv("FEEDKEY_SYSTEM_CONFIG", sys) // AddFeed validates with the process environment
	p := filepath.Join(t.TempDir(), "config.toml")
	f := feed.Feed{ID: "corp", Kind: feed.Azure, URL: "https://devops.corp.example/contoso/_packaging/py/pypi/simple/"}
	if err := AddFeed(p, f); err != nil {
		t.Fatalf("AddFeed on a host trusted by the system file: %v", err)
	}
	if c, err := LoadEnv(p, env); err != nil || len(c.Feeds) != 1 {
		t.Fatalf("Load = %+v, %v", c, err)
	}
}

func TestRemoveFeedKeepsCommentsOfTheNextTable(t *testing.T) {
	p := write(t, "[[feed]]\nid = \"a\"\nkind = \"token\"\nurl = \"https://a.example/simple/\"\n\n# test simulator, keep\n[trust]\nazure_feed_hosts = [\"127.0.0.1:8443\"]\n")
	if err := RemoveFeed(p, "a"); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(p); !strings.Contains(string(data), "# test simulator, keep\n[trust]") {
		t.Errorf("comment lost:\n%s", data)
	}
}

// TestOversizedConfig: a runaway config file is refused with one clear line
// instead of slowing every helper call down.
func TestOversizedConfig(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.toml")
	big := strings.Repeat("# padding\n", MaxSize/10+1)
	if err := os.WriteFile(path, []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadEnv(path, envOf()); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), path) {
		t.Errorf("Load of a %d-byte file = %v, want ErrTooLarge naming the file", len(big), err)
	}
}
