package simulator_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedkey/feedkey/simulator"
)

const azScopes = simulator.DevOpsScope + " openid profile offline_access"

func TestEntraOpenIDConfiguration(t *testing.T) {
	env := startAzure(t, new(simulator.Entra), new(simulator.DevOps))
	host := env.EntraURL
	for _, tc := range []struct{ tenant, endpointTenant, issuer string }{
		{azTenant, azTenant, host + "/" + azTenant + "/v2.0"},
		{strings.ToUpper(azTenant), azTenant, host + "/" + azTenant + "/v2.0"},
		{"contoso.example", azTenant, host + "/" + azTenant + "/v2.0"},
		{"organizations", "organizations", host + "/{tenantid}/v2.0"},
		{"common", "common", host + "/{tenantid}/v2.0"},
		{"consumers", "consumers", host + "/" + simulator.ConsumersTenantID + "/v2.0"},
	} {
		resp, body := env.entraGet(t, "/"+tc.tenant+"/v2.0/.well-known/openid-configuration")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", tc.tenant, resp.StatusCode, body)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		base := host + "/" + tc.endpointTenant
		want := map[string]string{
			"issuer":                        tc.issuer,
			"authorization_endpoint":        base + "/oauth2/v2.0/authorize",
			"token_endpoint":                base + "/oauth2/v2.0/token",
			"device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
			"end_session_endpoint":          base + "/oauth2/v2.0/logout",
			"jwks_uri":                      base + "/discovery/v2.0/keys",
		}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s: %s = %v, want %s", tc.tenant, k, m[k], v)
			}
		}
	}
	resp, body := env.entraGet(t, "/"+azTenant+"/discovery/v2.0/keys")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"keys"`) {
		t.Errorf("keys: %d %s", resp.StatusCode, body)
	}

	// Unknown tenants answer like Entra.
	resp, err := env.entraHC.Get(env.EntraURL + "/" + azOther[:8] + "-0000-0000-0000-000000000000/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	status, m := decodeJSON(t, resp)
	wantEntraError(t, status, m, http.StatusBadRequest, "invalid_tenant", "90002")

	// Instance discovery, which MSAL calls only when it is enabled.
	resp, body = env.entraGet(t, "/common/discovery/instance?api-version=1.1&authorization_endpoint="+
		url.QueryEscape(env.EntraURL+"/"+azTenant+"/oauth2/v2.0/authorize"))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), env.EntraURL+"/"+azTenant+"/v2.0/.well-known/openid-configuration") {
		t.Errorf("instance discovery: %d %s", resp.StatusCode, body)
	}
}

// authorize runs the authorize endpoint for tenant and returns the form
// fields the "browser" posts back.
func (env *azEnv) authorize(t *testing.T, tenant string, q url.Values) url.Values {
	t.Helper()
	resp, page := env.entraGet(t, "/"+tenant+"/oauth2/v2.0/authorize?"+q.Encode())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("authorize: %d\n%s", resp.StatusCode, page)
	}
	action, fields, err := simulator.ParseAutoSubmitForm(page)
	if err != nil {
		t.Fatal(err)
	}
	if action != q.Get("redirect_uri") {
		t.Fatalf("form posts to %q", action)
	}
	// Each field on its own line, as a sed "browser" expects.
	for k := range fields {
		if !strings.Contains(string(page), "\n<input type=\"hidden\" name=\""+k+"\" value=\"") {
			t.Errorf("field %s is not on its own line:\n%s", k, page)
		}
	}
	return fields
}

func authorizeQuery(challenge string) url.Values {
	return url.Values{
		"client_id": {azClient}, "redirect_uri": {azRedirect}, "response_type": {"code"},
		"scope": {azScopes}, "state": {"s1"}, "code_challenge": {challenge},
		"code_challenge_method": {"S256"}, "response_mode": {"form_post"},
	}
}

func redeemForm(code, verifier string) url.Values {
	return url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"redirect_uri": {azRedirect}, "client_id": {azClient}, "scope": {azScopes}, "client_info": {"1"},
	}
}

func TestEntraAuthorizationCode(t *testing.T) {
	env := startAzure(t, new(simulator.Entra), new(simulator.DevOps))
	verifier, challenge := newPKCE()
	fields := env.authorize(t, "organizations", authorizeQuery(challenge))
	if fields.Get("state") != "s1" || fields.Get("code") == "" || fields.Get("client_info") == "" {
		t.Fatalf("fields %v", fields)
	}
	status, tok := env.entraPost(t, "/organizations/oauth2/v2.0/token", redeemForm(fields.Get("code"), verifier))
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, tok)
	}
	checkUserTokens(t, env, tok, azUser, azTenant)

	// A code works once.
	status, m := env.entraPost(t, "/organizations/oauth2/v2.0/token", redeemForm(fields.Get("code"), verifier))
	wantEntraError(t, status, m, http.StatusBadRequest, "invalid_grant", "54005")

	// SignInAs and login_hint choose the user.
	env.Entra.Configure(func(e *simulator.Entra) { e.SignInAs = azPersonal })
	fields = env.authorize(t, "organizations", authorizeQuery(challenge))
	_, tok = env.entraPost(t, "/organizations/oauth2/v2.0/token", redeemForm(fields.Get("code"), verifier))
	checkUserTokens(t, env, tok, azPersonal, simulator.ConsumersTenantID)
	env.Entra.Configure(func(e *simulator.Entra) { e.SignInAs = "" })
	q := authorizeQuery(challenge)
	q.Set("login_hint", azUser2)
	fields = env.authorize(t, azTenant, q)
	_, tok = env.entraPost(t, "/"+azTenant+"/oauth2/v2.0/token", redeemForm(fields.Get("code"), verifier))
	checkUserTokens(t, env, tok, azUser2, azTenant)
}

// checkUserTokens checks a user grant's answer.
func checkUserTokens(t *testing.T, env *azEnv, tok map[string]any, username, tenant string) {
	t.Helper()
	if tok["token_type"] != "Bearer" || tok["expires_in"] != float64(3600) || tok["ext_expires_in"] == nil {
		t.Errorf("answer %v", tok)
	}
	if !strings.Contains(tok["scope"].(string), simulator.DevOpsScope) {
		t.Errorf("scope %v", tok["scope"])
	}
	for _, k := range []string{"access_token", "refresh_token", "id_token", "client_info"} {
		if s, _ := tok[k].(string); s == "" {
			t.Fatalf("answer lacks %s: %v", k, tok)
		}
	}
	at := claims(t, tok["access_token"].(string))
	user, _ := env.Entra.User(username)
	if at["aud"] != simulator.DevOpsResourceID || at["tid"] != tenant || at["oid"] != user.ObjectID || at["appid"] != azClient {
		t.Errorf("access token claims %v", at)
	}
	if c, ok := env.Entra.ValidAccessToken(tok["access_token"].(string)); !ok || c.Username() != username {
		t.Errorf("ValidAccessToken = %v, %v", c, ok)
	}
	id := claims(t, tok["id_token"].(string))
	if id["aud"] != azClient || id["tid"] != tenant || id["oid"] != user.ObjectID ||
		id["preferred_username"] != username || id["iss"] != env.EntraURL+"/"+tenant+"/v2.0" || id["name"] == "" {
		t.Errorf("id token claims %v", id)
	}
	if exp, iat := id["exp"].(float64), id["iat"].(float64); exp <= iat {
		t.Errorf("id token exp %v iat %v", exp, iat)
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok["client_info"].(string))
	if err != nil {
		t.Fatalf("client_info is not unpadded base64url: %v", err)
	}
	var ci map[string]string
	json.Unmarshal(raw, &ci)
	if ci["uid"] != user.ObjectID || ci["utid"] != tenant {
		t.Errorf("client_info %v", ci)
	}
}

func TestEntraAuthorizationCodeErrors(t *testing.T) {
	env := startAzure(t, new(simulator.Entra), new(simulator.DevOps))
	verifier, challenge := newPKCE()
	other, _ := newPKCE()

	code := env.authorize(t, azTenant, authorizeQuery(challenge)).Get("code")
	status, m := env.entraPost(t, "/"+azTenant+"/oauth2/v2.0/token", redeemForm(code, other))
	wantEntraError(t, status, m, http.StatusBadRequest, "invalid_grant", "501481")

	code = env.authorize(t, azTenant, authorizeQuery(challenge)).Get("code")
	form := redeemForm(code, verifier)
	form.Set("redirect_uri", "http://localhost:9999")
	status, m = env.entraPost(t, "/"+azTenant+"/oauth2/v2.0/token", form)
	wantEntraError(t, status, m, http.StatusBadRequest, "invalid_grant", "50011")

	code = env.authorize(t, azTenant, authorizeQuery(challenge)).Get("code")
	form = redeemForm(code, verifier)
	form.Set("scope", "https://graph.microsoft.com/.default openid")
	status, m = env.entraPost(t, "/"+azTenant+"/oauth2/v2.0/token", form)
	wantEntraError(t, status, m, http.StatusBadRequest, "invalid_scope", "70011")

	code = env.authorize(t, azTenant, authorizeQuery(challenge)).Get("code")
	env.clock.Advance(11 * time.Minute)
	status, m = env.entraPost(t, "/"+azTenant+"/oauth2/v2.0/token", redeemForm(code, verifier))
	wantEntraError(t, status, m, http.StatusBadRequest, "invalid_grant", "70008")

	// A redirect URI that is not loopback gets an error page, no redirect.
	q := authorizeQuery(challenge)
	q.Set("redirect_uri", "https://evil.example/cb")
	resp, page := env.entraGet(t, "/"+azTenant+"/oauth2/v2.0/authorize?"+q.Encode())
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(page), "AADSTS50011") {
		t.Errorf("bad redirect: %d %s", resp.StatusCode, page)
	}

	// Errors go back to the client in the form.
	q = authorizeQuery(challenge)
	q.Set("scope", "User.Read openid")
	if f := env.authorize(t, azTenant, q); f.Get("error") != "invalid_scope" || f.Get("state") != "s1" {
		t.Errorf("bad scope: %v", f)
	}
	env.Entra.Configure(func(e *simulator.Entra) { e.Deny = true })
	f := env.authorize(t, azTenant, authorizeQuery(challenge))
	if f.Get("error") != "access_denied" || f.Get("code") != "" || !strings.HasPrefix(f.Get("error_description"), "AADSTS65004:") {
		t.Errorf("deny: %v", f)
	}
	env.Entra.Configure(func(e *simulator.Entra) { e.Deny = false })

	// Without response_mode the code comes back in the query of a redirect.
	q = authorizeQuery(challenge)
	q.Del("response_mode")
	resp, _ = env.entraGet(t, "/"+azTenant+"/oauth2/v2.0/authorize?"+q.Encode())
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" || loc.Query().Get("state") != "s1" {
		t.Errorf("query mode: %d %s", resp.StatusCode, loc)
	}

	// A user of another tenant cannot sign in at this one.
	env.Entra.Configure(func(e *simulator.Entra) { e.SignInAs = azStranger })
	if f := env.authorize(t, azTenant, authorizeQuery(challenge)); !strings.HasPrefix(f.Get("error_description"), "AADSTS50034:") {
		t.Errorf("stranger: %v", f)
	}
}

func TestEntraDeviceCode(t *testing.T) {
	env := startAzure(t, &simulator.Entra{DeviceCodeLifetime: 10 * time.Minute}, new(simulator.DevOps))
	start := func(tenant string) map[string]any {
		t.Helper()
		status, m := env.entraPost(t, "/"+tenant+"/oauth2/v2.0/devicecode", url.Values{"client_id": {azClient}, "scope": {azScopes}})
		if status != http.StatusOK {
			t.Fatalf("devicecode: %d %v", status, m)
		}
		return m
	}
	poll := func(tenant string, dc map[string]any) (int, map[string]any) {
		t.Helper()
		return env.entraPost(t, "/"+tenant+"/oauth2/v2.0/token", url.Values{
			"grant_type": {"device_code"}, "device_code": {dc["device_code"].(string)},
			"client_id": {azClient}, "scope": {azScopes}, "client_info": {"1"},
		})
	}

	dc := start("organizations")
	if dc["verification_uri"] != env.EntraURL+"/devicelogin" || dc["expires_in"] != float64(600) ||
		dc["interval"] != float64(5) || !strings.Contains(dc["message"].(string), dc["user_code"].(string)) {
		t.Errorf("devicecode answer %v", dc)
	}
	status, m := poll("organizations", dc)
	wantEntraError(t, status, m, http.StatusBadRequest, "authorization_pending", "70016")

	// The device login page approves.
	resp, page := env.entraGet(t, "/devicelogin?user_code="+url.QueryEscape(strings.ToLower(dc["user_code"].(string))))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("devicelogin: %d %s", resp.StatusCode, page)
	}
	status, tok := poll("organizations", dc)
	if status != http.StatusOK {
		t.Fatalf("poll: %d %v", status, tok)
	}
	checkUserTokens(t, env, tok, azUser, azTenant)
	status, m = poll("organizations", dc)
	wantEntraError(t, status, m, http.StatusBadRequest, "invalid_grant", "70000")

	// RFC 8628's grant type URN works too, and consumers sign in personal accounts.
	dc = start("consumers")
	if err := env.Entra.Approve(dc["user_code"].(string)); err != nil {
		t.Fatal(err)
	}
	status, tok = env.entraPost(t, "/consumers/oauth2/v2.0/token", url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {dc["device_code"].(string)},
		"client_id": {azClient}, "scope": {azScopes}, "client_info": {"1"},
	})
	if status != http.StatusOK {
		t.Fatalf("consumers: %d %v", status, tok)
	}
	checkUserTokens(t, env, tok, azPersonal, simulator.ConsumersTenantID)

	// Declined and expired codes.
	dc = start(azTenant)
	resp, _ = env.entraGet(t, "/devicelogin?action=deny&user_code="+dc["user_code"].(string))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("deny: %d", resp.StatusCode)
	}
	status, m = poll(azTenant, dc)
	wantEntraError(t, status, m, http.StatusBadRequest, "authorization_declined", "70000")
	dc = start(azTenant)
	env.clock.Advance(11 * time.Minute)
	status, m = poll(azTenant, dc)
	wantEntraError(t, status, m, http.StatusBadRequest, "expired_token", "70019")
	if err := env.Entra.Approve(dc["user_code"].(string)); err == nil {
		t.Error("approved an expired code")
	}
	if err := env.Entra.Approve("NOPE"); err == nil {
		t.Error("approved an unknown code")
	}
	resp, _ = env.entraGet(t, "/devicelogin?user_code=NOPE")
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown code page: %d", resp.StatusCode)
	}
}

func refreshForm(rt string) url.Values {
	return url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {azClient},
		"scope": {azScopes}, "client_info": {"1"},
	}
}

func TestEntraRefreshToken(t *testing.T) {
	env := startAzure(t, &simulator.Entra{RefreshTokenLifetime: 24 * time.Hour}, new(simulator.DevOps))
	tok := env.deviceToken(t, "organizations", azUser)
	rt1 := tok["refresh_token"].(string)

	env.clock.Advance(2 * time.Hour)
	if _, ok := env.Entra.ValidAccessToken(tok["access_token"].(string)); ok {
		t.Error("access token valid after its lifetime")
	}
	status, tok2 := env.entraPost(t, "/organizations/oauth2/v2.0/token", refreshForm(rt1))
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, tok2)
	}
	checkUserTokens(t, env, tok2, azUser, azTenant)
	rt2 := tok2["refresh_token"].(string)
	if rt2 == rt1 {
		t.Error("refresh token did not rotate")
	}
	// As in Entra, the redeemed token stays valid...
	if status, m := env.entraPost(t, "/organizations/oauth2/v2.0/token", refreshForm(rt1)); status != http.StatusOK {
		t.Errorf("old refresh token: %d %v", status, m)
	}
	// ...unless single use is on.
	env.Entra.Configure(func(e *simulator.Entra) { e.SingleUseRefreshTokens = true })
	status, m := env.entraPost(t, "/organizations/oauth2/v2.0/token", refreshForm(rt1))
	wantEntraError(t, status, m, http.StatusBadRequest, "invalid_grant", "70000")
	env.Entra.Configure(func(e *simulator.Entra) { e.SingleUseRefreshTokens = false })

	// Another client cannot redeem it; a tenant the user is not in neither.
	form := refreshForm(rt2)
	form.Set("client_id", "d5a56ea4-7369-46b8-a538-c370805301bf")
	status, m = env.entraPost(t, "/organizations/oauth2/v2.0/token", form)
	wantEntraError(t, status, m, http.StatusBadRequest, "invalid_grant", "70000")
	status, m = env.entraPost(t, "/"+azOther+"/oauth2/v2.0/token", refreshForm(rt2))
	wantEntraError(t, status, m, http.StatusBadRequest, "invalid_grant", "50020")

	// Inactivity expires it.
	env.clock.Advance(25 * time.Hour)
	status, m = env.entraPost(t, "/organizations/oauth2/v2.0/token", refreshForm(rt2))
	wantEntraError(t, status, m, http.StatusBadRequest, "invalid_grant", "700082")

	// Revocation too.
	tok = env.deviceToken(t, azTenant, azUser2)
	env.Entra.RevokeRefreshTokens()
	status, m = env.entraPost(t, "/"+azTenant+"/oauth2/v2.0/token", refreshForm(tok["refresh_token"].(string)))
	wantEntraError(t, status, m, http.StatusBadRequest, "invalid_grant", "700082")
	status, m = env.entraPost(t, "/"+azTenant+"/oauth2/v2.0/token", refreshForm("garbage"))
	wantEntraError(t, status, m, http.StatusBadRequest, "invalid_grant", "9002313")

	// Without offline_access there is no refresh token, without openid no id_token.
	tok = env.deviceToken(t, azTenant, azUser2)
	form = refreshForm(tok["refresh_token"].(string))
	form.Set("scope", simulator.DevOpsScope)
	status, m = env.entraPost(t, "/"+azTenant+"/oauth2/v2.0/token", form)
	if status != http.StatusOK || m["refresh_token"] != nil || m["id_token"] != nil || m["access_token"] == nil {
		t.Errorf("bare scope: %d %v", status, m)
	}

	// ExpireAccessTokens invalidates every access token issued so far.
	if _, ok := env.Entra.ValidAccessToken(m["access_token"].(string)); !ok {
		t.Fatal("fresh access token invalid")
	}
	env.Entra.ExpireAccessTokens()
	if _, ok := env.Entra.ValidAccessToken(m["access_token"].(string)); ok {
		t.Error("expired access token still valid")
	}
}

// assertion makes an unsigned-looking client assertion with the claims.
func assertion(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "PS256", "typ": "JWT", "x5t#S256": "AAAA"})
	p, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p) + ".c2lnbmF0dXJl"
}

func TestEntraClientCredentials(t *testing.T) {
	env := startAzure(t, new(simulator.Entra), new(simulator.DevOps))
	tokenPath := "/" + azTenant + "/oauth2/v2.0/token"
	creds := func(extra url.Values) url.Values {
		f := url.Values{"grant_type": {"client_credentials"}, "client_id": {azApp}, "scope": {simulator.DevOpsScope}}
		for k, v := range extra {
			f[k] = v
		}
		return f
	}
	status, tok := env.entraPost(t, tokenPath, creds(url.Values{"client_secret": {azSecret}}))
	if status != http.StatusOK || tok["token_type"] != "Bearer" || tok["expires_in"] == nil || tok["refresh_token"] != nil {
		t.Fatalf("secret: %d %v", status, tok)
	}
	c, ok := env.Entra.ValidAccessToken(tok["access_token"].(string))
	if !ok || c.IdentityType != "app" || c.AppID != azApp || c.TenantID != azTenant || c.Username() != azApp {
		t.Errorf("app token %+v %v", c, ok)
	}

	status, m := env.entraPost(t, tokenPath, creds(url.Values{"client_secret": {"wrong"}}))
	wantEntraError(t, status, m, http.StatusUnauthorized, "invalid_client", "7000215")
	status, m = env.entraPost(t, tokenPath, creds(nil))
	wantEntraError(t, status, m, http.StatusUnauthorized, "invalid_client", "7000218")
	f := creds(url.Values{"client_secret": {azSecret}})
	f.Set("client_id", "unknown-app")
	status, m = env.entraPost(t, tokenPath, f)
	wantEntraError(t, status, m, http.StatusBadRequest, "unauthorized_client", "700016")
	status, m = env.entraPost(t, "/organizations/oauth2/v2.0/token", creds(url.Values{"client_secret": {azSecret}}))
	wantEntraError(t, status, m, http.StatusBadRequest, "invalid_request", "50059")
	f = creds(url.Values{"client_secret": {azSecret}})
	f.Set("scope", "https://management.azure.com/.default")
	status, m = env.entraPost(t, tokenPath, f)
	wantEntraError(t, status, m, http.StatusBadRequest, "invalid_scope", "70011")

	// Assertions: MSAL's certificate assertion, and a federated token.
	exp := env.clock.Now().Add(10 * time.Minute).Unix()
	for _, claims := range []map[string]any{
		{"aud": env.EntraURL + tokenPath, "iss": azApp, "sub": azApp, "exp": exp, "jti": "1"},
		{"aud": []string{"api://AzureADTokenExchange"}, "iss": "https://token.actions.example", "sub": "repo:x", "exp": exp},
	} {
		status, m = env.entraPost(t, tokenPath, creds(url.Values{
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {assertion(claims)},
		}))
		if status != http.StatusOK {
			t.Errorf("assertion %v: %d %v", claims, status, m)
		}
	}
	for _, claims := range []map[string]any{
		{"aud": "https://elsewhere/token", "iss": azApp, "sub": azApp, "exp": exp},
		{"aud": env.EntraURL + tokenPath, "iss": azApp, "sub": azApp, "exp": env.clock.Now().Unix() - 1},
	} {
		status, m = env.entraPost(t, tokenPath, creds(url.Values{
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
			"client_assertion":      {assertion(claims)},
		}))
		wantEntraError(t, status, m, http.StatusUnauthorized, "invalid_client", "700027")
	}
}

func TestEntraRequireMFAAndFailNext(t *testing.T) {
	env := startAzure(t, &simulator.Entra{RequireMFA: true}, new(simulator.DevOps))
	status, dc := env.entraPost(t, "/"+azTenant+"/oauth2/v2.0/devicecode", url.Values{"client_id": {azClient}, "scope": {azScopes}})
	if status != http.StatusOK {
		t.Fatal(dc)
	}
	env.Entra.Approve(dc["user_code"].(string))
	status, m := env.entraPost(t, "/"+azTenant+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"device_code"}, "device_code": {dc["device_code"].(string)}, "client_id": {azClient}, "scope": {azScopes},
	})
	wantEntraError(t, status, m, http.StatusBadRequest, "interaction_required", "50076")
	if m["suberror"] != "basic_action" || m["claims"] == nil {
		t.Errorf("MFA answer %v", m)
	}

	env.Entra.Configure(func(e *simulator.Entra) { e.RequireMFA = false })
	env.Entra.FailNext(http.StatusTooManyRequests, 2)
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {azApp}, "client_secret": {azSecret}, "scope": {simulator.DevOpsScope}}
	for range 2 {
		resp, err := env.entraHC.PostForm(env.EntraURL+"/"+azTenant+"/oauth2/v2.0/token", form)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
		status, m := decodeJSON(t, resp)
		wantEntraError(t, status, m, http.StatusTooManyRequests, "temporarily_unavailable", "90033")
	}
	if status, m := env.entraPost(t, "/"+azTenant+"/oauth2/v2.0/token", form); status != http.StatusOK {
		t.Errorf("after failures: %d %v", status, m)
	}
}

func TestEntraConcurrent(t *testing.T) {
	env := startAzure(t, new(simulator.Entra), new(simulator.DevOps))
	post := func(path string, form url.Values) map[string]any {
		resp, err := env.entraHC.PostForm(env.EntraURL+path, form)
		if err != nil {
			t.Error(err)
			return nil
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %v %v", path, resp.StatusCode, m, err)
			return nil
		}
		return m
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			dc := post("/organizations/oauth2/v2.0/devicecode", url.Values{"client_id": {azClient}, "scope": {azScopes}})
			if dc == nil {
				return
			}
			if err := env.Entra.ApproveAs(dc["user_code"].(string), []string{azUser, azUser2}[i%2]); err != nil {
				t.Error(err)
				return
			}
			tok := post("/organizations/oauth2/v2.0/token", url.Values{
				"grant_type": {"device_code"}, "device_code": {dc["device_code"].(string)}, "client_id": {azClient}, "scope": {azScopes},
			})
			if tok == nil {
				return
			}
			post("/organizations/oauth2/v2.0/token", refreshForm(tok["refresh_token"].(string)))
			env.Entra.Configure(func(e *simulator.Entra) { e.AccessTokenLifetime = time.Hour })
		})
	}
	wg.Wait()
}
