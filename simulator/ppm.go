package simulator

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// URL paths and version of the simulated Posit Package Manager.
const (
	// PPMIndexPath is the PEP 503 index of the authenticated repository.
	PPMIndexPath = "/pypi-auth/latest/simple/"
	// PPMFilesPath is where the repository serves its wheels.
	PPMFilesPath = "/pypi-auth/latest/files/"
	// PPMUploadPath is where twine uploads to the repository's local source
	// (Package Manager's /upload/pypi/<source>).
	PPMUploadPath = "/upload/pypi/local-python"
	// PPMLoginPath is the identity provider's device sign-in page, the
	// verification_uri of every device code.
	PPMLoginPath = "/__login__/device"
	// PPMVersion is the version /__api__/status reports.
	PPMVersion = "2025.04.0"
)

// OAuth identifiers of the token exchange (RFC 8693).
const (
	grantTokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
	tokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
)

// Issuers and audiences of the tokens; they keep identity tokens and access
// tokens apart.
const (
	ppmIDIssuer      = "https://idp.simulator.feedkey.invalid"
	ppmIDAudience    = "packagemanager"
	ppmTokenIssuer   = "https://packagemanager.simulator.feedkey.invalid"
	ppmTokenAudience = "packagemanager-repositories"
)

const (
	ppmRepoRoot         = "/pypi-auth/"
	ppmRealm            = `Basic realm="Posit Package Manager"`
	ppmDefaultSubject   = "user@example.test"
	maxFormBytes        = 64 << 10
	slowDownStep        = 5                      // seconds added to the interval by slow_down
	userCodeAlphabet    = "BCDFGHJKLMNPQRSTVWXZ" // RFC 8628 §6.1: no vowels
	userCodeHalfLength  = 4
	codeChallengeLength = 43 // base64url of 32 bytes, no padding
)

// PPM simulates a Posit Package Manager server: the OAuth device flow with
// PKCE, the RFC 8693 identity-token exchange, and an authenticated PyPI
// repository at [PPMIndexPath]. It serves:
//
//	POST /__api__/device          start a device flow (code_challenge_method=S256, code_challenge)
//	POST /__api__/device_access   poll it (device_code, code_verifier); 200 with id_token
//	POST /__api__/token           exchange an id_token for an access_token
//	GET  /__api__/status          the server version, unauthenticated
//	GET  /__login__/device        the identity provider's sign-in page: it approves
//	                              ?user_code=X, or denies it with &action=deny
//	GET  /pypi-auth/latest/...    the repository; HTTP Basic, user __token__,
//	                              password an access token
//
// Error answers are HTTP 400 with a JSON body {"error", "error_description"}
// as in RFC 6749 §5.2. Anything else answers 404.
//
// The zero value is ready to use. Set the fields, which are knobs, before
// serving the first request. A PPM is safe for concurrent use.
type PPM struct {
	// Now returns the current time; every issue and expiry uses it.
	// Nil means time.Now.
	Now func() time.Time

	// Interval is the device poll interval in seconds sent to clients.
	// Zero means 5.
	Interval int

	// DeviceCodeLifetime is how long a device code lives (expires_in).
	// Zero means 300 s.
	DeviceCodeLifetime time.Duration

	// IDTokenLifetime is how long identity tokens live. Zero means 1 h.
	IDTokenLifetime time.Duration

	// TokenLifetime is how long access tokens live. Zero means 1 h.
	TokenLifetime time.Duration

	// EnforceInterval makes polls of a device code that come sooner than
	// its interval after the previous poll (or after the code was issued)
	// answer slow_down, adding 5 s to that code's interval.
	EnforceInterval bool

	// SlowDown makes the first SlowDown polls of each device code answer
	// slow_down, whatever their timing, each adding 5 s to its interval.
	SlowDown int

	// Subject is the user that approved device codes sign in as.
	// Empty means "user@example.test".
	Subject string

	// Recorder records every request, with its form body if it has one.
	// Nil means a Recorder is created on first use.
	Recorder *Recorder

	mu        sync.Mutex
	key       []byte                 // HMAC key signing every token
	index     *Index                 // the repository
	codes     map[string]*deviceCode // by device code
	users     map[string]*deviceCode // by user code
	exchanges int
}

