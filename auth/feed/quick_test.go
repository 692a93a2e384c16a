package feed

import "testing"

// TestQuickHostSkipChangesNothing: skipping feeds on other plain hosts
// before parsing them gives the same answer as parsing every feed.
func TestQuickHostSkipChangesNothing(t *testing.T) {
	t.Parallel()
	feeds := []Feed{
		{ID: "upper", Kind: Token, URL: "https://Team.Example:8443/simple/"},
		{ID: "plain", Kind: Token, URL: "https://team.example/simple/"},
		{ID: "idn", Kind: Token, URL: "https://xn--bcher-kva.example/simple/"},
		{ID: "v6", Kind: Token, URL: "https://[::1]:4443/simple/"},
		{ID: "dot", Kind: Token, URL: "https://dot.example./simple/"},
		{ID: "pct", Kind: Token, URL: "https://%74eam.example/other/"},
		{ID: "ppm", Kind: Posit, URL: "https://ppm.example/cran/latest/simple/", Address: "https://PPM.example"},
		{ID: "az", Kind: Azure, URL: "https://pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple/"},
	}
	services := []string{
		"https://team.example:8443/simple/pkg/", "https://TEAM.EXAMPLE:8443/simple/", "https://team.example/simple/x/",
		"team.example", "team.example:8443", "https://xn--bcher-kva.example/simple/", "https://[::1]:4443/simple/",
		"https://dot.example./simple/", "https://dot.example/simple/", "https://team.example/other/",
		"https://ppm.example/cran/latest/simple/", "ppm.example", "https://contoso.pkgs.visualstudio.com/_packaging/py/pypi/simple/",
		"https://pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple/", "https://evil.example/simple/", "not a url",
	}
	for _, svc := range services {
		fq, eq := resolve(feeds, Trust{}, svc, true)
		fs, es := resolve(feeds, Trust{}, svc, false)
		if fq.ID != fs.ID || (eq == nil) != (es == nil) {
			t.Errorf("%s: quick = %q, %v; full = %q, %v", svc, fq.ID, eq, fs.ID, es)
		}
	}
}
