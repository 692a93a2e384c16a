package simulator_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/feedkey/feedkey/simulator"
)

const (
	sessionPath = "/" + azOrg + "/_apis/Token/SessionTokens?tokenType=SelfDescribing&api-version=5.0-preview.1"
	patPath     = "/" + azOrg + "/_apis/tokens/pats?api-version=7.1-preview.1"
	sharedFeed  = "/" + azOrg + "/_packaging/shared/pypi/simple/"
)

// userToken returns an Entra access token of a user.
func (env *azEnv) userToken(t *testing.T, username string) string {
	t.Helper()
	tok, err := env.Entra.IssueAccessToken(username)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// vss decodes a VSS error answer and checks its shape.
func vss(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	for _, k := range []string{"$id", "innerException", "message", "typeName", "typeKey", "errorCode", "eventId"} {
		if _, ok := m[k]; !ok {
			t.Errorf("VSS error lacks %s: %s", k, body)
		}
	}
	return m
}

func TestDevOpsChallenge(t *testing.T) {
	env := startAzure(t, new(simulator.Entra), new(simulator.DevOps))
	for _, tc := range []struct {
		path, bearer, tenant string
	}{
		{sharedFeed, "Bearer authorization_uri=" + env.EntraURL + "/" + azTenant, azTenant},
		{"/" + azOrg + "/" + azProject + "/_packaging/web-feed/pypi/simple/demo-pkg/", "Bearer authorization_uri=" + env.EntraURL + "/" + azTenant, azTenant},
		{"/" + azMSAOrg + "/_packaging/mine/pypi/simple/", "Bearer", simulator.PersonalTenantID},
		{sessionPath, "Bearer authorization_uri=" + env.EntraURL + "/" + azTenant, azTenant},
	} {
		org := strings.Split(tc.path, "/")[1]
		for _, authz := range []string{"", basicAuth("VssSessionToken", "not-a-token"), bearer("x.y.z")} {
			resp, body := env.devops(t, http.MethodGet, tc.path, authz, nil)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("%s: %d %s", tc.path, resp.StatusCode, body)
			}
			got := resp.Header.Values("WWW-Authenticate")
			want := []string{tc.bearer, `Basic realm="` + env.DevOpsURL + `/"`, "TFS-Federated"}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s: WWW-Authenticate %q, want %q", tc.path, got, want)
			}
			if h := resp.Header.Get("X-VSS-ResourceTenant"); h != tc.tenant {
				t.Errorf("%s: X-VSS-ResourceTenant %q", tc.path, h)
			}
			if h := resp.Header.Get("X-VSS-AuthorizationEndpoint"); h != env.DevOpsURL+"/"+org+"/" {
				t.Errorf("%s: X-VSS-AuthorizationEndpoint %q", tc.path, h)
			}
			vss(t, body)
		}
	}

	// Hostile knobs.
	env.DevOps.Configure(func(d *simulator.DevOps) {
		d.AuthorityURL = "https://login.evil.example/"
		d.AuthorizationEndpoint = func(org string) string { return "https://vssps.evil.example/" + org + "/" }
	})
	resp, _ := env.devops(t, http.MethodGet, sharedFeed, "", nil)
	if got := resp.Header.Values("WWW-Authenticate")[0]; got != "Bearer authorization_uri=https://login.evil.example/"+azTenant {
		t.Errorf("hostile authority: %q", got)
	}
	if got := resp.Header.Get("X-VSS-AuthorizationEndpoint"); got != "https://vssps.evil.example/contoso/" {
		t.Errorf("hostile endpoint: %q", got)
	}

	resp, body := env.devops(t, http.MethodGet, "/nosuchorg/_packaging/x/pypi/simple/", "", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown org: %d %s", resp.StatusCode, body)
	}
}

