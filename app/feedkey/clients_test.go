//go:build linux

package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/feedkey/feedkey/internal/testbin"
	"github.com/feedkey/feedkey/simulator"
	"github.com/feedkey/feedkey/simulator/simtest"
)

// The tools here are Debian's (twine 4.0.2, python3-poetry 1.3.2, pipx
// 1.1.0, python3-keyring 23.9.3), run for real; build/test.sh installs them.
const debianPython = "/usr/bin/python3"

// toolVenv makes a virtual environment over Debian's Python that sees its
// packages (twine, poetry, keyring) and has keyrings.feedkey installed from
// a wheel built from helper/python, as a user installs it beside a tool.
func toolVenv(t *testing.T) (python string) {
	t.Helper()
	for _, mod := range []string{"build", "setuptools", "keyring"} {
		if err := exec.Command(debianPython, "-c", "import "+mod).Run(); err != nil {
			t.Fatalf("Debian's python3-%s is needed (build/test.sh installs it): %v", mod, err)
		}
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if out, err := exec.Command("cp", "-r", "../../helper/python", src).CombinedOutput(); err != nil {
		t.Fatalf("copy helper/python: %v %s", err, out)
	}
	build := exec.Command(debianPython, "-m", "build", "--wheel", "--no-isolation", "--outdir", filepath.Join(dir, "dist"), src)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build keyrings.feedkey: %v\n%s", err, out)
	}
	wheels, _ := filepath.Glob(filepath.Join(dir, "dist", "keyrings?feedkey-*.whl"))
	if len(wheels) != 1 {
		t.Fatalf("built wheels: %q", wheels)
	}
	venv := filepath.Join(dir, "venv")
	if out, err := exec.Command(debianPython, "-m", "venv", "--system-site-packages", venv).CombinedOutput(); err != nil {
		t.Fatalf("venv: %v\n%s", err, out)
	}
	python = filepath.Join(venv, "bin", "python")
	install := exec.Command(python, "-m", "pip", "install", "--no-index", "--no-deps", "--disable-pip-version-check", wheels[0])
	install.Env = append(os.Environ(), "PIP_CONFIG_FILE="+os.DevNull, "PIP_FIND_LINKS=")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("pip install keyrings.feedkey: %v\n%s", err, out)
	}
	return python
}

// run runs a command with env and fails the test if it fails.
func run(t *testing.T, env []string, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env, cmd.Dir = env, dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", filepath.Base(name), args, err, out)
	}
	return string(out)
}

// uploadWheel writes a wheel for upload and returns its path.
func uploadWheel(t *testing.T, name, version string) string {
	t.Helper()
	w := simulator.Wheel{Name: name, Version: version, Files: map[string]string{
		strings.ReplaceAll(name, "-", "_") + "/__init__.py": "VALUE = 'uploaded " + version + "'\n"}}
	data, err := w.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), w.Filename())
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKeyringsFeedkeyDefers: with keyrings.feedkey installed, Python
// keyring asks feedkey first for a feed's URL and the OS keychain (Secret
// Service) for everything else; writes go to the keychain.
func TestKeyringsFeedkeyDefers(t *testing.T) {
	const token = "static-feed-token-5678"
	python := toolVenv(t)
	bin := testbin.Build(t)
	home := t.TempDir()
	env := append(session.Env(os.Environ()),
		"HOME="+home, "XDG_CONFIG_HOME=", "XDG_DATA_HOME=",
		"FEEDKEY_CONFIG="+filepath.Join(home, "config.toml"), "FEEDKEY_SYSTEM_CONFIG=", "FEEDKEY_NONINTERACTIVE=1",
		"PATH="+bin.Dir+":/usr/bin:/bin")
	testbin.Run(t, env, token+"\n", bin.Feedkey, "add", "https://pkgs.example.com/team/simple/", "--kind", "token")

	script := `
import sys, keyring
from keyring.backends import chainer
kr = keyring.get_keyring()
names = [type(b).__name__ for b in getattr(kr, "backends", [kr])]
print("backends", ",".join(names))
keyring.set_password("other-app", "bob", "os-secret")
print("other", keyring.get_password("other-app", "bob"))
c = keyring.get_credential("https://pkgs.example.com/team/simple/", None)
print("feed", c and c.username, c and len(c.password))
print("pw", len(keyring.get_password("https://pkgs.example.com/team/simple/pkg/", "__token__") or ""))
print("uncovered", keyring.get_credential("https://pkgs.example.com/elsewhere/", None))
print("poetry", len(keyring.get_password("poetry-repository-team", "__token__") or ""))
print("poetry-unknown", keyring.get_password("poetry-repository-nope", "__token__"))
`
	// Poetry's poetry-repository-NAME entries resolve through the project's
	// sources.
	os.WriteFile(filepath.Join(home, "pyproject.toml"), []byte("[[tool.poetry.source]]\nname = \"team\"\nurl = \"https://pkgs.example.com/team/simple/\"\n"), 0o644)
	out := run(t, env, home, python, "-c", script)
	want := []string{
		"backends FeedkeyKeyring,Keyring", // feedkey first, then Secret Service
		"other os-secret",
		"feed __token__ " + strconv.Itoa(len(token)),
		"pw " + strconv.Itoa(len(token)),
		"uncovered None",
		"poetry " + strconv.Itoa(len(token)),
		"poetry-unknown None",
	}
	for _, w := range want {
		if !strings.Contains(out, w+"\n") {
			t.Errorf("no %q in\n%s", w, out)
		}
	}
	if strings.Contains(out, token) {
		t.Errorf("the token was printed:\n%s", out)
	}
	// The secret of other-app is in gnome-keyring, where secret-tool finds it.
	st := exec.Command("secret-tool", "lookup", "service", "other-app", "username", "bob")
	st.Env = env
	if got, err := st.Output(); err != nil || string(got) != "os-secret" {
		t.Errorf("secret-tool lookup = %q, %v", got, err)
	}

	// Without the helper, the backend is not viable and keyring works on.
	env = append(env, "PATH=/usr/bin:/bin", "FEEDKEY_KEYRING=/nonexistent/keyring")
	out = run(t, env, home, python, "-c", script)
	if !strings.Contains(out, "backends Keyring\n") || !strings.Contains(out, "feed None None\n") || !strings.Contains(out, "other os-secret\n") {
		t.Errorf("without feedkey's helper:\n%s", out)
	}
}

