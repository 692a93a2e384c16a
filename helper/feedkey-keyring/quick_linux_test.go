//go:build linux

package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/internal/testbin"
)

// TestQuickPathAlone runs a copy of the helper that cannot reach feedkey:
// what it answers, its quick path answered by itself (SPEC §10): a feed's
// credential, another program's entry, or that there is none; what the
// quick path cannot answer ends in one line saying feedkey is missing,
// never in a guess. A config edited since its index was written is never
// answered from the index.
func TestQuickPathAlone(t *testing.T) {
	for _, backend := range []string{"secret-service", "keyctl"} {
		t.Run(backend, func(t *testing.T) {
			if backend == "keyctl" && !store.KeyctlAvailable() {
				t.Skip("the kernel keyring is blocked here (seccomp)")
			}
			w := newWorld(t, session)
			w.env = append(w.env, "FEEDKEY_STORE="+backend)
			// The kernel keyring is the user's, shared by every test: this
			// credential is the test's own, and removed at the end.
			feedURL := fmt.Sprintf("https://quick-%d-%d.example/simple/", os.Getpid(), time.Now().UnixNano())
			w.addToken(feedURL, token, "--name", "quick")
			t.Cleanup(func() { w.feedkey("", "remove", "quick") })
			// The whole helper writes the config's index on its first run.
			if r := w.helper("", "get", feedURL, "__token__"); r.Code != 0 || r.Stdout != token+"\n" {
				t.Fatalf("first run: exit %d, %q, %s", r.Code, r.Stdout, r.Stderr)
			}

			alone := filepath.Join(t.TempDir(), "keyring")
			copyFile(t, w.bin.Helper, alone)
			env := append(w.env, "PATH=/usr/bin:/bin") // the last PATH wins
			run := func(args ...string) testbin.Result {
				t.Helper()
				return testbin.Run(t, env, "", alone, args...)
			}
			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"get", feedURL, "__token__"}, token + "\n"},
				{[]string{"--mode=creds", "--output=json", "get", feedURL}, `{"username": "__token__", "password": "` + token + `"}` + "\n"},
				{[]string{"get", feedURL + "pkg/", "--mode", "creds"}, "__token__\n" + token + "\n"},
			} {
				if r := run(tc.args...); r.Code != 0 || r.Stdout != tc.want || r.Stderr != "" {
					t.Errorf("alone %q: exit %d, stdout %q, stderr %q; want %q from the quick path", tc.args, r.Code, r.Stdout, r.Stderr, tc.want)
				}
			}

			// Another program's entry, for a service no feed covers: read
			// by the quick path too, and none at all is a silent exit 1.
			plainURL := strings.Replace(feedURL, "quick-", "plain-", 1)
			if r := w.helper("plain-secret\n", "set", plainURL, "me"); r.Code != 0 {
				t.Fatalf("set: exit %d, %s", r.Code, r.Stderr)
			}
			t.Cleanup(func() { w.helper("", "del", plainURL, "me") })
			if r := run("get", plainURL, "me"); r.Code != 0 || r.Stdout != "plain-secret\n" || r.Stderr != "" {
				t.Errorf("alone, a plain entry: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
			}
			if r := run("get", plainURL, "someone-else"); r.Code != 1 || r.Stdout != "" || r.Stderr != "" {
				t.Errorf("alone, no entry: exit %d, stdout %q, stderr %q; want a silent exit 1", r.Code, r.Stdout, r.Stderr)
			}

			handedOn := func(what string, args ...string) {
				t.Helper()
				r := run(args...)
				if r.Code != 1 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "feedkey is neither beside this helper nor on PATH") {
					t.Errorf("%s: exit %d, stdout %q, stderr %q; want it handed on, and one line that feedkey is missing", what, r.Code, r.Stdout, r.Stderr)
				}
			}
			handedOn("a service no feed covers, without a user name", "--mode", "creds", "get", plainURL)
			handedOn("one of feedkey's own names", "get", "feedkey:x", "credential")
			handedOn("set", "set", "https://nowhere.example/simple/", "me")
			handedOn("help", "--help")
			// Another feed's credential replaces nothing, but the config
			// changed: the index no longer answers.
			w.addToken(strings.Replace(feedURL, "quick-", "second-", 1), "second-token", "--name", "second")
			t.Cleanup(func() { w.feedkey("", "remove", "second") })
			handedOn("after the config changed", "get", feedURL, "__token__")
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
