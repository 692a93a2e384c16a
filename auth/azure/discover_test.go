package azure

import (
	"errors"
	"net/http"
	"testing"

	"github.com/feedkey/feedkey/auth/feed"
)

func TestParseChallenge(t *testing.T) {
	const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	f := feed.Feed{ID: "contoso", Kind: feed.Azure, URL: "https://pkgs.dev.azure.com/contoso/_packaging/py/pypi/simple/"}
	trust := feed.Trust{AzureAuthorityHosts: []string{"127.0.0.1:8444"}, AzureTokenHosts: []string{"127.0.0.1:8443"}}
	tests := []struct {
		name          string
		www           []string
		tenant, ep    string
		wantAuthority string
		wantEndpoint  string
		wantErr       error
	}{
		{"real answer", []string{"Bearer authorization_uri=https://login.microsoftonline.com/" + tenant + ", Basic realm=\"https://pkgsprodeus21.pkgs.visualstudio.com/\", TFS-Federated"},
			tenant, "https://vssps.dev.azure.com/contoso/", "https://login.microsoftonline.com/" + tenant, "https://vssps.dev.azure.com/contoso/", nil},
		{"separate headers", []string{"Basic realm=\"x\"", "Bearer authorization_uri=\"https://login.windows.net/" + tenant + "\""},
			tenant, "https://contoso.vssps.visualstudio.com", "https://login.windows.net/" + tenant, "https://contoso.vssps.visualstudio.com/", nil},
		{"personal accounts", []string{"Bearer", "Basic realm=\"x\""},
			"00000000-0000-0000-0000-000000000000", "https://vssps.dev.azure.com/contoso/", "https://127.0.0.1:8444/organizations", "https://vssps.dev.azure.com/contoso/", nil},
		{"no endpoint header", []string{"Bearer authorization_uri=https://login.microsoftonline.com/" + tenant},
			tenant, "", "https://login.microsoftonline.com/" + tenant, "https://vssps.dev.azure.com/contoso/", nil},
		{"trusted simulator", []string{"Bearer authorization_uri=https://127.0.0.1:8444/" + tenant},
			tenant, "https://127.0.0.1:8443/contoso/", "https://127.0.0.1:8444/" + tenant, "https://127.0.0.1:8443/contoso/", nil},
		// Hostile or broken answers: nothing may be sent there.
		{"evil authority", []string{"Bearer authorization_uri=https://login.evil.com/" + tenant}, tenant, "", "", "", ErrUntrustedEndpoint},
		{"lookalike authority", []string{"Bearer authorization_uri=https://login.microsoftonline.com.evil.com/" + tenant}, tenant, "", "", "", ErrUntrustedEndpoint},
		{"http authority", []string{"Bearer authorization_uri=http://login.microsoftonline.com/" + tenant}, tenant, "", "", "", ErrUntrustedEndpoint},
		{"authority port", []string{"Bearer authorization_uri=https://login.microsoftonline.com:8443/" + tenant}, tenant, "", "", "", ErrUntrustedEndpoint},
		{"authority userinfo", []string{"Bearer authorization_uri=https://x@login.microsoftonline.com/" + tenant}, tenant, "", "", "", ErrUntrustedEndpoint},
		{"authority path", []string{"Bearer authorization_uri=https://login.microsoftonline.com/" + tenant + "/extra"}, tenant, "", "", "", ErrUntrustedEndpoint},
		{"untrusted port of a trusted host", []string{"Bearer authorization_uri=https://127.0.0.1:9999/" + tenant}, tenant, "", "", "", ErrUntrustedEndpoint},
		{"evil endpoint", []string{"Bearer authorization_uri=https://login.microsoftonline.com/" + tenant}, tenant, "https://vssps.evil.com/contoso/", "", "", ErrUntrustedEndpoint},
		{"endpoint suffix trick", []string{"Bearer authorization_uri=https://login.microsoftonline.com/" + tenant}, tenant, "https://evilvssps.dev.azure.com/contoso/", "", "", ErrUntrustedEndpoint},
		{"endpoint nested label", []string{"Bearer authorization_uri=https://login.microsoftonline.com/" + tenant}, tenant, "https://a.b.vssps.visualstudio.com/", "", "", ErrUntrustedEndpoint},
		{"endpoint http", []string{"Bearer authorization_uri=https://login.microsoftonline.com/" + tenant}, tenant, "http://vssps.dev.azure.com/contoso/", "", "", ErrUntrustedEndpoint},
		{"endpoint deep path", []string{"Bearer authorization_uri=https://login.microsoftonline.com/" + tenant}, tenant, "https://vssps.dev.azure.com/contoso/x/", "", "", ErrUntrustedEndpoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.www {
				h.Add("WWW-Authenticate", v)
			}
			h.Set("X-VSS-ResourceTenant", tt.tenant)
			if tt.ep != "" {
				h.Set("X-VSS-AuthorizationEndpoint", tt.ep)
			}
			d, err := parseChallenge(h, "contoso", f, trust)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && (d.Authority != tt.wantAuthority || d.AuthEndpoint != tt.wantEndpoint || d.Tenant != tt.tenant) {
				t.Errorf("discovery = %+v, want %s and %s", d, tt.wantAuthority, tt.wantEndpoint)
			}
		})
	}
	for name, h := range map[string]http.Header{
		"no bearer":  {"Www-Authenticate": {"Basic realm=\"x\""}},
		"bad tenant": {"Www-Authenticate": {"Bearer"}, "X-Vss-Resourcetenant": {"<script>"}},
	} {
		if _, err := parseChallenge(h, "contoso", f, trust); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
