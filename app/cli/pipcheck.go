package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/config"
)

// pipRunTimeout bounds each pip command doctor runs.
const pipRunTimeout = 30 * time.Second

// minPip is the first pip with --keyring-provider.
var minPip = [2]int{23, 1}

// checkPip checks the pip on PATH: recent enough to run the helper, told to
// run it (keyring-provider), and given index URLs with the user name pip
// needs before it asks.
func checkPip(ctx context.Context, env *Env, cfg *config.Config, d *doctor) {
	pip, err := env.LookPath("pip")
	if err != nil {
		if pip, err = env.LookPath("pip3"); err != nil {
			d.note("pip", "no pip on PATH: not checked")
			return
		}
	}
	out, err := runPip(ctx, env, pip, "--version")
	if err != nil {
		d.fail("pip", fmt.Errorf("%s --version: %w", pip, err))
		return
	}
	version, ok := pipVersion(out)
	switch {
	case !ok:
		d.fail("pip", fmt.Errorf("%s --version said %q: not pip?", pip, strings.TrimSpace(out)))
		return
	case version[0] < minPip[0] || version[0] == minPip[0] && version[1] < minPip[1]:
		d.fail("pip", fmt.Errorf("%s is pip %d.%d, older than %d.%d, and cannot run feedkey's helper: upgrade it (python -m pip install --upgrade pip)", pip, version[0], version[1], minPip[0], minPip[1]))
		return
	}
	d.ok("pip", fmt.Sprintf("%s is pip %d.%d", pip, version[0], version[1]))

	settings := map[string]setting{}
	if list, err := runPip(ctx, env, pip, "config", "list"); err == nil {
		settings = pipConfig(list)
	}
	for _, name := range []string{"keyring-provider", "index-url", "extra-index-url"} {
		if v := env.Getenv("PIP_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); v != "" {
			settings[name] = setting{v, "PIP_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))}
		}
	}
	checkProvider(d, "pip", settings["keyring-provider"],
		"set PIP_KEYRING_PROVIDER=subprocess, or `pip config set global.keyring-provider subprocess`, or pass --keyring-provider subprocess")
	for _, name := range []string{"index-url", "extra-index-url"} {
		s := settings[name]
		for _, u := range strings.Fields(s.value) {
			checkIndexUser(d, "pip", cfg, u, s.from)
		}
	}
}

// checkUV checks uv's settings when uv is installed or configured: its
// keyring provider and its index URLs (environment, then the user's uv.toml).
func checkUV(env *Env, cfg *config.Config, d *doctor) {
	settings := map[string]setting{}
	if path := uvConfigPath(env); path != "" {
		var file struct {
			KeyringProvider string   `toml:"keyring-provider"`
			IndexURL        string   `toml:"index-url"`
			ExtraIndexURL   []string `toml:"extra-index-url"`
			Index           []struct {
				URL string `toml:"url"`
			} `toml:"index"`
		}
		if _, err := toml.DecodeFile(path, &file); err == nil {
			urls := append([]string{file.IndexURL}, file.ExtraIndexURL...)
			for _, ix := range file.Index {
				urls = append(urls, ix.URL)
			}
			settings["keyring-provider"] = setting{file.KeyringProvider, path}
			settings["index"] = setting{strings.Join(urls, " "), path}
		} else if !errors.Is(err, os.ErrNotExist) {
			d.fail("uv", fmt.Errorf("%s: %v", path, err))
		}
	}
	if v := env.Getenv("UV_KEYRING_PROVIDER"); v != "" {
		settings["keyring-provider"] = setting{v, "UV_KEYRING_PROVIDER"}
	}
	_, lookErr := env.LookPath("uv")
	if lookErr != nil && len(settings) == 0 {
		return // no uv here
	}
	checkProvider(d, "uv", settings["keyring-provider"], `set UV_KEYRING_PROVIDER=subprocess, or keyring-provider = "subprocess" in uv.toml`)
	for _, s := range append([]setting{settings["index"]}, uvIndexEnv(env)...) {
		for _, u := range strings.Fields(s.value) {
			checkIndexUser(d, "uv", cfg, u, s.from)
		}
	}
}

// uvIndexEnv returns the index URLs uv takes from the environment.
func uvIndexEnv(env *Env) []setting {
	var out []setting
	for _, name := range []string{"UV_DEFAULT_INDEX", "UV_INDEX_URL", "UV_INDEX", "UV_EXTRA_INDEX_URL"} {
		if v := env.Getenv(name); v != "" {
			var urls []string
			for _, f := range strings.Fields(v) {
				// UV_INDEX entries may be name=url.
				if i := strings.Index(f, "="); i >= 0 && !strings.Contains(f[:i], "/") {
					f = f[i+1:]
				}
				urls = append(urls, f)
			}
			out = append(out, setting{strings.Join(urls, " "), name})
		}
	}
	return out
}

// uvConfigPath is the user-level uv.toml ($XDG_CONFIG_HOME/uv/uv.toml,
// else ~/.config/uv/uv.toml; %APPDATA%\uv\uv.toml on Windows).
func uvConfigPath(env *Env) string {
	if p := env.Getenv("UV_CONFIG_FILE"); p != "" {
		return p
	}
	if d := env.Getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "uv", "uv.toml")
	}
	if d := env.Getenv("APPDATA"); d != "" {
		return filepath.Join(d, "uv", "uv.toml")
	}
	if h := env.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "uv", "uv.toml")
	}
	return ""
}

