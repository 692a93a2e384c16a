package setup

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/feedkey/feedkey/auth/feed"
)

// ErrConflict is returned by an edit that would replace a setting the
// person made for something else (another index URL, say).
var ErrConflict = errors.New("conflicting setting")

// pipConfigFile is the per-user pip.conf: pip reads ~/.config/pip/pip.conf
// on macOS too.
func pipConfigFile(p Paths) string {
	if p.GOOS == "windows" {
		return filepath.Join(p.AppData, "pip", "pip.ini")
	}
	if p.ConfigHome != "" {
		return filepath.Join(p.ConfigHome, "pip", "pip.conf")
	}
	return filepath.Join(p.Home, ".config", "pip", "pip.conf")
}

func planPip(t Target, p Paths) ([]Step, error) {
	idx := IndexURL(t.Feed, t.User)
	key := "index-url"
	if t.Extra {
		key = "extra-index-url"
	}
	return []Step{{
		Say:  "pip: the feed as " + key + ", with its user in the URL (pip passes it to `keyring get`), and feedkey's helper as pip's keyring",
		File: pipConfigFile(p),
		Text: "[global]\n" + key + " = " + idx + "\nkeyring-provider = subprocess\n",
		Edit: func(old []byte) ([]byte, error) {
			out := old
			if t.Extra {
				out = SetINI(out, "global", key, addToList(old, key, idx))
			} else {
				if v, ok := GetINI(old, "global", key); ok && v != idx {
					return nil, fmt.Errorf("%w: [global] index-url is %s; keep it and add the feed with --extra", ErrConflict, feed.Redact(v))
				}
				out = SetINI(out, "global", key, idx)
			}
			return SetINI(out, "global", "keyring-provider", "subprocess"), nil
		},
	}}, nil
}

// addToList adds v to the whitespace-separated list in [global] key.
func addToList(data []byte, key, v string) string {
	cur, _ := GetINI(data, "global", key)
	items := strings.Fields(cur)
	for _, it := range items {
		if it == v {
			return strings.Join(items, "\n")
		}
	}
	return strings.Join(append(items, v), "\n")
}

func planUV(t Target, p Paths) ([]Step, error) {
	idx := IndexURL(t.Feed, t.User)
	block := "[[index]]\nname = " + tomlString(t.Feed.ID) + "\nurl = " + tomlString(idx) +
		"\n# ask the keyring before the first request, as the feed needs a credential\nauthenticate = \"always\"\n"
	if !t.Extra {
		block += "# the feed replaces PyPI, as pip's index-url does\ndefault = true\n"
	}
	return []Step{{
		Say:  "uv: feedkey's helper as uv's keyring, and the feed as an index with its user in the URL",
		File: filepath.Join(p.userConfig("uv", true), "uv.toml"),
		Text: "keyring-provider = \"subprocess\"\n\n" + block,
		Edit: func(old []byte) ([]byte, error) {
			out, err := SetTOML(old, "", "keyring-provider", `"subprocess"`)
			if err != nil {
				return nil, err
			}
			return appendNamed(out, "index", t.Feed.ID, idx, block)
		},
	}}, nil
}

// appendNamed appends block, an [[array]] table with the given name and
// url, to the TOML document old, unless a table of that array already has
// that name: with the same url nothing changes; with another, it is a
// conflict the person settles.
func appendNamed(old []byte, array, name, url, block string) ([]byte, error) {
	var doc map[string]any
	if _, err := toml.Decode(string(old), &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsafeEdit, err)
	}
	tables, _ := doc[array].([]map[string]any)
	for _, tb := range tables {
		if tb["name"] != name {
			continue
		}
		if tb["url"] == url {
			return old, nil // already there
		}
		other, _ := tb["url"].(string)
		return nil, fmt.Errorf("%w: [[%s]] %s already has the URL %s", ErrConflict, array, name, feed.Redact(other))
	}
	return AppendTOML(old, block)
}

// planPipenv: pipenv resolves and installs with pip, which runs feedkey's
// helper when pipenv hands it PIPENV_KEYRING_PROVIDER (pipenv turns pip's
// prompts off, and with them the keyring, unless a provider is named). The
// feed is a [[source]] of the project's Pipfile, with its user in the URL.
func planPipenv(t Target, p Paths) ([]Step, error) {
	idx := IndexURL(t.Feed, t.User)
	block := "[[source]]\nname = " + tomlString(t.Feed.ID) + "\nurl = " + tomlString(idx) + "\nverify_ssl = true\n"
	return []Step{
		{
			Say: "pipenv (releases from 2026 on) names the keyring provider to pip for resolving and installing; put it in your shell profile",
			Env: []string{"PIPENV_KEYRING_PROVIDER=subprocess"},
		},
		{
			Say:      "pipenv (this project): the feed as a source, with its user in the URL (name it in a package's index = \"" + t.Feed.ID + "\" where it is not the first source)",
			File:     filepath.Join(p.Dir, "Pipfile"),
			Existing: true,
			Text:     block,
			Edit: func(old []byte) ([]byte, error) {
				return appendNamed(old, "source", t.Feed.ID, idx, block)
			},
		},
	}, nil
}

