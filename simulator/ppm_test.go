package simulator_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedkey/feedkey/simulator"
)

// A fakeClock is a settable clock for [simulator.PPM.Now].
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// startPPM serves p, holding the demo wheels, with a fake clock unless p
// has a clock already.
func startPPM(t *testing.T, p *simulator.PPM) (*simulator.Server, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)}
	if p.Now == nil {
		p.Now = clock.Now
	}
	for _, w := range demoWheels {
		if err := p.Add(w); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := simulator.NewServer(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv, clock
}

// post posts form to path and returns the status and the decoded JSON answer.
func post(t *testing.T, srv *simulator.Server, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := srv.Client().PostForm(srv.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("POST %s: %d, Content-Type %q:\n%s", path, resp.StatusCode, ct, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("POST %s: %v\n%s", path, err, body)
	}
	return resp.StatusCode, m
}

// wantOAuthError checks an RFC 6749 §5.2 error answer.
func wantOAuthError(t *testing.T, status int, m map[string]any, code string) {
	t.Helper()
	if status != http.StatusBadRequest || m["error"] != code {
		t.Fatalf("got %d %v, want 400 with error %q", status, m, code)
	}
	if d, _ := m["error_description"].(string); d == "" {
		t.Errorf("error %q has no error_description", code)
	}
}

// newPKCE returns a fresh PKCE verifier and its S256 challenge.
func newPKCE() (verifier, challenge string) {
	var b [32]byte
	rand.Read(b[:])
	verifier = base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// A flow is a started device flow.
type flow struct {
	device, user, verifier string
	answer                 map[string]any
}

func startFlow(t *testing.T, srv *simulator.Server) flow {
	t.Helper()
	verifier, challenge := newPKCE()
	status, m := post(t, srv, "/__api__/device", url.Values{
		"code_challenge_method": {"S256"},
		"code_challenge":        {challenge},
	})
	if status != http.StatusOK {
		t.Fatalf("device: %d %v", status, m)
	}
	device, _ := m["device_code"].(string)
	user, _ := m["user_code"].(string)
	return flow{device: device, user: user, verifier: verifier, answer: m}
}

func (f flow) poll(t *testing.T, srv *simulator.Server) (int, map[string]any) {
	t.Helper()
	return post(t, srv, "/__api__/device_access", url.Values{"device_code": {f.device}, "code_verifier": {f.verifier}})
}

func exchange(t *testing.T, srv *simulator.Server, idToken string) (int, map[string]any) {
	t.Helper()
	return post(t, srv, "/__api__/token", url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":      {idToken},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"},
	})
}

// claims decodes the payload of a JWT without verifying it.
func claims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("%q is not a compact JWS", token)
	}
	data, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPPMHappyPath(t *testing.T) {
	p := &simulator.PPM{}
	srv, clock := startPPM(t, p)

	resp, body := get(t, srv, "/__api__/status", "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"version":"2025.04.0"`) {
		t.Fatalf("status: %d %s", resp.StatusCode, body)
	}

	f := startFlow(t, srv)
	wantURI := srv.URL + "/__login__/device"
	if f.answer["verification_uri"] != wantURI ||
		f.answer["verification_uri_complete"] != wantURI+"?user_code="+f.user ||
		f.answer["interval"] != 5.0 || f.answer["expires_in"] != 300.0 || f.device == "" {
		t.Errorf("device answer %v", f.answer)
	}
	if !regexp.MustCompile(`^[A-Z]{4}-[A-Z]{4}$`).MatchString(f.user) {
		t.Errorf("user_code %q", f.user)
	}

	status, m := f.poll(t, srv)
	wantOAuthError(t, status, m, "authorization_pending")
	if err := p.Approve(f.user); err != nil {
		t.Fatal(err)
	}
	status, m = f.poll(t, srv)
	idToken, _ := m["id_token"].(string)
	if status != 200 || idToken == "" || m["token_type"] != "Bearer" || m["access_token"] != nil {
		t.Fatalf("approved poll: %d %v", status, m)
	}
	status, m = f.poll(t, srv)
	wantOAuthError(t, status, m, "invalid_grant")
	if n := p.Polls(f.device); n != 3 {
		t.Errorf("Polls = %d, want 3", n)
	}

	status, m = exchange(t, srv, idToken)
	access, _ := m["access_token"].(string)
	if status != 200 || access == "" || m["token_type"] != "Bearer" ||
		m["issued_token_type"] != "urn:ietf:params:oauth:token-type:access_token" || m["expires_in"] != 3600.0 {
		t.Fatalf("exchange: %d %v", status, m)
	}
	if n := p.Exchanges(); n != 1 {
		t.Errorf("Exchanges = %d, want 1", n)
	}
	c := claims(t, access)
	if want := float64(clock.Now().Add(time.Hour).Unix()); c["exp"] != want || c["sub"] != "user@example.test" {
		t.Errorf("access token claims %v, want exp %v", c, want)
	}

	const page = "/pypi-auth/latest/simple/demo-pkg/"
	resp, body = get(t, srv, page, "__token__", access)
	if resp.StatusCode != 200 || !strings.Contains(body, `href="/pypi-auth/latest/files/demo_pkg-1.0-py3-none-any.whl#sha256=`) {
		t.Fatalf("index with token: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := get(t, srv, "/pypi-auth/latest/files/demo_pkg-1.0-py3-none-any.whl", "__token__", access); resp.StatusCode != 200 {
		t.Errorf("wheel with token: %d", resp.StatusCode)
	}
	for _, cred := range [][2]string{{"", ""}, {"user", access}, {"__token__", idToken}, {"__token__", "garbage"}} {
		resp, _ := get(t, srv, page, cred[0], cred[1])
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Basic realm="Posit Package Manager"` {
			t.Errorf("index as %q: %d %q", cred[0], resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}

	var sawForm, sawIndex bool
	for _, r := range p.Recorder.Requests() {
		sawForm = sawForm || r.Path == "/__api__/device_access" && r.Form.Get("code_verifier") == f.verifier
		sawIndex = sawIndex || r.Path == page
		if r.Form != nil {
			r.Form.Set("code_verifier", "changed")
		}
	}
	if !sawForm || !sawIndex {
		t.Errorf("the recorder lacks the device_access form or the index: %+v", p.Recorder.Requests())
	}
	for _, r := range p.Recorder.Requests() {
		if r.Form.Get("code_verifier") == "changed" {
			t.Fatal("Requests shares forms with the recorder")
		}
	}
}

func TestPPMDeviceErrors(t *testing.T) {
	srv, _ := startPPM(t, &simulator.PPM{})
	_, challenge := newPKCE()
	tests := []struct {
		name string
		form url.Values
	}{
		{"no method", url.Values{"code_challenge": {challenge}}},
		{"plain", url.Values{"code_challenge_method": {"plain"}, "code_challenge": {challenge}}},
		{"no challenge", url.Values{"code_challenge_method": {"S256"}}},
		{"short challenge", url.Values{"code_challenge_method": {"S256"}, "code_challenge": {challenge[1:]}}},
		{"padded challenge", url.Values{"code_challenge_method": {"S256"}, "code_challenge": {challenge[1:] + "="}}},
		{"client_id", url.Values{"code_challenge_method": {"S256"}, "code_challenge": {challenge}, "client_id": {"x"}}},
		{"scope", url.Values{"code_challenge_method": {"S256"}, "code_challenge": {challenge}, "scope": {"openid"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, m := post(t, srv, "/__api__/device", tt.form)
			wantOAuthError(t, status, m, "invalid_request")
		})
	}

	status, m := post(t, srv, "/__api__/device", url.Values{"pad": {strings.Repeat("x", 100<<10)}})
	wantOAuthError(t, status, m, "invalid_request")
	if resp, _ := get(t, srv, "/__api__/device", "", ""); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /__api__/device: %d", resp.StatusCode)
	}
	if resp, _ := get(t, srv, "/elsewhere", "", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /elsewhere: %d", resp.StatusCode)
	}
}

func TestPPMPollErrors(t *testing.T) {
	p := &simulator.PPM{}
	srv, clock := startPPM(t, p)

	status, m := post(t, srv, "/__api__/device_access", url.Values{"device_code": {"nope"}, "code_verifier": {"v"}})
	wantOAuthError(t, status, m, "invalid_grant")

	f := startFlow(t, srv)
	wrong := f
	wrong.verifier, _ = newPKCE()
	status, m = wrong.poll(t, srv)
	wantOAuthError(t, status, m, "invalid_grant")
	status, m = f.poll(t, srv) // a PKCE mismatch does not spend the code
	wantOAuthError(t, status, m, "authorization_pending")

	denied := startFlow(t, srv)
	if err := p.Deny(denied.user); err != nil {
		t.Fatal(err)
	}
	status, m = denied.poll(t, srv)
	wantOAuthError(t, status, m, "access_denied")
	if err := p.Approve(denied.user); err == nil {
		t.Error("Approve after Deny succeeded")
	}

	clock.Advance(300 * time.Second)
	status, m = f.poll(t, srv)
	wantOAuthError(t, status, m, "expired_token")
	if err := p.Approve(f.user); err == nil {
		t.Error("Approve of an expired code succeeded")
	}
	if err := p.Approve("ABCD-EFGH"); !errors.Is(err, simulator.ErrUnknownUserCode) {
		t.Errorf("Approve of an unknown code: %v", err)
	}
}

func TestPPMSlowDown(t *testing.T) {
	t.Run("SlowDown", func(t *testing.T) {
		p := &simulator.PPM{SlowDown: 2}
		srv, _ := startPPM(t, p)
		f := startFlow(t, srv)
		if err := p.Approve(f.user); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"slow_down", "slow_down"} {
			status, m := f.poll(t, srv)
			wantOAuthError(t, status, m, want)
		}
		if status, m := f.poll(t, srv); status != 200 {
			t.Fatalf("third poll: %d %v", status, m)
		}
		if n := p.Polls(f.device); n != 3 {
			t.Errorf("Polls = %d, want 3", n)
		}
	})

	t.Run("EnforceInterval", func(t *testing.T) {
		p := &simulator.PPM{EnforceInterval: true, Interval: 2}
		srv, clock := startPPM(t, p)
		f := startFlow(t, srv)
		if f.answer["interval"] != 2.0 {
			t.Errorf("interval = %v, want 2", f.answer["interval"])
		}
		steps := []struct {
			wait time.Duration // before the poll
			want string
		}{
			{1 * time.Second, "slow_down"}, // interval now 7 s
			{7 * time.Second, "authorization_pending"},
			{6 * time.Second, "slow_down"}, // interval now 12 s
			{12 * time.Second, "authorization_pending"},
			{11 * time.Second, "slow_down"}, // interval now 17 s
		}
		for i, s := range steps {
			clock.Advance(s.wait)
			status, m := f.poll(t, srv)
			if i == 0 && m["error_description"] == nil {
				t.Error("no error_description")
			}
			wantOAuthError(t, status, m, s.want)
		}
		if err := p.Approve(f.user); err != nil {
			t.Fatal(err)
		}
		clock.Advance(17 * time.Second)
		if status, m := f.poll(t, srv); status != 200 {
			t.Fatalf("approved poll: %d %v", status, m)
		}
	})
}

func TestPPMExchangeErrors(t *testing.T) {
	p := &simulator.PPM{IDTokenLifetime: time.Minute}
	srv, clock := startPPM(t, p)
	idToken := p.IssueIDToken("ci@example.test")
	access := func() string {
		_, m := exchange(t, srv, p.IssueIDToken("x"))
		s, _ := m["access_token"].(string)
		return s
	}()
	parts := strings.Split(idToken, ".")
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"evil","aud":"packagemanager","exp":9999999999}`)) + "." + parts[2]

	valid := url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":      {idToken},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"},
	}
	with := func(key, value string) url.Values {
		v := url.Values{}
		for k, vs := range valid {
			v[k] = vs
		}
		v.Set(key, value)
		return v
	}
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"grant", with("grant_type", "client_credentials"), "unsupported_grant_type"},
		{"no subject", with("subject_token", ""), "invalid_request"},
		{"token type", with("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"), "invalid_request"},
		{"garbage", with("subject_token", "garbage"), "invalid_grant"},
		{"forged", with("subject_token", forged), "invalid_grant"},
		{"access token", with("subject_token", access), "invalid_grant"},
		{"other simulator", with("subject_token", (&simulator.PPM{}).IssueIDToken("x")), "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, m := post(t, srv, "/__api__/token", tt.form)
			wantOAuthError(t, status, m, tt.want)
		})
	}

	status, m := exchange(t, srv, idToken)
	if status != 200 {
		t.Fatalf("exchange of an issued id token: %d %v", status, m)
	}
	if sub := claims(t, m["access_token"].(string))["sub"]; sub != "ci@example.test" {
		t.Errorf("sub = %v", sub)
	}
	clock.Advance(time.Minute)
	status, m = exchange(t, srv, idToken)
	wantOAuthError(t, status, m, "invalid_grant")
	if n := p.Exchanges(); n != 2 {
		t.Errorf("Exchanges = %d, want 2", n)
	}
}

