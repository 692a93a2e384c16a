package feed

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzResolve checks the matcher's security invariants on arbitrary service
// strings: whatever it answers, the answer must be a credential whose host
// and port the string really names, over https.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{
		"https://pypi.team.example/team/simple/",
		"https://__token__@[::1]:8443/simple/x/",
		"pkgs.dev.azure.com",
		"https://contoso.pkgs.visualstudio.com/_packaging/py/pypi/simple/",
		"http://pypi.team.example/team/simple/",
		"https://pypi.team.example/team%2Fsimple/",
		"https://ppm.example.com:4242/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, service string) {
		got, err := Resolve(testFeeds, testTrust, service)
		if full, ferr := resolve(testFeeds, testTrust, service, false); full.ID != got.ID || (ferr == nil) != (err == nil) {
			t.Fatalf("Resolve(%q) = %q, %v; with every feed parsed %q, %v", service, got.ID, err, full.ID, ferr)
		}
		if err != nil {
			return
		}
		if !got.Covers(testTrust, service) {
			t.Fatalf("Resolve(%q) = %s, which does not cover it", service, got.ID)
		}
		if strings.Contains(service, "://") {
			u, err := url.Parse(service)
			if err != nil {
				t.Fatalf("Resolve(%q) matched an unparseable URL", service)
			}
			if !strings.EqualFold(u.Scheme, "https") {
				t.Fatalf("Resolve(%q) matched scheme %q", service, u.Scheme)
			}
			for _, seg := range strings.Split(u.Path, "/") {
				if seg == ".." {
					t.Fatalf("Resolve(%q) matched a path with '..'", service)
				}
			}
		}
		s, _ := got.scope(testTrust)
		l, err := parseLocation(service)
		if err != nil {
			t.Fatalf("Resolve(%q) matched but parseLocation fails: %v", service, err)
		}
		if l.host != s.host && l.host != s.legacyHost {
			t.Fatalf("Resolve(%q) = %s on host %q, want host %q", service, got.ID, l.host, s.host)
		}
	})
}