// TestTwineUploadsToPackageManager: `feedkey setup twine` writes .pypirc,
// and Debian's twine uploads to Package Manager's upload URL with no
// password anywhere, through keyrings.feedkey; pip then installs the
// uploaded package through the helper.
func TestTwineUploadsToPackageManager(t *testing.T) {
	w := newPositWorld(t, &simulator.PPM{Interval: 1})
	python := toolVenv(t)
	home := t.TempDir()
	w.env = append(withoutTwine(w.env), "HOME="+home)
	r := w.feedkey("add", w.url)
	id := strings.Fields(strings.TrimPrefix(r.Stdout, "Added posit feed "))[0]
	if r := w.feedkey("login", id); r.Code != 0 {
		t.Fatalf("login: %s", r.Stderr)
	}
	if r := w.feedkey("setup", "twine", id, "--source", "local-python", "--apply"); r.Code != 0 {
		t.Fatalf("setup twine: %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
	pypirc, _ := os.ReadFile(filepath.Join(home, ".pypirc"))
	if !strings.Contains(string(pypirc), "repository = "+w.srv.URL+"/upload/pypi/local-python") || strings.Contains(string(pypirc), "password") {
		t.Fatalf(".pypirc =\n%s", pypirc)
	}

	whl := uploadWheel(t, "made-here", "0.1")
	out := run(t, w.env, home, python, "-m", "twine", "upload", "-r", id, "--non-interactive", whl)
	tok := strings.TrimSpace(w.feedkey("token", id).Stdout)
	if tok == "" || strings.Contains(out, tok) {
		t.Fatalf("twine output (token shown or none stored):\n%s", out)
	}

	_, pip := simtest.Venv(t)
	cmd := exec.Command(pip, "install", "--no-cache-dir", "--keyring-provider", "subprocess",
		"--index-url", "https://__token__@"+w.srv.Addr()+"/pypi-auth/latest/simple/", "made-here==0.1")
	cmd.Env = w.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pip install of the uploaded package: %v\n%s", err, out)
	}
}

// TestTwineUploadsToAzure: the same through Azure Artifacts' upload URL,
// derived by `feedkey setup twine`, with the org's browser sign-in.
func TestTwineUploadsToAzure(t *testing.T) {
	w := newAzureWorld(t, nil)
	python := toolVenv(t)
	home := t.TempDir()
	w.env = append(withoutTwine(w.env), "HOME="+home)
	w.must("add", w.feedURL("contoso"))
	w.must("login", "contoso-py")
	w.must("setup", "twine", "contoso-py", "--apply")

	whl := uploadWheel(t, "az-made", "2.0")
	w.az.DevOps.Recorder.Reset()
	out := run(t, w.env, home, python, "-m", "twine", "upload", "-r", "contoso-py", "--non-interactive", whl)
	ups := requests(w.az.DevOps.Recorder, "/pypi/upload")
	if len(ups) == 0 || !authorized(ups) {
		t.Fatalf("upload requests %d, authorized %v:\n%s", len(ups), authorized(ups), out)
	}
	_, pip := simtest.Venv(t)
	cmd := exec.Command(pip, "install", "--no-cache-dir", "--keyring-provider", "subprocess", "--index-url",
		simtest.WithUser(w.feedURL("contoso"), "VssSessionToken"), "az-made==2.0")
	cmd.Env = w.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pip install of the uploaded package: %v\n%s", err, out)
	}
}

