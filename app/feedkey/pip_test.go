//go:build linux

package main_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedkey/feedkey/internal/testbin"
	"github.com/feedkey/feedkey/internal/testbus"
	"github.com/feedkey/feedkey/simulator"
	"github.com/feedkey/feedkey/simulator/simtest"
)

var session *testbus.Session

func TestMain(m *testing.M) {
	s, stop, err := testbus.StartMain(testbus.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start Secret Service:", err)
		os.Exit(1)
	}
	session = s
	code := m.Run()
	stop()
	testbin.Cleanup()
	os.Exit(code)
}

// TestPipInstallsWithStaticToken is the whole path with real parts: the
// feedkey CLI stores a token in gnome-keyring, real pip runs the helper as
// its keyring subprocess, and an authenticated index over TLS serves a real
// wheel.
func TestPipInstallsWithStaticToken(t *testing.T) {
	const token = "pypi-team-token-1234"
	bin := testbin.Build(t)

	rec := &simulator.Recorder{}
	indexURL, caFile := simtest.StaticIndex(t, token, rec,
		simulator.Wheel{Name: "feedkey-demo", Version: "1.0", Files: map[string]string{"feedkey_demo/__init__.py": "VALUE = 'installed through feedkey'\n"}},
		simulator.Wheel{Name: "other-pkg", Version: "2.0", Files: map[string]string{"other_pkg/__init__.py": "VALUE = 2\n"}},
	)

	cfg := filepath.Join(t.TempDir(), "config.toml")
	env := session.Env(os.Environ())
	env = append(env, simtest.PipEnv(caFile)...)
	env = append(env,
		"FEEDKEY_CONFIG="+cfg, "FEEDKEY_SYSTEM_CONFIG=",
		// The helper, as `keyring`, first on PATH and outside the venv.
		"PATH="+bin.Dir+string(os.PathListSeparator)+os.Getenv("PATH"),
	)
	python, pip := simtest.Venv(t)

	feedkey := func(stdin string, args ...string) testbin.Result {
		t.Helper()
		r := testbin.Run(t, env, stdin, bin.Feedkey, args...)
		if r.Code != 0 {
			t.Fatalf("feedkey %q: exit %d: %s", args, r.Code, r.Stderr)
		}
		return r
	}
	install := func(pkg string) ([]byte, error) {
		cmd := exec.Command(pip, "install", "--no-cache-dir", "--keyring-provider", "subprocess",
			"--index-url", simtest.WithUser(indexURL, "__token__"), pkg)
		cmd.Env = env
		return cmd.CombinedOutput()
	}
	imports := func(module string) bool {
		cmd := exec.Command(python, "-c", "import "+module)
		cmd.Env = env
		return cmd.Run() == nil
	}

	feedkey(token+"\n", "add", indexURL, "--kind", "token")

	t.Run("installs", func(t *testing.T) {
		rec.Reset()
		out, err := install("feedkey-demo")
		if err != nil {
			t.Fatalf("pip install: %v\n%s", err, out)
		}
		cmd := exec.Command(python, "-c", "import feedkey_demo; print(feedkey_demo.VALUE)")
		cmd.Env = env
		got, err := cmd.Output()
		if err != nil || strings.TrimSpace(string(got)) != "installed through feedkey" {
			t.Fatalf("import feedkey_demo = %q, %v", got, err)
		}
		// The token reached the index only through the helper: pip's
		// index URL carried no password.
		authed := 0
		for _, r := range rec.Requests() {
			if u, p, ok := basicAuth(r.Header.Get("Authorization")); ok && u == "__token__" && p == token {
				authed++
			}
		}
		if authed == 0 {
			t.Fatalf("no request carried the token: %+v", rec.Requests())
		}
		if strings.Contains(string(out), token) {
			t.Errorf("pip output shows the token:\n%s", out)
		}
	})

	// pip asks for the bare host after the index URL; the feed covers only
	// /simple/, so its token must never reach another path of the host.
	t.Run("another path never gets the token", func(t *testing.T) {
		rec.Reset()
		cmd := exec.Command(pip, "install", "--no-cache-dir", "--keyring-provider", "subprocess",
			"--index-url", simtest.WithUser(strings.Replace(indexURL, "/simple/", "/team-b/simple/", 1), "__token__"), "other-pkg")
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Fatalf("pip install from another path succeeded:\n%s", out)
		}
		if len(rec.Requests()) == 0 {
			t.Fatal("pip never asked the index")
		}
		for _, r := range rec.Requests() {
			if _, p, ok := basicAuth(r.Header.Get("Authorization")); ok && p == token {
				t.Fatalf("the feed's token reached %s", r.Path)
			}
		}
	})

	t.Run("wrong token", func(t *testing.T) {
		feedkey("not-the-token\n", "add", indexURL, "--kind", "token")
		rec.Reset()
		out, err := install("other-pkg")
		if err == nil {
			t.Fatalf("pip install succeeded with a wrong token:\n%s", out)
		}
		if imports("other_pkg") {
			t.Fatal("other_pkg was installed with a wrong token")
		}
		sawWrong := false
		for _, r := range rec.Requests() {
			if _, p, ok := basicAuth(r.Header.Get("Authorization")); ok {
				sawWrong = sawWrong || p == "not-the-token"
			}
			if strings.HasSuffix(r.Path, ".whl") {
				t.Errorf("a wheel was requested with a wrong token: %s", r.Path)
			}
		}
		if !sawWrong {
			t.Errorf("the helper's wrong token never reached the index: %+v", rec.Requests())
		}
		if !strings.Contains(string(out), "401 Error, Credentials not correct") {
			t.Errorf("pip did not report the refusal:\n%s", out)
		}
	})

	t.Run("status shows no secret", func(t *testing.T) {
		for _, args := range [][]string{{"status"}, {"status", "--json"}} {
			r := feedkey("", args...)
			if strings.Contains(r.Stdout+r.Stderr, "not-the-token") || !strings.Contains(r.Stdout, indexURL) {
				t.Errorf("feedkey %q = %q", args, r.Stdout)
			}
		}
	})
}

// basicAuth decodes an HTTP Basic Authorization header value.
func basicAuth(h string) (user, password string, ok bool) {
	r := &http.Request{Header: http.Header{"Authorization": {h}}}
	return r.BasicAuth()
}
