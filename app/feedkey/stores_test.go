//go:build linux

package main_test

import (
	"bytes"
	"crypto/rand"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/internal/testbin"
	"github.com/feedkey/feedkey/internal/testbus"
	"github.com/feedkey/feedkey/simulator"
	"github.com/feedkey/feedkey/simulator/simtest"
)

// TestWithoutSecretService: on a machine with no desktop keyring (a bus
// without a Secret Service, or no bus at all: SSH boxes, WSL, containers)
// feedkey keeps credentials in the kernel keyring by itself; with
// FEEDKEY_STORE=file, in a 0600 file. In each, a static feed with a 6 KB
// (chunked) token is added, real pip installs through the helper, another
// process reads the same credential, status and doctor name the store, and
// (but for the file store) nothing under HOME holds the token.
func TestWithoutSecretService(t *testing.T) {
	bin := testbin.Build(t)
	for _, tc := range []struct {
		name, storeEnv, want string
		bus                  bool
	}{
		{"bus without a Secret Service", "", "keyctl", true},
		{"no bus", "", "keyctl", false},
		{"file, asked for", "file", "file", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == "keyctl" && !store.KeyctlAvailable() {
				t.Skip("the kernel keyring is blocked here (seccomp)")
			}
			s := testbus.Start(t, testbus.Options{NoSecretService: true})
			token := "tok-" + strings.Repeat(rand.Text(), 240)[:6<<10]
			indexURL, caFile := simtest.StaticIndex(t, token, nil,
				simulator.Wheel{Name: "headless-demo", Version: "1.0", Files: map[string]string{"headless_demo/__init__.py": "V = 1\n"}})
			home := s.Home
			env := append(s.Env(os.Environ()), simtest.PipEnv(caFile)...)
			env = append(env, "FEEDKEY_STORE="+tc.storeEnv, "FEEDKEY_CONFIG="+filepath.Join(home, ".config", "feedkey", "config.toml"),
				"FEEDKEY_SYSTEM_CONFIG=", "CI=true", "PATH="+bin.Dir+":/usr/bin:/bin")
			if !tc.bus {
				var kept []string
				for _, kv := range env {
					if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
						kept = append(kept, kv)
					}
				}
				env = kept
			}
			feedkey := func(stdin string, args ...string) testbin.Result {
				return testbin.Run(t, env, stdin, bin.Feedkey, args...)
			}
			// The kernel keyring is the user's, shared by every test: this
			// feed's credential is its own (the simulator's port), and is
			// removed at the end.
			if r := feedkey(token+"\n", "add", indexURL, "--kind", "token", "--name", "team"); r.Code != 0 {
				t.Fatalf("add: %s", r.Stderr)
			}
			t.Cleanup(func() { feedkey("", "remove", "team") })

			_, pip := simtest.Venv(t)
			cmd := exec.Command(pip, "install", "--no-cache-dir", "--keyring-provider", "subprocess",
				"--index-url", simtest.WithUser(indexURL, "__token__"), "headless-demo")
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("pip install: %v\n%s", err, out)
			}
			if r := testbin.Run(t, env, "", bin.Keyring, "get", indexURL, "__token__"); r.Code != 0 || strings.TrimSpace(r.Stdout) != token {
				t.Errorf("another process reading the credential: %d, %d bytes, %q", r.Code, len(r.Stdout), r.Stderr)
			}
			r := feedkey("", "status")
			if !strings.Contains(r.Stdout, "Store: "+tc.want) {
				t.Errorf("status does not name the %s store:\n%s", tc.want, r.Stdout)
			}
			if r := feedkey("", "doctor"); !strings.Contains(r.Stdout, "ok    keychain: reachable and unlocked: "+tc.want) {
				t.Errorf("doctor does not name the %s store:\n%s", tc.want, r.Stdout)
			}
			// What is on disk under HOME.
			var holders []string
			filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(token[:64])) {
						holders = append(holders, p)
					}
				}
				return nil
			})
			switch tc.want {
			case "file":
				fi, err := os.Stat(filepath.Join(home, ".local", "share", "feedkey", "credentials.json"))
				if err != nil || fi.Mode().Perm() != 0o600 || len(holders) != 1 {
					t.Errorf("file store: %v, %v; token in %v; want one 0600 file", fi, err, holders)
				}
			default:
				if len(holders) != 0 {
					t.Errorf("the token was written under HOME: %v", holders)
				}
			}
		})
	}
}

// TestAgent: `feedkey agent` keeps a short-lived credential fresh with no
// tray and no menu: it refreshes before the token expires.
func TestAgent(t *testing.T) {
	ppm := &simulator.PPM{Interval: 1, TokenLifetime: 2 * time.Minute}
	w := newPositWorld(t, ppm)
	idFile := filepath.Join(t.TempDir(), "id-token")
	os.WriteFile(idFile, []byte(ppm.IssueIDToken("agent@example.test")), 0o600)
	w.setenv("PACKAGEMANAGER_ADDRESS", w.srv.URL)
	w.setenv("PACKAGEMANAGER_IDENTITY_TOKEN_FILE", idFile)
	sock, err := os.MkdirTemp("", "fka")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sock) })
	w.setenv("FEEDKEY_SOCKET", filepath.Join(sock, "control.sock"))
	if r := w.feedkey("login", "packagemanager"); r.Code != 0 {
		t.Fatalf("login: %s", r.Stderr)
	}
	before := ppm.Exchanges()
	agent := exec.Command(w.bin.Feedkey, "agent")
	agent.Env = w.env
	var out bytes.Buffer
	agent.Stdout, agent.Stderr = &out, &out
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		agent.Process.Kill()
		agent.Wait()
		if t.Failed() {
			t.Logf("agent output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(100 * time.Second)
	for ppm.Exchanges() == before && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if ppm.Exchanges() == before {
		t.Fatal("the agent did not refresh a token that expires in 2 minutes")
	}
	if !strings.Contains(out.String(), "feedkey agent: keeping credentials fresh without a menu") {
		t.Errorf("the agent did not say what it does:\n%s", out.String())
	}
}
