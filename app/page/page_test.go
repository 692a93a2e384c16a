package page

import (
	"context"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// testTmpl stands in for assets/pages/signin.html, with the same fields.
var testTmpl = template.Must(template.New("signin").Parse(`<!doctype html>
<title>Sign in to {{.Feed}}</title>
<h1>{{.Feed}}</h1>
<p>Enter <code id="code">{{.UserCode}}</code> at <a href="{{.VerificationURL}}">{{.VerificationURL}}</a></p>
{{if .Done}}<p id="done">Thanks.</p>{{end}}
<form method="post" action="{{.PostPath}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button>I've entered the code</button>
</form>
<script src="{{.StaticPath}}signin.js"></script>
`))

var testStatic = fstest.MapFS{
	"signin.js":     {Data: []byte("document.title;\n")},
	"sub/other.css": {Data: []byte("p{}\n")},
}

func newServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(testTmpl, testStatic)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

type reqSpec struct {
	method  string
	url     string // absolute, on the server
	host    string // overrides the Host header
	headers map[string]string
	form    url.Values
}

func do(t *testing.T, rs reqSpec) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if rs.form != nil {
		body = strings.NewReader(rs.form.Encode())
	}
	method := rs.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequest(method, rs.url, body)
	if err != nil {
		t.Fatal(err)
	}
	if rs.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if rs.host != "" {
		req.Host = rs.host
	}
	for k, v := range rs.headers {
		req.Header.Set(k, v)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf reads the sign-in's CSRF token from its page.
func csrfOf(t *testing.T, pageURL string) string {
	t.Helper()
	_, body := do(t, reqSpec{url: pageURL})
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on the page:\n%s", body)
	}
	return m[1]
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func checkHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"Cache-Control":           "no-store",
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for k := range resp.Header {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			t.Errorf("CORS header %s sent", k)
		}
	}
}

