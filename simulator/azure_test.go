package simulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/feedkey/feedkey/simulator"
)

// Identities of the Azure test environment.
const (
	azTenant   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	azOther    = "11111111-2222-4333-8444-555555555555"
	azUser     = "alice@contoso.example"
	azUser2    = "bob@contoso.example"
	azStranger = "eve@fabrikam.example"
	azPersonal = "carol@outlook.example"
	azClient   = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
	azApp      = "0b9a4d0c-3f7e-4a8e-9d55-0a1d2c3e4f50"
	azSecret   = "app-secret"
	azOrg      = "contoso"
	azMSAOrg   = "carolsorg"
	azProject  = "Web"
	azRedirect = "http://localhost:8400"
)

// An azEnv is a running Azure simulation with users, orgs and feeds.
type azEnv struct {
	*simulator.Azure
	clock              *fakeClock
	orgFeed, projFeed  string // GUIDs of "shared" (org-scoped) and "web-feed" (in project Web)
	msaFeed            string
	entraHC, devopsHC  *http.Client
	entraRec, devopsRc *simulator.Recorder
}

// startAzure starts Entra and DevOps with e's and d's knobs, a fake clock,
// the users, apps, orgs and feeds above and the demo wheels in every feed.
func startAzure(t *testing.T, e *simulator.Entra, d *simulator.DevOps) *azEnv {
	t.Helper()
	clock := &fakeClock{t: time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)}
	e.Now, d.Now = clock.Now, clock.Now
	az, err := simulator.StartAzure(e, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(az.Close)
	e.AddUser(azTenant, azUser)
	e.AddUser(azTenant, azUser2)
	e.AddUser(azOther, azStranger)
	e.AddUser(simulator.ConsumersTenantID, azPersonal)
	e.AddApp(azTenant, azApp, azSecret)
	d.AddOrg(azOrg, azTenant)
	d.AddOrg(azMSAOrg, simulator.PersonalTenantID)
	env := &azEnv{
		Azure:    az,
		clock:    clock,
		orgFeed:  d.AddFeed(azOrg, "", "shared"),
		projFeed: d.AddFeed(azOrg, azProject, "web-feed"),
		msaFeed:  d.AddFeed(azMSAOrg, "", "mine"),
		entraHC:  noRedirects(az.EntraServer.Client()),
		devopsHC: noRedirects(az.DevOpsServer.Client()),
		entraRec: e.Recorder,
		devopsRc: d.Recorder,
	}
	for _, w := range demoWheels {
		for _, f := range []struct{ org, feed string }{{azOrg, "shared"}, {azOrg, env.projFeed}, {azMSAOrg, "mine"}} {
			if err := d.AddWheel(f.org, f.feed, w); err != nil {
				t.Fatal(err)
			}
		}
	}
	return env
}

func noRedirects(c *http.Client) *http.Client {
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// entraPost posts a form to Entra and decodes the JSON answer.
func (env *azEnv) entraPost(t *testing.T, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := env.entraHC.PostForm(env.EntraURL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	return decodeJSON(t, resp)
}

// entraGet gets path from Entra.
func (env *azEnv) entraGet(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := env.entraHC.Get(env.EntraURL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func decodeJSON(t *testing.T, resp *http.Response) (int, map[string]any) {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s: %d, Content-Type %q:\n%s", resp.Request.URL, resp.StatusCode, ct, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%s: %v\n%s", resp.Request.URL, err, body)
	}
	return resp.StatusCode, m
}

// devops sends a request to DevOps with an Authorization header (unless
// empty) and a JSON body (unless nil).
func (env *azEnv) devops(t *testing.T, method, path, authz string, body any) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, env.DevOpsURL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
	}
	resp, err := env.devopsHC.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

func basicAuth(user, pass string) string {
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(user, pass)
	return req.Header.Get("Authorization")
}

func bearer(token string) string { return "Bearer " + token }

// wantEntraError checks an error answer of Entra: status, error code,
// and AADSTS code in error_description and error_codes.
func wantEntraError(t *testing.T, status int, m map[string]any, wantStatus int, code string, aadsts string) {
	t.Helper()
	desc, _ := m["error_description"].(string)
	if status != wantStatus || m["error"] != code || !strings.HasPrefix(desc, "AADSTS"+aadsts+":") {
		t.Fatalf("got %d %v, want %d %s AADSTS%s", status, m, wantStatus, code, aadsts)
	}
	codes, _ := m["error_codes"].([]any)
	if len(codes) != 1 || codes[0] != mustFloat(aadsts) {
		t.Errorf("error_codes = %v, want [%s]", m["error_codes"], aadsts)
	}
	for _, k := range []string{"timestamp", "trace_id", "correlation_id"} {
		if s, _ := m[k].(string); s == "" {
			t.Errorf("error answer lacks %s: %v", k, m)
		}
	}
}

func mustFloat(s string) float64 {
	var f float64
	json.Unmarshal([]byte(s), &f)
	return f
}

// deviceToken runs a device code flow at tenant for username with raw HTTP
// and returns the token answer.
func (env *azEnv) deviceToken(t *testing.T, tenant, username string) map[string]any {
	t.Helper()
	scope := simulator.DevOpsScope + " openid profile offline_access"
	status, m := env.entraPost(t, "/"+tenant+"/oauth2/v2.0/devicecode", url.Values{"client_id": {azClient}, "scope": {scope}})
	if status != http.StatusOK {
		t.Fatalf("devicecode: %d %v", status, m)
	}
	if err := env.Entra.ApproveAs(m["user_code"].(string), username); err != nil {
		t.Fatal(err)
	}
	status, tok := env.entraPost(t, "/"+tenant+"/oauth2/v2.0/token", url.Values{
		"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {m["device_code"].(string)},
		"client_id":   {azClient},
		"scope":       {scope},
		"client_info": {"1"},
	})
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, tok)
	}
	return tok
}