// deviceState is where a device code stands.
type deviceState int

const (
	statePending deviceState = iota
	stateApproved
	stateDenied
	stateUsed // approved, and its id token handed out
)

// A deviceCode is one device authorization.
type deviceCode struct {
	device, user string
	challenge    string
	interval     int // seconds
	issued       time.Time
	expires      time.Time
	lastPoll     time.Time
	polls        int
	slowDowns    int // slow_down answers owed to SlowDown
	state        deviceState
}

// An oauthError is an RFC 6749 §5.2 error answer.
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

// ErrUnknownUserCode is returned by [PPM.Approve] and [PPM.Deny] for a user
// code the PPM did not issue.
var ErrUnknownUserCode = errors.New("simulator: unknown user code")

// setup initializes p on first use and returns its repository and recorder.
func (p *PPM) setup() (*Index, *Recorder) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setupLocked()
	return p.index, p.Recorder
}

func (p *PPM) setupLocked() {
	if p.index != nil {
		return
	}
	if p.Recorder == nil {
		p.Recorder = new(Recorder)
	}
	p.key = make([]byte, 32)
	rand.Read(p.key)
	p.codes = make(map[string]*deviceCode)
	p.users = make(map[string]*deviceCode)
	p.index = &Index{
		Prefix:      PPMIndexPath,
		FilesPrefix: PPMFilesPath,
		Auth:        p.authorized,
		Challenge:   func(w http.ResponseWriter) { w.Header().Set("WWW-Authenticate", ppmRealm) },
		Recorder:    p.Recorder,
	}
}

func (p *PPM) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Add builds w and adds it to the authenticated repository.
func (p *PPM) Add(w Wheel) error {
	ix, _ := p.setup()
	return ix.Add(w)
}

// Approve approves the device code with the given user code, as if the user
// had signed in and consented. The user code is matched ignoring case,
// spaces and dashes. Approving an approved code does nothing; a denied,
// used or expired code cannot be approved.
func (p *PPM) Approve(userCode string) error { return p.decide(userCode, stateApproved) }

// Deny denies the device code with the given user code, as if the user had
// declined; its polls then answer access_denied.
func (p *PPM) Deny(userCode string) error { return p.decide(userCode, stateDenied) }

func (p *PPM) decide(userCode string, to deviceState) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setupLocked()
	c := p.users[canonicalUserCode(userCode)]
	switch {
	case c == nil:
		return fmt.Errorf("%w %q", ErrUnknownUserCode, userCode)
	case !p.now().Before(c.expires):
		return fmt.Errorf("simulator: user code %s has expired", c.user)
	case c.state != statePending && c.state != to:
		return fmt.Errorf("simulator: user code %s was already used or decided", c.user)
	}
	c.state = to
	return nil
}

// IssueIDToken returns an identity token for subject, as the identity
// provider would issue it, valid for IDTokenLifetime; for instance the
// content of a PACKAGEMANAGER_IDENTITY_TOKEN_FILE.
func (p *PPM) IssueIDToken(subject string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setupLocked()
	return p.signLocked(ppmIDIssuer, ppmIDAudience, subject, orDefault(p.IDTokenLifetime, time.Hour))
}

// signLocked issues a token valid for lifetime from now.
func (p *PPM) signLocked(iss, aud, sub string, lifetime time.Duration) string {
	now := p.now()
	return signJWT(p.key, jwtClaims{
		Issuer:   iss,
		Subject:  sub,
		Audience: aud,
		IssuedAt: now.Unix(),
		Expiry:   now.Add(lifetime).Unix(),
		ID:       rand.Text(),
	})
}

// verify checks that token is one of p's tokens for audience aud and still
// valid.
func (p *PPM) verify(token, aud string) (jwtClaims, error) {
	p.mu.Lock()
	key := p.key
	p.mu.Unlock()
	c, err := verifyJWT(key, token, p.now())
	if err != nil {
		return jwtClaims{}, err
	}
	if c.Audience != aud {
		return jwtClaims{}, fmt.Errorf("token is not meant for %s", aud)
	}
	return c, nil
}