// TestPoetryInstallsFromFeed: Debian's Poetry adds a package from an Azure
// feed set up with the command `feedkey setup poetry` prints, and
// keyrings.feedkey answers for the source and its GUID download URLs.
func TestPoetryInstallsFromFeed(t *testing.T) {
	w := newAzureWorld(t, nil)
	python := toolVenv(t)
	home, project := t.TempDir(), t.TempDir()
	// `poetry` on PATH runs Poetry inside the venv that has keyrings.feedkey.
	wrap := t.TempDir()
	os.WriteFile(filepath.Join(wrap, "poetry"), []byte("#!/bin/sh\nexec "+python+" -m poetry \"$@\"\n"), 0o755)
	w.setenv("HOME="+home, "PATH="+wrap+":"+envValue(w.env, "PATH"),
		"POETRY_CONFIG_DIR="+filepath.Join(home, "poetry-config"), "POETRY_CACHE_DIR="+filepath.Join(home, "poetry-cache"),
		"POETRY_VIRTUALENVS_IN_PROJECT=true", "POETRY_NO_INTERACTION=1")
	w.must("add", w.feedURL("contoso"))
	w.must("login", "contoso-py")
	os.WriteFile(filepath.Join(project, "pyproject.toml"), []byte(`[tool.poetry]
name = "consumer"
version = "0.1.0"
description = ""
authors = ["Alice <alice@contoso.example>"]

[tool.poetry.dependencies]
python = "^3.8"

[build-system]
requires = ["poetry-core"]
build-backend = "poetry.core.masonry.api"
`), 0o644)

	printed := w.must("setup", "poetry", "contoso-py").Stdout
	add := regexp.MustCompile(`(?m)^poetry source add .*$`).FindString(printed)
	if add == "" || !strings.Contains(add, "--default") { // Debian's Poetry is 1.3
		t.Fatalf("setup poetry printed:\n%s", printed)
	}
	run(t, w.env, project, "/bin/sh", "-c", add)
	out := run(t, w.env, project, filepath.Join(wrap, "poetry"), "add", "az-demo")
	if !strings.Contains(out, "Installing az-demo (3.0)") {
		t.Errorf("poetry add:\n%s", out)
	}
	got := run(t, w.env, project, filepath.Join(project, ".venv", "bin", "python"), "-c", "import az_demo; print(az_demo.VALUE)")
	if strings.TrimSpace(got) != "from contoso" {
		t.Errorf("import az_demo = %q", got)
	}
	if b, _ := os.ReadFile(filepath.Join(project, "pyproject.toml")); strings.Contains(string(b), "VssSessionToken") {
		t.Errorf("pyproject.toml holds the user name:\n%s", b)
	}
}

// TestPipxInstallsApp: Debian's pipx installs an app from a feed with the
// variables `feedkey setup pipx` prints, pip running feedkey's helper.
func TestPipxInstallsApp(t *testing.T) {
	w := newPositWorld(t, &simulator.PPM{Interval: 1})
	if err := w.ppm.Add(simulator.Wheel{Name: "hello-app", Version: "1.0",
		Files:       map[string]string{"hello_app/__init__.py": "def main():\n    print('hello from the feed')\n"},
		EntryPoints: "[console_scripts]\nhello-app = hello_app:main\n"}); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	w.env = append(w.env, "HOME="+home, "PIPX_HOME="+filepath.Join(home, "pipx"), "PIPX_BIN_DIR="+filepath.Join(home, "bin"),
		"USE_EMOJI=0")
	r := w.feedkey("add", w.url)
	id := strings.Fields(strings.TrimPrefix(r.Stdout, "Added posit feed "))[0]
	if r := w.feedkey("login", id); r.Code != 0 {
		t.Fatalf("login: %s", r.Stderr)
	}
	printed := w.feedkey("setup", "pipx", id).Stdout
	exports := regexp.MustCompile(`(?m)^export .*$`).FindAllString(printed, -1)
	if len(exports) != 2 {
		t.Fatalf("setup pipx printed:\n%s", printed)
	}
	// pip 23.1 or later reads PIP_KEYRING_PROVIDER: pipx's environments
	// (its shared pip included) get the machine's python3 and its pip, as
	// Debian's is 23.0.
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal(err)
	}
	w.env = append(w.env, "PIPX_DEFAULT_PYTHON="+py)
	script := strings.Join(exports, "\n") + "\nexec pipx install hello-app\n"
	start := time.Now()
	out := run(t, w.env, home, "/bin/sh", "-c", script)
	t.Logf("pipx install took %v", time.Since(start).Round(time.Millisecond))
	got := run(t, w.env, home, filepath.Join(home, "bin", "hello-app"))
	if strings.TrimSpace(got) != "hello from the feed" {
		t.Errorf("hello-app printed %q; pipx said:\n%s", got, out)
	}
}

// envValue returns the last value of name in env.
func envValue(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

// withoutTwine drops twine's variables from env: twine takes even an empty
// TWINE_USERNAME as given.
func withoutTwine(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "TWINE_") {
			out = append(out, kv)
		}
	}
	return out
}
