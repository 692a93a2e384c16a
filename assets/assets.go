// Package assets embeds feedkey's tray icons and local web pages.
//
// The icons are drawn by build/icons (run `go generate ./assets` after
// changing it; a test there fails when the committed files are stale).
package assets

import (
	"embed"
	"io/fs"
	"path"
)

//go:generate go run ../build/icons -out icons

//go:embed icons
var icons embed.FS

// Pages holds the local web pages: html/template sources under pages/
// (pages/signin.html) and the scripts and style sheets they load
// (pages/*.js, pages/*.css). Parse a page with
// template.ParseFS(assets.Pages, "pages/signin.html"); serve Static under
// StaticPrefix.
//
//go:embed pages/*.html pages/*.js pages/*.css
var Pages embed.FS

// StaticPrefix is the URL path prefix under which the pages load their
// scripts and style sheets (e.g. /static/signin.js). No page contains
// inline script or style, so they work under a Content-Security-Policy of
// "default-src 'none'; script-src 'self'; style-src 'self'; form-action 'self'".
const StaticPrefix = "/static/"

// Static returns the pages' scripts and style sheets (only *.js and *.css,
// never the templates), rooted so that StaticPrefix+"signin.js" maps to
// "signin.js": http.StripPrefix(assets.StaticPrefix, http.FileServerFS(assets.Static())).
func Static() fs.FS {
	sub, err := fs.Sub(Pages, "pages")
	if err != nil {
		panic(err) // "pages" is a valid path; embed guarantees it exists
	}
	return staticFS{sub}
}

type staticFS struct{ fsys fs.FS }

func (s staticFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	switch path.Ext(name) {
	case ".js", ".css":
		return s.fsys.Open(name)
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// Icon states, worst last.
const (
	StateOK         = "ok"
	StateRefreshing = "refreshing"
	StateSignIn     = "signin"
	StateError      = "error"
)

// Icon returns the tray icon for state (ok, refreshing, signin or error) in
// the format the tray expects on goos (a runtime.GOOS value): a multi-size
// ICO (16, 32, 48 px) on windows, a 64×64 black-on-transparent template
// PNG on darwin, and a 64×64 colour PNG everywhere else. It returns nil
// for an unknown state.
func Icon(state string, goos string) []byte {
	switch state {
	case StateOK, StateRefreshing, StateSignIn, StateError:
	default:
		return nil
	}
	var name string
	switch goos {
	case "windows":
		name = state + ".ico"
	case "darwin":
		name = state + "-template.png"
	default:
		name = state + ".png"
	}
	b, err := icons.ReadFile("icons/" + name)
	if err != nil {
		panic("assets: embedded icon missing: " + name) // build/icons writes every state; tests check
	}
	return b
}
