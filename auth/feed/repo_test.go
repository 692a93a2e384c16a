package feed

import (
	"errors"
	"strings"
	"testing"
)

// repoTrust trusts the simulator's host for feeds and token APIs alike.
var repoTrust = Trust{AzureFeedHosts: testTrust.AzureFeedHosts, AzureTokenHosts: testTrust.AzureFeedHosts}

func TestResolveRepo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		protocol, host, path string
		want                 string // credential id's feed, "" for no match
	}{
		{"https", "dev.azure.com", "contoso/web/_git/web", "contoso"},
		{"https", "dev.azure.com", "Contoso/web/_git/web", "contoso"},
		{"HTTPS", "DEV.Azure.com", "contoso/web/_git/web", "contoso"},
		{"https", "dev.azure.com:443", "contoso/web/_git/web", "contoso"},
		{"https", "dev.azure.com", "contoso", "contoso"},
		{"https", "dev.azure.com", "%63ontoso/web/_git/web", "contoso"}, // %63 is 'c'
		{"https", "contoso.visualstudio.com", "web/_git/web", "contoso"},
		{"https", "contoso.visualstudio.com", "", "contoso"},
		{"https", "dev.azure.com", "fabrikam/p/_git/r", "fabrikam"}, // the legacy feed host's org
		{"https", "fabrikam.visualstudio.com", "p/_git/r", "fabrikam"},
		{"https", "127.0.0.1:8443", "org1/p/_git/r", "sim"},
		{"https", "127.0.0.1:8443", "ORG1/p/_git/r", "sim"},
		// No path: git without credential.useHttpPath names no org.
		{"https", "dev.azure.com", "", ""},
		{"https", "127.0.0.1:8443", "", ""},
		// Other orgs, hosts, ports, schemes.
		{"https", "dev.azure.com", "other/p/_git/r", ""},
		{"https", "dev.azure.com", "contosoevil/p/_git/r", ""},
		{"https", "dev.azure.com", "org1/p/_git/r", ""},         // the simulator's org, not on Microsoft's host
		{"https", "127.0.0.1:8443", "contoso/p/_git/r", ""},     // Microsoft's org, not on the trusted host
		{"https", "127.0.0.1:8444", "org1/p/_git/r", ""},        // another port
		{"https", "127.0.0.1", "org1/p/_git/r", ""},             // default port
		{"https", "dev.azure.com:8443", "contoso/p/_git/r", ""}, // another port
		{"https", "contoso.visualstudio.com:8443", "p/_git/r", ""},
		{"http", "dev.azure.com", "contoso/web/_git/web", ""},
		{"ssh", "dev.azure.com", "contoso/web/_git/web", ""},
		{"", "dev.azure.com", "contoso/web/_git/web", ""},
		{"https", "dev.azure.com.evil.com", "contoso/web/_git/web", ""},
		{"https", "evil-dev.azure.com", "contoso/web/_git/web", ""},
		{"https", "evil.dev.azure.com", "contoso/web/_git/web", ""},
		{"https", "contoso.visualstudio.com.evil.com", "p/_git/r", ""},
		{"https", "evil.contoso.visualstudio.com", "p/_git/r", ""},
		{"https", "contoso.pkgs.visualstudio.com", "p/_git/r", ""}, // two labels before visualstudio.com
		{"https", "visualstudio.com", "contoso/p/_git/r", ""},
		{"https", "pkgs.dev.azure.com", "contoso/p/_git/r", ""}, // the feed host is not a git host
		{"https", "contoso@dev.azure.com", "contoso/p/_git/r", ""},
		{"https", "evil.com@dev.azure.com", "contoso/p/_git/r", ""},
		{"https", "dev.azure.com@evil.com", "contoso/p/_git/r", ""},
		{"https", "evil.com/dev.azure.com", "contoso/p/_git/r", ""},
		{"https", `evil.com\dev.azure.com`, "contoso/p/_git/r", ""},
		{"https", "evil.com#dev.azure.com", "contoso/p/_git/r", ""},
		{"https", "dev.azure.com", "contoso/../other/_git/r", ""},
		{"https", "dev.azure.com", "contoso%2Fx/p/_git/r", ""},
		{"https", "dev.azure.com", "contoso/p/_git/r?x=1", ""},
		{"https", "", "contoso/p/_git/r", ""},
	}
	for _, tt := range tests {
		got, err := ResolveRepo(testFeeds, repoTrust, tt.protocol, tt.host, tt.path)
		if tt.want == "" {
			if !errors.Is(err, ErrNoMatch) {
				t.Errorf("ResolveRepo(%q, %q, %q) = %s, %v; want ErrNoMatch", tt.protocol, tt.host, tt.path, got.ID, err)
			}
			continue
		}
		want := feedByID(t, tt.want).CredentialID(repoTrust)
		if err != nil || got.CredentialID(repoTrust) != want {
			t.Errorf("ResolveRepo(%q, %q, %q) = %s, %v; want credential %s", tt.protocol, tt.host, tt.path, got.ID, err, want)
		}
	}
}