// Polls returns how many device_access polls named deviceCode.
func (p *PPM) Polls(deviceCode string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.codes[deviceCode]; c != nil {
		return c.polls
	}
	return 0
}

// DeviceSignIns returns how many device sign-ins have been started (device
// codes issued).
func (p *PPM) DeviceSignIns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.codes)
}

// Exchanges returns how many token exchanges succeeded.
func (p *PPM) Exchanges() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exchanges
}

// authorized is the repository's Auth: HTTP Basic with user __token__ and a
// valid access token as password.
func (p *PPM) authorized(r *http.Request) bool {
	user, token, ok := r.BasicAuth()
	if !ok || user != "__token__" {
		return false
	}
	_, err := p.verify(token, ppmTokenAudience)
	return err == nil
}

// A ppmRoute is an endpoint of the PPM API.
type ppmRoute struct {
	method string
	serve  func(p *PPM, w http.ResponseWriter, r *http.Request, form url.Values)
}

var ppmRoutes = map[string]ppmRoute{
	"/__api__/device":        {http.MethodPost, (*PPM).serveDevice},
	"/__api__/device_access": {http.MethodPost, (*PPM).serveDeviceAccess},
	"/__api__/token":         {http.MethodPost, (*PPM).serveToken},
	"/__api__/status":        {http.MethodGet, (*PPM).serveStatus},
	PPMLoginPath:             {http.MethodGet, (*PPM).serveLogin},
}

// ServeHTTP implements http.Handler.
func (p *PPM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ix, rec := p.setup()
	if strings.HasPrefix(r.URL.Path, ppmRepoRoot) {
		ix.ServeHTTP(w, r) // the index records the request
		return
	}
	if strings.TrimSuffix(r.URL.Path, "/") == PPMUploadPath {
		if !p.authorized(r) {
			rec.Record(r)
			w.Header().Set("WWW-Authenticate", ppmRealm)
			http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
			return
		}
		ix.serveUpload(w, r) // records the request
		return
	}
	form, formErr := readForm(w, r)
	rec.RecordForm(r, form)
	route, ok := ppmRoutes[r.URL.Path]
	switch {
	case !ok:
		http.NotFound(w, r)
	case r.Method != route.method:
		w.Header().Set("Allow", route.method)
		http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
	case formErr != nil:
		writeOAuthError(w, &oauthError{"invalid_request", "cannot read the form body: " + formErr.Error()})
	default:
		route.serve(p, w, r, form)
	}
}

// readForm reads the form-encoded body of a POST, at most maxFormBytes of it.
// Other methods have no form.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if r.Method != http.MethodPost {
		return nil, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	err := r.ParseForm()
	return r.PostForm, err
}

// serveDevice starts a device flow.
func (p *PPM) serveDevice(w http.ResponseWriter, r *http.Request, form url.Values) {
	for _, field := range []string{"client_id", "scope"} {
		if form.Has(field) {
			writeOAuthError(w, &oauthError{"invalid_request",
				"unexpected " + field + ": Posit Package Manager brokers its identity provider"})
			return
		}
	}
	if m := form.Get("code_challenge_method"); m != "S256" {
		writeOAuthError(w, &oauthError{"invalid_request", fmt.Sprintf("code_challenge_method must be S256, not %q", m)})
		return
	}
	challenge := form.Get("code_challenge")
	if !validChallenge(challenge) {
		writeOAuthError(w, &oauthError{"invalid_request", "code_challenge must be 43 characters of unpadded base64url"})
		return
	}
	c := p.newDeviceCode(challenge)
	uri := requestScheme(r) + "://" + r.Host + PPMLoginPath
	writeJSON(w, struct {
		DeviceCode              string `json:"device_code"`
		UserCode                string `json:"user_code"`
		VerificationURI         string `json:"verification_uri"`
		VerificationURIComplete string `json:"verification_uri_complete"`
		Interval                int    `json:"interval"`
		ExpiresIn               int    `json:"expires_in"`
	}{
		DeviceCode:              c.device,
		UserCode:                c.user,
		VerificationURI:         uri,
		VerificationURIComplete: uri + "?user_code=" + url.QueryEscape(c.user),
		Interval:                c.interval,
		ExpiresIn:               int(c.expires.Sub(c.issued) / time.Second),
	})
}

