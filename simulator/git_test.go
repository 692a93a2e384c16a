package simulator_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedkey/feedkey/simulator"
	"github.com/feedkey/feedkey/simulator/simtest"
)

// TestDevOpsGit clones from and pushes to an Azure Repos repository with
// Debian's git, through the 401 challenge and HTTP Basic with the tokens
// Azure Repos takes.
func TestDevOpsGit(t *testing.T) {
	env := startAzure(t, new(simulator.Entra), new(simulator.DevOps))
	bare := simtest.BareRepo(t, "web")
	env.DevOps.AddRepo(azOrg, azProject, "web", bare)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := env.CA.WriteFile(caFile); err != nil {
		t.Fatal(err)
	}
	remote := env.DevOpsURL + "/" + azOrg + "/" + azProject + "/_git/web"

	// git runs git with a credential helper that answers the token in
	// $TOKEN (never on argv), and returns its combined output.
	git := func(t *testing.T, dir, token string, args ...string) (string, error) {
		t.Helper()
		helper := `!f() { test "$1" = get && test -n "$TOKEN" && printf 'username=anything\npassword=%s\n' "$TOKEN"; }; f`
		cmd := exec.Command("git", append([]string{"-c", "http.sslCAInfo=" + caFile, "-c", "credential.helper=" + helper}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(append(os.Environ(), simtest.GitEnv(caFile)...), "TOKEN="+token)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	session := func(t *testing.T, scope string) string {
		t.Helper()
		resp, body := env.devops(t, http.MethodPost, sessionPath, bearer(env.userToken(t, azUser)),
			map[string]any{"displayName": "git", "scope": scope})
		var m struct{ Token string }
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &m) != nil || m.Token == "" {
			t.Fatalf("session token: %d %s", resp.StatusCode, body)
		}
		return m.Token
	}

	t.Run("no credential: 401 with Azure's challenge", func(t *testing.T) {
		resp, _ := env.devops(t, http.MethodGet, "/"+azOrg+"/"+azProject+"/_git/web/info/refs?service=git-upload-pack", "", nil)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("X-VSS-ResourceTenant") != azTenant ||
			!strings.Contains(strings.Join(resp.Header.Values("WWW-Authenticate"), ","), "Basic realm=") {
			t.Fatalf("answer %d %v", resp.StatusCode, resp.Header)
		}
		out, err := git(t, t.TempDir(), "", "clone", remote, "web")
		if err == nil || !strings.Contains(out, "terminal prompts disabled") {
			t.Fatalf("clone without a token: %v\n%s", err, out)
		}
	})
	t.Run("a packaging-scoped session token is refused", func(t *testing.T) {
		out, err := git(t, t.TempDir(), session(t, "vso.packaging_write"), "clone", remote, "web")
		if err == nil || !strings.Contains(out, "403") {
			t.Fatalf("clone with a vso.packaging_write token: %v\n%s", err, out)
		}
	})
	t.Run("an unknown repository is not found", func(t *testing.T) {
		out, err := git(t, t.TempDir(), session(t, "vso.code_write"), "clone", remote+"x", "web")
		if err == nil || !strings.Contains(out, "not found") {
			t.Fatalf("clone of an unknown repository: %v\n%s", err, out)
		}
	})
	for _, tc := range []struct{ name, token string }{
		{"Entra access token", env.userToken(t, azUser)},
		{"code-scoped session token", session(t, "vso.code_write")},
	} {
		t.Run(tc.name+": clone and push", func(t *testing.T) {
			dir := t.TempDir()
			if out, err := git(t, dir, tc.token, "clone", "-q", remote, "web"); err != nil {
				t.Fatalf("clone: %v\n%s", err, out)
			}
			work := filepath.Join(dir, "web")
			if _, err := os.Stat(filepath.Join(work, "README.md")); err != nil {
				t.Fatalf("the clone lacks the first commit: %v", err)
			}
			simtest.Git(t, work, "commit", "-q", "--allow-empty", "-m", tc.name)
			if out, err := git(t, work, tc.token, "push", "-q", "origin", "main"); err != nil {
				t.Fatalf("push: %v\n%s", err, out)
			}
			if got := simtest.Git(t, bare, "log", "-1", "--format=%s", "main"); strings.TrimSpace(got) != tc.name {
				t.Fatalf("the bare repository's main is %q, want the pushed commit %q", got, tc.name)
			}
		})
	}
}
