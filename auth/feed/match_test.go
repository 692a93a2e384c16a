package feed

import (
	"errors"
	"strings"
	"testing"
)

var testFeeds = []Feed{
	{ID: "team", Kind: Token, URL: "https://pypi.team.example/team/simple/"},
	{ID: "team-sub", Kind: Token, URL: "https://pypi.team.example/team/simple/special/"},
	{ID: "v6", Kind: Token, URL: "https://[::1]:8443/simple/"},
	{ID: "port", Kind: Token, URL: "https://idx.example:4242/simple/"},
	{ID: "contoso", Kind: Azure, URL: "https://pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple/"},
	{ID: "contoso-proj", Kind: Azure, URL: "https://pkgs.dev.azure.com/Contoso/proj/_packaging/other/pypi/simple/"},
	{ID: "fabrikam", Kind: Azure, URL: "https://fabrikam.pkgs.visualstudio.com/_packaging/py/pypi/simple/"},
	{ID: "sim", Kind: Azure, URL: "https://127.0.0.1:8443/org1/_packaging/py/pypi/simple/"},
	{ID: "ppm", Kind: Posit, URL: "https://ppm.example.com/pypi-auth/latest/simple/", Address: "https://ppm.example.com"},
	{ID: "ppm2", Kind: Posit, URL: "https://ppm.example.com/other/latest/simple/", Address: "https://ppm.example.com"},
	{ID: "whole", Kind: Token, URL: "https://whole.example/"},
	{ID: "whole-8443", Kind: Token, URL: "https://whole.example:8443/"},
	{ID: "ppm-prefix", Kind: Posit, URL: "https://rspm.example.com/rspm/pypi/latest/simple/", Address: "https://rspm.example.com/rspm"},
	{ID: "whole-team", Kind: Token, URL: "https://whole.example/team/simple/"},
}

var testTrust = Trust{AzureFeedHosts: []string{"127.0.0.1:8443"}}

