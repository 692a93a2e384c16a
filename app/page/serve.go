package page

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
)

// csp allows our own scripts, styles and images, and nothing else: no
// framing, no forms to other origins, no <base>.
const csp = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// maxForm bounds a POST body.
const maxForm = 8 << 10

// ServeHTTP checks every request (SPEC §8), in the manner of tailscale's
// localapi: the Host must be our own address (against DNS rebinding), the
// path must start with the per-run secret (compared in constant time), and
// a request from another origin (Origin, Referer, Sec-Fetch-Site) is
// refused. There is no CORS: no Access-Control-* header is ever sent.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: with no-referrer a browser sends
	// "Origin: null" on the page's own form POSTs, which the origin check
	// below must refuse. Other origins still get no Referer (the secret
	// path stays here).
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")

	if !s.hostOK(r.Host) {
		http.Error(w, "misdirected request", http.StatusMisdirectedRequest)
		return
	}
	rest, ok := s.stripSecret(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if !sameOriginRequest(r) {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	kind, name, _ := strings.Cut(rest, "/")
	switch kind {
	case "signin":
		s.serveSignin(w, r, name)
	case "static":
		s.serveStatic(w, r, name)
	case "add":
		if name != "" {
			http.NotFound(w, r)
			return
		}
		s.serveAdd(w, r)
	default:
		http.NotFound(w, r)
	}
}

// hostOK accepts only the addresses we serve on, so a page from a rebound
// DNS name (evil.example resolving to 127.0.0.1) gets nothing.
func (s *Server) hostOK(host string) bool {
	s.mu.Lock()
	port := s.port
	s.mu.Unlock()
	return port != "" && (host == "127.0.0.1:"+port || host == "localhost:"+port)
}

// stripSecret returns the path after "/<secret>/".
func (s *Server) stripSecret(p string) (rest string, ok bool) {
	n := len(s.secret)
	if len(p) < n+2 || p[0] != '/' || p[n+1] != '/' {
		return "", false
	}
	if subtle.ConstantTimeCompare([]byte(p[1:n+1]), []byte(s.secret)) != 1 {
		return "", false
	}
	return p[n+2:], true
}

// sameOriginRequest refuses requests a browser marks as coming from another
// origin. Host is already checked, so our origin is http://<Host>.
func sameOriginRequest(r *http.Request) bool {
	own := "http://" + r.Host
	if o := r.Header.Get("Origin"); o != "" && o != own { // includes "null"
		return false
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		if err != nil || u.Scheme+"://"+u.Host != own {
			return false
		}
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "none", "same-origin":
		return true
	default: // "same-site" is another port on 127.0.0.1 too
		return false
	}
}

func (s *Server) serveSignin(w http.ResponseWriter, r *http.Request, name string) {
	id, sub, _ := strings.Cut(name, "/")
	si := s.lookup(id)
	if si == nil || (sub != "" && sub != "state") {
		http.NotFound(w, r)
		return
	}
	if sub == "state" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.outcome(si))
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.renderSignin(w, id, si)
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		token := r.PostForm.Get("csrf")
		if token == "" {
			token = r.Header.Get("X-Feedkey-CSRF")
		}
		if subtle.ConstantTimeCompare([]byte(token), []byte(si.csrf)) != 1 {
			http.Error(w, "missing or wrong CSRF token", http.StatusForbidden)
			return
		}
		si.once.Do(func() { close(si.done) })
		http.Redirect(w, r, s.signinPath(id), http.StatusSeeOther)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (s *Server) renderSignin(w http.ResponseWriter, id string, si *signin) {
	data := PageData{
		Feed:            si.feed,
		UserCode:        si.userCode,
		VerificationURL: si.verificationURL,
		CSRF:            si.csrf,
		PostPath:        s.signinPath(id),
		StatePath:       s.signinPath(id) + "/state",
		StaticPath:      s.staticPath(),
		Outcome:         s.outcome(si),
	}
	select {
	case <-si.done:
		data.Done = true
	default:
	}
	var buf bytes.Buffer
	if err := s.tmpl.Execute(&buf, data); err != nil {
		http.Error(w, "rendering the page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.static == nil || !fs.ValidPath(name) || name == "." {
		http.NotFound(w, r)
		return
	}
	// No directory listings, and no index.html redirects from ServeFileFS.
	if fi, err := fs.Stat(s.static, name); err != nil || fi.IsDir() {
		http.NotFound(w, r)
		return
	}
	http.ServeFileFS(w, r, s.static, name)
}