func TestDevOpsSessionTokens(t *testing.T) {
	env := startAzure(t, new(simulator.Entra), new(simulator.DevOps))
	at := env.userToken(t, azUser)
	now := env.clock.Now()
	request := func(body map[string]any) (int, map[string]any) {
		t.Helper()
		resp, data := env.devops(t, http.MethodPost, sessionPath, bearer(at), body)
		var m map[string]any
		json.Unmarshal(data, &m)
		return resp.StatusCode, m
	}

	// With validTo.
	validTo := now.Add(8 * time.Hour)
	status, m := request(map[string]any{"displayName": "feedkey", "scope": "vso.packaging_write", "validTo": validTo.Format(time.RFC3339)})
	if status != http.StatusOK {
		t.Fatalf("session token: %d %v", status, m)
	}
	for _, k := range []string{"token", "validTo", "scope", "displayName", "authorizationId"} {
		if s, _ := m[k].(string); s == "" {
			t.Errorf("answer lacks %s: %v", k, m)
		}
	}
	got, err := time.Parse(time.RFC3339, m["validTo"].(string))
	if err != nil || !got.Equal(validTo) || m["scope"] != "vso.packaging_write" || m["displayName"] != "feedkey" {
		t.Errorf("answer %v (%v)", m, err)
	}
	session := m["token"].(string)
	resp, body := env.devops(t, http.MethodGet, sharedFeed, basicAuth("VssSessionToken", session), nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "demo-pkg") {
		t.Fatalf("feed with session token: %d %s", resp.StatusCode, body)
	}
	// Only in its organization.
	resp, _ = env.devops(t, http.MethodGet, "/"+azMSAOrg+"/_packaging/mine/pypi/simple/", basicAuth("x", session), nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("session token in another org: %d", resp.StatusCode)
	}

	// Without validTo (absent or null): the default lifetime.
	for _, body := range []map[string]any{{"displayName": "x", "scope": "vso.packaging"}, {"displayName": "x", "scope": "vso.packaging", "validTo": nil}} {
		status, m = request(body)
		got, _ = time.Parse(time.RFC3339, m["validTo"].(string))
		if status != http.StatusOK || !got.Equal(now.Add(simulator.DefaultSessionTokenLifetime)) {
			t.Errorf("no validTo: %d %v", status, m)
		}
	}

	// The organization's policy caps the lifetime: 400, then without validTo the cap.
	env.DevOps.Configure(func(d *simulator.DevOps) { d.MaxValidTo = 4 * time.Hour })
	resp, body = env.devops(t, http.MethodPost, sessionPath, bearer(at), map[string]any{"displayName": "x", "scope": "vso.packaging", "validTo": validTo.Format(time.RFC3339)})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("policy: %d %s", resp.StatusCode, body)
	}
	if v := vss(t, body); v["eventId"] != float64(3000) || v["innerException"] != nil || v["$id"] != "1" {
		t.Errorf("policy error %v", v)
	}
	status, m = request(map[string]any{"displayName": "x", "scope": "vso.packaging", "validTo": nil})
	got, _ = time.Parse(time.RFC3339, m["validTo"].(string))
	if status != http.StatusOK || !got.Equal(now.Add(4*time.Hour)) {
		t.Errorf("policy retry: %d %v", status, m)
	}

	// The recorder keeps the JSON fields.
	reqs := env.devopsRc.Requests()
	if last := reqs[len(reqs)-1]; last.Form.Get("validTo") != "null" || last.Header.Get("Authorization") != bearer(at) {
		t.Errorf("recorded %v %v", last.Form, last.Header)
	}

	// Compact tokens.
	resp, body = env.devops(t, http.MethodPost, strings.Replace(sessionPath, "SelfDescribing", "Compact", 1), bearer(at), map[string]any{"displayName": "x", "scope": "vso.packaging"})
	var compact struct{ Token string }
	json.Unmarshal(body, &compact)
	if resp.StatusCode != http.StatusOK || len(compact.Token) != 52 {
		t.Fatalf("compact: %d %s", resp.StatusCode, body)
	}
	if resp, _ := env.devops(t, http.MethodGet, sharedFeed, basicAuth("x", compact.Token), nil); resp.StatusCode != http.StatusOK {
		t.Errorf("compact token at feed: %d", resp.StatusCode)
	}

	// Tokens of other scopes do not read feeds.
	status, m = request(map[string]any{"displayName": "x", "scope": "vso.code"})
	resp, _ = env.devops(t, http.MethodGet, sharedFeed, basicAuth("x", m["token"].(string)), nil)
	if status != http.StatusOK || resp.StatusCode != http.StatusForbidden {
		t.Errorf("vso.code token: %d, feed %d", status, resp.StatusCode)
	}

	// Expiry by clock and by ExpireSessionTokens.
	env.clock.Advance(9 * time.Hour)
	if resp, _ := env.devops(t, http.MethodGet, sharedFeed, basicAuth("VssSessionToken", session), nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("expired session token: %d", resp.StatusCode)
	}
	at = env.userToken(t, azUser)
	status, m = request(map[string]any{"displayName": "x", "scope": "vso.packaging"})
	env.DevOps.ExpireSessionTokens()
	if resp, _ := env.devops(t, http.MethodGet, sharedFeed, basicAuth("VssSessionToken", m["token"].(string)), nil); status != http.StatusOK || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("ExpireSessionTokens: %d %d", status, resp.StatusCode)
	}

	// The token API wants an Entra token, an api-version, and a future validTo.
	resp, _ = env.devops(t, http.MethodPost, sessionPath, bearer(compact.Token), map[string]any{"scope": "vso.packaging"})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("session token minted with a session token: %d", resp.StatusCode)
	}
	resp, _ = env.devops(t, http.MethodPost, strings.Split(sessionPath, "&")[0], bearer(at), map[string]any{"scope": "vso.packaging"})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no api-version: %d", resp.StatusCode)
	}
	resp, _ = env.devops(t, http.MethodPost, sessionPath, bearer(at), map[string]any{"scope": "vso.packaging", "validTo": "2001-01-01T00:00:00Z"})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("past validTo: %d", resp.StatusCode)
	}
}

