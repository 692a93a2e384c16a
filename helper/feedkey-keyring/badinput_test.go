//go:build linux

package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"

	"github.com/feedkey/feedkey/internal/testbin"
	"github.com/feedkey/feedkey/internal/testbus"
)

// oneLine fails t unless stderr is exactly one line mentioning want, and
// never the secret.
func oneLine(t *testing.T, r testbin.Result, code int, want, secret string) {
	t.Helper()
	if r.Code != code || r.Stdout != "" {
		t.Errorf("exit %d, stdout %q; want exit %d and nothing on stdout (stderr %q)", r.Code, r.Stdout, code, r.Stderr)
	}
	if strings.Count(r.Stderr, "\n") != 1 || !strings.HasSuffix(r.Stderr, "\n") {
		t.Errorf("stderr is not one line: %q", r.Stderr)
	}
	if !strings.Contains(r.Stderr, want) {
		t.Errorf("stderr %q does not say %q", r.Stderr, want)
	}
	if secret != "" && strings.Contains(r.Stderr, secret) {
		t.Errorf("stderr shows the secret: %q", r.Stderr)
	}
}

func TestCorruptConfig(t *testing.T) {
	w := newWorld(t, session)
	w.addToken(feedURL, token)
	broken := "[[feed]]\nid = \"team\"\nkind = \"token\"\nurl = \"https://pypi.team.example/team/simple/\"\nusername = \n"
	if err := os.WriteFile(w.cfg, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	oneLine(t, w.helper("", "get", feedURL, "__token__"), 1, "config.toml:5:", token)
	oneLine(t, w.feedkey("tok2\n", "add", "https://new.example/simple/", "--kind", "token"), 1, "config.toml:5:", "")
	oneLine(t, w.feedkey("", "status"), 1, "config.toml:5:", "")
	oneLine(t, w.feedkey("", "logout", "team"), 1, "config.toml:5:", "")
	if data, _ := os.ReadFile(w.cfg); string(data) != broken {
		t.Errorf("config changed:\n%s", data)
	}
	if items, _ := session.Items("feedkey:token-new-example"); len(items) != 0 {
		t.Errorf("add stored a credential despite the broken config: %v", items)
	}
	// The credential of the existing feed is untouched.
	if items, _ := session.Items("feedkey:token-pypi-team-example-team"); len(items) != 1 {
		t.Errorf("existing credential items = %v", items)
	}
}

func TestForeignKeychainRecord(t *testing.T) {
	w := newWorld(t, session)
	w.addToken("https://foreign.example/simple/", token)
	// Another program overwrites feedkey's item with something else.
	if err := keyring.Set("feedkey:token-foreign-example", "credential", "hunter2"); err != nil {
		t.Fatal(err)
	}
	oneLine(t, w.helper("", "get", "https://foreign.example/simple/", "__token__"), 1, "not a feedkey credential record", "hunter2")
	r := w.feedkey("", "status", "--json")
	if r.Code != 1 || !strings.Contains(r.Stdout, `"state": "error"`) || strings.Contains(r.Stdout, "hunter2") {
		t.Errorf("status --json = %d %s", r.Code, r.Stdout)
	}
	// The helper does not write feedkey's own entries.
	oneLine(t, w.helper("x\n", "set", "feedkey:token-foreign-example", "credential"), 1, "managed by feedkey", "")
	// A second writer (Python keyring adds an attribute, so its item does
	// not replace ours) leaves a duplicate that the next save cleans up.
	if r := w.python("dup\n", "set", "feedkey:token-foreign-example", "credential"); r.Code != 0 {
		t.Fatalf("python keyring set: %s", r.Stderr)
	}
	// Adding the token again repairs it; logout removes every item.
	w.addToken("https://foreign.example/simple/", "fresh")
	if items, _ := session.Items("feedkey:token-foreign-example"); len(items) != 1 {
		t.Errorf("items after re-add = %v, want one", items)
	}
	if r := w.helper("", "get", "https://foreign.example/simple/", "u"); r.Stdout != "fresh\n" {
		t.Errorf("after re-add: %q %q", r.Stdout, r.Stderr)
	}
	if r := w.feedkey("", "logout", "foreign-example"); r.Code != 0 {
		t.Fatalf("logout: %s", r.Stderr)
	}
	if items, _ := session.Items("feedkey:token-foreign-example"); len(items) != 0 {
		t.Errorf("items left after logout: %v", items)
	}
	oneLine(t, w.helper("", "get", "https://foreign.example/simple/", "u"), 1, "no credential stored for feed foreign-example", "")

	// An item written the way Python keyring writes, for a feed never
	// signed in, is never served: only feedkey's marked records are.
	w.addToken("https://never.example/simple/", "unused")
	if r := w.feedkey("", "logout", "never-example"); r.Code != 0 {
		t.Fatalf("logout: %s", r.Stderr)
	}
	record := `{"v":1,"kind":"token","gen":1,"chunks":0,"secret":"planted"}`
	if r := w.python(record+"\n", "set", "feedkey:token-never-example", "credential"); r.Code != 0 {
		t.Fatalf("python keyring set: %s", r.Stderr)
	}
	oneLine(t, w.helper("", "get", "https://never.example/simple/", "u"), 1, "written by another program", "planted")
	oneLine(t, w.feedkey("", "token", "https://never.example/simple/"), 1, "written by another program", "planted")
	// Beside a real record, the planted item loses.
	w.addToken("https://never.example/simple/", "real")
	if r := w.python(record+"\n", "set", "feedkey:token-never-example", "credential"); r.Code != 0 {
		t.Fatalf("python keyring set: %s", r.Stderr)
	}
	for range 5 {
		if r := w.helper("", "get", "https://never.example/simple/", "u"); r.Code != 0 || r.Stdout != "real\n" {
			t.Fatalf("with a planted item beside the record: %d %q %q", r.Code, r.Stdout, r.Stderr)
		}
	}
	if r := w.feedkey("", "doctor"); !strings.Contains(r.Stdout+r.Stderr, "feedkey:token-never-example") {
		t.Errorf("doctor does not report the planted item: %s%s", r.Stdout, r.Stderr)
	}
}

func TestEmptyTokenOnStdin(t *testing.T) {
	w := newWorld(t, session)
	for _, stdin := range []string{"", "\n", "  \n\t"} {
		oneLine(t, w.feedkey(stdin, "add", "https://empty.example/simple/", "--kind", "token"), 1, "no token on stdin", "")
	}
	if _, err := os.Stat(w.cfg); !os.IsNotExist(err) {
		t.Errorf("config written: %v", err)
	}
	if items, _ := session.Items("feedkey:token-empty-example"); len(items) != 0 {
		t.Errorf("items stored: %v", items)
	}
}

func TestBadArguments(t *testing.T) {
	w := newWorld(t, session)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"add", "not a url", "--kind", "token"}, 1, "is not a URL"},
		{[]string{"add", "http://insecure.example/simple/", "--kind", "token"}, 1, "only to https"},
		{[]string{"add", "https://x.example/simple/", "--kind", "npm"}, 2, "unknown --kind"},
		{[]string{"add", "https://x.example/simple/", "--bogus"}, 2, "unknown flag: --bogus"},
		{[]string{"add"}, 2, "missing URL"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"logout", "nope"}, 1, `no feed "nope"`},
		{[]string{"token", "https://nowhere.example/simple/"}, 1, "no feed covers"},
	}
	for _, tt := range tests {
		r := w.feedkey("tok\n", tt.args...)
		if r.Code != tt.code || !strings.Contains(r.Stderr, tt.want) || r.Stdout != "" {
			t.Errorf("feedkey %q = exit %d, stdout %q, stderr %q; want exit %d and %q", tt.args, r.Code, r.Stdout, r.Stderr, tt.code, tt.want)
		}
	}
	if _, err := os.Stat(w.cfg); !os.IsNotExist(err) {
		t.Errorf("config written: %v", err)
	}
}

