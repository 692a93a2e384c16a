//go:build linux

package main_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	toolsetup "github.com/feedkey/feedkey/app/setup"
	"github.com/feedkey/feedkey/internal/testbin"
	"github.com/feedkey/feedkey/simulator"
	"github.com/feedkey/feedkey/simulator/simtest"
)

// gitWorld is an azureWorld with an Azure Repos repository, contoso/Web/web,
// and a git configured as `feedkey setup git` configures it, for the
// simulator's host instead of dev.azure.com.
type gitWorld struct {
	*azureWorld
	bare, remote string
	gitEnv       []string // added to the world's env for git
}

func newGitWorld(t *testing.T, setup func(e *simulator.Entra, d *simulator.DevOps)) *gitWorld {
	t.Helper()
	w := &gitWorld{azureWorld: newAzureWorld(t, setup)}
	w.bare = simtest.BareRepo(t, "web")
	w.az.DevOps.AddRepo("contoso", "Web", "web", w.bare)
	w.remote = w.az.DevOpsURL + "/contoso/Web/_git/web"
	home := t.TempDir()
	caFile := filepath.Join(home, "ca.pem")
	if err := w.az.CA.WriteFile(caFile); err != nil {
		t.Fatal(err)
	}
	global := filepath.Join(home, ".gitconfig")
	w.gitEnv = append(simtest.GitEnv(caFile), "HOME="+home, "GIT_CONFIG_GLOBAL="+global)
	// A helper for every host, as Git Credential Manager installs itself,
	// answering a wrong password: git runs it first unless the list is
	// reset for the host.
	w.gitOK(home, "config", "--global", "credential.helper", `!f() { test "$1" = get && echo username=gcm && echo password=wrong; }; f`)
	w.gitOK(home, "config", "--global", "http.sslCAInfo", caFile)
	// `feedkey setup git` writes the entries for the org's host (here the
	// simulator's, on Microsoft's hosts https://dev.azure.com): an empty
	// helper resets the list, so feedkey answers alone, and git sends the
	// path, which names the org.
	w.must("add", w.feedURL("contoso"))
	r := testbin.Run(t, append(append([]string{}, w.env...), w.gitEnv...), "", w.bin.Feedkey, "setup", "git", "contoso", "--apply")
	if r.Code != 0 {
		t.Fatalf("feedkey setup git --apply: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	base := "credential." + w.az.DevOpsURL
	helpers := w.gitOK(home, "config", "--global", "--get-all", base+".helper")
	if want := "\n!" + toolsetup.ShellQuote(w.bin.Feedkey) + " git-credential\n"; helpers != want || strings.TrimSpace(w.gitOK(home, "config", "--global", base+".useHttpPath")) != "true" {
		t.Fatalf("after setup git, %s.helper = %q, want %q", base, helpers, want)
	}
	// Applying it again changes nothing.
	if r := testbin.Run(t, append(append([]string{}, w.env...), w.gitEnv...), "", w.bin.Feedkey, "setup", "git", "contoso", "--apply"); r.Code != 0 ||
		w.gitOK(home, "config", "--global", "--get-all", base+".helper") != helpers {
		t.Fatalf("setup git twice: %d %s", r.Code, r.Stderr)
	}
	return w
}

// git runs Debian's git in dir and returns its stdout and stderr.
func (w *gitWorld) git(dir string, extraEnv []string, args ...string) (stdout, stderr string, err error) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(append(append([]string{}, w.env...), w.gitEnv...), extraEnv...)
	// No controlling terminal, as in an editor: nothing can prompt there.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	if ctx.Err() != nil {
		w.t.Fatalf("git %q hung (a prompt?)\n%s", args, e.String())
	}
	return o.String(), e.String(), err
}

func (w *gitWorld) gitOK(dir string, args ...string) string {
	w.t.Helper()
	out, errOut, err := w.git(dir, nil, args...)
	if err != nil {
		w.t.Fatalf("git %q: %v\n%s", args, err, errOut)
	}
	return out
}

// credential runs `feedkey git-credential ACTION` as git does.
func (w *gitWorld) credential(action, request string) (answer map[string]string, stderr string, code int) {
	w.t.Helper()
	r := testbin.Run(w.t, w.env, request, w.bin.Feedkey, "git-credential", action)
	answer = map[string]string{}
	for _, line := range strings.Split(r.Stdout, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			answer[k] = v
		}
	}
	return answer, r.Stderr, r.Code
}

