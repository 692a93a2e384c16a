package setup

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/feedkey/feedkey/auth/feed"
)

var (
	azureFeed = feed.Feed{ID: "contoso-py", Kind: feed.Azure, URL: "https://pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple/"}
	positFeed = feed.Feed{ID: "ppm", Kind: feed.Posit, URL: "https://ppm.example.com/pypi-auth/latest/simple/"}
	tokenFeed = feed.Feed{ID: "team", Kind: feed.Token, URL: "https://pkgs.example.com/team/simple/", Username: "ci"}
	paths     = Paths{GOOS: "linux", Home: "/home/u", Dir: "/work/proj"}
)

func target(f feed.Feed) Target {
	t := Target{Feed: f, User: f.DefaultUsername(), Feedkey: "/opt/feed key/feedkey", Wheel: "/usr/share/feedkey/keyrings_feedkey-1.0-py3-none-any.whl", Org: "contoso"}
	t.UploadURL, _ = UploadURL(f, "local-python")
	return t
}

func TestUploadURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		f      feed.Feed
		source string
		want   string
		err    error
	}{
		{azureFeed, "", "https://pkgs.dev.azure.com/contoso/_packaging/py/pypi/upload/", nil},
		{feed.Feed{ID: "p", Kind: feed.Azure, URL: "https://pkgs.dev.azure.com/contoso/proj/_packaging/py/pypi/simple/"}, "", "https://pkgs.dev.azure.com/contoso/proj/_packaging/py/pypi/upload/", nil},
		{positFeed, "local-python", "https://ppm.example.com/upload/pypi/local-python", nil},
		{feed.Feed{ID: "p", Kind: feed.Posit, URL: "https://h/rspm/pypi/latest/simple/", Address: "https://h/rspm/"}, "src", "https://h/rspm/upload/pypi/src", nil},
		{positFeed, "", "", ErrNoUploadURL},
		{tokenFeed, "", "", ErrNoUploadURL},
	} {
		got, err := UploadURL(tc.f, tc.source)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("UploadURL(%s, %q) = %q, %v; want %q, %v", tc.f.URL, tc.source, got, err, tc.want, tc.err)
		}
	}
}

// apply runs the file steps of a plan on the given starting contents (by
// file name) and returns the results.
func apply(t *testing.T, steps []Step, files map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, v := range files {
		out[k] = v
	}
	for _, s := range steps {
		if s.File == "" {
			continue
		}
		var old []byte
		if v, ok := out[s.File]; ok {
			old = []byte(v)
		}
		b, err := s.Edit(old)
		if err != nil {
			t.Fatalf("edit %s: %v", s.File, err)
		}
		out[s.File] = string(b)
	}
	return out
}

func TestPipConfig(t *testing.T) {
	t.Parallel()
	steps, err := Plan("pip", target(tokenFeed), paths)
	if err != nil {
		t.Fatal(err)
	}
	file := "/home/u/.config/pip/pip.conf"
	mine := "# my settings\n[global]\ntimeout = 60\n\n[install]\nno-compile = true\n"
	got := apply(t, steps, map[string]string{file: mine})[file]
	for key, want := range map[string]string{"index-url": "https://ci@pkgs.example.com/team/simple/", "keyring-provider": "subprocess", "timeout": "60"} {
		if v, _ := GetINI([]byte(got), "global", key); v != want {
			t.Errorf("[global] %s = %q, want %q in\n%s", key, v, want, got)
		}
	}
	if v, _ := GetINI([]byte(got), "install", "no-compile"); v != "true" || !strings.HasPrefix(got, "# my settings\n") {
		t.Errorf("the person's settings were not kept:\n%s", got)
	}
	// Applying twice changes nothing.
	if again := apply(t, steps, map[string]string{file: got})[file]; again != got {
		t.Errorf("second apply changed the file:\n%s\nto\n%s", got, again)
	}
	// Another index is not replaced silently; --extra adds beside it.
	other := "[global]\nindex-url = https://other.example/simple/\n"
	if _, err := steps[0].Edit([]byte(other)); !errors.Is(err, ErrConflict) {
		t.Errorf("edit over another index-url: %v", err)
	}
	tg := target(tokenFeed)
	tg.Extra = true
	steps, _ = Plan("pip", tg, paths)
	got = apply(t, steps, map[string]string{file: other + "extra-index-url = https://x.example/simple/\n"})[file]
	if v, _ := GetINI([]byte(got), "global", "extra-index-url"); v != "https://x.example/simple/\nhttps://ci@pkgs.example.com/team/simple/" {
		t.Errorf("extra-index-url = %q", v)
	}
}