// TestUnusableKeychain: no Secret Service, a locked collection and no bus
// at all each give one clear line quickly and change nothing.
func TestUnusableKeychain(t *testing.T) {
	t.Run("no Secret Service", func(t *testing.T) {
		s := testbus.Start(t, testbus.Options{NoSecretService: true})
		w := newWorld(t, s)
		oneLine(t, w.feedkey("tok\n", "add", feedURL, "--kind", "token"), 1, "no Secret Service on the D-Bus session bus", "")
		if _, err := os.Stat(w.cfg); !os.IsNotExist(err) {
			t.Errorf("config written: %v", err)
		}
		writeConfig(t, w, feedURL)
		oneLine(t, w.helper("", "get", feedURL, "__token__"), 1, "no Secret Service", "")
		oneLine(t, w.helper("", "get", "plain-service", "u"), 1, "no Secret Service", "")
	})

	t.Run("locked collection", func(t *testing.T) {
		s := testbus.Start(t, testbus.Options{})
		w := newWorld(t, s)
		w.addToken(feedURL, token)
		lock(t, s)
		oneLine(t, w.helper("", "get", feedURL, "__token__"), 1, "the keychain is locked", token)
		before, _ := os.ReadFile(w.cfg)
		oneLine(t, w.feedkey("tok\n", "add", "https://second.example/simple/", "--kind", "token"), 1, "the keychain is locked", "")
		if after, _ := os.ReadFile(w.cfg); string(after) != string(before) {
			t.Errorf("config changed:\n%s", after)
		}
		// doctor names the problem and the fix in plain words.
		if r := w.feedkey("", "doctor"); r.Code != 1 || !strings.Contains(r.Stdout, "FAIL  keychain: ") || !strings.Contains(r.Stdout, "the keychain is locked: unlock it (sign in to the desktop session") {
			t.Errorf("doctor with a locked keychain = %d %q %q", r.Code, r.Stdout, r.Stderr)
		}
	})

	t.Run("locked at start", func(t *testing.T) {
		s := testbus.Start(t, testbus.Options{Locked: true})
		w := newWorld(t, s)
		oneLine(t, w.feedkey("tok\n", "add", feedURL, "--kind", "token"), 1, "the keychain is locked", "")
	})

	t.Run("no bus", func(t *testing.T) {
		w := newWorld(t, session)
		var env []string
		for _, kv := range w.env {
			if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") && !strings.HasPrefix(kv, "XDG_RUNTIME_DIR=") {
				env = append(env, kv)
			}
		}
		w.env = append(env, "XDG_RUNTIME_DIR="+t.TempDir())
		writeConfig(t, w, feedURL)
		oneLine(t, w.helper("", "get", feedURL, "__token__"), 1, "no D-Bus session bus", "")
		if r := w.feedkey("", "doctor"); r.Code != 1 || !strings.Contains(r.Stdout, "keychain unavailable: no D-Bus session bus") {
			t.Errorf("doctor = %d %q %q", r.Code, r.Stdout, r.Stderr)
		}
	})
}

