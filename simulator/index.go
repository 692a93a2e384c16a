package simulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Default URL path prefixes of an [Index].
const (
	DefaultPrefix      = "/simple/"
	DefaultFilesPrefix = "/files/"
)

// An Index is an http.Handler serving a PEP 503 "simple" package index and
// the wheels it lists. Set its fields before serving; the zero value, once
// wheels are added with [Index.Add], serves:
//
//	GET /simple/               the list of projects
//	GET /simple/{project}/     the files of a project (other spellings of
//	                           the name, and a missing slash, redirect with 301)
//	GET /files/{filename}      a wheel
//
// Unknown projects and files answer 404. An Index is safe for concurrent use.
type Index struct {
	// Prefix is the URL path of the index, ending in "/".
	// Empty means DefaultPrefix.
	Prefix string

	// FilesPrefix is the URL path under which wheels are served, ending
	// in "/". Empty means DefaultFilesPrefix.
	FilesPrefix string

	// FilePath, if set, returns the URL path of a file, overriding
	// FilesPrefix+filename; project is the normalized project name.
	// Services such as Azure Artifacts serve downloads at paths that
	// contain the project and version.
	FilePath func(project, version, filename string) string

	// Auth, if set, decides whether a request is authorized; see
	// [BasicToken]. Unauthorized requests answer 401.
	Auth func(r *http.Request) bool

	// Challenge, if set, sets the headers of 401 responses instead of
	// the default `WWW-Authenticate: Basic realm="simulator"`.
	Challenge func(w http.ResponseWriter)

	// Recorder, if set, records every request, authorized or not.
	Recorder *Recorder

	mu       sync.RWMutex
	projects map[string]*project // by normalized name
}

type project struct {
	name  string           // name as first added
	files map[string]*file // by filename
}

type file struct {
	version string
	data    []byte
	sha256  string // hex
}

// Add builds w and adds it to the index. A wheel with the same file name as
// one added before replaces it.
func (ix *Index) Add(w Wheel) error {
	data, err := w.Bytes()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	norm := NormalizeName(w.Name)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.projects == nil {
		ix.projects = make(map[string]*project)
	}
	p := ix.projects[norm]
	if p == nil {
		p = &project{name: w.Name, files: make(map[string]*file)}
		ix.projects[norm] = p
	}
	p.files[w.Filename()] = &file{version: w.Version, data: data, sha256: hex.EncodeToString(sum[:])}
	return nil
}

func (ix *Index) prefix() string {
	if ix.Prefix == "" {
		return DefaultPrefix
	}
	return ix.Prefix
}

// filePath returns the URL path at which a file is served.
func (ix *Index) filePath(project, version, filename string) string {
	if ix.FilePath != nil {
		return ix.FilePath(project, version, filename)
	}
	if ix.FilesPrefix == "" {
		return DefaultFilesPrefix + filename
	}
	return ix.FilesPrefix + filename
}

// ServeHTTP implements http.Handler.
func (ix *Index) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ix.Recorder.Record(r)
	if ix.Auth != nil && !ix.Auth(r) {
		if ix.Challenge != nil {
			ix.Challenge(w)
		} else {
			w.Header().Set("WWW-Authenticate", `Basic realm="simulator"`)
		}
		http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}

	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.serveFile(w, r) {
		return
	}
	prefix := ix.prefix()
	p := r.URL.Path
	switch {
	case p == prefix:
		ix.serveProjects(w)
	case p+"/" == prefix:
		redirect(w, r, prefix)
	case strings.HasPrefix(p, prefix):
		name, slash := strings.CutSuffix(p[len(prefix):], "/")
		if name == "" || strings.Contains(name, "/") {
			http.NotFound(w, r)
			return
		}
		norm := NormalizeName(name)
		if norm != name || !slash {
			redirect(w, r, prefix+norm+"/")
			return
		}
		ix.serveProject(w, r, norm)
	default:
		http.NotFound(w, r)
	}
}

// serveFile serves the file whose URL path is r.URL.Path, if there is one.
func (ix *Index) serveFile(w http.ResponseWriter, r *http.Request) bool {
	for norm, p := range ix.projects {
		for name, f := range p.files {
			if ix.filePath(norm, f.version, name) != r.URL.Path {
				continue
			}
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("ETag", `"`+f.sha256+`"`)
			http.ServeContent(w, r, name, zipTime, bytes.NewReader(f.data))
			return true
		}
	}
	return false
}

func (ix *Index) serveProjects(w http.ResponseWriter) {
	names := make([]string, 0, len(ix.projects))
	for norm := range ix.projects {
		names = append(names, norm)
	}
	sort.Strings(names)
	var b strings.Builder
	writeHead(&b, "Simple index")
	for _, norm := range names {
		fmt.Fprintf(&b, "    <a href=\"%s\">%s</a><br>\n",
			html.EscapeString(escapePath(ix.prefix()+norm+"/")), html.EscapeString(ix.projects[norm].name))
	}
	writePage(w, &b)
}

func (ix *Index) serveProject(w http.ResponseWriter, r *http.Request, norm string) {
	p := ix.projects[norm]
	if p == nil {
		http.NotFound(w, r)
		return
	}
	names := make([]string, 0, len(p.files))
	for name := range p.files {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	writeHead(&b, "Links for "+norm)
	fmt.Fprintf(&b, "    <h1>Links for %s</h1>\n", html.EscapeString(norm))
	for _, name := range names {
		f := p.files[name]
		href := escapePath(ix.filePath(norm, f.version, name)) + "#sha256=" + f.sha256
		fmt.Fprintf(&b, "    <a href=\"%s\">%s</a><br>\n", html.EscapeString(href), html.EscapeString(name))
	}
	writePage(w, &b)
}

func writeHead(b *strings.Builder, title string) {
	fmt.Fprintf(b, `<!DOCTYPE html>
<html>
  <head>
    <meta name="pypi:repository-version" content="1.0">
    <title>%s</title>
  </head>
  <body>
`, html.EscapeString(title))
}

func writePage(w http.ResponseWriter, b *strings.Builder) {
	b.WriteString("  </body>\n</html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	io.WriteString(w, b.String())
}

// redirect answers 301 with target as the new path, keeping the query.
func redirect(w http.ResponseWriter, r *http.Request, target string) {
	u := url.URL{Path: target, RawQuery: r.URL.RawQuery}
	http.Redirect(w, r, u.String(), http.StatusMovedPermanently)
}

// escapePath escapes a URL path for use in a link.
func escapePath(p string) string { return (&url.URL{Path: p}).EscapedPath() }
