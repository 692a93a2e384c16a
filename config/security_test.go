package config

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestEnvAddressNeverEchoed: an address typed with a password or a token in
// its query is shown redacted when it is refused.
func TestEnvAddressNeverEchoed(t *testing.T) {
	t.Parallel()
	taken := write(t, "[[feed]]\nid = \"packagemanager\"\nkind = \"token\"\nurl = \"https://pypi.example.com/simple/\"\n")
	for _, tt := range []struct{ file, addr string }{
		{filepath.Join(t.TempDir(), "none.toml"), "https://u:SECRETPW@ppm.example.com/?tok=SECRETQ"},
		{filepath.Join(t.TempDir(), "none.toml"), "http://SECRETUSER@ppm.example.com"},
		{taken, "https://ppm.example.com/#SECRETF"},
	} {
		_, err := LoadEnv(tt.file, envOf("PACKAGEMANAGER_ADDRESS", tt.addr))
		if err == nil || !strings.Contains(err.Error(), "PACKAGEMANAGER_ADDRESS") || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("PACKAGEMANAGER_ADDRESS=%s: err = %v", tt.addr, err)
		}
	}
}

// TestIdentityTokenFile: a Package Manager feed may name the identity token
// file bound to it; an absolute path only, and on Package Manager feeds only.
func TestIdentityTokenFile(t *testing.T) {
	t.Parallel()
	const ppm = "[[feed]]\nid = \"ppm\"\nkind = \"posit\"\nurl = \"https://ppm.example.com/pypi/latest/simple/\"\n"
	c, err := LoadEnv(write(t, ppm+"identity_token_file = \"/run/ci/id-token\"\n"), envOf())
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := c.Feed("ppm"); f.IdentityTokenFile != "/run/ci/id-token" {
		t.Errorf("identity_token_file = %q", f.IdentityTokenFile)
	}
	for name, body := range map[string]string{
		"relative":  ppm + "identity_token_file = \"id-token\"\n",
		"not posit": "[[feed]]\nid = \"team\"\nkind = \"token\"\nurl = \"https://pypi.example.com/simple/\"\nidentity_token_file = \"/run/ci/id-token\"\n",
	} {
		if _, err := LoadEnv(write(t, body), envOf()); err == nil || !strings.Contains(err.Error(), "identity_token_file") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
