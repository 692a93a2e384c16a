package page

import (
	"bytes"
	"context"
	"crypto/subtle"
	"html/template"
	"net/http"
	"strings"
	"time"
)

// AddData is what the add-feed template (assets/pages/add.html) renders.
type AddData struct {
	CSRF       string
	PostPath   string
	StaticPath string
	URL        string // what was submitted, shown again after an error
	Message    string // the outcome of the last submission
	Failed     bool
	Feeds      []FeedRow // the overview: every credential and its state
}

// FeedRow is one line of the overview on the feedkey page.
type FeedRow struct {
	Label string // "contoso — valid 5 h 12 m"
	State string // ok, refreshing, signin or error (the tray's states)
}

// AddFunc adds the feed at url, with token for static-token feeds (may be
// empty), and returns a one-line outcome for the page.
type AddFunc func(ctx context.Context, url, token string) (string, error)

// EnableAdd serves feedkey's page at [Server.AddURL]: the overview of the
// feeds that overview returns (may be nil), and an "Add feed" form handled by
// add, rendered with tmpl. Call it before Start.
func (s *Server) EnableAdd(tmpl *template.Template, add AddFunc, overview func() []FeedRow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addTmpl, s.add, s.addCSRF, s.overview = tmpl, add, randomToken(32), overview
}

// AddURL returns the add-feed page, or "" when not enabled or not started.
func (s *Server) AddURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.port == "" || s.add == nil {
		return ""
	}
	return "http://127.0.0.1:" + s.port + s.addPath()
}

func (s *Server) addPath() string { return "/" + s.secret + "/add" }

func (s *Server) serveAdd(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	tmpl, add, csrf, overview := s.addTmpl, s.add, s.addCSRF, s.overview
	s.mu.Unlock()
	if add == nil {
		http.NotFound(w, r)
		return
	}
	data := AddData{CSRF: csrf, PostPath: s.addPath(), StaticPath: s.staticPath()}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(csrf)) != 1 {
			http.Error(w, "missing or wrong CSRF token", http.StatusForbidden)
			return
		}
		data.URL = strings.TrimSpace(r.PostForm.Get("url"))
		ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
		defer cancel()
		msg, err := add(ctx, data.URL, strings.TrimSpace(r.PostForm.Get("token")))
		if err != nil {
			data.Message, data.Failed = err.Error(), true
		} else {
			data.Message, data.URL = msg, ""
		}
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if overview != nil {
		data.Feeds = overview()
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		http.Error(w, "rendering the page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}