func TestDevOpsTF401444(t *testing.T) {
	env := startAzure(t, new(simulator.Entra), &simulator.DevOps{RequireOpen: true})
	at := env.userToken(t, azUser)
	for _, path := range []string{sessionPath, patPath, sharedFeed} {
		method := http.MethodPost
		if path == sharedFeed {
			method = http.MethodGet
		}
		resp, body := env.devops(t, method, path, bearer(at), map[string]any{"displayName": "x", "scope": "vso.packaging"})
		want := "TF401444: Please sign-in at least once as " + azUser + " in a web browser to enable access to the service."
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(vss(t, body)["message"].(string), want) {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	env.DevOps.Open(azOrg, azUser)
	if resp, body := env.devops(t, http.MethodPost, sessionPath, bearer(at), map[string]any{"scope": "vso.packaging"}); resp.StatusCode != http.StatusOK {
		t.Errorf("after Open: %d %s", resp.StatusCode, body)
	}
}

func TestDevOpsPATs(t *testing.T) {
	env := startAzure(t, new(simulator.Entra), &simulator.DevOps{MaxPATLifetime: 90 * 24 * time.Hour})
	at := env.userToken(t, azUser)
	validTo := env.clock.Now().Add(30 * 24 * time.Hour)
	resp, body := env.devops(t, http.MethodPost, patPath, bearer(at),
		map[string]any{"displayName": "feedkey", "scope": "vso.packaging", "validTo": validTo.Format(time.RFC3339), "allOrgs": false})
	var answer struct {
		PatToken struct {
			Token, ValidTo, AuthorizationID, DisplayName, Scope string
		}
		PatTokenError string
	}
	if err := json.Unmarshal(body, &answer); err != nil || resp.StatusCode != http.StatusOK || answer.PatTokenError != "none" {
		t.Fatalf("pat: %d %s", resp.StatusCode, body)
	}
	p := answer.PatToken
	got, _ := time.Parse(time.RFC3339, p.ValidTo)
	if len(p.Token) != 52 || !got.Equal(validTo) || p.AuthorizationID == "" || p.DisplayName != "feedkey" || p.Scope != "vso.packaging" {
		t.Errorf("pat %+v", p)
	}
	if resp, _ := env.devops(t, http.MethodGet, sharedFeed, basicAuth("", p.Token), nil); resp.StatusCode != http.StatusOK {
		t.Errorf("PAT at feed: %d", resp.StatusCode)
	}
	if resp, _ := env.devops(t, http.MethodGet, "/"+azMSAOrg+"/_packaging/mine/pypi/simple/", basicAuth("", p.Token), nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("PAT at another org: %d", resp.StatusCode)
	}

	for _, tc := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"scope": "vso.packaging"}, "displayNameRequired"},
		{map[string]any{"displayName": "x", "scope": "vso.packaging", "validTo": env.clock.Now().Add(400 * 24 * time.Hour).Format(time.RFC3339)}, "patLifespanPolicyViolation"},
		{map[string]any{"displayName": "x", "scope": "vso.packaging", "validTo": "2001-01-01T00:00:00Z"}, "invalidValidTo"},
	} {
		_, body := env.devops(t, http.MethodPost, patPath, bearer(at), tc.body)
		var m map[string]any
		json.Unmarshal(body, &m)
		if m["patTokenError"] != tc.want || m["patToken"] != nil {
			t.Errorf("%v: %s", tc.body, body)
		}
	}

	env.DevOps.RevokePATs()
	if resp, _ := env.devops(t, http.MethodGet, sharedFeed, basicAuth("", p.Token), nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked PAT: %d", resp.StatusCode)
	}
}