func TestResolve(t *testing.T) {
	tests := []struct {
		service string
		want    string // feed id, or "" for no match
		err     error
	}{
		// Static token feed: exact scheme, host, port, segment-boundary prefix.
		{"https://pypi.team.example/team/simple/", "team", nil},
		{"https://pypi.team.example/team/simple", "team", nil},
		{"https://pypi.team.example/team/simple/pkg/", "team", nil},
		{"https://pypi.team.example/team/simple//pkg/", "team", nil},
		{"https://__token__@pypi.team.example/team/simple/", "team", nil},
		{"https://user:pw@pypi.team.example/team/simple/", "team", nil},
		{"https://PYPI.Team.Example/team/simple/", "team", nil},
		{"https://pypi.team.example:443/team/simple/", "team", nil},
		{"https://pypi.team.example/team/simple/pkg/?x=1#frag", "team", nil},
		{"https://pypi.team.example/team/simple/special/pkg/", "team-sub", nil},
		{"https://pypi.team.example/%74eam/simple/", "team", nil}, // %74 is 't'
		{"http://pypi.team.example/team/simple/", "", ErrNoMatch},
		{"HTTP://pypi.team.example/team/simple/", "", ErrNoMatch},
		{"ftp://pypi.team.example/team/simple/", "", ErrNoMatch},
		{"https://pypi.team.example:8443/team/simple/", "", ErrNoMatch},
		{"https://pypi.team.example/teamevil/simple/", "", ErrNoMatch},
		{"https://pypi.team.example/team/simpleevil/", "", ErrNoMatch},
		{"https://pypi.team.example/team%2Fsimple/", "", ErrNoMatch},
		{"https://pypi.team.example/team/simple/../../evil/", "", ErrNoMatch},
		{"https://pypi.team.example/team/simple/%2e%2e/x/", "", ErrNoMatch},
		{"https://pypi.team.example/team/", "", ErrNoMatch},
		{"https://pypi.team.example.evil.com/team/simple/", "", ErrNoMatch},
		{"https://evil.pypi.team.example/team/simple/", "", ErrNoMatch},
		{"https://pypi.team.example./team/simple/", "", ErrNoMatch},
		{"https://pypi.team.example/team/simple/%zz/", "", ErrNoMatch},
		{"https://pypi.team.example/team/simple/..%2Fother/", "", ErrNoMatch},
		{"https://pypi.team.example/team/simple/..%5Cother/", "", ErrNoMatch},
		{`https://pypi.team.example/team/simple/..\other/`, "", ErrNoMatch},
		{"evil.com/@idx.example:4242", "", ErrNoMatch},
		{"evil.com#@idx.example:4242", "", ErrNoMatch},
		{`evil.com\@idx.example:4242`, "", ErrNoMatch},
		{"https://evil.com\\@pypi.team.example/team/simple/", "", ErrNoMatch},
		// IPv6 literals and ports.
		{"https://[::1]:8443/simple/", "v6", nil},
		{"https://[0:0::1]:8443/simple/", "", ErrNoMatch}, // hosts compare as written, never resolved
		{"https://[::1]/simple/", "", ErrNoMatch},
		{"[::1]:8443", "", ErrNoMatch}, // the feed is below /simple/
		{"https://idx.example:4242/simple/x/", "port", nil},
		{"https://idx.example:42420/simple/", "", ErrNoMatch},
		{"https://idx.example:424/simple/", "", ErrNoMatch},
		{"idx.example:4242", "", ErrNoMatch},
		{"idx.example", "", ErrNoMatch},
		{"idx.example:99999", "", ErrNoMatch},
		// Bare hosts answer only from a credential for the whole host: pip
		// would send the answer to every path of that host.
		{"pypi.team.example", "", ErrNoMatch},
		{"__token__@idx.example:4242", "", ErrNoMatch},
		// A path feed beside a whole-host feed leaves the bare host to the
		// whole-host credential: it covers every path pip will send it to.
		{"whole.example", "whole", nil},
		{"https://whole.example/team/simple/pkg/", "whole-team", nil},
		{"__token__@whole.example:443", "whole", nil},
		{"whole.example:8443", "whole-8443", nil},
		{"https://whole.example/any/path/simple/", "whole", nil},
		// Azure: one credential per org, any feed, GUID downloads, legacy host.
		{"https://pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple/", "contoso", nil},
		{"https://pkgs.dev.azure.com/contoso/_packaging/0b6c4d3e-1f2a-4b5c-8d9e-0f1a2b3c4d5e/pypi/download/pkg/1.0/pkg-1.0.whl", "contoso", nil},
		{"https://pkgs.dev.azure.com/CONTOSO/_packaging/other/pypi/upload", "contoso", nil},
		{"https://pkgs.dev.azure.com/contoso/proj/_packaging/other/pypi/simple/", "contoso", nil},
		{"https://contoso.pkgs.visualstudio.com/_packaging/py/pypi/simple/", "contoso", nil},
		{"https://fabrikam.pkgs.visualstudio.com/_packaging/py/pypi/simple/", "fabrikam", nil},
		{"https://pkgs.dev.azure.com/fabrikam/_packaging/py/pypi/simple/", "", ErrNoMatch},
		{"https://pkgs.dev.azure.com/contosoevil/_packaging/py/pypi/simple/", "", ErrNoMatch},
		{"https://evil-pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple/", "", ErrNoMatch},
		{"https://pkgs.dev.azure.com.evil.com/contoso/_packaging/py/pypi/simple/", "", ErrNoMatch},
		{"https://x.contoso.pkgs.visualstudio.com/_packaging/py/pypi/simple/", "", ErrNoMatch},
		{"http://pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple/", "", ErrNoMatch},
		{"pkgs.dev.azure.com", "", ErrNoMatch}, // one org per path: never the whole host
		{"contoso.pkgs.visualstudio.com", "contoso", nil},
		{"https://127.0.0.1:8443/org1/_packaging/x/pypi/simple/", "sim", nil},
		{"https://127.0.0.1:8444/org1/_packaging/x/pypi/simple/", "", ErrNoMatch},
		// Posit: the whole server address.
		{"https://ppm.example.com/pypi-auth/latest/simple/", "ppm", nil},
		{"https://ppm.example.com/anything/", "ppm", nil},
		{"ppm.example.com", "ppm", nil},
		{"https://ppm.example.com:4242/pypi-auth/latest/simple/", "", ErrNoMatch},
		{"https://ppm.example.com.evil.com/pypi-auth/latest/simple/", "", ErrNoMatch},
		// Not URLs at all: plain keyring services.
		{"my service", "", ErrNoMatch},
		{"", "", ErrNoMatch},
		{"https://", "", ErrNoMatch},
		{"https:///simple/", "", ErrNoMatch},
		{"mailto:x", "", ErrNoMatch},
		{"user:pw@idx.example:4242", "", ErrNoMatch},
		{"user:pw@whole.example", "whole", nil},
		{"rspm.example.com", "", ErrNoMatch}, // a Package Manager under a path prefix
		{"https://rspm.example.com/rspm/pypi/latest/simple/", "ppm-prefix", nil},
		{"127.0.0.1:8443", "", ErrNoMatch}, // a trusted Azure feed host is one org per path too
	}
	for _, tt := range tests {
		got, err := Resolve(testFeeds, testTrust, tt.service)
		if !errors.Is(err, tt.err) {
			t.Errorf("Resolve(%q) error = %v, want %v", tt.service, err, tt.err)
			continue
		}
		if got.ID != tt.want {
			// Two feeds share the contoso credential: either one answers.
			if tt.want == "contoso" && got.ID == "contoso-proj" {
				continue
			}
			t.Errorf("Resolve(%q) = %q, want %q", tt.service, got.ID, tt.want)
		}
	}
}

