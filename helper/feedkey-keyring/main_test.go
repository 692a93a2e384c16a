//go:build linux

package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/feedkey/feedkey/internal/testbin"
	"github.com/feedkey/feedkey/internal/testbus"
)

// These tests run the built helper as pip and uv do, against Debian's
// gnome-keyring on a private D-Bus session, with Python keyring as the other
// party of the plain-keyring interop.

var session *testbus.Session

func TestMain(m *testing.M) {
	s, stop, err := testbus.StartMain(testbus.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start Secret Service:", err)
		os.Exit(1)
	}
	session = s
	s.Setenv() // for tests that play another program writing the keychain
	code := m.Run()
	stop()
	testbin.Cleanup()
	os.Exit(code)
}

// world is one user's setup: a config file and the session's keychain.
type world struct {
	t   *testing.T
	bin testbin.Bin
	env []string
	cfg string
}

func newWorld(t *testing.T, s *testbus.Session) *world {
	t.Helper()
	bin := testbin.Build(t)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	env := s.Env(os.Environ())
	env = append(env, "FEEDKEY_CONFIG="+cfg, "FEEDKEY_SYSTEM_CONFIG=", "PATH="+bin.Dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return &world{t: t, bin: bin, env: env, cfg: cfg}
}

func (w *world) helper(stdin string, args ...string) testbin.Result {
	w.t.Helper()
	return testbin.Run(w.t, w.env, stdin, w.bin.Keyring, args...)
}

func (w *world) feedkey(stdin string, args ...string) testbin.Result {
	w.t.Helper()
	return testbin.Run(w.t, w.env, stdin, w.bin.Feedkey, args...)
}

// addToken adds a static token feed through the real CLI.
func (w *world) addToken(url, token string, flags ...string) {
	w.t.Helper()
	r := w.feedkey(token+"\n", append([]string{"add", url, "--kind", "token"}, flags...)...)
	if r.Code != 0 {
		w.t.Fatalf("feedkey add %s: exit %d: %s", url, r.Code, r.Stderr)
	}
}

func (w *world) python(stdin string, args ...string) testbin.Result {
	w.t.Helper()
	return testbin.Run(w.t, w.env, stdin, "/usr/bin/python3", append([]string{"-m", "keyring"}, args...)...)
}

const (
	feedURL = "https://pypi.team.example/team/simple/"
	token   = "s3cr3t-token"
)

func TestHelperContract(t *testing.T) {
	w := newWorld(t, session)
	w.addToken(feedURL, token)
	w.addToken("https://other.example:8443/simple/", "other-token", "--username", "deploy")
	w.addToken("https://whole.example:8443/", "whole-token")

	tests := []struct {
		name   string
		args   []string
		stdout string
		code   int
		stderr string // substring
	}{
		{"pip <= 26.1", []string{"get", feedURL, "__token__"}, token + "\n", 0, ""},
		{"any user", []string{"get", feedURL, "someone"}, token + "\n", 0, ""},
		{"below the feed", []string{"get", feedURL + "pkg/", "__token__"}, token + "\n", 0, ""},
		{"no trailing slash", []string{"get", strings.TrimSuffix(feedURL, "/"), "__token__"}, token + "\n", 0, ""},
		{"userinfo", []string{"get", "https://__token__@pypi.team.example/team/simple/", "__token__"}, token + "\n", 0, ""},
		// pip sends a bare host's answer to every path of the host: only a
		// credential for the whole host answers one.
		{"bare host of a path feed never", []string{"get", "pypi.team.example", "__token__"}, "", 1, ""},
		{"bare host and port of a path feed never", []string{"get", "other.example:8443", "deploy"}, "", 1, ""},
		{"bare host of a whole-host feed", []string{"get", "whole.example:8443", "__token__"}, "whole-token\n", 0, ""},
		{"bare host creds", []string{"--mode=creds", "--output=json", "get", "whole.example:8443"}, `{"username": "__token__", "password": "whole-token"}` + "\n", 0, ""},
		{"creds before", []string{"--mode", "creds", "get", feedURL}, "__token__\n" + token + "\n", 0, ""},
		{"uv creds after", []string{"get", feedURL, "--mode", "creds"}, "__token__\n" + token + "\n", 0, ""},
		{"creds equals", []string{"get", "--mode=creds", feedURL}, "__token__\n" + token + "\n", 0, ""},
		{"configured user", []string{"--mode", "creds", "get", "https://other.example:8443/simple/"}, "deploy\nother-token\n", 0, ""},
		{"pip >= 26.2", []string{"--mode=creds", "--output=json", "get", feedURL}, `{"username": "__token__", "password": "` + token + `"}` + "\n", 0, ""},
		{"pip >= 26.2 with user", []string{"--mode=creds", "--output=json", "get", feedURL, "__token__"}, `{"username": "__token__", "password": "` + token + `"}` + "\n", 0, ""},
		{"json password", []string{"--output", "json", "get", feedURL, "u"}, `{"password": "` + token + `"}` + "\n", 0, ""},
		{"http never", []string{"get", "http://pypi.team.example/team/simple/", "__token__"}, "", 1, ""},
		{"other port never", []string{"get", "https://pypi.team.example:8443/team/simple/", "__token__"}, "", 1, ""},
		{"prefix never", []string{"get", "https://pypi.team.example/teamevil/simple/", "__token__"}, "", 1, ""},
		{"suffix host never", []string{"get", "https://pypi.team.example.evil.com/team/simple/", "__token__"}, "", 1, ""},
		{"unknown", []string{"get", "https://nowhere.example/simple/", "__token__"}, "", 1, ""},
		{"extra argument", []string{"get", feedURL, "u", "extra"}, "", 2, "error: unrecognized arguments: extra"},
		{"unknown option", []string{"--bogus", "get", feedURL, "u"}, "", 2, "error: unrecognized arguments: --bogus"},
		{"bad mode", []string{"--mode", "secret", "get", feedURL, "u"}, "", 2, "argument --mode: invalid choice"},
		{"password mode needs user", []string{"get", feedURL}, "", 2, "usage: keyring"},
		{"list backends", []string{"--list-backends"}, "feedkey.Keyring (priority: 10)\n", 0, ""},
		{"version only alone", []string{"--version", "get", feedURL, "u"}, "", 2, "unrecognized arguments: --version"},
	}
	if r := w.helper("", "--version"); r.Code != 0 || !strings.HasPrefix(r.Stdout, "feedkey-keyring version ") || strings.Count(r.Stdout, "\n") != 1 {
		t.Errorf("keyring --version = %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := w.helper("", tt.args...)
			if r.Code != tt.code || r.Stdout != tt.stdout || !strings.Contains(r.Stderr, tt.stderr) {
				t.Errorf("keyring %q = exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr containing %q",
					tt.args, r.Code, r.Stdout, r.Stderr, tt.code, tt.stdout, tt.stderr)
			}
			if tt.code != 0 && strings.Contains(r.Stderr, token) {
				t.Errorf("stderr shows the token: %q", r.Stderr)
			}
		})
	}

	t.Run("diagnose", func(t *testing.T) {
		r := w.helper("", "diagnose")
		if r.Code != 0 || !strings.Contains(r.Stdout, w.cfg) {
			t.Errorf("diagnose = %d %q, want the config path", r.Code, r.Stdout)
		}
	})

	t.Run("bare host shared by path feeds", func(t *testing.T) {
		w.addToken("https://pypi.team.example/second/simple/", "second")
		r := w.helper("", "get", "pypi.team.example", "__token__")
		if r.Code != 1 || r.Stdout != "" {
			t.Errorf("bare shared host = %d %q %q", r.Code, r.Stdout, r.Stderr)
		}
	})
}

