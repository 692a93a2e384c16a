package httpclient

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

// TestForSecrets: no redirect is followed, whatever its status, and the
// error names the status and where it pointed, without a path or query.
func TestForSecrets(t *testing.T) {
	t.Parallel()
	var reached atomic.Int32
	target := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	defer target.Close()
	for _, status := range []int{301, 302, 303, 307, 308} {
		src := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/x?token=SECRET", status)
		}))
		c := ForSecrets(Options{Base: src.Client()})
		req, _ := http.NewRequest(http.MethodPost, src.URL, strings.NewReader("secret=1"))
		req.Header.Set("Authorization", "Bearer SECRET")
		_, err := c.Do(req)
		err = Clean(err)
		var re *RedirectError
		if !errors.As(err, &re) || !errors.Is(err, ErrRedirect) || re.Status != status || re.Host != target.URL || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%d: err = %v", status, err)
		}
		src.Close()
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the redirect target was reached %d times", n)
	}
}

// TestForDiscovery: redirects are followed only to https URLs the allowlist
// accepts, a few times at most, and never carry Authorization.
func TestForDiscovery(t *testing.T) {
	t.Parallel()
	var auth atomic.Value
	final := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer final.Close()
	var hops atomic.Int32
	loop := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hops.Add(1)
		http.Redirect(w, r, "/again", http.StatusFound)
	}))
	defer loop.Close()
	toFinal := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, final.URL, http.StatusFound)
	}))
	defer toFinal.Close()
	toHTTP := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(final.URL, "https:", "http:", 1), http.StatusFound)
	}))
	defer toHTTP.Close()

	allowAll := func(*url.URL) bool { return true }
	allowNone := func(*url.URL) bool { return false }
	for _, tc := range []struct {
		name    string
		start   string
		allow   func(*url.URL) bool
		wantErr bool
	}{
		{"allowed", toFinal.URL, allowAll, false},
		{"not allowed", toFinal.URL, allowNone, true},
		{"to plain http", toHTTP.URL, allowAll, true},
		{"a loop", loop.URL, allowAll, true},
	} {
		c := ForDiscovery(Options{Base: final.Client()}, tc.allow)
		req, _ := http.NewRequest(http.MethodGet, tc.start, nil)
		req.Header.Set("Authorization", "Bearer SHOULD-NOT-TRAVEL")
		resp, err := c.Do(req)
		if tc.wantErr {
			if !errors.Is(err, ErrRedirect) {
				t.Errorf("%s: err = %v, want a refused redirect", tc.name, err)
			}
			continue
		}
		if err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %v %v", tc.name, resp, err)
			continue
		}
		resp.Body.Close()
		if got, _ := auth.Load().(string); got != "" {
			t.Errorf("%s: Authorization followed the redirect: %q", tc.name, got)
		}
	}
	if n := hops.Load(); n > maxRedirects {
		t.Errorf("followed %d redirects, want at most %d", n, maxRedirects)
	}
}