func TestPPMAccessTokenExpiry(t *testing.T) {
	p := &simulator.PPM{TokenLifetime: 10 * time.Minute}
	srv, clock := startPPM(t, p)
	_, m := exchange(t, srv, p.IssueIDToken("u"))
	access, _ := m["access_token"].(string)
	if m["expires_in"] != 600.0 {
		t.Errorf("expires_in = %v", m["expires_in"])
	}
	steps := []struct {
		wait time.Duration
		want int
	}{
		{0, 200},
		{10*time.Minute - time.Second, 200},
		{time.Second, 401},
	}
	for _, s := range steps {
		clock.Advance(s.wait)
		if resp, _ := get(t, srv, simulator.PPMIndexPath, "__token__", access); resp.StatusCode != s.want {
			t.Errorf("after %v more: %d, want %d", s.wait, resp.StatusCode, s.want)
		}
	}
}

func TestPPMLoginPage(t *testing.T) {
	p := &simulator.PPM{}
	srv, _ := startPPM(t, p)
	approved, denied, twice := startFlow(t, srv), startFlow(t, srv), startFlow(t, srv)
	tests := []struct {
		name   string
		url    string
		status int
		text   string
	}{
		{"approve", approved.answer["verification_uri_complete"].(string), 200, "Device approved"},
		{"deny", denied.answer["verification_uri_complete"].(string) + "&action=deny", 200, "Device denied"},
		{"sloppy code", srv.URL + "/__login__/device?user_code=" + strings.ToLower(strings.ReplaceAll(twice.user, "-", "")), 200, "Device approved"},
		{"approve again", srv.URL + "/__login__/device?user_code=" + twice.user, 200, "Device approved"},
		{"deny approved", srv.URL + "/__login__/device?action=deny&user_code=" + twice.user, 400, "already"},
		{"unknown", srv.URL + "/__login__/device?user_code=BCDF-GHJK", 404, "Unknown code"},
		{"bad action", srv.URL + "/__login__/device?action=maybe&user_code=" + twice.user, 400, "Unknown action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := srv.Client().Get(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.text) ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Errorf("%d %q\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		})
	}
	if status, m := approved.poll(t, srv); status != 200 {
		t.Errorf("approved poll: %d %v", status, m)
	}
	status, m := denied.poll(t, srv)
	wantOAuthError(t, status, m, "access_denied")
}

// TestPPMConcurrent runs many flows at once, for the race detector.
func TestPPMConcurrent(t *testing.T) {
	p := &simulator.PPM{SlowDown: 1}
	srv, _ := startPPM(t, p)
	for i := range 20 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			f := startFlow(t, srv)
			status, m := f.poll(t, srv)
			wantOAuthError(t, status, m, "slow_down")
			if err := p.Approve(f.user); err != nil {
				t.Fatal(err)
			}
			if status, m := f.poll(t, srv); status != 200 {
				t.Fatalf("poll: %d %v", status, m)
			}
			if n := p.Polls(f.device); n != 2 {
				t.Errorf("Polls = %d, want 2", n)
			}
		})
	}
}