// writeConfig writes a config with one token feed, as if added earlier.
func writeConfig(t *testing.T, w *world, url string) {
	t.Helper()
	cfg := "[[feed]]\nid = \"team\"\nkind = \"token\"\nurl = \"" + url + "\"\n"
	if err := os.WriteFile(w.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// lock locks the login collection, as the screen locker would.
func lock(t *testing.T, s *testbus.Session) {
	t.Helper()
	conn, err := dbus.Connect(s.Address)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	err = conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets").Call("org.freedesktop.Secret.Service.Lock", 0,
		[]dbus.ObjectPath{"/org/freedesktop/secrets/collection/login"}).Store(&locked, &prompt)
	if err != nil || len(locked) != 1 {
		t.Fatalf("Lock = %v, %v", locked, err)
	}
}

// TestSquattedSocketDir: with no XDG_RUNTIME_DIR the tray's socket lives in
// the shared temporary directory, where another user may have created
// feedkey-<uid> first. The helper must not trust it, and must go on serving
// plain keyring entries with one warning that does not advise removing
// someone else's directory.
func TestSquattedSocketDir(t *testing.T) {
	w := newWorld(t, session)
	tmp := t.TempDir()
	os.Chmod(tmp, 0o755)
	squat := filepath.Join(tmp, fmt.Sprintf("feedkey-%d", os.Getuid()))
	if err := os.Mkdir(squat, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(squat, 0o777) // past the umask: open to others even when ours
	if os.Getuid() == 0 {
		// As root, squat it for real: another user's directory.
		if err := os.Chown(squat, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	// A person may be present: the helper asks the tray about https services.
	w.env = append(w.env, "TMPDIR="+tmp, "XDG_RUNTIME_DIR=", "CI=", "FEEDKEY_NONINTERACTIVE=")
	const svc = "https://plain.example/simple/"
	if r := w.helper("plain-secret\n", "set", svc, "u"); r.Code != 0 {
		t.Fatalf("set = %d %q", r.Code, r.Stderr)
	}
	r := w.helper("", "get", svc, "u")
	if r.Code != 0 || r.Stdout != "plain-secret\n" {
		t.Fatalf("get = %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "warning") || !strings.Contains(r.Stderr, "cannot be reached") || !strings.Contains(r.Stderr, "XDG_RUNTIME_DIR") || strings.Contains(r.Stderr, "remove") {
		t.Errorf("stderr = %q, want one warning line naming XDG_RUNTIME_DIR", r.Stderr)
	}
	if r := w.helper("", "del", svc, "u"); r.Code != 0 {
		t.Errorf("del = %d %q", r.Code, r.Stderr)
	}
}

// TestDamagedRecord: a chunked record with a part missing is reported as
// damaged, with the fix, not as "no credential stored"; an oversized config
// is refused in one line.
func TestDamagedRecord(t *testing.T) {
	w := newWorld(t, session)
	const url = "https://damaged.example/simple/"
	w.addToken(url, strings.Repeat("x", 6000))
	items, err := session.Items("feedkey:token-damaged-example")
	if err != nil {
		t.Fatal(err)
	}
	removed := false
	for _, it := range items {
		if strings.HasPrefix(it["username"], "chunk-") && !removed {
			out, err := exec.Command("secret-tool", "clear", "service", it["service"], "username", it["username"]).CombinedOutput()
			if err != nil {
				t.Fatalf("secret-tool clear: %v %s", err, out)
			}
			removed = true
		}
	}
	if !removed {
		t.Fatalf("the record is not chunked: %v", items)
	}
	oneLine(t, w.helper("", "get", url, "__token__"), 1, "is damaged", "xxxx")
	r := w.feedkey("", "token", url)
	if r.Code != 1 || !strings.Contains(r.Stderr, "damaged") || !strings.Contains(r.Stderr, "feedkey login damaged-example") {
		t.Errorf("token = %d %q", r.Code, r.Stderr)
	}
	// Storing it again repairs it.
	w.addToken(url, "fresh")
	if r := w.helper("", "get", url, "u"); r.Stdout != "fresh\n" {
		t.Errorf("after re-add: %q %q", r.Stdout, r.Stderr)
	}

	if err := os.WriteFile(w.cfg, []byte(strings.Repeat("# padding\n", 110_000)), 0o600); err != nil {
		t.Fatal(err)
	}
	oneLine(t, w.helper("", "get", url, "u"), 1, "config file larger than", "")
}
