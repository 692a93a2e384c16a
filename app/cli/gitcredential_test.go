package cli

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
)

// TestGitCredential speaks git's credential protocol to the verb, for an org
// whose feed credential is the Entra token itself (token = "entra"), so no
// provider is involved; app/feedkey's TestAzureReposGit runs real git.
func TestGitCredential(t *testing.T) {
	e := newTestEnv(t)
	const cfg = `[[feed]]
id = "contoso"
kind = "azure"
url = "https://pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple/"
token = "entra"
`
	if err := os.WriteFile(e.ConfigPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	f := feed.Feed{ID: "contoso", Kind: feed.Azure, URL: "https://pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple/", Token: "entra"}
	expires := e.Now().Add(time.Hour)
	cred := store.Credential{Kind: "azure", Username: feed.AzureUsername, Secret: "entra-token", Expires: expires}
	if err := store.New(e.kc).Save(context.Background(), f.CredentialID(feed.Trust{}), cred); err != nil {
		t.Fatal(err)
	}
	answer := "username=VssSessionToken\npassword=entra-token\npassword_expiry_utc=" + strconv.FormatInt(expires.Unix(), 10) + "\n\n"
	tests := []struct {
		name, action, in string
		code             int
		out              string
		stderr           bool
	}{
		{"dev.azure.com", "get", "protocol=https\nhost=dev.azure.com\npath=contoso/web/_git/web\n\n", 0, answer, false},
		{"url attribute", "get", "url=https://contoso@dev.azure.com/contoso/web/_git/web\n", 0, answer, false},
		{"legacy host", "get", "capability[]=authtype\nprotocol=https\nhost=contoso.visualstudio.com\n", 0, answer, false},
		{"other org", "get", "protocol=https\nhost=dev.azure.com\npath=fabrikam/web/_git/web\n", 0, "", false},
		{"no path", "get", "protocol=https\nhost=dev.azure.com\n", 0, "", true}, // the useHttpPath hint
		{"http", "get", "protocol=http\nhost=dev.azure.com\npath=contoso/web/_git/web\n", 0, "", false},
		{"other host", "get", "protocol=https\nhost=github.com\npath=contoso/web\n", 0, "", false},
		{"store", "store", "protocol=https\nhost=dev.azure.com\npath=contoso/web/_git/web\nusername=u\npassword=entra-token\n", 0, "", false},
		{"erase", "erase", "protocol=https\nhost=dev.azure.com\npath=contoso/web/_git/web\nusername=u\npassword=entra-token\n", 0, "", false},
		{"unknown action", "list", "protocol=https\nhost=dev.azure.com\n", 0, "", false},
		{"malformed", "get", "protocol https\n", 1, "", true},
	}
	for _, tt := range tests {
		code := e.run(tt.in, "git-credential", tt.action)
		if code != tt.code || e.out.String() != tt.out || (e.err.Len() > 0) != tt.stderr {
			t.Errorf("%s: git-credential %s = %d, %q, stderr %q", tt.name, tt.action, code, e.out, e.err)
		}
	}
	// erase left the credential alone.
	if c, err := store.New(e.kc).Load(context.Background(), f.CredentialID(feed.Trust{})); err != nil || c.Secret != "entra-token" {
		t.Errorf("after erase: %v, %v", c.Secret != "", err)
	}
	if code := e.run("", "git-credential"); code != 2 {
		t.Errorf("no action: exit %d, want 2", code)
	}
}