func TestRequests(t *testing.T) {
	s := newServer(t)
	pageURL := s.Show("contoso", "ABCD-EFGH", "https://microsoft.com/devicelogin")
	other := s.Show("fabrikam", "WXYZ-1234", "https://microsoft.com/devicelogin")
	if !strings.HasPrefix(pageURL, "http://127.0.0.1:"+s.port+"/"+s.secret+"/signin/") {
		t.Fatalf("Show = %q", pageURL)
	}
	u, _ := url.Parse(pageURL)
	origin := "http://" + u.Host
	port := u.Port()
	id := lastElem(pageURL)
	wrongSecret := []byte(s.secret)
	wrongSecret[5] ^= 1
	csrf := csrfOf(t, pageURL)
	otherCSRF := csrfOf(t, other)
	done := s.Done(id)

	tests := []struct {
		name   string
		req    reqSpec
		status int
		body   string // substring expected in the body
	}{
		{"good GET", reqSpec{url: pageURL}, 200, "ABCD-EFGH"},
		{"good GET via localhost", reqSpec{url: pageURL, host: "localhost:" + port}, 200, "ABCD-EFGH"},
		{"HEAD", reqSpec{method: "HEAD", url: pageURL}, 200, ""},
		{"GET from our own page", reqSpec{url: pageURL, headers: map[string]string{
			"Origin": origin, "Referer": pageURL, "Sec-Fetch-Site": "same-origin"}}, 200, "ABCD-EFGH"},
		{"GET opened by the tray", reqSpec{url: pageURL, headers: map[string]string{"Sec-Fetch-Site": "none"}}, 200, "ABCD-EFGH"},
		{"DNS rebinding Host", reqSpec{url: pageURL, host: "evil.com:" + port}, 421, ""},
		{"Host without port", reqSpec{url: pageURL, host: "127.0.0.1"}, 421, ""},
		{"Host with other port", reqSpec{url: pageURL, host: "127.0.0.1:1"}, 421, ""},
		{"missing secret", reqSpec{url: origin + "/signin/" + id}, 404, ""},
		{"root", reqSpec{url: origin + "/"}, 404, ""},
		{"wrong secret", reqSpec{url: origin + "/" + string(wrongSecret) + "/signin/" + id}, 404, ""},
		{"secret prefix", reqSpec{url: origin + "/" + s.secret[:20] + "/signin/" + id}, 404, ""},
		{"secret without slash", reqSpec{url: origin + "/" + s.secret}, 404, ""},
		{"unknown sign-in", reqSpec{url: origin + "/" + s.secret + "/signin/nope"}, 404, ""},
		{"cross-origin Origin", reqSpec{url: pageURL, headers: map[string]string{"Origin": "https://evil.com"}}, 403, ""},
		{"null Origin", reqSpec{url: pageURL, headers: map[string]string{"Origin": "null"}}, 403, ""},
		{"other loopback port Origin", reqSpec{url: pageURL, headers: map[string]string{"Origin": "http://127.0.0.1:1"}}, 403, ""},
		{"cross-site Referer", reqSpec{url: pageURL, headers: map[string]string{"Referer": "https://evil.com/x"}}, 403, ""},
		{"cross-site fetch", reqSpec{url: pageURL, headers: map[string]string{"Sec-Fetch-Site": "cross-site"}}, 403, ""},
		{"same-site fetch", reqSpec{url: pageURL, headers: map[string]string{"Sec-Fetch-Site": "same-site"}}, 403, ""},
		{"CORS preflight", reqSpec{method: "OPTIONS", url: pageURL, headers: map[string]string{
			"Access-Control-Request-Method": "POST"}}, 405, ""},
		{"POST missing CSRF", reqSpec{method: "POST", url: pageURL, form: url.Values{}}, 403, ""},
		{"POST wrong CSRF", reqSpec{method: "POST", url: pageURL, form: url.Values{"csrf": {csrf[:len(csrf)-1] + "x"}}}, 403, ""},
		{"POST other sign-in's CSRF", reqSpec{method: "POST", url: pageURL, form: url.Values{"csrf": {otherCSRF}}}, 403, ""},
		{"POST CSRF in the query", reqSpec{method: "POST", url: pageURL + "?csrf=" + csrf, form: url.Values{}}, 403, ""},
		{"POST cross-origin", reqSpec{method: "POST", url: pageURL, form: url.Values{"csrf": {csrf}},
			headers: map[string]string{"Origin": "https://evil.com"}}, 403, ""},
		{"POST rebinding", reqSpec{method: "POST", url: pageURL, host: "evil.com:" + port, form: url.Values{"csrf": {csrf}}}, 421, ""},
		{"POST to static", reqSpec{method: "POST", url: origin + s.staticPath() + "signin.js"}, 405, ""},
		{"static file", reqSpec{url: origin + s.staticPath() + "signin.js"}, 200, "document.title"},
		{"static directory", reqSpec{url: origin + s.staticPath() + "sub"}, 404, ""},
		{"static root", reqSpec{url: origin + s.staticPath()}, 404, ""},
		{"static dot-dot", reqSpec{url: origin + s.staticPath() + "sub/../signin.js"}, 404, ""},
		{"static missing", reqSpec{url: origin + s.staticPath() + "nope.js"}, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, tt.req)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d; body %q", resp.StatusCode, tt.status, body)
			}
			if !strings.Contains(body, tt.body) {
				t.Errorf("body lacks %q:\n%s", tt.body, body)
			}
			checkHeaders(t, resp)
			if tt.status != 200 && strings.Contains(body, csrf) {
				t.Errorf("refused response leaks the CSRF token")
			}
		})
	}
	if isClosed(done) {
		t.Fatal("Done closed by a refused request")
	}

	// The good POST, as the page's own form sends it.
	resp, _ := do(t, reqSpec{method: "POST", url: pageURL, form: url.Values{"csrf": {csrf}},
		headers: map[string]string{"Origin": origin, "Sec-Fetch-Site": "same-origin"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != u.Path {
		t.Errorf("good POST: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	checkHeaders(t, resp)
	if !isClosed(done) {
		t.Error("Done not closed after the good POST")
	}
	if isClosed(s.Done(other)) {
		t.Error("the other sign-in's Done closed too")
	}
	// Confirming twice is harmless, and the page now says so.
	resp, _ = do(t, reqSpec{method: "POST", url: pageURL, form: url.Values{"csrf": {csrf}}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("second POST: %d", resp.StatusCode)
	}
	if _, body := do(t, reqSpec{url: pageURL}); !strings.Contains(body, `id="done"`) {
		t.Errorf("page after POST does not show done:\n%s", body)
	}
}

func TestCSRFHeader(t *testing.T) {
	s := newServer(t)
	pageURL := s.Show("contoso", "ABCD-EFGH", "https://microsoft.com/devicelogin")
	csrf := csrfOf(t, pageURL)
	resp, _ := do(t, reqSpec{method: "POST", url: pageURL, headers: map[string]string{"X-Feedkey-CSRF": csrf}})
	if resp.StatusCode != http.StatusSeeOther || !isClosed(s.Done(pageURL)) {
		t.Errorf("POST with CSRF header: %d, done %v", resp.StatusCode, isClosed(s.Done(pageURL)))
	}
}

func TestHostileValuesAreEscaped(t *testing.T) {
	s := newServer(t)
	pageURL := s.Show(`<script>alert(1)</script>"'&`, `<img src=x onerror=alert(2)>`, "javascript:alert(3)")
	resp, body := do(t, reqSpec{url: pageURL})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, bad := range []string{"<script>alert", "<img src=x", `href="javascript:`} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q:\n%s", bad, body)
		}
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("feed name not escaped as text:\n%s", body)
	}
}

func TestRemoveAndUnknown(t *testing.T) {
	s := newServer(t)
	pageURL := s.Show("contoso", "ABCD-EFGH", "https://microsoft.com/devicelogin")
	if s.Done("nope") != nil {
		t.Error("Done of an unknown id is not nil")
	}
	if s.Done(pageURL) == nil || s.Done(lastElem(pageURL)) != s.Done(pageURL) {
		t.Error("Done by URL and by id differ")
	}
	s.Remove(pageURL)
	if resp, _ := do(t, reqSpec{url: pageURL}); resp.StatusCode != 404 {
		t.Errorf("removed sign-in: status %d", resp.StatusCode)
	}
}

func TestSecretsDifferPerRun(t *testing.T) {
	a, _ := New(testTmpl, nil)
	b, _ := New(testTmpl, nil)
	if a.secret == b.secret || len(a.secret) != 43 {
		t.Errorf("secrets %q, %q", a.secret, b.secret)
	}
	if a.Show("f", "c", "https://x") != "" {
		t.Error("Show before Start returned a URL")
	}
}

func TestAddForm(t *testing.T) {
	tmpl := template.Must(template.New("add").Parse(`csrf={{.CSRF}} msg={{.Message}} failed={{.Failed}} url={{.URL}} feeds={{range .Feeds}}{{.Label}}/{{.State}};{{end}}`))
	s, err := New(template.Must(template.New("s").Parse(`x`)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	s.EnableAdd(tmpl, func(_ context.Context, url, token string) (string, error) {
		got = append(got, url+"|"+token)
		if url == "bad" {
			return "", errors.New("not a URL")
		}
		return "Added " + url, nil
	}, func() []FeedRow { return []FeedRow{{Label: "team — valid 5 h 0 m", State: "ok"}} })
	if s.AddURL() != "" {
		t.Error("AddURL before Start")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u := s.AddURL()
	host := strings.TrimPrefix(u, "http://")
	host = host[:strings.IndexByte(host, '/')]
	csrf := regexp.MustCompile(`csrf=(\S+)`).FindStringSubmatch(get(t, u, host).body)[1]
	tests := []struct {
		name string
		host string
		form url.Values
		code int
		body string
	}{
		{"adds", host, url.Values{"csrf": {csrf}, "url": {"https://x/simple/"}, "token": {"t"}}, 200, "msg=Added https://x/simple/ failed=false url= feeds=team — valid 5 h 0 m/ok;"},
		{"error shown", host, url.Values{"csrf": {csrf}, "url": {"bad"}}, 200, "failed=true url=bad"},
		{"no csrf", host, url.Values{"url": {"https://y/"}}, 403, ""},
		{"wrong csrf", host, url.Values{"csrf": {"x" + csrf}, "url": {"https://y/"}}, 403, ""},
		{"rebinding", "evil.example:" + host[strings.LastIndexByte(host, ':')+1:], url.Values{"csrf": {csrf}, "url": {"https://y/"}}, 421, ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("POST", u, strings.NewReader(tt.form.Encode()))
		req.Host = tt.host
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || !strings.Contains(string(b), tt.body) {
			t.Errorf("%s: %d %q", tt.name, resp.StatusCode, b)
		}
	}
	if len(got) != 2 {
		t.Errorf("add called %d times (%q), want only for CSRF-checked posts", len(got), got)
	}
}

type resp struct{ body string }

func get(t *testing.T, u, host string) resp {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Host = host
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{string(b)}
}
