//go:build linux

package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedkey/feedkey/internal/testbin"
	"github.com/feedkey/feedkey/simulator"
	"github.com/feedkey/feedkey/simulator/simtest"
)

// TestInstallHelperAndDoctor installs the helper the way a user does and
// checks that doctor sees it first on PATH, ahead of a Python keyring.
func TestInstallHelperAndDoctor(t *testing.T) {
	bin := testbin.Build(t)
	home := t.TempDir()
	pyKeyring := filepath.Join(t.TempDir(), "pybin")
	os.MkdirAll(pyKeyring, 0o755)
	// A Python keyring entry point, as pip installs one.
	os.WriteFile(filepath.Join(pyKeyring, "keyring"), []byte("#!/usr/bin/python3\nimport sys\nfrom keyring.cli import main\nsys.exit(main())\n"), 0o755)
	localBin := filepath.Join(home, ".local", "bin")
	env := append(session.Env(os.Environ()), "HOME="+home, "FEEDKEY_CONFIG="+filepath.Join(home, "config.toml"), "FEEDKEY_SYSTEM_CONFIG=",
		"PATH="+pyKeyring+string(os.PathListSeparator)+localBin+string(os.PathListSeparator)+"/usr/bin:/bin", "VIRTUAL_ENV=")
	feedkey := func(args ...string) testbin.Result { return testbin.Run(t, env, "", bin.Feedkey, args...) }

	r := feedkey("doctor")
	if r.Code != 1 || !strings.Contains(r.Stdout, "is not feedkey's helper") || !strings.Contains(r.Stdout, "ok    keychain: reachable and unlocked") {
		t.Errorf("doctor with a Python keyring first = %d %q", r.Code, r.Stdout)
	}

	r = feedkey("install")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Installed") || !strings.Contains(r.Stdout, "Put "+localBin+" first on PATH") ||
		!strings.Contains(r.Stdout, `export PATH="`+localBin+`:$PATH"`) {
		t.Fatalf("install = %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	if r := testbin.Run(t, env, "", filepath.Join(localBin, "keyring"), "--list-backends"); r.Stdout != "feedkey.Keyring (priority: 10)\n" {
		t.Fatalf("installed keyring --list-backends = %q", r.Stdout)
	}
	// feedkey itself is installed beside it: the helper's `feedkey token`
	// and start at login use that copy.
	if r := testbin.Run(t, env, "", filepath.Join(localBin, "feedkey"), "--version"); r.Code != 0 || !strings.Contains(r.Stdout, "feedkey version") {
		t.Fatalf("installed feedkey --version = %d %q %q", r.Code, r.Stdout, r.Stderr)
	}

	// With the helper first and a pip that runs it (real pip ≥ 23.1, told
	// to ask the helper), doctor is happy.
	python, _ := simtest.Venv(t)
	for i, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			env[i] = "PATH=" + localBin + string(os.PathListSeparator) + filepath.Dir(python) + string(os.PathListSeparator) + pyKeyring + ":/usr/bin:/bin"
		}
	}
	env = append(env, simtest.PipEnv(os.DevNull)...)
	env = append(env, "PIP_KEYRING_PROVIDER=subprocess", "UV_KEYRING_PROVIDER=", "UV_CONFIG_FILE="+os.DevNull)
	if r := feedkey("doctor"); r.Code != 0 || strings.Contains(r.Stdout, "FAIL") || !strings.Contains(r.Stdout, "ok    pip: keyring-provider = subprocess (PIP_KEYRING_PROVIDER)") {
		t.Errorf("doctor = %d %q", r.Code, r.Stdout)
	}

	// An index URL without the user name pip needs is a problem, with
	// the URL to use instead; --json says the same.
	if r := testbin.Run(t, env, "tok\n", bin.Feedkey, "add", "https://pypi.example/team/simple/", "--kind", "token", "--name", "team"); r.Code != 0 {
		t.Fatalf("add: %s", r.Stderr)
	}
	env = append(env, "PIP_INDEX_URL=https://pypi.example/team/simple/")
	r = feedkey("doctor", "--json")
	var got struct {
		OK     bool `json:"ok"`
		Checks []struct {
			Check  string `json:"check"`
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil || r.Code != 1 || got.OK {
		t.Fatalf("doctor --json = %d, %v: %q", r.Code, err, r.Stdout)
	}
	found := false
	for _, c := range got.Checks {
		found = found || c.Check == "pip" && !c.OK && strings.Contains(c.Detail, "use https://__token__@pypi.example/team/simple/")
	}
	if !found {
		t.Errorf("doctor --json does not name the user-less index URL and its fix: %s", r.Stdout)
	}

	// It does not overwrite someone else's keyring, nor install into a venv.
	if r := feedkey("install-helper", "--dir", pyKeyring); r.Code != 1 || !strings.Contains(r.Stderr, "not feedkey's helper") {
		t.Errorf("install over a Python keyring = %d %q", r.Code, r.Stderr)
	}
	venv := t.TempDir()
	os.WriteFile(filepath.Join(venv, "pyvenv.cfg"), []byte("home = /usr/bin\n"), 0o644)
	if r := feedkey("install-helper", "--dir", filepath.Join(venv, "bin")); r.Code != 1 || !strings.Contains(r.Stderr, "virtual environment") {
		t.Errorf("install into a venv = %d %q", r.Code, r.Stderr)
	}
	// Reinstalling over our own helper is fine.
	if r := feedkey("install-helper"); r.Code != 0 {
		t.Errorf("reinstall = %d %q", r.Code, r.Stderr)
	}
}

// TestInstalledHelperRunsInstalledFeedkey: `feedkey install --dir D` puts
// both programs in D, and the helper refreshes through D/feedkey with
// nothing else on PATH.
func TestInstalledHelperRunsInstalledFeedkey(t *testing.T) {
	// Access tokens shorter than the minute the helper serves without
	// asking: every lookup refreshes through `feedkey token`.
	ppm := &simulator.PPM{Interval: 1, TokenLifetime: 30 * time.Second}
	w := newPositWorld(t, ppm)
	if r := w.feedkey("add", w.url, "--kind", "posit", "--name", "ppm"); r.Code != 0 {
		t.Fatalf("add: %s", r.Stderr)
	}
	if r := w.feedkey("login", "ppm"); r.Code != 0 {
		t.Fatalf("login: %s", r.Stderr)
	}
	dir := filepath.Join(t.TempDir(), "bin")
	if r := w.feedkey("install", "--dir", dir); r.Code != 0 {
		t.Fatalf("install --dir: %s", r.Stderr)
	}
	for _, name := range []string{"feedkey", "keyring"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("install --dir %s: %v", dir, err)
		}
	}
	w.setenv("PATH", "/usr/bin:/bin") // no feedkey but the installed one
	before := ppm.Exchanges()
	r := testbin.Run(t, w.env, "", filepath.Join(dir, "keyring"), "get", w.url, "__token__")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) == "" || ppm.Exchanges() == before {
		t.Errorf("installed helper = %d %q %q, exchanges %d → %d; want a refresh through %s/feedkey", r.Code, r.Stdout, r.Stderr, before, ppm.Exchanges(), dir)
	}
	os.Remove(filepath.Join(dir, "feedkey"))
	r = testbin.Run(t, w.env, "", filepath.Join(dir, "keyring"), "get", w.url, "__token__")
	if r.Code != 1 || !strings.Contains(r.Stderr, "feedkey is neither beside this helper nor on PATH") || strings.Count(r.Stderr, "\n") != 1 {
		t.Errorf("helper without feedkey = %d %q %q; want one line saying feedkey is missing", r.Code, r.Stdout, r.Stderr)
	}
}