// setting is a configured value and where it came from.
type setting struct{ value, from string }

// checkProvider reports a tool's keyring-provider setting.
func checkProvider(d *doctor, tool string, s setting, how string) {
	switch s.value {
	case "subprocess":
		d.ok(tool, "keyring-provider = subprocess ("+s.from+")")
	case "auto":
		d.note(tool, "keyring-provider = auto ("+s.from+"): a keyring importable by that Python wins over the helper; subprocess is surer")
	case "":
		d.note(tool, "does not ask a keyring unless told to: "+how)
	default:
		d.fail(tool, fmt.Errorf("keyring-provider = %s (%s): it never runs feedkey's helper; %s", s.value, s.from, how))
	}
}

// checkIndexUser fails an index URL that a feed covers but that has no user
// name: pip and uv ask the keyring only with one.
func checkIndexUser(d *doctor, tool string, cfg *config.Config, raw, from string) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return
	}
	user := u.User
	u.User = nil
	f, err := cfg.Resolve(u.String())
	if err != nil {
		return // not a feedkey feed
	}
	if user == nil || user.Username() == "" {
		d.fail(tool, fmt.Errorf("the index URL %s (%s) of feed %s has no user name, so %s never asks the helper: use %s",
			feed.Redact(raw), from, f.ID, tool, strings.Replace(u.String(), "://", "://"+f.DefaultUsername()+"@", 1)))
		return
	}
	d.ok(tool, fmt.Sprintf("index URL of feed %s (%s) has the user name %s", f.ID, from, user.Username()))
}

func runPip(ctx context.Context, env *Env, pip string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, pipRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, pip, args...)
	cmd.Env = append(env.environ(), "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_INPUT=1")
	out, err := cmd.Output()
	return string(out), err
}

var pipVersionRE = regexp.MustCompile(`^pip (\d+)\.(\d+)`)

// pipVersion reads "pip 23.2.1 from …".
func pipVersion(out string) ([2]int, bool) {
	m := pipVersionRE.FindStringSubmatch(strings.TrimSpace(out))
	if m == nil {
		return [2]int{}, false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return [2]int{major, minor}, true
}

// pipConfig reads `pip config list`: lines "global.index-url='https://…'",
// the last of each key winning as in pip (site over user over global).
func pipConfig(list string) map[string]setting {
	out := map[string]setting{}
	sc := bufio.NewScanner(strings.NewReader(list))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		section, name, ok := strings.Cut(key, ".")
		if !ok || (section != "global" && section != "install") {
			continue
		}
		value = strings.Trim(value, `'"`)
		out[name] = setting{strings.ReplaceAll(value, `\n`, " "), "pip config " + key}
	}
	return out
}
