package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/auth/store/storetest"
)

type testEnv struct {
	*Env
	out, err *bytes.Buffer
	kc       *storetest.Memory
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	out, errb := &bytes.Buffer{}, &bytes.Buffer{}
	kc := &storetest.Memory{}
	return &testEnv{
		Env: &Env{
			In: strings.NewReader(""), Out: out, Err: errb,
			ConfigPath: filepath.Join(t.TempDir(), "config.toml"),
			Keychain:   kc,
			Getenv:     func(string) string { return "" },
			LookupEnv: func(k string) (string, bool) {
				return "", k == "FEEDKEY_SYSTEM_CONFIG" // no system config, whatever the machine has
			},
			LookPath: func(string) (string, error) { return "", errors.New("not found") },
			Now:      func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) },
		},
		out: out, err: errb, kc: kc,
	}
}

func (e *testEnv) run(stdin string, args ...string) int {
	e.In = strings.NewReader(stdin)
	e.out.Reset()
	e.err.Reset()
	return Main(context.Background(), args, e.Env)
}

func TestAddAndToken(t *testing.T) {
	e := newTestEnv(t)
	if code := e.run("tok-1\n", "add", "https://__token__@Pypi.Team.Example/team/simple", "--kind", "token"); code != 0 {
		t.Fatalf("add: %d %s", code, e.err)
	}
	if !strings.Contains(e.out.String(), "Added feed pypi-team-example-team for https://pypi.team.example/team/simple/.") {
		t.Errorf("add said %q", e.out)
	}
	if code := e.run("", "token", "https://pypi.team.example/team/simple/pkg/"); code != 0 || e.out.String() != "tok-1\n" {
		t.Errorf("token = %d %q %q", code, e.out, e.err)
	}
	// Adding the same URL again replaces the token and keeps one feed.
	if code := e.run("tok-2", "add", "https://pypi.team.example/team/simple/", "--kind=token"); code != 0 {
		t.Fatalf("re-add: %d %s", code, e.err)
	}
	e.run("", "token", "--json", "https://pypi.team.example/team/simple/")
	var got struct{ Username, Password string }
	if err := json.Unmarshal(e.out.Bytes(), &got); err != nil || got.Username != "__token__" || got.Password != "tok-2" {
		t.Errorf("token --json = %q (%v)", e.out, err)
	}
	// Flags before the URL, a chosen name and user.
	if code := e.run("t3", "add", "--kind", "token", "--name", "deploy", "--username", "ci", "https://other.example/simple/"); code != 0 {
		t.Fatalf("add with flags first: %d %s", code, e.err)
	}
	e.run("", "token", "--json", "https://other.example/simple/")
	if !strings.Contains(e.out.String(), `"username":"ci"`) {
		t.Errorf("token --json = %q", e.out)
	}
}