// TestAzureReposGit: after `feedkey login` for an org's feed, real git
// clones and pushes the org's Azure Repos repository through `feedkey
// git-credential`, with the org's Entra token (Azure Repos refuses the
// feed's packaging-scoped session token), refreshed silently with refresh
// tokens that are single use: what git's helper rotates is kept for the
// feed. No token reaches git's trace or stderr; other orgs and hosts get
// nothing and git fails without prompting.
func TestAzureReposGit(t *testing.T) {
	w := newGitWorld(t, func(e *simulator.Entra, d *simulator.DevOps) {
		// Access tokens below MSAL's 5-minute margin: every git request
		// redeems the refresh token, which is good once only.
		e.AccessTokenLifetime = 4 * time.Minute
		e.SingleUseRefreshTokens = true
	})
	w.must("add", w.feedURL("fabrikam")) // never signed in
	w.must("login", "contoso")
	sessionToken := strings.TrimSpace(w.must("token", w.feedURL("contoso")).Stdout)

	dir := t.TempDir()
	trace := []string{"GIT_TRACE=1", "GIT_TRACE_CURL=1", "GIT_TRACE_CURL_NO_DATA=1"}
	_, cloneErr, err := w.git(dir, trace, "clone", w.remote, "web")
	if err != nil {
		t.Fatalf("git clone: %v\n%s", err, cloneErr)
	}
	work := filepath.Join(dir, "web")
	if _, err := os.Stat(filepath.Join(work, "README.md")); err != nil {
		t.Fatalf("the clone lacks the repository's commit: %v", err)
	}
	w.gitOK(work, "commit", "-q", "--allow-empty", "-m", "pushed through feedkey")
	_, pushErr, err := w.git(work, trace, "push", "origin", "main")
	if err != nil {
		t.Fatalf("git push: %v\n%s", err, pushErr)
	}
	if got := strings.TrimSpace(simtest.Git(t, w.bare, "log", "-1", "--format=%s", "main")); got != "pushed through feedkey" {
		t.Fatalf("the bare repository's main is %q, want the pushed commit", got)
	}

	// What git got: an Entra token for the org, with its expiry; every
	// request (clone and push) redeemed a refresh token.
	req := "protocol=https\nhost=" + hostOf(w.az.DevOpsURL) + "\npath=contoso/Web/_git/web\n\n"
	a, stderr, code := w.credential("get", req)
	if code != 0 || a["password"] == "" || a["username"] == "" || stderr != "" {
		t.Fatalf("git-credential get = %d %v, stderr %q", code, keys(a), stderr)
	}
	if _, ok := w.az.Entra.ValidAccessToken(a["password"]); !ok || a["password"] == sessionToken {
		t.Errorf("git-credential get did not answer an Entra access token")
	}
	if exp := a["password_expiry_utc"]; exp == "" || strings.TrimLeft(exp, "0123456789") != "" {
		t.Errorf("password_expiry_utc = %q", exp)
	}
	if n := grants(w.az.Entra, "refresh_token"); n < 2 {
		t.Errorf("refresh token grants = %d, want one per git request", n)
	}
	for what, out := range map[string]string{"clone": cloneErr, "push": pushErr} {
		if strings.Contains(out, a["password"]) || strings.Contains(out, sessionToken) {
			t.Errorf("git %s's trace or stderr shows a token", what)
		}
	}

	// The feed still refreshes with the refresh token git's helper left:
	// the single-use token it redeemed was replaced in the feed credential.
	w.az.DevOps.ExpireSessionTokens()
	if r := w.feedkey("refresh", "contoso-py"); r.Code != 0 {
		t.Fatalf("refresh after git: %d %s", r.Code, r.Stderr)
	}

	// erase (git's answer to a 401) leaves the credential alone.
	before := strings.TrimSpace(w.must("token", w.feedURL("contoso")).Stdout)
	if _, stderr, code := w.credential("erase", req[:len(req)-1]+"username=VssSessionToken\npassword="+a["password"]+"\n\n"); code != 0 || stderr != "" {
		t.Fatalf("erase = %d %q", code, stderr)
	}
	if _, stderr, code := w.credential("store", req[:len(req)-1]+"username=VssSessionToken\npassword="+a["password"]+"\n\n"); code != 0 || stderr != "" {
		t.Fatalf("store = %d %q", code, stderr)
	}
	if after := strings.TrimSpace(w.must("token", w.feedURL("contoso")).Stdout); after != before {
		t.Errorf("erase changed the feed credential")
	}
	if a, _, code := w.credential("get", req); code != 0 || a["password"] == "" {
		t.Errorf("get after erase = %d, %v", code, keys(a))
	}

	// Not feedkey's: nothing, exit 0, so that git asks its next helper.
	for _, r := range []string{
		"protocol=https\nhost=" + hostOf(w.az.DevOpsURL) + "\npath=other/p/_git/r\n",
		"protocol=https\nhost=" + hostOf(w.az.DevOpsURL) + "\n",
		"protocol=http\nhost=" + hostOf(w.az.DevOpsURL) + "\npath=contoso/Web/_git/web\n",
		"protocol=https\nhost=" + hostOf(w.az.EntraURL) + "\npath=contoso/Web/_git/web\n",
		"protocol=https\nhost=evil.example@" + hostOf(w.az.DevOpsURL) + "\npath=contoso/Web/_git/web\n",
		"protocol=https\nhost=dev.azure.com\npath=contoso/Web/_git/web\n",
	} {
		if a, stderr, code := w.credential("get", r); code != 0 || len(a) != 0 || stderr != "" {
			t.Errorf("get %q = %d %v %q, want nothing", r, code, keys(a), stderr)
		}
	}
	// Bad input: one line, no answer.
	if a, stderr, code := w.credential("get", "protocol https\n"); code != 1 || len(a) != 0 || strings.Count(stderr, "\n") != 1 {
		t.Errorf("malformed request = %d %v %q", code, keys(a), stderr)
	}

	// An org with a feed but no sign-in: one clear line that git shows,
	// then git fails without prompting.
	w.az.DevOps.AddRepo("fabrikam", "p", "r", w.bare)
	_, errOut, err := w.git(t.TempDir(), nil, "ls-remote", w.az.DevOpsURL+"/fabrikam/p/_git/r")
	if err == nil || !strings.Contains(errOut, "sign-in needed for feed fabrikam-py: run `feedkey login fabrikam-py`") ||
		!strings.Contains(errOut, "terminal prompts disabled") {
		t.Errorf("ls-remote of a never-signed-in org: %v\n%s", err, errOut)
	}
	// Another org's repository with no feed: no credential is sent.
	w.az.DevOps.AddOrg("northwind", azTenant)
	w.az.DevOps.AddRepo("northwind", "p", "r", w.bare)
	w.az.DevOps.Recorder.Reset()
	_, errOut, err = w.git(t.TempDir(), nil, "ls-remote", w.az.DevOpsURL+"/northwind/p/_git/r")
	if err == nil || !strings.Contains(errOut, "terminal prompts disabled") {
		t.Errorf("ls-remote of an org without a feed: %v\n%s", err, errOut)
	}
	for _, r := range w.az.DevOps.Recorder.Requests() {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("a credential went to %s", r.Path)
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestAzureReposGitTraySignIn: git asks for an org not signed in yet, with
// no terminal (an editor's git) but a tray running: the tray signs the
// person in (its browser sign-in) and git's clone goes through.
func TestAzureReposGitTraySignIn(t *testing.T) {
	w := newGitWorld(t, nil)
	w.setenv("FEEDKEY_NONINTERACTIVE=", "CI=")
	sock, err := os.MkdirTemp("", "fkg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sock) })
	socket := filepath.Join(sock, "control.sock")
	w.setenv("FEEDKEY_SOCKET=" + socket)
	tray := exec.Command(w.bin.Feedkey, "tray")
	tray.Env = w.env
	if err := tray.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tray.Process.Kill(); tray.Wait() })
	testbin.WaitTray(t, socket)

	if _, errOut, err := w.git(t.TempDir(), nil, "clone", "-q", w.remote, "web"); err != nil {
		t.Fatalf("git clone: %v\n%s", err, errOut)
	}
	if grants(w.az.Entra, "authorization_code") != 1 {
		t.Errorf("authorization code grants = %d, want the tray's one sign-in", grants(w.az.Entra, "authorization_code"))
	}
	// The next request finds the access token in the saved sign-in.
	w.az.Entra.Recorder.Reset()
	start := time.Now()
	a, stderr, code := w.credential("get", "protocol=https\nhost="+hostOf(w.az.DevOpsURL)+"\npath=contoso/Web/_git/web\n")
	t.Logf("git-credential get with the access token saved: %v", time.Since(start))
	if code != 0 || a["password"] == "" {
		t.Fatalf("get = %d %q", code, stderr)
	}
	if n := len(w.az.Entra.Recorder.Requests()); n != 0 {
		t.Errorf("%d requests to Entra for an access token saved and valid", n)
	}
}