// planPixi: pixi resolves PyPI dependencies with uv. Of its global
// [pypi-config], only keyring-provider applies to every project; index-url
// there only seeds `pixi init`, so the index goes into the project's
// manifest ([pypi-options]).
func planPixi(t Target, p Paths) ([]Step, error) {
	idx := IndexURL(t.Feed, t.User)
	key, lit := "index-url", tomlString(idx)
	if t.Extra {
		key, lit = "extra-index-urls", "["+tomlString(idx)+"]"
	}
	return []Step{
		{
			Say:  "pixi (every project): feedkey's helper as the keyring for PyPI dependencies; the index seeds `pixi init`",
			File: filepath.Join(p.Home, ".pixi", "config.toml"),
			Text: "[pypi-config]\nkeyring-provider = \"subprocess\"\n" + key + " = " + lit + "\n",
			Edit: func(old []byte) ([]byte, error) {
				out, err := SetTOML(old, "pypi-config", "keyring-provider", `"subprocess"`)
				if err != nil {
					return nil, err
				}
				return SetTOML(out, "pypi-config", key, lit)
			},
		},
		{
			Say:      "pixi (this project): the feed as " + key + ", with its user in the URL",
			File:     filepath.Join(p.Dir, "pixi.toml"),
			Existing: true,
			Text:     "[pypi-options]\n" + key + " = " + lit + "\n",
			Edit: func(old []byte) ([]byte, error) {
				return SetTOML(old, "pypi-options", key, lit)
			},
		},
	}, nil
}

// wheelNote says how to put keyrings.feedkey where a tool runs.
func wheelNote(tool string, t Target) Step {
	return Step{
		Say: tool + " reads credentials through the keyring library in its own process: install keyrings.feedkey there",
		Text: "pipx inject " + tool + " " + ShellQuote(t.Wheel) + "    # " + tool + " installed with pipx\n" +
			"python3 -m pip install " + ShellQuote(t.Wheel) + "    # or in the environment " + tool + " runs in\n",
	}
}

func planPoetry(t Target, p Paths) ([]Step, error) {
	priority := "--priority=primary"
	if t.PoetryLegacy {
		priority = "--default" // Poetry before 1.5
	}
	return []Step{
		{
			Say:  "Poetry reads credentials through the keyring library in its own environment: add keyrings.feedkey to it (pipx-installed Poetry: `pipx inject poetry " + t.Wheel + "`)",
			Argv: []string{"poetry", "self", "add", t.Wheel},
		},
		{
			Say:  "in the project (pyproject.toml): the feed as its primary source; keyrings.feedkey answers for its URL",
			Argv: []string{"poetry", "source", "add", priority, t.Feed.ID, t.Feed.URL},
		},
	}, nil
}

func needUpload(tool string, t Target) error {
	if t.UploadURL == "" {
		return fmt.Errorf("%s uploads: %w for feed %s: give it with --upload-url", tool, ErrNoUploadURL, t.Feed.ID)
	}
	return nil
}

func planTwine(t Target, p Paths) ([]Step, error) {
	if err := needUpload("twine", t); err != nil {
		return nil, err
	}
	id := t.Feed.ID
	return []Step{
		wheelNote("twine", t),
		{
			Say:  "twine: the feed's upload URL as repository " + id + " (no password: keyrings.feedkey answers)",
			File: filepath.Join(p.Home, ".pypirc"),
			Text: "[distutils]\nindex-servers =\n    " + id + "\n\n[" + id + "]\nrepository = " + t.UploadURL + "\nusername = " + t.User + "\n",
			Edit: func(old []byte) ([]byte, error) {
				cur, _ := GetINI(old, "distutils", "index-servers")
				servers := strings.Fields(cur)
				found := false
				for _, s := range servers {
					found = found || s == id
				}
				if !found {
					servers = append(servers, id)
				}
				out := SetINI(old, "distutils", "index-servers", strings.Join(servers, "\n")+"\n")
				out = SetINI(out, id, "repository", t.UploadURL)
				return SetINI(out, id, "username", t.User), nil
			},
		},
		{Say: "then upload with", Text: "twine upload -r " + id + " dist/*\n"},
	}, nil
}

