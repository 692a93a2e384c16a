// Package httpclient builds the HTTP clients that feedkey's sign-in
// providers use, so that every endpoint gets the same rules (SPEC §8, §9):
//
//   - a request that carries a secret, in a header or in its body, never
//     follows a redirect: Go's client re-sends Authorization when only the
//     port or the scheme changes, and re-sends a body on 307 and 308, so a
//     redirect could hand a token to another server or to cleartext;
//   - an unauthenticated request may follow a few redirects, but only to
//     https URLs that the caller's allowlist accepts;
//   - every exchange is bounded in time, and 429 and 5xx answers are tried
//     again a few times.
package httpclient

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/feedkey/feedkey/auth/feed"
)

// DefaultTimeout bounds one exchange, retries included: a server that never
// answers must not leave a refresh hanging.
const DefaultTimeout = 90 * time.Second

// maxRedirects bounds the redirects an unauthenticated request follows.
const maxRedirects = 5

// ErrRedirect is wrapped by every refused redirect.
var ErrRedirect = errors.New("redirect refused")

// RedirectError is a redirect that was not followed. Client.Do returns it
// wrapped in a *url.Error; errors.As finds it.
type RedirectError struct {
	Status int    // the 3xx status of the answer
	Host   string // where Location pointed: scheme and host only
	Reason string // why it was refused
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("the server answered HTTP %d, a redirect to %s: %s", e.Status, e.Host, e.Reason)
}

// Unwrap makes errors.Is(err, ErrRedirect) true.
func (e *RedirectError) Unwrap() error { return ErrRedirect }

// Options configure a client. The zero value is valid.
type Options struct {
	// Base supplies the transport (tests pass one that trusts a test CA);
	// nil means http.DefaultTransport. Its other fields are ignored.
	Base *http.Client
	// Timeout bounds each exchange; zero means DefaultTimeout.
	Timeout time.Duration
	// Retry tries 429 and 5xx answers again, as Retry-After asks.
	Retry bool
}

func (o Options) client() *http.Client {
	var rt http.RoundTripper = http.DefaultTransport
	if o.Base != nil && o.Base.Transport != nil {
		rt = o.Base.Transport
	}
	if o.Retry {
		rt = retrying{base: rt}
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return &http.Client{Transport: rt, Timeout: timeout}
}

// ForSecrets returns a client for requests that carry a secret: it never
// follows a redirect, and a 3xx answer is a *RedirectError naming the status
// and the Location host.
func ForSecrets(o Options) *http.Client {
	c := o.client()
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		return &RedirectError{Status: status(req), Host: origin(req.URL), Reason: "a request that carries a secret never follows a redirect"}
	}
	return c
}

// ForDiscovery returns a client for unauthenticated requests. It follows at
// most a few redirects, each only to an https URL that allow accepts; any
// other is a *RedirectError. Requests made with it must carry no secret.
func ForDiscovery(o Options, allow func(*url.URL) bool) *http.Client {
	c := o.client()
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		switch {
		case len(via) >= maxRedirects:
			return &RedirectError{Status: status(req), Host: origin(req.URL), Reason: fmt.Sprintf("more than %d redirects", maxRedirects)}
		case req.URL.Scheme != "https" || req.URL.User != nil:
			return &RedirectError{Status: status(req), Host: origin(req.URL), Reason: "only https redirects are followed"}
		case allow == nil || !allow(req.URL):
			return &RedirectError{Status: status(req), Host: origin(req.URL), Reason: "the target is not a trusted host"}
		}
		// Nothing secret may ride along, whatever the caller set.
		req.Header.Del("Authorization")
		req.Header.Del("Cookie")
		return nil
	}
	return c
}

// Clean returns err with the URL that Go's client puts in a *url.Error
// redacted: after a redirect it is the server's Location, query and all.
// Callers pass every client error through it before it reaches a message.
func Clean(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	return &url.Error{Op: ue.Op, URL: feed.Redact(ue.URL), Err: ue.Err}
}

func status(req *http.Request) int {
	if req.Response != nil {
		return req.Response.StatusCode
	}
	return 0
}

// origin is scheme://host of u, for messages: no user info, path or query.
func origin(u *url.URL) string {
	if u == nil || u.Host == "" {
		return "(no host)"
	}
	return u.Scheme + "://" + u.Host
}