// TestInstallService: `feedkey install --service` writes a systemd user
// unit that runs the installed `feedkey agent`, and says how to start it
// where systemd does not run for the user.
func TestInstallService(t *testing.T) {
	bin := testbin.Build(t)
	home := t.TempDir()
	env := append(session.Env(os.Environ()), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "FEEDKEY_CONFIG="+filepath.Join(home, "config.toml"),
		"PATH=/usr/bin:/bin", "VIRTUAL_ENV=")
	dir := filepath.Join(home, "bin")
	r := testbin.Run(t, env, "", bin.Feedkey, "install", "--dir", dir, "--service")
	if r.Code != 0 {
		t.Fatalf("install --service = %d %q", r.Code, r.Stderr)
	}
	unit, err := os.ReadFile(filepath.Join(home, ".config", "systemd", "user", "feedkey-agent.service"))
	if err != nil || !strings.Contains(string(unit), "ExecStart="+filepath.Join(dir, "feedkey")+" agent\n") || !strings.Contains(string(unit), "WantedBy=default.target") {
		t.Fatalf("unit: %v\n%s", err, unit)
	}
	if !strings.Contains(r.Stdout, "Started feedkey-agent.service") && !strings.Contains(r.Stdout, "systemctl --user enable --now feedkey-agent.service") {
		t.Errorf("install --service does not say how the agent starts:\n%s", r.Stdout)
	}
}
