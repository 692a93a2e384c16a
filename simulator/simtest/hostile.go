package simtest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/untrusted"
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

// RedirectTargets are the places a hostile server redirects a request that
// carries a secret: the same host on another port, plain http, and another
// host (the simulator's certificate also names localhost, so a followed
// redirect would arrive there).
func RedirectTargets() map[string]func(t testing.TB, ca *simulator.CA) *Hostile {
	return map[string]func(t testing.TB, ca *simulator.CA) *Hostile{
		"another port": func(t testing.TB, ca *simulator.CA) *Hostile { return NewHostile(t, ca, nil) },
		"plain http":   func(t testing.TB, _ *simulator.CA) *Hostile { return HostilePlain(t, nil) },
		"another host": func(t testing.TB, ca *simulator.CA) *Hostile {
			h := NewHostile(t, ca, nil)
			h.URL = strings.Replace(h.URL, "127.0.0.1", "localhost", 1)
			return h
		},
	}
}

// HostileLinks are sign-in links a hostile server may send, none of which
// may be opened or shown: local files, scripts, network shares, options to
// the opener, user info, cleartext, control characters, UNC paths.
var HostileLinks = []string{
	"file:///etc/passwd",
	"javascript:alert(1)",
	"smb://host/x.desktop",
	"-–foo https://x.example/",
	"https://user:pw@host.example/",
	"http://127.0.0.1:8443/device",
	"https://x.example/\x1b[2J",
	`\\evil\share\run.exe`,
}

// CheckRefused checks that p refuses link both for a browser sign-in and for
// a device code, with an error that wraps untrusted.ErrURL, names feedID and
// shows no password.
func CheckRefused(t testing.TB, p auth.Prompter, link, feedID string) {
	t.Helper()
	for name, show := range map[string]func() error{
		"OpenBrowser": func() error { return p.OpenBrowser(context.Background(), link) },
		"DeviceCode":  func() error { return p.DeviceCode(context.Background(), auth.DeviceCode{URL: link, Code: "ABCD"}) },
	} {
		err := show()
		if !errors.Is(err, untrusted.ErrURL) || !strings.Contains(err.Error(), feedID) || strings.Contains(err.Error(), "pw@") {
			t.Errorf("%s(%q) = %v, want a refusal naming %s", name, link, err, feedID)
		}
	}
}