func validChallenge(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return len(s) == codeChallengeLength && err == nil && len(b) == sha256.Size
}

func requestScheme(r *http.Request) string {
	if r.TLS == nil {
		return "http"
	}
	return "https"
}

// newDeviceCode issues a device code for a PKCE challenge.
func (p *PPM) newDeviceCode(challenge string) *deviceCode {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	c := &deviceCode{
		device:    rand.Text() + rand.Text(),
		user:      p.newUserCodeLocked(),
		challenge: challenge,
		interval:  orDefault(p.Interval, 5),
		issued:    now,
		expires:   now.Add(orDefault(p.DeviceCodeLifetime, 300*time.Second)),
		lastPoll:  now,
	}
	p.codes[c.device] = c
	p.users[c.user] = c
	snapshot := *c // c's interval changes under p.mu
	return &snapshot
}

// newUserCodeLocked returns a fresh user code like "BCDF-GHJK".
func (p *PPM) newUserCodeLocked() string {
	for {
		var b [2 * userCodeHalfLength]byte
		rand.Read(b[:])
		for i := range b {
			b[i] = userCodeAlphabet[int(b[i])%len(userCodeAlphabet)]
		}
		code := string(b[:userCodeHalfLength]) + "-" + string(b[userCodeHalfLength:])
		if p.users[code] == nil {
			return code
		}
	}
}

// canonicalUserCode returns a user code as issued: upper case, in two
// halves joined by a dash.
func canonicalUserCode(s string) string {
	s = strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
	if len(s) != 2*userCodeHalfLength {
		return s
	}
	return s[:userCodeHalfLength] + "-" + s[userCodeHalfLength:]
}

// serveDeviceAccess answers a poll of a device code.
func (p *PPM) serveDeviceAccess(w http.ResponseWriter, r *http.Request, form url.Values) {
	idToken, err := p.poll(form.Get("device_code"), form.Get("code_verifier"))
	if err != nil {
		writeOAuthError(w, err)
		return
	}
	// Real PPM answers an id_token and no access_token.
	writeJSON(w, struct {
		IDToken   string `json:"id_token"`
		TokenType string `json:"token_type"`
	}{idToken, "Bearer"})
}

// poll returns the identity token of an approved device code, or why not.
func (p *PPM) poll(device, verifier string) (string, *oauthError) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.codes[device]
	if c == nil {
		return "", &oauthError{"invalid_grant", "unknown device_code"}
	}
	c.polls++
	now := p.now()
	since := now.Sub(c.lastPoll)
	c.lastPoll = now
	switch {
	case c.state == stateUsed:
		return "", &oauthError{"invalid_grant", "device_code was already used"}
	case !equal(pkceChallenge(verifier), c.challenge):
		return "", &oauthError{"invalid_grant", "code_verifier does not match code_challenge"}
	case !now.Before(c.expires):
		return "", &oauthError{"expired_token", "device_code has expired"}
	case c.state == stateDenied:
		return "", &oauthError{"access_denied", "the user denied the request"}
	case c.slowDowns < p.SlowDown:
		c.slowDowns++
		return "", c.slowDown()
	case p.EnforceInterval && since < time.Duration(c.interval)*time.Second:
		return "", c.slowDown()
	case c.state == statePending:
		return "", &oauthError{"authorization_pending", "the user has not yet approved the request"}
	}
	c.state = stateUsed
	return p.signLocked(ppmIDIssuer, ppmIDAudience, orDefault(p.Subject, ppmDefaultSubject),
		orDefault(p.IDTokenLifetime, time.Hour)), nil
}