func TestUVConfig(t *testing.T) {
	t.Parallel()
	steps, err := Plan("uv", target(azureFeed), Paths{GOOS: "linux", Home: "/home/u", ConfigHome: "/xdg"})
	if err != nil {
		t.Fatal(err)
	}
	file := "/xdg/uv/uv.toml"
	mine := "# mine\nnative-tls = true\n\n[[index]]\nname = \"other\"\nurl = \"https://other.example/simple/\"\n"
	got := apply(t, steps, map[string]string{file: mine})[file]
	var doc struct {
		KeyringProvider string `toml:"keyring-provider"`
		NativeTLS       bool   `toml:"native-tls"`
		Index           []struct {
			Name, URL, Authenticate string
			Default                 bool
		}
	}
	if _, err := toml.Decode(got, &doc); err != nil {
		t.Fatalf("%v in\n%s", err, got)
	}
	if doc.KeyringProvider != "subprocess" || !doc.NativeTLS || len(doc.Index) != 2 || !strings.Contains(got, "# mine") {
		t.Fatalf("uv.toml =\n%s", got)
	}
	ix := doc.Index[1]
	if ix.Name != "contoso-py" || ix.URL != "https://VssSessionToken@pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple/" || ix.Authenticate != "always" || !ix.Default {
		t.Errorf("index = %+v", ix)
	}
	if again := apply(t, steps, map[string]string{file: got})[file]; again != got {
		t.Errorf("second apply changed uv.toml")
	}
	clash := "[[index]]\nname = \"contoso-py\"\nurl = \"https://elsewhere/simple/\"\n"
	if _, err := steps[0].Edit([]byte(clash)); !errors.Is(err, ErrConflict) {
		t.Errorf("edit over another index of the same name: %v", err)
	}
	if _, err := steps[0].Edit([]byte("broken = [\n")); !errors.Is(err, ErrUnsafeEdit) {
		t.Errorf("edit of a broken file: %v", err)
	}
}

func TestPipenvConfig(t *testing.T) {
	t.Parallel()
	steps, err := Plan("pipenv", target(azureFeed), paths)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 2 || !slices.Equal(steps[0].Env, []string{"PIPENV_KEYRING_PROVIDER=subprocess"}) || !steps[1].Existing {
		t.Fatalf("steps = %+v", steps)
	}
	file := "/work/proj/Pipfile"
	mine := "# mine\n[[source]]\nurl = \"https://pypi.org/simple\"\nverify_ssl = true\nname = \"pypi\"\n\n[packages]\naz-demo = {version = \"*\", index = \"contoso-py\"}\n"
	got := apply(t, steps, map[string]string{file: mine})[file]
	var doc struct {
		Source []struct {
			Name, URL string
			VerifySSL bool `toml:"verify_ssl"`
		}
		Packages map[string]any
	}
	if _, err := toml.Decode(got, &doc); err != nil {
		t.Fatalf("%v in\n%s", err, got)
	}
	if len(doc.Source) != 2 || doc.Source[0].Name != "pypi" || len(doc.Packages) != 1 || !strings.Contains(got, "# mine") {
		t.Fatalf("Pipfile =\n%s", got)
	}
	if src := doc.Source[1]; src.Name != "contoso-py" || src.URL != "https://VssSessionToken@pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple/" || !src.VerifySSL {
		t.Errorf("source = %+v", src)
	}
	if again := apply(t, steps, map[string]string{file: got})[file]; again != got {
		t.Errorf("second apply changed the Pipfile")
	}
	clash := "[[source]]\nname = \"contoso-py\"\nurl = \"https://elsewhere/simple/\"\n"
	if _, err := steps[1].Edit([]byte(clash)); !errors.Is(err, ErrConflict) {
		t.Errorf("edit over another source of the same name: %v", err)
	}
	if _, err := steps[1].Edit([]byte("[[source]\n")); !errors.Is(err, ErrUnsafeEdit) {
		t.Errorf("edit of a broken Pipfile: %v", err)
	}
}