func TestAzureEndToEnd(t *testing.T) {
	env := startAzure(t, new(simulator.Entra), new(simulator.DevOps))
	if env.EntraURL == env.DevOpsURL {
		t.Fatalf("Entra and DevOps share %s", env.EntraURL)
	}
	if got, want := env.FeedURL(azOrg, azProject, "web-feed"), env.DevOpsURL+"/contoso/Web/_packaging/web-feed/pypi/simple/"; got != want {
		t.Errorf("FeedURL = %s, want %s", got, want)
	}

	// Discovery: the feed names the authority and the token API base.
	feed := "/" + azOrg + "/_packaging/shared/pypi/simple/"
	resp, _ := env.devops(t, http.MethodGet, feed, "", nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated: %d", resp.StatusCode)
	}
	authority := strings.TrimPrefix(resp.Header.Values("WWW-Authenticate")[0], "Bearer authorization_uri=")
	if authority != env.Authority(azTenant) {
		t.Fatalf("authority %q, want %q", authority, env.Authority(azTenant))
	}
	endpoint := resp.Header.Get("X-VSS-AuthorizationEndpoint")
	if endpoint != env.DevOpsURL+"/"+azOrg+"/" {
		t.Fatalf("authorization endpoint %q", endpoint)
	}

	// Browser sign-in: authorize, then the "browser" posts the form to the
	// loopback redirect server, then the code is redeemed.
	verifier, challenge := newPKCE()
	codes := make(chan url.Values, 1)
	loopback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "form_post only", http.StatusMethodNotAllowed)
			return
		}
		r.ParseForm()
		codes <- r.PostForm
	}))
	defer loopback.Close()
	redirect := strings.Replace(loopback.URL, "127.0.0.1", "localhost", 1)
	q := url.Values{
		"client_id": {azClient}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {simulator.DevOpsScope + " openid offline_access profile"}, "state": {"st4te"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
		"response_mode": {"form_post"}, "prompt": {"select_account"},
	}
	resp, page := env.entraGet(t, strings.TrimPrefix(authority, env.EntraURL)+"/oauth2/v2.0/authorize?"+q.Encode())
	if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte(`<body onload="document.forms[0].submit()">`)) {
		t.Fatalf("authorize: %d\n%s", resp.StatusCode, page)
	}
	action, fields, err := simulator.ParseAutoSubmitForm(page)
	if err != nil || action != redirect {
		t.Fatalf("form: %q %v %v", action, fields, err)
	}
	if r, err := http.PostForm(action, fields); err != nil {
		t.Fatal(err)
	} else {
		r.Body.Close()
	}
	got := <-codes
	if got.Get("state") != "st4te" || got.Get("code") == "" {
		t.Fatalf("posted %v", got)
	}
	status, tok := env.entraPost(t, "/"+azTenant+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {got.Get("code")}, "code_verifier": {verifier},
		"redirect_uri": {redirect}, "client_id": {azClient}, "client_info": {"1"},
		"scope": {simulator.DevOpsScope + " openid offline_access profile"},
	})
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, tok)
	}

	// Session token, then the feed with it.
	resp, body := env.devops(t, http.MethodPost,
		"/"+azOrg+"/_apis/Token/SessionTokens?tokenType=SelfDescribing&api-version=5.0-preview.1",
		bearer(tok["access_token"].(string)),
		map[string]any{"displayName": "feedkey", "scope": "vso.packaging_write", "validTo": env.clock.Now().Add(8 * time.Hour).Format(time.RFC3339)})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("session token: %d %s", resp.StatusCode, body)
	}
	var st struct{ Token, ValidTo string }
	json.Unmarshal(body, &st)
	resp, body = env.devops(t, http.MethodGet, feed+"demo-pkg/", basicAuth("VssSessionToken", st.Token), nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "demo_pkg-1.0-py3-none-any.whl") {
		t.Fatalf("feed: %d\n%s", resp.StatusCode, body)
	}

	// The recorders saw which credentials went where.
	for _, r := range env.devopsRc.Requests() {
		if strings.Contains(r.Path, "/_apis/") && !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			t.Errorf("token API got %q", r.Header.Get("Authorization"))
		}
		if r.Host != strings.TrimPrefix(env.DevOpsURL, "https://") {
			t.Errorf("DevOps request for host %s", r.Host)
		}
	}
	var sawToken bool
	for _, r := range env.entraRec.Requests() {
		if r.Path == "/"+azTenant+"/oauth2/v2.0/token" && r.Form.Get("code_verifier") == verifier {
			sawToken = true
		}
	}
	if !sawToken {
		t.Error("Entra's recorder missed the token request")
	}
}