var azHrefRE = regexp.MustCompile(`<a href="([^"#]+)#sha256=([0-9a-f]{64})">([^<]+)</a>`)

func TestDevOpsFeeds(t *testing.T) {
	env := startAzure(t, new(simulator.Entra), new(simulator.DevOps))
	at := env.userToken(t, azUser)
	personal := env.userToken(t, azPersonal)
	stranger := env.userToken(t, azStranger)
	_, appTok := env.entraPost(t, "/"+azTenant+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {azApp}, "client_secret": {azSecret}, "scope": {simulator.DevOpsScope},
	})
	app, _ := appTok["access_token"].(string)
	if app == "" {
		t.Fatalf("no app token: %v", appTok)
	}

	// Who may read which feed.
	for _, tc := range []struct {
		path, authz string
		want        int
	}{
		{sharedFeed, bearer(at), http.StatusOK},
		{sharedFeed, basicAuth("VssSessionToken", at), http.StatusOK},
		{sharedFeed, basicAuth("anything", at), http.StatusOK},
		{sharedFeed, bearer(app), http.StatusOK},
		{sharedFeed, bearer(stranger), http.StatusUnauthorized},
		{sharedFeed, bearer(personal), http.StatusUnauthorized},
		{sharedFeed, basicAuth("VssSessionToken", ""), http.StatusUnauthorized},
		{"/" + azMSAOrg + "/_packaging/mine/pypi/simple/", bearer(personal), http.StatusOK},
		{"/" + azMSAOrg + "/_packaging/mine/pypi/simple/", bearer(at), http.StatusUnauthorized},
		{"/" + azOrg + "/_packaging/" + env.orgFeed + "/pypi/simple/", bearer(at), http.StatusOK},
		{"/" + azOrg + "/web/_packaging/WEB-FEED/pypi/simple/", bearer(at), http.StatusOK},
		{"/" + azOrg + "/" + azProject + "/_packaging/" + env.projFeed + "/pypi/simple/", bearer(at), http.StatusOK},
		{"/" + azOrg + "/_packaging/web-feed/pypi/simple/", bearer(at), http.StatusNotFound},
		{"/" + azOrg + "/_packaging/nosuchfeed/pypi/simple/", bearer(at), http.StatusNotFound},
		{"/" + azOrg + "/_packaging/shared/pypi/simple/nosuch/", bearer(at), http.StatusNotFound},
	} {
		if resp, body := env.devops(t, http.MethodGet, tc.path, tc.authz, nil); resp.StatusCode != tc.want {
			t.Errorf("%s with %.20s: %d, want %d\n%s", tc.path, tc.authz, resp.StatusCode, tc.want, body)
		}
	}

	// Project pages link downloads by feed GUID; the files are the wheels.
	for _, feed := range []struct{ page, guid string }{
		{sharedFeed, env.orgFeed},
		{"/" + azOrg + "/" + azProject + "/_packaging/web-feed/pypi/simple/", env.projFeed},
	} {
		resp, body := env.devops(t, http.MethodGet, feed.page+"demo-pkg/", bearer(at), nil)
		links := azHrefRE.FindAllStringSubmatch(string(body), -1)
		if resp.StatusCode != http.StatusOK || len(links) != 2 {
			t.Fatalf("%s: %d\n%s", feed.page, resp.StatusCode, body)
		}
		for _, l := range links {
			want := "/" + azOrg + "/_packaging/" + feed.guid + "/pypi/download/demo-pkg/"
			if !strings.HasPrefix(l[1], want) || !strings.HasSuffix(l[1], "/"+l[3]) {
				t.Errorf("link %s, want %s{version}/%s", l[1], want, l[3])
			}
			if resp, _ := env.devops(t, http.MethodGet, l[1], "", nil); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("download without credentials: %d", resp.StatusCode)
			}
			resp, data := env.devops(t, http.MethodGet, l[1], basicAuth("VssSessionToken", at), nil)
			sum := sha256.Sum256(data)
			if resp.StatusCode != http.StatusOK || hex.EncodeToString(sum[:]) != l[2] {
				t.Errorf("download %s: %d, sha256 mismatch", l[1], resp.StatusCode)
			}
		}
	}

	// Redirects keep the URL form the client used.
	resp, _ := env.devops(t, http.MethodGet, "/"+azOrg+"/"+azProject+"/_packaging/web-feed/pypi/simple/Demo_Pkg", bearer(at), nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusMovedPermanently || loc != "/"+azOrg+"/"+azProject+"/_packaging/web-feed/pypi/simple/demo-pkg/" {
		t.Errorf("redirect: %d %q", resp.StatusCode, loc)
	}

	// The recorder shows which credentials reached which path and host.
	host := strings.TrimPrefix(env.DevOpsURL, "https://")
	var seen bool
	for _, r := range env.devopsRc.Requests() {
		if r.Host == host && r.Path == sharedFeed && r.Header.Get("Authorization") == bearer(app) {
			seen = true
		}
	}
	if !seen {
		t.Error("the app token's request was not recorded")
	}
}

func TestDevOpsFailNext(t *testing.T) {
	env := startAzure(t, new(simulator.Entra), new(simulator.DevOps))
	at := env.userToken(t, azUser)
	env.DevOps.FailNext(http.StatusServiceUnavailable, 2)
	for range 2 {
		resp, body := env.devops(t, http.MethodGet, sharedFeed, bearer(at), nil)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
			t.Errorf("failure: %d %v", resp.StatusCode, resp.Header)
		}
		vss(t, body)
	}
	if resp, _ := env.devops(t, http.MethodGet, sharedFeed, bearer(at), nil); resp.StatusCode != http.StatusOK {
		t.Errorf("after failures: %d", resp.StatusCode)
	}
	env.DevOps.FailNext(http.StatusTooManyRequests, 1)
	if resp, _ := env.devops(t, http.MethodPost, sessionPath, bearer(at), map[string]any{"scope": "vso.packaging"}); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("429: %d", resp.StatusCode)
	}
}
