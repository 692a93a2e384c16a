// Package setup knows how each Python packaging tool, and git, is told to
// take its credentials from feedkey: which file holds which setting, or
// which command sets it. [Plan] returns the steps for one tool and one feed;
// `feedkey setup` prints them or, asked to, applies them.
//
// Edits change only the settings they name and keep the rest of a file as
// the person wrote it, comments included.
package setup

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"

	"github.com/feedkey/feedkey/auth/feed"
)

// Target is what a tool is set up for.
type Target struct {
	Feed feed.Feed
	// User is the user name the feed's credential is presented with; the
	// tools that run `keyring` as a subprocess need it in the index URL.
	User string
	// UploadURL is where twine, hatch and pdm upload; empty when it cannot
	// be derived from the feed (see [UploadURL]).
	UploadURL string
	// Feedkey is the path of the feedkey program (git runs it).
	Feedkey string
	// Wheel is the keyrings.feedkey wheel to install into the tools that use
	// the keyring library in-process, or its project name when no wheel
	// ships beside feedkey.
	Wheel string
	// Extra adds the feed beside the tool's index (pip's extra-index-url)
	// instead of making it the index.
	Extra bool
	// Org is the Azure DevOps organization (git).
	Org string
	// PoetryLegacy is set for Poetry before 1.5, whose `source add` takes
	// --default instead of --priority.
	PoetryLegacy bool
}

// Paths locates the configuration files of the tools.
type Paths struct {
	GOOS         string
	Home         string
	ConfigHome   string // XDG_CONFIG_HOME, or empty
	AppData      string // Windows %APPDATA%
	LocalAppData string // Windows %LOCALAPPDATA%
	Dir          string // the working directory (project files)
}

// userConfig is the per-user configuration directory of a tool as
// platformdirs computes it (pip, uv, hatch and pdm use it).
func (p Paths) userConfig(app string, roaming bool) string {
	switch p.GOOS {
	case "windows":
		if roaming {
			return filepath.Join(p.AppData, app)
		}
		return filepath.Join(p.LocalAppData, app)
	case "darwin":
		return filepath.Join(p.Home, "Library", "Application Support", app)
	}
	if p.ConfigHome != "" {
		return filepath.Join(p.ConfigHome, app)
	}
	return filepath.Join(p.Home, ".config", app)
}

// A Step is one thing to do: edit a file, run a command, or set variables.
type Step struct {
	// Say is one line on what the step does and why.
	Say string
	// File is the file to edit, with Text as the settings shown to the
	// person and Edit applying them to the file's current content (nil
	// when the file does not exist yet).
	File string
	Text string
	Edit func(old []byte) ([]byte, error)
	// Existing marks an edit of a project's file, made only where the file
	// exists.
	Existing bool
	// Argv is a command to run (in Paths.Dir).
	Argv []string
	// Env lists NAME=value settings for the shell profile; nothing applies
	// them.
	Env []string
}

// Tools lists the tools [Plan] knows, in the order help shows them.
var Tools = []string{"pip", "uv", "pixi", "poetry", "pipenv", "twine", "pdm", "hatch", "pipx", "git"}

// ErrUnknownTool is returned by [Plan] for a tool it does not know.
var ErrUnknownTool = errors.New("unknown tool")

// ErrNoUploadURL is returned for an upload tool when the feed's upload URL
// cannot be derived and none was given.
var ErrNoUploadURL = errors.New("no upload URL")

// Plan returns the steps that make tool use feedkey for t.
func Plan(tool string, t Target, p Paths) ([]Step, error) {
	build, ok := planners[tool]
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownTool, tool, strings.Join(Tools, ", "))
	}
	return build(t, p)
}

var planners = map[string]func(Target, Paths) ([]Step, error){
	"pip":    planPip,
	"uv":     planUV,
	"pixi":   planPixi,
	"poetry": planPoetry,
	"pipenv": planPipenv,
	"twine":  planTwine,
	"pdm":    planPDM,
	"hatch":  planHatch,
	"pipx":   planPipx,
	"git":    planGit,
}

// IndexURL returns the feed's URL with user in it (no password): pip and uv
// pass that user to `keyring get`.
func IndexURL(f feed.Feed, user string) string {
	u, err := url.Parse(f.URL)
	if err != nil || user == "" {
		return f.URL
	}
	u.User = url.User(user)
	return u.String()
}

// UploadURL derives where uploads go for f: Azure Artifacts takes them at
// the feed's …/pypi/upload/; Package Manager at /upload/pypi/<source> of its
// server, so source must name the local source; other indexes have no
// derivable upload URL.
func UploadURL(f feed.Feed, source string) (string, error) {
	u, err := url.Parse(f.URL)
	if err != nil {
		return "", fmt.Errorf("feed %s: %w", f.ID, err)
	}
	switch f.Kind {
	case feed.Azure:
		i := strings.Index(u.Path, "/pypi/")
		if i < 0 {
			return "", fmt.Errorf("%w: the URL of feed %s has no /pypi/ part", ErrNoUploadURL, f.ID)
		}
		u.Path = u.Path[:i] + "/pypi/upload/"
		return u.String(), nil
	case feed.Posit:
		if source == "" {
			return "", fmt.Errorf("%w: Package Manager takes uploads into a local source: name it with --source", ErrNoUploadURL)
		}
		base := u.Scheme + "://" + u.Host
		if f.Address != "" {
			base = strings.TrimSuffix(f.Address, "/")
		}
		return base + "/upload/pypi/" + url.PathEscape(source), nil
	}
	return "", fmt.Errorf("%w for token feed %s: give it with --upload-url", ErrNoUploadURL, f.ID)
}

// sortedEnv renders variables in a stable order.
func sortedEnv(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