// slowDown adds 5 s to c's interval and returns the slow_down error.
func (c *deviceCode) slowDown() *oauthError {
	c.interval += slowDownStep
	return &oauthError{"slow_down", "polling too fast; the interval is now " + strconv.Itoa(c.interval) + " s"}
}

// pkceChallenge returns the S256 code challenge of a verifier (RFC 7636).
func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// serveToken exchanges an identity token for an access token (RFC 8693).
func (p *PPM) serveToken(w http.ResponseWriter, r *http.Request, form url.Values) {
	if g := form.Get("grant_type"); g != grantTokenExchange {
		writeOAuthError(w, &oauthError{"unsupported_grant_type", fmt.Sprintf("grant_type %q is not supported", g)})
		return
	}
	subject := form.Get("subject_token")
	if subject == "" {
		writeOAuthError(w, &oauthError{"invalid_request", "missing subject_token"})
		return
	}
	if t := form.Get("subject_token_type"); t != tokenTypeIDToken {
		writeOAuthError(w, &oauthError{"invalid_request", fmt.Sprintf("subject_token_type must be %s, not %q", tokenTypeIDToken, t)})
		return
	}
	claims, err := p.verify(subject, ppmIDAudience)
	if err != nil {
		writeOAuthError(w, &oauthError{"invalid_grant", "subject_token: " + err.Error()})
		return
	}
	lifetime := orDefault(p.TokenLifetime, time.Hour)
	writeJSON(w, struct {
		AccessToken     string `json:"access_token"`
		TokenType       string `json:"token_type"`
		IssuedTokenType string `json:"issued_token_type"`
		ExpiresIn       int    `json:"expires_in"`
	}{p.issueAccessToken(claims.Subject, lifetime), "Bearer", tokenTypeAccessToken, int(lifetime / time.Second)})
}

// issueAccessToken issues an access token and counts the exchange.
func (p *PPM) issueAccessToken(subject string, lifetime time.Duration) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.exchanges++
	return p.signLocked(ppmTokenIssuer, ppmTokenAudience, subject, lifetime)
}

// serveStatus answers the unauthenticated status probe.
func (p *PPM) serveStatus(w http.ResponseWriter, r *http.Request, _ url.Values) {
	writeJSON(w, struct {
		Version      string `json:"version"`
		BuildDate    string `json:"build_date"`
		PyConfigured bool   `json:"py_configured"`
		RConfigured  bool   `json:"r_configured"`
	}{PPMVersion, "2025-04-15T00:00:00Z", true, false})
}

// serveLogin is the identity provider's device sign-in page: it approves, or
// with action=deny denies, the user code in the query.
func (p *PPM) serveLogin(w http.ResponseWriter, r *http.Request, _ url.Values) {
	q := r.URL.Query()
	var decide func(string) error
	var verb string
	switch q.Get("action") {
	case "", "approve":
		decide, verb = p.Approve, "approved"
	case "deny":
		decide, verb = p.Deny, "denied"
	default:
		writeHTML(w, http.StatusBadRequest, "Unknown action", "The action must be approve or deny.")
		return
	}
	code := q.Get("user_code")
	err := decide(code)
	switch {
	case errors.Is(err, ErrUnknownUserCode):
		writeHTML(w, http.StatusNotFound, "Unknown code", "No sign-in request has the code "+code+".")
	case err != nil:
		writeHTML(w, http.StatusBadRequest, "Code not usable", err.Error())
	default:
		title := "Device " + verb
		writeHTML(w, http.StatusOK, title, "The request with code "+canonicalUserCode(code)+" was "+verb+". You can close this window.")
	}
}

func writeHTML(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html>\n  <head><title>%s</title></head>\n  <body>\n    <h1>%[1]s</h1>\n    <p>%s</p>\n  </body>\n</html>\n",
		html.EscapeString(title), html.EscapeString(text))
}

// writeJSON answers 200 with v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	writeJSONStatus(w, http.StatusOK, v)
}

func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	writeJSONStatus(w, http.StatusBadRequest, e)
}

func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	io.WriteString(w, string(body)+"\n")
}