// TestPlainKeyringInterop checks that services no feed covers behave like a
// plain keyring over the same Secret Service items Python keyring uses, in
// both directions.
func TestPlainKeyringInterop(t *testing.T) {
	w := newWorld(t, session)

	// Python writes, the helper reads.
	if r := w.python("from-python\n", "set", "svc-py", "alice"); r.Code != 0 {
		t.Fatalf("python keyring set: %d %s", r.Code, r.Stderr)
	}
	if r := w.helper("", "get", "svc-py", "alice"); r.Code != 0 || r.Stdout != "from-python\n" {
		t.Fatalf("helper get of a Python item = %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if r := w.helper("", "--mode", "creds", "get", "svc-py"); r.Code != 0 || r.Stdout != "alice\nfrom-python\n" {
		t.Fatalf("helper creds get of a Python item = %d %q %q", r.Code, r.Stdout, r.Stderr)
	}

	// The helper writes, Python reads; a trailing newline is stripped once.
	if r := w.helper("from-helper\n", "set", "svc-go", "bob"); r.Code != 0 || r.Stdout != "" {
		t.Fatalf("helper set = %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if r := w.python("", "get", "svc-go", "bob"); r.Code != 0 || r.Stdout != "from-helper\n" {
		t.Fatalf("python get of a helper item = %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if v, ok, err := session.Lookup("svc-go", "bob"); err != nil || !ok || v != "from-helper" {
		t.Fatalf("secret-tool lookup = %q %v %v", v, ok, err)
	}

	// Overwriting a Python item leaves one item, with the new value.
	if r := w.helper("newer\n", "set", "svc-py", "alice"); r.Code != 0 {
		t.Fatalf("helper set over Python item = %d %q", r.Code, r.Stderr)
	}
	if items, _ := session.Items("svc-py"); len(items) != 1 {
		t.Fatalf("items for svc-py after overwrite = %v, want one", items)
	}
	if r := w.python("", "get", "svc-py", "alice"); r.Stdout != "newer\n" {
		t.Fatalf("python get after overwrite = %q", r.Stdout)
	}

	// Delete through the helper; Python sees it gone; a second delete is 1.
	if r := w.helper("", "del", "svc-go", "bob"); r.Code != 0 {
		t.Fatalf("helper del = %d %q", r.Code, r.Stderr)
	}
	if r := w.python("", "get", "svc-go", "bob"); r.Code != 1 || r.Stdout != "" {
		t.Fatalf("python get after del = %d %q", r.Code, r.Stdout)
	}
	if r := w.helper("", "del", "svc-go", "bob"); r.Code != 1 {
		t.Fatalf("second del = %d, want 1", r.Code)
	}
	if r := w.helper("", "get", "svc-go", "bob"); r.Code != 1 || r.Stdout != "" {
		t.Fatalf("get of deleted = %d %q", r.Code, r.Stdout)
	}
	if r := w.helper("", "set", "svc-empty", "bob"); r.Code != 1 || !strings.Contains(r.Stderr, "empty password") {
		t.Fatalf("set with empty stdin = %d %q", r.Code, r.Stderr)
	}
}

// TestConcurrentReadsDuringRewrites runs 20 helpers at once, in rounds, while
// another process rewrites a chunked (over 5 KB) credential 10 times. The
// store's own test (auth/store) checks the same invariant with thousands of
// reads in process; this one proves it holds across real processes.
func TestConcurrentReadsDuringRewrites(t *testing.T) {
	w := newWorld(t, session)
	value := func(gen int) string { return fmt.Sprintf("gen%03d-", gen) + strings.Repeat("x", 6000) }
	w.addToken(feedURL, value(0))

	writerDone := make(chan error, 1)
	go func() {
		for gen := 1; gen <= 10; gen++ {
			cmd := exec.Command(w.bin.Feedkey, "add", feedURL, "--kind", "token")
			cmd.Env, cmd.Stdin = w.env, strings.NewReader(value(gen))
			if out, err := cmd.CombinedOutput(); err != nil {
				writerDone <- fmt.Errorf("rewrite %d: %v: %s", gen, err, out)
				return
			}
		}
		writerDone <- nil
	}()

	reads := 0
	for {
		var wg sync.WaitGroup
		results := make([]testbin.Result, 20)
		for i := range results {
			wg.Go(func() { results[i] = w.helper("", "get", feedURL, "__token__") })
		}
		wg.Wait()
		for _, r := range results {
			reads++
			var gen int
			fmt.Sscanf(r.Stdout, "gen%03d-", &gen)
			if r.Code != 0 || r.Stdout != value(gen)+"\n" {
				t.Fatalf("read %d: exit %d, %d bytes starting %.12q, stderr %q", reads, r.Code, len(r.Stdout), r.Stdout, r.Stderr)
			}
		}
		select {
		case err := <-writerDone:
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d reads, all whole", reads)
			return
		default:
		}
	}
}

// TestManyRunsKeepGnomeKeyringUp runs the helper 2,000 times, four at a
// time, as pip and uv do in a large install. Every run must be answered:
// an ordering of D-Bus calls gnome-keyring cannot take (OpenSession as a
// connection's first call) made it abort about once in 800 runs, after
// which the bus starts a new, locked one and every read fails.
func TestManyRunsKeepGnomeKeyringUp(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 helper runs; skipped with -short")
	}
	w := newWorld(t, session)
	const tok = "many-runs-token"
	url := "https://many.example/simple/"
	w.addToken(url, tok)
	var failed atomic.Int32
	var first atomic.Value
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			// After the first failure the rest would each wait out the
			// keychain timeout: stop.
			for i := 0; i < 500 && failed.Load() == 0; i++ {
				cmd := exec.Command(w.bin.Keyring, "get", url, "__token__")
				cmd.Env = w.env
				out, err := cmd.Output()
				if err != nil || string(out) != tok+"\n" {
					if failed.Add(1) == 1 {
						first.Store(fmt.Sprintf("%v: %q", err, out))
					}
				}
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Fatalf("a run failed: %v", first.Load())
	}
}