func TestCredentialID(t *testing.T) {
	tests := []struct {
		feed Feed
		want string
	}{
		{testFeeds[0], "token-team"},
		{testFeeds[4], "azure-contoso"},
		{testFeeds[5], "azure-contoso"},
		{testFeeds[6], "azure-fabrikam"},
		{testFeeds[8], testFeeds[9].CredentialID(testTrust)}, // one server, one credential
	}
	for _, tt := range tests {
		if got := tt.feed.CredentialID(testTrust); got != tt.want {
			t.Errorf("CredentialID(%s) = %q, want %q", tt.feed.ID, got, tt.want)
		}
	}
}

// TestCredentialIDsNeverCollide: feeds that must not share a token never
// share a credential id, however their names slug.
func TestCredentialIDsNeverCollide(t *testing.T) {
	trust := Trust{AzureFeedHosts: []string{"devops.corp.example"}}
	pairs := [][2]Feed{
		{{ID: "a", Kind: Posit, URL: "https://ppm.example.com/x/"}, {ID: "b", Kind: Posit, URL: "https://ppm-example.com/x/"}},
		{{ID: "a", Kind: Posit, URL: "https://h/", Address: "https://h/pypi-team-alpha"}, {ID: "b", Kind: Posit, URL: "https://h/", Address: "https://h/pypi-team-alpha2"}},
		{{ID: "azure-contoso", Kind: Token, URL: "https://tokens.example.net/simple/"}, {ID: "c", Kind: Azure, URL: "https://pkgs.dev.azure.com/contoso/_packaging/f/pypi/simple/"}},
		{{ID: "a", Kind: Azure, URL: "https://devops.corp.example/contoso/_packaging/f/pypi/simple/"}, {ID: "b", Kind: Azure, URL: "https://pkgs.dev.azure.com/contoso/_packaging/f/pypi/simple/"}},
		{{ID: "a", Kind: Posit, URL: "https://h:8443/"}, {ID: "b", Kind: Posit, URL: "https://h:8444/"}},
	}
	for _, p := range pairs {
		a, b := p[0].CredentialID(trust), p[1].CredentialID(trust)
		if a == b {
			t.Errorf("%s and %s share credential %s", p[0].URL, p[1].URL, a)
		}
	}
	// And those that must share, do.
	legacy := Feed{ID: "l", Kind: Azure, URL: "https://contoso.pkgs.visualstudio.com/_packaging/f/pypi/simple/"}
	modern := Feed{ID: "m", Kind: Azure, URL: "https://pkgs.dev.azure.com/Contoso/proj/_packaging/g/pypi/simple/"}
	if legacy.CredentialID(trust) != modern.CredentialID(trust) {
		t.Errorf("one org on both Microsoft hosts: %s vs %s", legacy.CredentialID(trust), modern.CredentialID(trust))
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		feed Feed
		ok   bool
	}{
		{Feed{ID: "a", Kind: Token, URL: "https://h/simple/"}, true},
		{Feed{ID: "A", Kind: Token, URL: "https://h/simple/"}, false},
		{Feed{ID: "a", Kind: "npm", URL: "https://h/simple/"}, false},
		{Feed{ID: "a", Kind: Token, URL: "http://h/simple/"}, false},
		{Feed{ID: "a", Kind: Token, URL: "https://u:p@h/simple/"}, false},
		{Feed{ID: "a", Kind: Token, URL: "https://h/simple/?q"}, false},
		{Feed{ID: "a", Kind: Token, URL: "h/simple/"}, false},
		{Feed{ID: "a", Kind: Azure, URL: "https://pkgs.dev.azure.com/"}, false},
		{Feed{ID: "a", Kind: Azure, URL: "https://pypi.org/simple/"}, false},
		{Feed{ID: "a", Kind: Azure, URL: "https://pkgs.dev.azure.com/o/_packaging/f/pypi/simple/", Token: "oauth"}, false},
	}
	for _, tt := range tests {
		if err := tt.feed.Validate(Trust{}); (err == nil) != tt.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tt.feed, err, tt.ok)
		}
	}
}