func planPDM(t Target, p Paths) ([]Step, error) {
	id := t.Feed.ID
	steps := []Step{
		{
			Say:  "pdm reads credentials through the keyring library in its own environment: add keyrings.feedkey to it",
			Argv: []string{"pdm", "self", "add", t.Wheel},
		},
		{
			Say:  "pdm (all projects): the feed as source " + id + ", with its user in the URL",
			Argv: []string{"pdm", "config", "pypi." + id + ".url", IndexURL(t.Feed, t.User)},
		},
	}
	if t.UploadURL != "" {
		steps = append(steps,
			Step{Say: "`pdm publish -r " + id + "` uploads to the feed", Argv: []string{"pdm", "config", "repository." + id + ".url", t.UploadURL}},
			Step{Say: "with the feed's user (keyrings.feedkey gives the password)", Argv: []string{"pdm", "config", "repository." + id + ".username", t.User}},
		)
	}
	return steps, nil
}

func planHatch(t Target, p Paths) ([]Step, error) {
	if err := needUpload("hatch", t); err != nil {
		return nil, err
	}
	table := "publish.index.repos." + t.Feed.ID
	return []Step{
		wheelNote("hatch", t),
		{
			Say:  "hatch: the feed's upload URL as repository " + t.Feed.ID + " (hatch's environments install with pip or uv: set those up too)",
			File: filepath.Join(p.userConfig("hatch", false), "config.toml"),
			Text: "[" + table + "]\nurl = " + tomlString(t.UploadURL) + "\nuser = " + tomlString(t.User) + "\n",
			Edit: func(old []byte) ([]byte, error) {
				out, err := SetTOML(old, table, "url", tomlString(t.UploadURL))
				if err != nil {
					return nil, err
				}
				return SetTOML(out, table, "user", tomlString(t.User))
			},
		},
		{Say: "then publish with", Text: "hatch publish -r " + t.Feed.ID + "\n"},
	}, nil
}

func planPipx(t Target, p Paths) ([]Step, error) {
	return []Step{
		{
			Say: "pipx runs pip (23.1 or later) in its environments, which reads these; put them in your shell profile",
			Env: sortedEnv(map[string]string{
				"PIP_KEYRING_PROVIDER": "subprocess",
				"PIP_INDEX_URL":        IndexURL(t.Feed, t.User),
			}),
		},
		{Say: "or, for one install", Text: "pipx install --index-url " + ShellQuote(IndexURL(t.Feed, t.User)) + " --pip-args=--keyring-provider=subprocess APP\n"},
	}, nil
}

// gitHosts are the Azure Repos URLs of f's organization: on Microsoft's
// hosts, dev.azure.com and ORG.visualstudio.com; on a configured host (Azure
// DevOps Server), that host, which serves packages and repositories both.
func gitHosts(f feed.Feed, org string) []string {
	u, err := url.Parse(f.URL)
	if err == nil && u.Hostname() != "pkgs.dev.azure.com" && !strings.HasSuffix(u.Hostname(), ".pkgs.visualstudio.com") {
		return []string{"https://" + u.Host}
	}
	return []string{"https://dev.azure.com", "https://" + strings.ToLower(org) + ".visualstudio.com"}
}

func planGit(t Target, p Paths) ([]Step, error) {
	if t.Feed.Kind != feed.Azure || t.Org == "" {
		return nil, fmt.Errorf("git: feed %s is not an Azure DevOps feed: git credentials come from an Azure organization's sign-in", t.Feed.ID)
	}
	helper := "!" + ShellQuote(filepath.ToSlash(t.Feedkey)) + " git-credential"
	var steps []Step
	for _, h := range gitHosts(t.Feed, t.Org) {
		key := "credential." + h
		steps = append(steps,
			Step{Say: "git, for " + h + ": no other credential helper (an empty entry resets inherited ones)",
				Argv: []string{"git", "config", "--global", "--replace-all", key + ".helper", ""}},
			Step{Say: "then feedkey's, which answers with organization " + t.Org + "'s sign-in",
				Argv: []string{"git", "config", "--global", "--add", key + ".helper", helper}},
		)
		if !strings.HasSuffix(h, ".visualstudio.com") {
			steps = append(steps, Step{Say: "git sends the path, whose first segment names the organization",
				Argv: []string{"git", "config", "--global", key + ".useHttpPath", "true"}})
		}
	}
	return steps, nil
}

// ShellQuote quotes s for a POSIX shell when it needs quoting.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
