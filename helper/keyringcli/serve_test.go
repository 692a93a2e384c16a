package keyringcli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/auth/store/storetest"
)

// TestJSONString: Python's json.loads, which pip uses, reads back exactly
// the string that was quoted.
func TestRunExpiredAndMissing(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfg, []byte("[[feed]]\nid = \"a\"\nkind = \"token\"\nurl = \"https://a.example/simple/\"\n"), 0o600)
	kc := &storetest.Memory{}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	run := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Run(context.Background(), args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
			ConfigPath: cfg, LookupEnv: noSystemConfig, Keychain: kc, Now: func() time.Time { return now }})
		return code, out.String(), errb.String()
	}
	if code, out, errs := run("get", "https://a.example/simple/", "u"); code != 1 || out != "" || !strings.Contains(errs, "no credential stored for feed a") {
		t.Errorf("missing = %d %q %q", code, out, errs)
	}
	store.New(kc).Save(context.Background(), "token-a", store.Credential{Kind: "token", Secret: "s", Expires: now.Add(30 * time.Second)})
	if code, out, errs := run("get", "https://a.example/simple/", "u"); code != 1 || out != "" || !strings.Contains(errs, "expired") {
		t.Errorf("about to expire = %d %q %q", code, out, errs)
	}
	store.New(kc).Save(context.Background(), "token-a", store.Credential{Kind: "token", Secret: "s", Expires: now.Add(time.Hour)})
	if code, out, _ := run("get", "https://a.example/simple/", "u"); code != 0 || out != "s\n" {
		t.Errorf("valid = %d %q", code, out)
	}
	// Never a token of another kind of feed, and never feedkey's raw records.
	store.New(kc).Save(context.Background(), "token-a", store.Credential{Kind: "posit", Secret: "other", Expires: now.Add(time.Hour)})
	if code, out, errs := run("get", "https://a.example/simple/", "u"); code != 1 || out != "" || !strings.Contains(errs, "holds a posit credential") {
		t.Errorf("kind mismatch = %d %q %q", code, out, errs)
	}
	for _, argv := range [][]string{{"get", "feedkey:token-a", "credential"}, {"get", "feedkey", "token-a:credential"}, {"--mode", "creds", "get", "feedkey:token-a"}} {
		if code, out, errs := run(argv...); code != 1 || out != "" || !strings.Contains(errs, "managed by feedkey") {
			t.Errorf("%q = %d %q %q", argv, code, out, errs)
		}
	}
	if code, _, errs := run("--print-completion", "bash"); code != 1 || !strings.Contains(errs, "completion") {
		t.Errorf("--print-completion = %d %q", code, errs)
	}
}

// noSystemConfig is the environment of these tests: no system config,
// whatever the machine has.
func noSystemConfig(k string) (string, bool) { return "", k == "FEEDKEY_SYSTEM_CONFIG" }