// TestResolveRepoTrustedTokenHost: a trusted feed host that is not a
// trusted token host gets no Entra token from git's helper.
func TestResolveRepoTrustedTokenHost(t *testing.T) {
	t.Parallel()
	if f, err := ResolveRepo(testFeeds, testTrust, "https", "127.0.0.1:8443", "org1/p/_git/r"); !errors.Is(err, ErrNoMatch) {
		t.Errorf("feed host only: %s, %v; want ErrNoMatch", f.ID, err)
	}
}

// TestResolveRepoLeavesPipAlone: git remotes are not feed URLs; pip and uv
// asking about them get nothing.
func TestResolveRepoLeavesPipAlone(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"https://dev.azure.com/contoso/web/_git/web",
		"https://contoso.visualstudio.com/web/_git/web",
		"dev.azure.com", "contoso.visualstudio.com",
	} {
		if f, err := Resolve(testFeeds, repoTrust, s); !errors.Is(err, ErrNoMatch) {
			t.Errorf("Resolve(%q) = %s, %v; want ErrNoMatch", s, f.ID, err)
		}
	}
}

func TestResolveRepoAmbiguous(t *testing.T) {
	t.Parallel()
	// The same org name on Microsoft's host and on a trusted host are two
	// credentials, but each git host has one of them.
	feeds := []Feed{
		{ID: "ms", Kind: Azure, URL: "https://pkgs.dev.azure.com/org1/_packaging/py/pypi/simple/"},
		{ID: "sim", Kind: Azure, URL: "https://127.0.0.1:8443/org1/_packaging/py/pypi/simple/"},
	}
	if f, err := ResolveRepo(feeds, repoTrust, "https", "dev.azure.com", "org1/p/_git/r"); err != nil || f.ID != "ms" {
		t.Errorf("dev.azure.com: %s, %v; want ms", f.ID, err)
	}
	if f, err := ResolveRepo(feeds, repoTrust, "https", "127.0.0.1:8443", "org1/p/_git/r"); err != nil || f.ID != "sim" {
		t.Errorf("trusted host: %s, %v; want sim", f.ID, err)
	}
}

func feedByID(t *testing.T, id string) Feed {
	for _, f := range testFeeds {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no test feed %s", id)
	return Feed{}
}

// FuzzResolveRepo checks ResolveRepo's invariants on arbitrary git
// descriptions: an answer only for https, a host with no userinfo or
// separator that is dev.azure.com, {org}.visualstudio.com or a trusted
// host, and an org the path or host really names.
func FuzzResolveRepo(f *testing.F) {
	for _, s := range [][3]string{
		{"https", "dev.azure.com", "contoso/web/_git/web"},
		{"https", "contoso.visualstudio.com", "web/_git/web"},
		{"https", "127.0.0.1:8443", "org1/p/_git/r"},
		{"https", "evil.com@dev.azure.com", "contoso/p"},
		{"http", "dev.azure.com", "contoso/p"},
		{"https", "dev.AZure.Com", "/Contoso"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, protocol, host, path string) {
		got, err := ResolveRepo(testFeeds, repoTrust, protocol, host, path)
		if err != nil {
			return
		}
		if !strings.EqualFold(protocol, "https") {
			t.Fatalf("matched protocol %q", protocol)
		}
		if strings.ContainsAny(host, "@/\\?#") {
			t.Fatalf("matched host %q", host)
		}
		org := got.Org(repoTrust)
		h := strings.ToLower(host)
		h = strings.TrimSuffix(h, ":443")
		// Empty segments carry nothing (URL matching skips them), so the
		// org is the first non-empty one.
		first, _, _ := strings.Cut(strings.TrimLeft(path, "/"), "/")
		switch {
		case h == "dev.azure.com", h == "127.0.0.1:8443":
			if !strings.EqualFold(first, org) && !strings.Contains(first, "%") {
				t.Fatalf("(%q, %q) matched org %s", host, path, org)
			}
		case h == org+".visualstudio.com":
		default:
			t.Fatalf("matched host %q for org %s", host, org)
		}
	})
}
