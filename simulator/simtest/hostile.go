package simtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/feedkey/feedkey/simulator"
)

// Hostile is a server on loopback that answers as a test tells it to
// (redirects, hostile links) and keeps every request it receives, headers
// and body, so that a test can assert that no secret arrived there.
type Hostile struct {
	// URL is "https://127.0.0.1:port", or "http://…" for [HostilePlain].
	URL string

	mu   sync.Mutex
	seen []string
}

// NewHostile starts an https server with a certificate from ca, answering
// with answer (nil: an empty 200), closed when the test ends.
func NewHostile(t testing.TB, ca *simulator.CA, answer http.HandlerFunc) *Hostile {
	t.Helper()
	h := &Hostile{}
	srv, err := simulator.NewServerWithCA(ca, h.handler(answer))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

// HostilePlain starts a plain-http server on loopback: the cleartext end of
// a downgrade.
func HostilePlain(t testing.TB, answer http.HandlerFunc) *Hostile {
	t.Helper()
	h := &Hostile{}
	srv := httptest.NewServer(h.handler(answer))
	t.Cleanup(srv.Close)
	h.URL = srv.URL
	return h
}

func (h *Hostile) handler(answer http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var b strings.Builder
		b.WriteString(r.Method + " " + r.URL.String() + "\n")
		r.Header.Write(&b)
		b.Write(body)
		h.mu.Lock()
		h.seen = append(h.seen, b.String())
		h.mu.Unlock()
		if answer != nil {
			answer(w, r)
		}
	})
}

// Received returns every request received so far, headers and bodies, or
// "" if none arrived.
func (h *Hostile) Received() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.seen, "\n---\n")
}