func TestOverlap(t *testing.T) {
	a := Feed{ID: "a", Kind: Token, URL: "https://h/simple/"}
	b := Feed{ID: "b", Kind: Token, URL: "https://H:443/simple"}
	if err := Overlap([]Feed{a, b}, Trust{}); err == nil {
		t.Fatal("Overlap: two token feeds on one URL not reported")
	}
	if err := Overlap([]Feed{testFeeds[4], testFeeds[5]}, Trust{}); err != nil {
		t.Fatalf("Overlap: feeds sharing a credential reported: %v", err)
	}
}

func TestNormalizeURL(t *testing.T) {
	tests := []struct{ in, want, user string }{
		{"https://__token__@Pypi.Team.Example/simple", "https://pypi.team.example/simple/", "__token__"},
		{"https://h:8443/a/b/", "https://h:8443/a/b/", ""},
	}
	for _, tt := range tests {
		got, user, err := NormalizeURL(tt.in)
		if err != nil || got != tt.want || user != tt.user {
			t.Errorf("NormalizeURL(%q) = %q, %q, %v; want %q, %q", tt.in, got, user, err, tt.want, tt.user)
		}
	}
	for _, bad := range []string{"http://h/simple/", "h/simple", "https://h/simple/?x=1", "::"} {
		if _, _, err := NormalizeURL(bad); err == nil {
			t.Errorf("NormalizeURL(%q) succeeded", bad)
		}
	}
}

func TestErrorsHideSecrets(t *testing.T) {
	for _, raw := range []string{
		"https://__token__:S3CRET@host:8x/simple/",
		"https://host/simple/?token=S3CRET",
		"https://__token__:S3CRET@host/simple/?x=1",
	} {
		err := Feed{ID: "a", Kind: Token, URL: raw}.Validate(Trust{})
		_, _, nerr := NormalizeURL(raw)
		for _, e := range []error{err, nerr} {
			if e != nil && strings.Contains(e.Error(), "S3CRET") {
				t.Errorf("%q: error shows the secret: %v", raw, e)
			}
		}
		if err == nil {
			t.Errorf("%q accepted", raw)
		}
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"pypi.Team.example": "pypi-team-example", "--": "feed", "a__b": "a-b"} {
		if got := Slug(in); got != want || !ValidID(got) {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}
