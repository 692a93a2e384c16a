//go:build linux

package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/internal/testbin"
	"github.com/feedkey/feedkey/simulator"
	"github.com/feedkey/feedkey/simulator/simtest"
)

// positWorld is a simulated Package Manager, a user's config and keychain,
// and a browser (xdg-open first on PATH) that does what the test says.
type positWorld struct {
	t       *testing.T
	bin     testbin.Bin
	ppm     *simulator.PPM
	srv     *simulator.Server
	env     []string
	caFile  string
	browser string // the script xdg-open runs: approve, deny or ignore
	url     string // the repository URL
}

func newPositWorld(t *testing.T, ppm *simulator.PPM) *positWorld {
	t.Helper()
	bin := testbin.Build(t)
	if err := ppm.Add(simulator.Wheel{Name: "ppm-demo", Version: "1.2", Files: map[string]string{"ppm_demo/__init__.py": "VALUE = 'from Package Manager'\n"}}); err != nil {
		t.Fatal(err)
	}
	srv, err := simulator.NewServer(ppm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	w := &positWorld{t: t, bin: bin, ppm: ppm, srv: srv, caFile: filepath.Join(dir, "ca.pem"), url: srv.URL + "/pypi-auth/latest/simple/"}
	if err := srv.CA.WriteFile(w.caFile); err != nil {
		t.Fatal(err)
	}
	// pkg/browser runs xdg-open; ours follows the link like a person who
	// signs in and approves (curl is enough: the page approves on GET).
	browserDir := filepath.Join(dir, "browser")
	os.MkdirAll(browserDir, 0o755)
	w.browser = filepath.Join(dir, "action")
	w.setBrowser("approve")
	script := "#!/bin/sh\ncase \"$(cat " + w.browser + ")\" in\n" +
		"approve) exec curl -sf --cacert \"$SSL_CERT_FILE\" \"$1\" >/dev/null ;;\n" +
		"deny) exec curl -sf --cacert \"$SSL_CERT_FILE\" \"$1&action=deny\" >/dev/null ;;\n" +
		"fail) exit 3 ;;\n" +
		"esac\n"
	if err := os.WriteFile(filepath.Join(browserDir, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	w.env = append(session.Env(os.Environ()), simtest.PipEnv(w.caFile)...)
	w.env = append(w.env,
		"FEEDKEY_CONFIG="+filepath.Join(dir, "config.toml"), "FEEDKEY_SYSTEM_CONFIG=",
		"PACKAGEMANAGER_ADDRESS=", "PACKAGEMANAGER_IDENTITY_TOKEN_FILE=",
		"DISPLAY=", "BROWSER=",
		// A helper that finds no credential would sign in on the terminal
		// when a person may be there; tests that want it say so.
		"FEEDKEY_NONINTERACTIVE=1",
		"PATH="+browserDir+string(os.PathListSeparator)+bin.Dir+string(os.PathListSeparator)+os.Getenv("PATH"),
	)
	return w
}

func (w *positWorld) setBrowser(action string) {
	if err := os.WriteFile(w.browser, []byte(action), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

func (w *positWorld) setenv(k, v string) { w.env = append(w.env, k+"="+v) }

func (w *positWorld) feedkey(args ...string) testbin.Result {
	w.t.Helper()
	return testbin.Run(w.t, w.env, "", w.bin.Feedkey, args...)
}

// TestPositDeviceFlowAndPip: add detects Package Manager, login runs the
// device flow through the browser, and real pip installs through the
// helper; when the token is stale the helper refreshes it silently.
func TestPositDeviceFlowAndPip(t *testing.T) {
	// Access tokens shorter than feedkey's 5-minute refresh margin: every
	// lookup after login must refresh silently from the kept id token.
	ppm := &simulator.PPM{Interval: 1, TokenLifetime: 4 * time.Minute}
	w := newPositWorld(t, ppm)

	r := w.feedkey("add", w.url)
	if r.Code != 0 || !strings.Contains(r.Stdout, "Added posit feed") {
		t.Fatalf("add = %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	id := strings.Fields(strings.TrimPrefix(r.Stdout, "Added posit feed "))[0]

	r = w.feedkey("login", id)
	if r.Code != 0 || !strings.Contains(r.Stdout, "Signed in to "+id) {
		t.Fatalf("login = %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "/__login__/device?user_code=") || !strings.Contains(r.Stderr, "the code ") {
		t.Errorf("login did not show the link and code on stderr: %q", r.Stderr)
	}
	exchanges := ppm.Exchanges()

	python, pip := simtest.Venv(t)
	cmd := exec.Command(pip, "install", "--no-cache-dir", "--keyring-provider", "subprocess",
		"--index-url", "https://__token__@"+w.srv.Addr()+"/pypi-auth/latest/simple/", "ppm-demo")
	cmd.Env = w.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pip install: %v\n%s", err, out)
	}
	cmd = exec.Command(python, "-c", "import ppm_demo; print(ppm_demo.VALUE)")
	if out, err := cmd.Output(); err != nil || strings.TrimSpace(string(out)) != "from Package Manager" {
		t.Fatalf("import ppm_demo = %q, %v", out, err)
	}
	// The helper served the still-valid token at once and refreshed it
	// beside the answer (a background `feedkey token`).
	waitFor(t, func() bool { return ppm.Exchanges() > exchanges })

	// Only the exact server gets the token.
	for _, service := range []string{
		"http://" + w.srv.Addr() + "/pypi-auth/latest/simple/",
		"https://" + w.srv.Addr() + "0/pypi-auth/latest/simple/",
		"https://localhost" + w.srv.Addr()[strings.LastIndex(w.srv.Addr(), ":"):] + "/pypi-auth/latest/simple/",
	} {
		r := testbin.Run(t, w.env, "", w.bin.Keyring, "get", service, "__token__")
		if r.Code != 1 || r.Stdout != "" {
			t.Errorf("keyring get %s = %d %q", service, r.Code, r.Stdout)
		}
	}

	// logout removes every entry; a lookup then needs a sign-in.
	if r := w.feedkey("logout", id); r.Code != 0 {
		t.Fatalf("logout: %s", r.Stderr)
	}
	r = testbin.Run(t, w.env, "", w.bin.Keyring, "get", w.url, "__token__")
	if r.Code != 1 || !strings.Contains(r.Stderr, "feedkey login "+id) {
		t.Errorf("get after logout = %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
}

func TestPositSignInEnds(t *testing.T) {
	tests := []struct {
		name, browser string
		ppm           *simulator.PPM
		want          string
	}{
		{"denied", "deny", &simulator.PPM{Interval: 1}, "the sign-in was denied"},
		{"expired", "ignore", &simulator.PPM{Interval: 1, DeviceCodeLifetime: 2 * time.Second}, "the sign-in code expired before it was approved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newPositWorld(t, tt.ppm)
			w.setBrowser(tt.browser)
			if r := w.feedkey("add", w.url, "--kind", "posit", "--name", "ppm"); r.Code != 0 {
				t.Fatalf("add: %s", r.Stderr)
			}
			r := w.feedkey("login", "ppm")
			if r.Code != 1 || !strings.Contains(r.Stderr, tt.want) {
				t.Errorf("login = %d %q, want %q", r.Code, r.Stderr, tt.want)
			}
			if items, _ := session.Items(positService(w.srv.URL)); len(items) != 0 {
				t.Errorf("stored after a failed sign-in: %v", items)
			}
		})
	}
}

// TestPositIdentityTokenFile: no prompt at all; a rotated file is used at the
// next refresh; a missing or empty file is a clear error.
func TestPositIdentityTokenFile(t *testing.T) {
	ppm := &simulator.PPM{TokenLifetime: 4 * time.Minute}
	w := newPositWorld(t, ppm)
	w.setBrowser("ignore")
	file := filepath.Join(t.TempDir(), "id-token")
	w.setenv("PACKAGEMANAGER_ADDRESS", w.srv.URL)
	w.setenv("PACKAGEMANAGER_IDENTITY_TOKEN_FILE", file)

	r := w.feedkey("token", w.url)
	if r.Code != 1 || !strings.Contains(r.Stderr, "PACKAGEMANAGER_IDENTITY_TOKEN_FILE") || strings.Count(r.Stderr, "\n") != 1 {
		t.Errorf("token with a missing file = %d %q", r.Code, r.Stderr)
	}
	os.WriteFile(file, nil, 0o600)
	if r := w.feedkey("token", w.url); r.Code != 1 || !strings.Contains(r.Stderr, "is empty") {
		t.Errorf("token with an empty file = %d %q", r.Code, r.Stderr)
	}

	os.WriteFile(file, []byte(ppm.IssueIDToken("ci-1")+"\n"), 0o600)
	first := w.feedkey("token", w.url)
	if first.Code != 0 || first.Stdout == "" || first.Stderr != "" {
		t.Fatalf("token = %d %q %q", first.Code, first.Stdout, first.Stderr)
	}
	// The token lives less than the refresh margin, so the next call
	// refreshes — from the rotated file.
	os.WriteFile(file, []byte(ppm.IssueIDToken("ci-2")), 0o600)
	second := w.feedkey("token", w.url)
	if second.Code != 0 || second.Stdout == first.Stdout {
		t.Fatalf("second token = %d %q (first %q)", second.Code, second.Stdout, first.Stdout)
	}
	if got := ppm.Exchanges(); got != 2 {
		t.Errorf("exchanges = %d, want 2", got)
	}
	if r := w.feedkey("status"); !strings.Contains(r.Stdout, "packagemanager") || strings.Contains(r.Stdout, strings.TrimSpace(second.Stdout)) {
		t.Errorf("status = %q", r.Stdout)
	}
}

// positService is the keychain service of the Package Manager at addr.
func positService(addr string) string {
	f := feed.Feed{ID: "x", Kind: feed.Posit, URL: addr + "/", Address: addr}
	return store.Service(f.CredentialID(feed.Trust{}))
}