func TestStatus(t *testing.T) {
	e := newTestEnv(t)
	if code := e.run("", "status"); code != 0 || !strings.Contains(e.out.String(), "No feeds yet") {
		t.Errorf("empty status = %d %q", code, e.out)
	}
	e.run("secret-one", "add", "https://a.example/simple/", "--kind", "token")
	e.run("secret-two", "add", "https://b.example/simple/", "--kind", "token")
	if code := e.run("", "status"); code != 0 {
		t.Errorf("status with every feed ready = %d, want 0", code)
	}
	e.run("", "logout", "b-example")
	// A second logout says so, and is no failure.
	if code := e.run("", "logout", "b-example"); code != 0 || !strings.Contains(e.out.String(), "b-example is not signed in") {
		t.Errorf("second logout = %d %q", code, e.out)
	}
	// Scripts branch on status: 1 while a feed needs the person.
	if code := e.run("", "status", "--json"); code != 1 {
		t.Fatalf("status with a feed signed out = %d %s, want 1", code, e.err)
	}
	var out statusOutput
	if err := json.Unmarshal(e.out.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, f := range out.Feeds {
		states[f.ID] = f.State
	}
	if states["a-example"] != "valid" || states["b-example"] != "missing" || len(states) != 2 {
		t.Errorf("states = %v", states)
	}
	e.run("", "status")
	text := e.out.String()
	if strings.Contains(text, "secret-") || !strings.Contains(text, "valid (__token__, no expiry)") || !strings.Contains(text, "not signed in: store one with `feedkey login b-example`") {
		t.Errorf("status =\n%s", text)
	}
	// The step status names works.
	if code := e.run("secret-three\n", "login", "b-example"); code != 0 {
		t.Errorf("login b-example = %d %s", code, e.err)
	}
	// A feed id works where a URL does.
	if code := e.run("", "token", "b-example"); code != 0 || e.out.String() != "secret-three\n" {
		t.Errorf("token b-example = %d %q %q", code, e.out, e.err)
	}
}

func TestStatusExpiry(t *testing.T) {
	e := newTestEnv(t)
	e.run("x", "add", "https://a.example/simple/", "--kind", "token")
	exp := e.Now().Add(90 * time.Minute)
	if err := store.New(e.kc).Save(context.Background(), "token-a-example", store.Credential{Kind: "token", Secret: "x", Expires: exp}); err != nil {
		t.Fatal(err)
	}
	e.run("", "status")
	if !strings.Contains(e.out.String(), "1 h 30 m left") {
		t.Errorf("status = %q", e.out)
	}
	e.Now = func() time.Time { return exp.Add(time.Second) }
	e.run("", "status")
	if !strings.Contains(e.out.String(), "expired") {
		t.Errorf("status = %q", e.out)
	}
	if code := e.run("", "token", "https://a.example/simple/"); code != 1 || e.out.Len() != 0 || !strings.Contains(e.err.String(), "has expired") {
		t.Errorf("token of expired = %d %q %q", code, e.out, e.err)
	}
}

func TestRemove(t *testing.T) {
	e := newTestEnv(t)
	e.run("x", "add", "https://a.example/simple/", "--kind", "token")
	if code := e.run("", "remove", "https://a.example/simple/"); code != 0 {
		t.Fatalf("remove: %d %s", code, e.err)
	}
	if n := e.kc.Len(store.Service("token-a-example")); n != 0 {
		t.Errorf("%d keychain entries left", n)
	}
	if code := e.run("", "token", "https://a.example/simple/"); code != 1 {
		t.Errorf("token after remove = %d", code)
	}
}

func TestAddLeavesNothingOnFailure(t *testing.T) {
	e := newTestEnv(t)
	e.kc.Err = errors.New("keychain unavailable: test")
	if code := e.run("tok", "add", "https://a.example/simple/", "--kind", "token"); code != 1 {
		t.Fatalf("add = %d", code)
	}
	if _, err := os.Stat(e.ConfigPath); !os.IsNotExist(err) {
		t.Errorf("config written although the token could not be stored")
	}
	if got := e.err.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "store token for a-example") {
		t.Errorf("stderr = %q", got)
	}
}

