// Package page serves the tray's local sign-in pages on 127.0.0.1, reachable
// only through a per-run secret URL (SPEC §6 device-code sign-in, §8).
package page

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server serves sign-in pages on 127.0.0.1:0. Every URL starts with a
// random per-run secret; see [Server.ServeHTTP] for the checks. Its methods
// are safe for concurrent use.
type Server struct {
	tmpl   *template.Template
	static fs.FS
	secret string // 32 random bytes, base64url

	mu      sync.Mutex
	srv     *http.Server
	port    string
	signins map[string]*signin

	addTmpl  *template.Template // the add-feed form; nil: not served
	add      AddFunc
	addCSRF  string
	overview func() []FeedRow
}

// signin is one device-code sign-in shown on a page.
type signin struct {
	feed, userCode, verificationURL string
	csrf                            string // per sign-in, checked on every POST
	done                            chan struct{}
	once                            sync.Once
	outcome                         Outcome // zero while waiting
}

// Outcome is how a sign-in ended, as its page shows it.
type Outcome struct {
	State   string `json:"state"`             // one of the State* constants
	Message string `json:"message,omitempty"` // one line for the person
}

// States of a sign-in page.
const (
	StateWaiting = "waiting" // for the person to enter the code
	StateDone    = "done"    // signed in
	StateDenied  = "denied"  // the person declined
	StateExpired = "expired" // the code ran out
	StateFailed  = "failed"  // anything else; Message says what
)

// PageData is what the sign-in template (assets/pages/signin.html) renders.
type PageData struct {
	Feed            string
	UserCode        string
	VerificationURL string
	CSRF            string // send back as the form field "csrf" (or header X-Feedkey-CSRF)
	PostPath        string // where the "I've entered the code" form POSTs
	StatePath       string // GET: the sign-in's [Outcome] as JSON, for the page to follow
	StaticPath      string // prefix of the static files, ending in "/"
	Done            bool   // the person already confirmed
	Outcome         Outcome
}

// New returns a server that renders sign-in pages with tmpl (given
// [PageData]) and serves files from static (may be nil) under StaticPath.
func New(tmpl *template.Template, static fs.FS) (*Server, error) {
	if tmpl == nil {
		return nil, errors.New("page: nil template")
	}
	return &Server{
		tmpl:    tmpl,
		static:  static,
		secret:  randomToken(32),
		signins: make(map[string]*signin),
	}, nil
}

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Start listens on a random port of 127.0.0.1 and serves in the background.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("page: already started")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listening for local pages: %w", err)
	}
	s.port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
	go s.srv.Serve(ln)
	return nil
}

// Close stops the server and closes its connections.
func (s *Server) Close() error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// Show registers a device-code sign-in and returns its page,
// http://127.0.0.1:PORT/<secret>/signin/<id>. Call [Server.Start] first;
// before it Show returns "".
func (s *Server) Show(feed, userCode, verificationURL string) (pageURL string) {
	id := randomToken(16)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.port == "" {
		return ""
	}
	s.signins[id] = &signin{
		feed:            feed,
		userCode:        userCode,
		verificationURL: verificationURL,
		csrf:            randomToken(32),
		done:            make(chan struct{}),
	}
	return "http://127.0.0.1:" + s.port + s.signinPath(id)
}

// Done returns a channel closed when the person confirms on the page that
// they entered the code (a CSRF-checked POST). id is the URL Show returned
// or its last path element; Done returns nil for an unknown id.
func (s *Server) Done(id string) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if si := s.signins[lastElem(id)]; si != nil {
		return si.done
	}
	return nil
}

// Finish records how the sign-in of page id ended; its page shows it (it
// follows the state by itself). Unknown ids are ignored.
func (s *Server) Finish(id string, o Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if si := s.signins[lastElem(id)]; si != nil {
		si.outcome = o
	}
}

// outcome returns the state of sign-in si.
func (s *Server) outcome(si *signin) Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	if si.outcome.State == "" {
		return Outcome{State: StateWaiting}
	}
	return si.outcome
}

// Remove forgets a sign-in (when it finished or was cancelled); its page
// then answers 404.
func (s *Server) Remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.signins, lastElem(id))
}

func lastElem(id string) string {
	return id[strings.LastIndexByte(id, '/')+1:]
}

func (s *Server) signinPath(id string) string { return "/" + s.secret + "/signin/" + id }
func (s *Server) staticPath() string          { return "/" + s.secret + "/static/" }

func (s *Server) lookup(id string) *signin {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.signins[id]
}