func TestPixiAndHatchConfig(t *testing.T) {
	t.Parallel()
	steps, _ := Plan("pixi", target(positFeed), paths)
	file, manifest := "/home/u/.pixi/config.toml", "/work/proj/pixi.toml"
	files := apply(t, steps, map[string]string{
		file:     "default-channels = [\"conda-forge\"]\n\n[pypi-config]\nallow-insecure-host = [\"x\"]\n",
		manifest: "[workspace]\nchannels = [\"conda-forge\"]\n\n[pypi-dependencies]\nppm-demo = \"*\"\n",
	})
	var m struct {
		PyPIOptions struct {
			IndexURL string `toml:"index-url"`
		} `toml:"pypi-options"`
		Deps map[string]string `toml:"pypi-dependencies"`
	}
	if _, err := toml.Decode(files[manifest], &m); err != nil || m.PyPIOptions.IndexURL != "https://__token__@ppm.example.com/pypi-auth/latest/simple/" || m.Deps["ppm-demo"] != "*" {
		t.Errorf("pixi.toml (%v) =\n%s", err, files[manifest])
	}
	got := files[file]
	var pixi struct {
		Channels []string `toml:"default-channels"`
		PyPI     struct {
			IndexURL        string   `toml:"index-url"`
			KeyringProvider string   `toml:"keyring-provider"`
			Insecure        []string `toml:"allow-insecure-host"`
		} `toml:"pypi-config"`
	}
	if _, err := toml.Decode(got, &pixi); err != nil {
		t.Fatal(err)
	}
	if pixi.PyPI.IndexURL != "https://__token__@ppm.example.com/pypi-auth/latest/simple/" || pixi.PyPI.KeyringProvider != "subprocess" ||
		len(pixi.Channels) != 1 || len(pixi.PyPI.Insecure) != 1 {
		t.Errorf("pixi config =\n%s", got)
	}

	steps, err := Plan("hatch", target(azureFeed), paths)
	if err != nil {
		t.Fatal(err)
	}
	file = "/home/u/.config/hatch/config.toml"
	got = apply(t, steps, map[string]string{file: "mode = \"local\"\n"})[file]
	var hatch struct {
		Mode    string
		Publish struct {
			Index struct {
				Repos map[string]struct{ URL, User string }
			}
		}
	}
	if _, err := toml.Decode(got, &hatch); err != nil {
		t.Fatal(err)
	}
	repo := hatch.Publish.Index.Repos["contoso-py"]
	if hatch.Mode != "local" || repo.URL != "https://pkgs.dev.azure.com/contoso/_packaging/py/pypi/upload/" || repo.User != "VssSessionToken" {
		t.Errorf("hatch config =\n%s", got)
	}
}

func TestTwineConfig(t *testing.T) {
	t.Parallel()
	steps, err := Plan("twine", target(positFeed), paths)
	if err != nil {
		t.Fatal(err)
	}
	file := "/home/u/.pypirc"
	mine := "[distutils]\nindex-servers =\n    pypi\n\n[pypi]\nusername = __token__\n"
	got := apply(t, steps, map[string]string{file: mine})[file]
	servers, _ := GetINI([]byte(got), "distutils", "index-servers")
	repo, _ := GetINI([]byte(got), "ppm", "repository")
	user, _ := GetINI([]byte(got), "ppm", "username")
	pypi, _ := GetINI([]byte(got), "pypi", "username")
	if strings.Fields(servers)[0] != "pypi" || strings.Fields(servers)[1] != "ppm" || repo != "https://ppm.example.com/upload/pypi/local-python" || user != "__token__" || pypi != "__token__" {
		t.Errorf(".pypirc =\n%s", got)
	}
	if strings.Contains(got, "password") {
		t.Errorf(".pypirc holds a password:\n%s", got)
	}
	if again := apply(t, steps, map[string]string{file: got})[file]; again != got {
		t.Errorf("second apply changed .pypirc:\n%s", again)
	}
	if _, err := Plan("twine", Target{Feed: tokenFeed}, paths); !errors.Is(err, ErrNoUploadURL) {
		t.Errorf("twine without an upload URL: %v", err)
	}
}