// TestCommandLine: flags anywhere, help and version, and bad usage (exit 2,
// one line, a suggestion for a mistyped command, the flag as typed).
func TestCommandLine(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	tests := []struct {
		args       []string
		code       int
		out, err   string // substrings
		stdinToken string
	}{
		{args: []string{"add", "--kind", "token", "https://a.example/simple/"}, stdinToken: "t1\n", out: "Added feed a-example"},
		{args: []string{"add", "https://b.example/simple/", "--kind=token"}, stdinToken: "t2\n", out: "Added feed b-example"},
		{args: []string{"token", "--", "https://a.example/simple/"}, out: "t1"},
		{args: []string{"status", "--jsn"}, code: 2, err: "status: unknown flag: --jsn"},
		{args: []string{"add", "https://c.example/simple/", "--kind"}, code: 2, err: "flag needs an argument"},
		{args: []string{"stauts"}, code: 2, err: `unknown command "stauts" (did you mean "status"?)`},
		{args: []string{"token"}, code: 2, err: "token: missing URL"},
		{args: []string{"status", "extra"}, code: 2, err: `status: unexpected argument "extra"`},
		{args: []string{"add", "--help"}, out: "feedkey add URL"},
		{args: []string{"login", "-h"}, out: "--device-code"},
		{args: []string{"help", "token"}, out: "feedkey token URL"},
		{args: []string{"--help"}, out: "Available Commands"},
		{args: []string{"--version"}, out: "feedkey version dev"},
		{args: []string{"completion", "bash"}, out: "bash completion"},
		{args: []string{"completion", "zsh"}, out: "#compdef feedkey"},
		{args: []string{"completion", "fish"}, out: "complete -c feedkey"},
		{args: []string{"completion", "powershell"}, out: "Register-ArgumentCompleter"},
		// What the shells ask: feed ids complete where a feed is taken.
		{args: []string{"__complete", "login", "a-"}, out: "a-example\ttoken https://a.example/simple/\n:4"},
		{args: []string{"__complete", "logout", ""}, out: "a-example\ttoken https://a.example/simple/\nb-example\ttoken https://b.example/simple/\n:4"},
		{args: []string{"__complete", "st"}, out: "status\t"},
		{args: []string{"__complete", "status", "--j"}, out: "--json\t"},
	}
	for _, tt := range tests {
		code := e.run(tt.stdinToken, tt.args...)
		if code != tt.code || !strings.Contains(e.out.String(), tt.out) || !strings.Contains(e.err.String(), tt.err) {
			t.Errorf("feedkey %q = exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				tt.args, code, e.out, e.err, tt.code, tt.out, tt.err)
		}
		if tt.code == 2 && strings.Count(e.err.String(), "\n") != 2 {
			t.Errorf("feedkey %q: usage error is not one line and the hint: %q", tt.args, e.err)
		}
	}
}

// TestURLSecretsNeverEchoed: a URL typed with a password, a token as user
// name or a token in the query is shown redacted in every message.
func TestURLSecretsNeverEchoed(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	if code := e.run("tok\n", "add", "https://pypi.team.example/simple/", "--kind", "token"); code != 0 {
		t.Fatalf("add: %d %s", code, e.err)
	}
	for _, args := range [][]string{
		{"token", "https://u:SECRETPW@other.example/simple/?tok=SECRETQ"},
		{"token", "https://SECRETUSER@other.example/simple/#SECRETF"},
		{"token", "SECRETUSER:SECRETPW@other.example"},
		{"login", "https://u:SECRETPW@other.example/simple/?tok=SECRETQ"},
		{"logout", "https://u:SECRETPW@other.example/simple/?tok=SECRETQ"},
		{"refresh", "team", "https://u:SECRETPW@other.example/?tok=SECRETQ"},
		{"token", "https://pypi.team.example/simple/", "https://u:SECRETPW@x/?tok=SECRETQ"},
		{"add", "https://u:SECRETPW@pypi.other.example/simple/?tok=SECRETQ", "--kind", "token"},
		{"add", "http://u:SECRETPW@pypi.other.example/simple/", "--kind", "token"},
		{"add", "https://u:SECRETPW@[bad/simple/?tok=SECRETQ", "--kind", "token"},
	} {
		code := e.run("tok\n", args...)
		all := e.out.String() + e.err.String()
		if code == 0 || strings.Contains(all, "SECRET") || e.err.Len() == 0 {
			t.Errorf("%q: exit %d, output %q", args, code, all)
		}
	}
}

// TestExec: the child gets the credentials in the variables the tools read,
// and nothing on its command line; its exit status is feedkey's.
func TestExec(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	if code := e.run("tok-team-123\n", "add", "https://pypi.example/team/simple/", "--kind", "token", "--name", "my-team"); code != 0 {
		t.Fatalf("add: %s", e.err)
	}
	script := `echo "$UV_INDEX_MY_TEAM_USERNAME ${#UV_INDEX_MY_TEAM_PASSWORD} ${#POETRY_HTTP_BASIC_MY_TEAM_PASSWORD} ${#TWINE_PASSWORD} $PIP_INDEX_URL" "$@"`
	if code := e.run("", "exec", "--feed", "my-team", "--", "sh", "-c", script, "sh", "arg1"); code != 0 {
		t.Fatalf("exec = %d: %s", code, e.err)
	}
	if got := strings.TrimSpace(e.out.String()); got != "__token__ 12 12 12  arg1" {
		t.Errorf("the child saw %q", got)
	}
	if code := e.run("", "exec", "--pip-index-url", "my-team", "--", "sh", "-c", `echo "$PIP_INDEX_URL"`); code != 0 || strings.TrimSpace(e.out.String()) != "https://__token__:tok-team-123@pypi.example/team/simple/" {
		t.Errorf("--pip-index-url = %d %q", code, e.out)
	}
	// The child starts from the injected environment, plus the feeds'.
	e.Environ = func() []string { return []string{"FROM_PARENT=yes"} }
	if code := e.run("", "exec", "--feed", "my-team", "--", "sh", "-c", `echo "$FROM_PARENT ${#UV_INDEX_MY_TEAM_PASSWORD}"`); code != 0 || strings.TrimSpace(e.out.String()) != "yes 12" {
		t.Errorf("exec with an environment = %d %q", code, e.out)
	}
	if code := e.run("", "exec", "--", "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("the child's exit 7 became %d", code)
	}
	if code := e.run("", "exec", "--feed", "nope", "--", "true"); code != 2 || !strings.Contains(e.err.String(), `no feed "nope"`) {
		t.Errorf("unknown feed = %d %q", code, e.err)
	}
}