func TestCommands(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tool string
		t    Target
		want []string // each a command line that must be in the plan
	}{
		{"poetry", target(azureFeed), []string{
			"poetry self add /usr/share/feedkey/keyrings_feedkey-1.0-py3-none-any.whl",
			"poetry source add --priority=primary contoso-py https://pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple/"}},
		{"poetry", func() Target { t := target(azureFeed); t.PoetryLegacy = true; return t }(), []string{
			"poetry source add --default contoso-py https://pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple/"}},
		{"pdm", target(tokenFeed), []string{"pdm config pypi.team.url https://ci@pkgs.example.com/team/simple/"}},
		{"pdm", target(azureFeed), []string{"pdm config repository.contoso-py.url https://pkgs.dev.azure.com/contoso/_packaging/py/pypi/upload/",
			"pdm config repository.contoso-py.username VssSessionToken"}},
		{"git", target(azureFeed), []string{
			"git config --global --replace-all credential.https://dev.azure.com.helper ",
			"git config --global --add credential.https://dev.azure.com.helper !'/opt/feed key/feedkey' git-credential",
			"git config --global credential.https://dev.azure.com.useHttpPath true",
			"git config --global --add credential.https://contoso.visualstudio.com.helper !'/opt/feed key/feedkey' git-credential"}},
	} {
		steps, err := Plan(tc.tool, tc.t, paths)
		if err != nil {
			t.Fatalf("%s: %v", tc.tool, err)
		}
		var lines []string
		for _, s := range steps {
			if len(s.Argv) > 0 {
				lines = append(lines, strings.Join(s.Argv, " "))
			}
		}
		for _, w := range tc.want {
			found := false
			for _, l := range lines {
				found = found || l == w
			}
			if !found {
				t.Errorf("%s: no %q in\n%s", tc.tool, w, strings.Join(lines, "\n"))
			}
		}
	}
	if _, err := Plan("git", target(tokenFeed), paths); err == nil {
		t.Error("git set up for a token feed")
	}
	if _, err := Plan("conda", target(tokenFeed), paths); !errors.Is(err, ErrUnknownTool) {
		t.Errorf("unknown tool: %v", err)
	}
}

func TestPipxEnv(t *testing.T) {
	t.Parallel()
	steps, _ := Plan("pipx", target(azureFeed), paths)
	env := strings.Join(steps[0].Env, "\n")
	if env != "PIP_INDEX_URL=https://VssSessionToken@pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple/\nPIP_KEYRING_PROVIDER=subprocess" {
		t.Errorf("pipx env = %q", env)
	}
}

func TestWindowsPaths(t *testing.T) {
	t.Parallel()
	p := Paths{GOOS: "windows", Home: `C:\Users\u`, AppData: `C:\Users\u\AppData\Roaming`, LocalAppData: `C:\Users\u\AppData\Local`}
	for tool, want := range map[string]string{
		"pip":   filepath.Join(p.AppData, "pip", "pip.ini"),
		"uv":    filepath.Join(p.AppData, "uv", "uv.toml"),
		"hatch": filepath.Join(p.LocalAppData, "hatch", "config.toml"),
	} {
		steps, err := Plan(tool, target(azureFeed), p)
		if err != nil {
			t.Fatal(err)
		}
		var files []string
		for _, s := range steps {
			if s.File != "" {
				files = append(files, s.File)
			}
		}
		if len(files) != 1 || files[0] != want {
			t.Errorf("%s files = %q, want %q", tool, files, want)
		}
	}
}

func TestINIEdits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, section, key, value, want string }{
		{"", "global", "a", "1", "[global]\na = 1\n"},
		{"[global]\na = 0\nb = 2\n", "global", "a", "1", "[global]\na = 1\nb = 2\n"},
		{"[global]\nA_B: 0\n", "global", "a-b", "1", "[global]\na-b = 1\n"},
		{"[x]\nk = v\n\n[global]\n# c\nb = 2\n\n", "global", "a", "1", "[x]\nk = v\n\n[global]\n# c\nb = 2\na = 1\n\n"},
		{"[global]\nlist =\n    one\n    two\nz = 1\n", "global", "list", "three", "[global]\nlist = three\nz = 1\n"},
		{"[other]\nk = v\r\n", "global", "a", "1", "[other]\nk = v\n\n[global]\na = 1\n"},
	} {
		if got := string(SetINI([]byte(tc.in), tc.section, tc.key, tc.value)); got != tc.want {
			t.Errorf("SetINI(%q, %s, %s) =\n%q\nwant\n%q", tc.in, tc.section, tc.key, got, tc.want)
		}
	}
}
