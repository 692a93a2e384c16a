package simulator

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Identifiers of Microsoft Entra ID and Azure DevOps.
const (
	// DevOpsResourceID is the application id of Azure DevOps, the
	// audience of every access token meant for it.
	DevOpsResourceID = "499b84ac-1321-427f-aa17-267ca6975798"
	// DevOpsScope is the only resource scope the simulated Entra ID
	// grants.
	DevOpsScope = DevOpsResourceID + "/.default"
	// PersonalTenantID is the tenant Azure DevOps reports, in
	// X-VSS-ResourceTenant, for organizations backed by personal
	// Microsoft accounts.
	PersonalTenantID = "00000000-0000-0000-0000-000000000000"
	// ConsumersTenantID is the home tenant of personal Microsoft
	// accounts: the tid of their tokens.
	ConsumersTenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"
	// EntraDeviceLoginPath is the device sign-in page, the
	// verification_uri of every device code.
	EntraDeviceLoginPath = "/devicelogin"
)

// OAuth grant and assertion types of the token endpoint.
const (
	grantAuthCode          = "authorization_code"
	grantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
	grantDeviceCodeMSAL    = "device_code" // what MSAL Go sends; Entra accepts both
	grantRefreshToken      = "refresh_token"
	grantClientCredentials = "client_credentials"
	clientAssertionJWT     = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	federatedAudience      = "api://AzureADTokenExchange"
)

const (
	entraAuthCodeLifetime = 10 * time.Minute
	entraUserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ23456789"
	entraUserCodeLength   = 9
	entraAppTokenIssuer   = "https://sts.windows.net/%s/"
	defaultRTLifetime     = 90 * 24 * time.Hour
	defaultDeviceLifetime = 900 * time.Second
)

// Entra simulates the Microsoft Entra ID (Azure AD) v2.0 endpoints that
// MSAL and azidentity use, for the Azure DevOps resource only. It serves:
//
//	GET  /{tenant}/v2.0/.well-known/openid-configuration   OpenID metadata; the issuer
//	                                                       shares the request's host
//	GET  /{tenant}/discovery/v2.0/keys                     an empty JWK set
//	GET  /common/discovery/instance                        instance discovery metadata
//	GET  /{tenant}/oauth2/v2.0/authorize                   authorization code + PKCE; answers at
//	                                                       once for the "browser's" user (POST too)
//	POST /{tenant}/oauth2/v2.0/devicecode                  start a device code flow
//	POST /{tenant}/oauth2/v2.0/token                       authorization_code, device_code (RFC 8628's
//	                                                       URN or MSAL's "device_code"),
//	                                                       refresh_token, client_credentials
//	GET  /{tenant}/oauth2/v2.0/logout                      a signed-out page
//	GET  /devicelogin                                      device sign-in: ?user_code=X approves,
//	                                                       &action=deny declines, &username=U
//	                                                       signs in as U
//
// {tenant} is a tenant GUID, a domain of one of its users, "organizations",
// "common" or "consumers". At "organizations" and "common" every user can
// sign in (personal accounts too); at "consumers" only personal accounts
// (users of [ConsumersTenantID]); at a tenant only its users. Tokens carry
// the user's home tenant as tid.
//
// The only resource is Azure DevOps: every grant must ask for [DevOpsScope]
// (plus openid, profile, offline_access, email); anything else answers
// invalid_scope. Access tokens are JWTs for audience [DevOpsResourceID];
// id_token is issued for openid, refresh_token for offline_access and
// client_info when the request has client_info=1, as Entra does. Tokens
// are signed with HMAC-SHA256 under keys only the simulator knows; clients
// (MSAL) do not verify them, Azure DevOps does through
// [Entra.ValidAccessToken].
//
// Errors have Entra's JSON shape (error, error_description starting with
// "AADSTSnnnn:", error_codes, timestamp, trace_id, correlation_id), with
// HTTP 400, or 401 for invalid_client.
//
// The zero value is ready to use. The exported fields are knobs: set them
// before serving, or at any time through [Entra.Configure]. An Entra is safe
// for concurrent use.
type Entra struct {
	// Now returns the current time for every issue and expiry.
	// Nil means time.Now.
	Now func() time.Time

	// AccessTokenLifetime is the lifetime of access tokens (expires_in).
	// Zero means 1 h.
	AccessTokenLifetime time.Duration

	// RefreshTokenLifetime is how long a refresh token may stay unused
	// (Entra's inactivity window). Zero means 90 days.
	RefreshTokenLifetime time.Duration

	// SingleUseRefreshTokens makes a redeemed refresh token invalid. By
	// default, as in Entra, it stays valid until it expires, although
	// every redemption hands out a new one.
	SingleUseRefreshTokens bool

	// DeviceCodeLifetime is how long a device code lives (expires_in).
	// Zero means 15 minutes.
	DeviceCodeLifetime time.Duration

	// Interval is the device code poll interval, in seconds, sent to
	// clients; it is not enforced (MSAL ignores it). Zero means 5.
	Interval int

	// SignInAs is the username the "browser" signs in as, at the
	// authorize endpoint and on the device login page. Empty means the
	// login_hint if it names a user allowed at the authority, else the
	// first such user added.
	SignInAs string

	// Deny makes the authorize endpoint answer access_denied, as if the
	// user had declined.
	Deny bool

	// RequireMFA makes every user grant at the token endpoint answer
	// interaction_required with AADSTS50076, as Entra does when
	// Conditional Access requires multi-factor authentication.
	RequireMFA bool

	// Recorder records every request, with its form body if it has one.
	// Nil means a Recorder is created on first use.
	Recorder *Recorder

	mu       sync.Mutex
	ready    bool
	atKey    []byte // signs access tokens; replaced by ExpireAccessTokens
	idKey    []byte // signs ID tokens
	tenants  map[string]*entraTenant
	domains  map[string]string // lower-case domain → tenant ID
	users    map[string]*EntraUser
	order    []*EntraUser // users, in the order added
	codes    map[string]*entraCode
	devices  map[string]*entraDevice // by device code
	userCode map[string]*entraDevice // by user code
	rts      map[string]*entraRefresh
	rtGen    int // refresh tokens of an earlier generation are revoked
	fail     failures
}

// An EntraUser is a user of the simulated Entra ID.
type EntraUser struct {
	TenantID string // home tenant
	Username string // user principal name, e.g. "alice@contoso.example"
	ObjectID string // oid, derived from tenant and username
	Name     string // display name
}

// EntraClaims are the claims of the tokens [Entra] issues: access tokens
// (aud [DevOpsResourceID], ver 1.0) and ID tokens (aud the client, ver 2.0).
type EntraClaims struct {
	Issuer            string `json:"iss"`
	Audience          string `json:"aud"`
	Subject           string `json:"sub"`
	TenantID          string `json:"tid"`
	ObjectID          string `json:"oid"`
	UPN               string `json:"upn,omitempty"`
	UniqueName        string `json:"unique_name,omitempty"`
	Email             string `json:"email,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	Name              string `json:"name,omitempty"`
	AppID             string `json:"appid,omitempty"`
	Scope             string `json:"scp,omitempty"`
	IdentityType      string `json:"idtyp,omitempty"` // "app" for service principals
	Version           string `json:"ver"`
	IssuedAt          int64  `json:"iat"`
	NotBefore         int64  `json:"nbf"`
	Expiry            int64  `json:"exp"`
	TokenID           string `json:"uti"`
}

// Username returns who the token speaks for: the user's username, or for
// an application token its client id.
func (c EntraClaims) Username() string {
	switch {
	case c.UPN != "":
		return c.UPN
	case c.PreferredUsername != "":
		return c.PreferredUsername
	case c.Email != "":
		return c.Email
	case c.IdentityType == "app":
		return c.AppID
	}
	return strings.TrimPrefix(c.UniqueName, "live.com#")
}

type entraTenant struct {
	id   string
	apps map[string]*entraApp // by lower-case client id
}

type entraApp struct {
	clientID string
	secret   string
	objectID string
}

type entraCode struct {
	clientID, redirectURI, challenge string
	user                             *EntraUser
	expires                          time.Time
	used                             bool
}

type entraDevice struct {
	device, user string
	clientID     string
	auth         entraAuthority
	expires      time.Time
	state        deviceState
	signedIn     *EntraUser
}

type entraRefresh struct {
	user     *EntraUser
	clientID string
	expires  time.Time
	gen      int
	used     bool
}

// failures makes the next n requests fail with an HTTP status.
type failures struct {
	status, n int
}

// take reports whether the current request must fail, and with which status.
func (f *failures) take() (int, bool) {
	if f.n <= 0 {
		return 0, false
	}
	f.n--
	return f.status, true
}

// An entraAuthority is the {tenant} segment of a request, resolved.
type entraAuthority struct {
	segment  string // as in the URL
	kind     string // "tenant", "organizations", "common" or "consumers"
	tenantID string // the tenant, for kind "tenant" and "consumers"
}

// allows reports whether u may sign in at the authority.
func (a entraAuthority) allows(u *EntraUser) bool {
	switch a.kind {
	case "organizations", "common":
		return true
	default:
		return u.TenantID == a.tenantID
	}
}

// An entraError is an error answer of Entra ID.
type entraError struct {
	status   int
	Code     string `json:"error"`
	Desc     string `json:"error_description"`
	Codes    []int  `json:"error_codes"`
	Time     string `json:"timestamp"`
	TraceID  string `json:"trace_id"`
	CorrID   string `json:"correlation_id"`
	ErrorURI string `json:"error_uri,omitempty"`
	SubError string `json:"suberror,omitempty"`
	Claims   string `json:"claims,omitempty"`
	aadsts   int
	message  string
}

func newEntraError(code string, aadsts int, format string, args ...any) *entraError {
	status := http.StatusBadRequest
	if code == "invalid_client" {
		status = http.StatusUnauthorized
	}
	return &entraError{status: status, Code: code, aadsts: aadsts, message: fmt.Sprintf(format, args...)}
}

func (e *entraError) Error() string {
	return fmt.Sprintf("%s: AADSTS%d: %s", e.Code, e.aadsts, e.message)
}

// ErrUnknownUser is returned for a username the simulated Entra ID does not
// know.
var ErrUnknownUser = errors.New("simulator: unknown user")

// Configure calls fn with e locked, so that tests can change knobs while e
// serves requests. fn must not call e's methods.
func (e *Entra) Configure(fn func(e *Entra)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.initLocked()
	fn(e)
}

func (e *Entra) initLocked() {
	if e.ready {
		return
	}
	e.ready = true
	if e.Recorder == nil {
		e.Recorder = new(Recorder)
	}
	e.atKey, e.idKey = randomKey(), randomKey()
	e.tenants = make(map[string]*entraTenant)
	e.domains = make(map[string]string)
	e.users = make(map[string]*EntraUser)
	e.codes = make(map[string]*entraCode)
	e.devices = make(map[string]*entraDevice)
	e.userCode = make(map[string]*entraDevice)
	e.rts = make(map[string]*entraRefresh)
}

func (e *Entra) lock() {
	e.mu.Lock()
	e.initLocked()
}

func randomKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

func (e *Entra) nowLocked() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

// canonicalTenant maps the tenant of personal-account organizations to
// the home tenant of personal accounts and lower-cases tenant IDs.
func canonicalTenant(id string) string {
	id = strings.ToLower(id)
	if id == PersonalTenantID {
		return ConsumersTenantID
	}
	return id
}

func (e *Entra) tenantLocked(id string) *entraTenant {
	id = canonicalTenant(id)
	t := e.tenants[id]
	if t == nil {
		t = &entraTenant{id: id, apps: make(map[string]*entraApp)}
		e.tenants[id] = t
	}
	return t
}

// AddTenant registers a tenant and, optionally, domains that name it in
// authority URLs. AddUser and AddApp register their tenant themselves.
func (e *Entra) AddTenant(tenantID string, domains ...string) {
	e.lock()
	defer e.mu.Unlock()
	t := e.tenantLocked(tenantID)
	for _, d := range domains {
		e.domains[strings.ToLower(d)] = t.id
	}
}

// AddUser adds a user to a tenant and returns it; the domain of the
// username (after "@") then names the tenant too. Users of
// [ConsumersTenantID] (or [PersonalTenantID], its alias here) are personal
// Microsoft accounts. Adding a username again moves it to tenantID.
func (e *Entra) AddUser(tenantID, username string) EntraUser {
	e.lock()
	defer e.mu.Unlock()
	t := e.tenantLocked(tenantID)
	key := strings.ToLower(username)
	u := e.users[key]
	if u == nil {
		u = &EntraUser{Username: username}
		e.users[key] = u
		e.order = append(e.order, u)
	}
	u.TenantID = t.id
	u.ObjectID = nameUUID("user:" + t.id + ":" + key)
	u.Name = displayName(username)
	if _, domain, ok := strings.Cut(key, "@"); ok && t.id != ConsumersTenantID {
		e.domains[domain] = t.id
	}
	return *u
}

// User returns the user with the given username.
func (e *Entra) User(username string) (EntraUser, bool) {
	e.lock()
	defer e.mu.Unlock()
	u := e.users[strings.ToLower(username)]
	if u == nil {
		return EntraUser{}, false
	}
	return *u, true
}

// AddApp registers a confidential application (service principal) in a
// tenant, for the client_credentials grant. With a non-empty secret it
// accepts client_secret; it always accepts a client_assertion JWT (see
// the token endpoint).
func (e *Entra) AddApp(tenantID, clientID, secret string) {
	e.lock()
	defer e.mu.Unlock()
	t := e.tenantLocked(tenantID)
	t.apps[strings.ToLower(clientID)] = &entraApp{
		clientID: clientID,
		secret:   secret,
		objectID: nameUUID("app:" + t.id + ":" + strings.ToLower(clientID)),
	}
}

// displayName makes a display name from a username: "alice.smith@x" gives
// "Alice Smith".
func displayName(username string) string {
	local, _, _ := strings.Cut(username, "@")
	words := strings.FieldsFunc(local, func(r rune) bool { return r == '.' || r == '_' || r == '-' })
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	if len(words) == 0 {
		return username
	}
	return strings.Join(words, " ")
}

// nameUUID returns a UUID derived from name (version 5 layout, SHA-256).
func nameUUID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return formatUUID(sum[:16], 5)
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	return formatUUID(b[:], 4)
}

func formatUUID(b []byte, version byte) string {
	b[6] = b[6]&0x0f | version<<4
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// ExpireAccessTokens makes every access token issued so far invalid for
// [Entra.ValidAccessToken], as if they had expired.
func (e *Entra) ExpireAccessTokens() {
	e.lock()
	defer e.mu.Unlock()
	e.atKey = randomKey()
}

// RevokeRefreshTokens revokes every refresh token issued so far; their
// redemption answers invalid_grant with AADSTS700082.
func (e *Entra) RevokeRefreshTokens() {
	e.lock()
	defer e.mu.Unlock()
	e.rtGen++
}

// FailNext makes the next n requests to the token endpoint answer the
// HTTP status (say 429 or 503) with Retry-After: 1 and an Entra error
// (temporarily_unavailable).
func (e *Entra) FailNext(status, n int) {
	e.lock()
	defer e.mu.Unlock()
	e.fail = failures{status, n}
}

// ValidAccessToken reports whether token is an access token e issued for
// Azure DevOps that has neither expired nor been expired with
// [Entra.ExpireAccessTokens], and returns its claims.
func (e *Entra) ValidAccessToken(token string) (EntraClaims, bool) {
	e.lock()
	defer e.mu.Unlock()
	var c EntraClaims
	if err := verifyHS256(e.atKey, token, &c); err != nil {
		return EntraClaims{}, false
	}
	now := e.nowLocked().Unix()
	if c.Audience != DevOpsResourceID || now >= c.Expiry || now < c.NotBefore {
		return EntraClaims{}, false
	}
	return c, true
}

// IssueAccessToken returns an access token for Azure DevOps, as a sign-in
// of the user would produce; for tests that need a token without a flow.
func (e *Entra) IssueAccessToken(username string) (string, error) {
	e.lock()
	defer e.mu.Unlock()
	u := e.users[strings.ToLower(username)]
	if u == nil {
		return "", fmt.Errorf("%w %q", ErrUnknownUser, username)
	}
	return e.userAccessTokenLocked(u, "04b07795-8ddb-461a-bbee-02f9e1bf7b46"), nil
}

// Approve approves the device code with the given user code, signing in
// as SignInAs or the first user allowed at the code's authority. User codes
// match ignoring case, spaces and dashes.
func (e *Entra) Approve(userCode string) error { return e.decideDevice(userCode, "", stateApproved) }

// ApproveAs approves the device code with the given user code, signing in
// as username.
func (e *Entra) ApproveAs(userCode, username string) error {
	return e.decideDevice(userCode, username, stateApproved)
}

// Decline declines the device code with the given user code; its polls
// then answer authorization_declined.
func (e *Entra) Decline(userCode string) error { return e.decideDevice(userCode, "", stateDenied) }

func (e *Entra) decideDevice(userCode, username string, to deviceState) error {
	e.lock()
	defer e.mu.Unlock()
	d := e.userCode[canonicalEntraCode(userCode)]
	switch {
	case d == nil:
		return fmt.Errorf("%w %q", ErrUnknownUserCode, userCode)
	case !e.nowLocked().Before(d.expires):
		return fmt.Errorf("simulator: user code %s has expired", d.user)
	case d.state != statePending:
		return fmt.Errorf("simulator: user code %s was already used or decided", d.user)
	}
	if to == stateApproved {
		u, err := e.signInLocked(d.auth, username, "")
		if err != nil {
			return fmt.Errorf("simulator: %w", err)
		}
		d.signedIn = u
	}
	d.state = to
	return nil
}

func canonicalEntraCode(s string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
}

// signInLocked picks the user signing in at an authority: username if
// given, else SignInAs, else the login hint, else the first allowed user.
func (e *Entra) signInLocked(a entraAuthority, username, hint string) (*EntraUser, *entraError) {
	if username == "" {
		username = e.SignInAs
	}
	if username != "" {
		u := e.users[strings.ToLower(username)]
		if u == nil || !a.allows(u) {
			return nil, newEntraError("invalid_request", 50034,
				"The user account %s does not exist in the %s directory. To sign into this application, the account must be added to the directory.", username, a.segment)
		}
		return u, nil
	}
	if u := e.users[strings.ToLower(hint)]; u != nil && a.allows(u) {
		return u, nil
	}
	for _, u := range e.order {
		if a.allows(u) {
			return u, nil
		}
	}
	return nil, newEntraError("invalid_request", 50034,
		"No user account exists in the %s directory. To sign into this application, the account must be added to the directory.", a.segment)
}

// resolveLocked resolves the {tenant} segment of a URL.
func (e *Entra) resolveLocked(seg string) (entraAuthority, *entraError) {
	a := entraAuthority{segment: seg}
	switch low := strings.ToLower(seg); {
	case low == "organizations" || low == "common":
		a.kind = low
	case low == "consumers" || canonicalTenant(low) == ConsumersTenantID:
		a.kind, a.tenantID = "consumers", ConsumersTenantID
	case e.tenants[low] != nil:
		a.kind, a.tenantID = "tenant", low
	case e.domains[low] != "":
		a.kind, a.tenantID = "tenant", e.domains[low]
	default:
		return a, newEntraError("invalid_tenant", 90002,
			"Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", seg)
	}
	return a, nil
}

// entraRoutes are the endpoints under /{tenant}/ and their methods; ""
// means GET or POST.
var entraRoutes = map[string]string{
	"v2.0/.well-known/openid-configuration": http.MethodGet,
	"discovery/v2.0/keys":                   http.MethodGet,
	"oauth2/v2.0/authorize":                 "",
	"oauth2/v2.0/devicecode":                http.MethodPost,
	"oauth2/v2.0/token":                     http.MethodPost,
	"oauth2/v2.0/logout":                    "",
}

// ServeHTTP implements http.Handler.
func (e *Entra) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	form, formErr := readForm(w, r)
	e.lock()
	rec := e.Recorder
	e.mu.Unlock()
	rec.RecordForm(r, form)

	p := r.URL.Path
	if p == EntraDeviceLoginPath {
		e.serveDeviceLogin(w, r)
		return
	}
	if strings.EqualFold(p, "/common/discovery/instance") {
		e.serveInstanceDiscovery(w, r)
		return
	}
	seg, rest, ok := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	method, known := entraRoutes[rest]
	switch {
	case !ok || seg == "" || !known:
		http.NotFound(w, r)
		return
	case method != "" && r.Method != method:
		w.Header().Set("Allow", method)
		http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
		return
	case method == "" && r.Method != http.MethodGet && r.Method != http.MethodPost:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if rest == "oauth2/v2.0/token" {
		e.lock()
		status, fail := e.fail.take()
		e.mu.Unlock()
		if fail {
			w.Header().Set("Retry-After", "1")
			ee := newEntraError("temporarily_unavailable", 90033, "A transient error has occurred. Please try again.")
			ee.status = status
			e.writeError(w, r, ee)
			return
		}
	}
	e.lock()
	auth, aerr := e.resolveLocked(seg)
	e.mu.Unlock()
	if aerr != nil {
		e.writeError(w, r, aerr)
		return
	}
	if formErr != nil {
		e.writeError(w, r, newEntraError("invalid_request", 900144, "Cannot read the request body: %v", formErr))
		return
	}
	switch rest {
	case "v2.0/.well-known/openid-configuration":
		e.serveOpenIDConfig(w, r, auth)
	case "discovery/v2.0/keys":
		writeJSON(w, map[string]any{"keys": []any{}})
	case "oauth2/v2.0/authorize":
		params := r.URL.Query()
		if r.Method == http.MethodPost {
			params = form
		}
		e.serveAuthorize(w, r, auth, params)
	case "oauth2/v2.0/devicecode":
		e.serveDeviceCode(w, r, auth, form)
	case "oauth2/v2.0/token":
		e.serveToken(w, r, auth, form)
	case "oauth2/v2.0/logout":
		writeHTML(w, http.StatusOK, "Signed out", "You signed out of your account. It's a good idea to close all browser windows.")
	}
}

func baseURL(r *http.Request) string { return requestScheme(r) + "://" + r.Host }

// serveOpenIDConfig answers the OpenID metadata of an authority. As in
// Entra, the endpoints keep the tenant segment (a domain is replaced by
// its tenant ID) and the issuer of the multi-tenant authorities is the
// template "{tenantid}".
func (e *Entra) serveOpenIDConfig(w http.ResponseWriter, r *http.Request, a entraAuthority) {
	base := baseURL(r)
	seg := a.segment
	issuerTenant := a.tenantID
	switch a.kind {
	case "tenant":
		seg = a.tenantID
	case "organizations", "common":
		seg, issuerTenant = a.kind, "{tenantid}"
	case "consumers":
		if strings.EqualFold(seg, "consumers") {
			seg = "consumers"
		} else {
			seg = ConsumersTenantID
		}
	}
	ep := base + "/" + seg
	writeJSON(w, map[string]any{
		"issuer":                                issuerURL(base, issuerTenant),
		"authorization_endpoint":                ep + "/oauth2/v2.0/authorize",
		"token_endpoint":                        ep + "/oauth2/v2.0/token",
		"device_authorization_endpoint":         ep + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  ep + "/oauth2/v2.0/logout",
		"jwks_uri":                              ep + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"subject_types_supported":               []string{"pairwise"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"plain", "S256"},
		"claims_supported": []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "name",
			"preferred_username", "oid", "tid", "ver", "email"},
		"request_uri_parameter_supported": false,
		"http_logout_supported":           true,
		"frontchannel_logout_supported":   true,
		"tenant_region_scope":             "WW",
		"cloud_instance_name":             "microsoftonline.com",
		"cloud_graph_host_name":           "graph.windows.net",
		"msgraph_host":                    "graph.microsoft.com",
	})
}

func issuerURL(base, tenantID string) string { return base + "/" + tenantID + "/v2.0" }

// serveInstanceDiscovery answers AAD instance discovery for the
// simulator's own host (MSAL calls it only when instance discovery is on).
func (e *Entra) serveInstanceDiscovery(w http.ResponseWriter, r *http.Request) {
	authz, err := url.Parse(r.URL.Query().Get("authorization_endpoint"))
	tenant := "common"
	if err == nil {
		if seg, _, ok := strings.Cut(strings.TrimPrefix(authz.Path, "/"), "/"); ok && seg != "" {
			tenant = seg
		}
	}
	writeJSON(w, map[string]any{
		"tenant_discovery_endpoint": baseURL(r) + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		"api-version":               "1.1",
		"metadata": []map[string]any{{
			"preferred_network": r.Host,
			"preferred_cache":   r.Host,
			"aliases":           []string{r.Host},
		}},
	})
}

// A scopeRequest is a parsed scope parameter.
type scopeRequest struct {
	openid, offline bool
}

// parseScope checks that scope asks for Azure DevOps, and nothing but
// OpenID's scopes besides.
func parseScope(scope string) (scopeRequest, *entraError) {
	var s scopeRequest
	resource := false
	for _, f := range strings.Fields(scope) {
		switch strings.ToLower(f) {
		case strings.ToLower(DevOpsScope):
			resource = true
		case "openid":
			s.openid = true
		case "offline_access":
			s.offline = true
		case "profile", "email":
		default:
			return s, newEntraError("invalid_scope", 70011,
				"The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope '%s' does not exist or is not supported: the simulator only grants %s.", f, DevOpsScope)
		}
	}
	if !resource {
		return s, newEntraError("invalid_scope", 70011,
			"The provided value for the input parameter 'scope' is not valid. The scope '%s' does not include %s.", scope, DevOpsScope)
	}
	return s, nil
}

// validLoopback reports whether uri is an http URL on a loopback host, the
// only redirect URIs of public clients the simulator accepts.
func validLoopback(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || u.User != nil {
		return false
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// serveAuthorize answers an authorization request at once, as a browser
// with a signed-in user would: with an auto-submitting form_post page, or
// a redirect for response_mode query (the default) or fragment.
func (e *Entra) serveAuthorize(w http.ResponseWriter, r *http.Request, a entraAuthority, q url.Values) {
	clientID := q.Get("client_id")
	redirect := q.Get("redirect_uri")
	if clientID == "" {
		e.writeErrorPage(w, newEntraError("invalid_request", 900144, "The request body must contain the following parameter: 'client_id'."))
		return
	}
	if !validLoopback(redirect) {
		e.writeErrorPage(w, newEntraError("invalid_request", 50011,
			"The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. The simulator accepts http://localhost and http://127.0.0.1 with any port.", redirect, clientID))
		return
	}
	mode := q.Get("response_mode")
	switch mode {
	case "":
		mode = "query"
	case "query", "fragment", "form_post":
	default:
		e.writeErrorPage(w, newEntraError("invalid_request", 900144, "The response_mode '%s' is not supported.", mode))
		return
	}
	state := q.Get("state")
	respond := func(v url.Values) {
		if state != "" {
			v.Set("state", state)
		}
		respondAuthorize(w, r, redirect, mode, v)
	}
	fail := func(ee *entraError) {
		v := url.Values{}
		v.Set("error", ee.Code)
		v.Set("error_description", fmt.Sprintf("AADSTS%d: %s", ee.aadsts, ee.message))
		v.Set("error_uri", baseURL(r)+"/error?code="+strconv.Itoa(ee.aadsts))
		respond(v)
	}
	if rt := q.Get("response_type"); rt != "code" {
		fail(newEntraError("unsupported_response_type", 70005, "The provided value for the input parameter 'response_type' is not allowed for this request. Expected value: code. Actual value: %s", rt))
		return
	}
	if _, ee := parseScope(q.Get("scope")); ee != nil {
		fail(ee)
		return
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && method == "":
	case method != "S256":
		fail(newEntraError("invalid_request", 50148, "The code_challenge_method '%s' is not supported; use S256.", method))
		return
	case !validChallenge(challenge):
		fail(newEntraError("invalid_request", 50148, "The code_challenge must be 43 characters of unpadded base64url."))
		return
	}

	e.lock()
	if e.Deny {
		e.mu.Unlock()
		fail(newEntraError("access_denied", 65004, "User declined to consent to access the app."))
		return
	}
	u, ee := e.signInLocked(a, "", q.Get("login_hint"))
	if ee != nil {
		e.mu.Unlock()
		fail(ee)
		return
	}
	code := "1.A" + rand.Text() + rand.Text() + rand.Text()
	e.codes[code] = &entraCode{
		clientID:    clientID,
		redirectURI: redirect,
		challenge:   challenge,
		user:        u,
		expires:     e.nowLocked().Add(entraAuthCodeLifetime),
	}
	info := clientInfo(u)
	e.mu.Unlock()

	v := url.Values{}
	v.Set("code", code)
	v.Set("client_info", info)
	v.Set("session_state", newUUID())
	respond(v)
}

// respondAuthorize hands v to the redirect URI the way mode asks.
func respondAuthorize(w http.ResponseWriter, r *http.Request, redirect, mode string, v url.Values) {
	w.Header().Set("Cache-Control", "no-store")
	if mode != "form_post" {
		u, _ := url.Parse(redirect)
		if mode == "query" {
			q := u.Query()
			for k, vs := range v {
				q[k] = vs
			}
			u.RawQuery = q.Encode()
		} else {
			u.Fragment = v.Encode()
		}
		http.Redirect(w, r, u.String(), http.StatusFound)
		return
	}
	var b strings.Builder
	b.WriteString("<html>\n<head><title>Working...</title></head>\n")
	b.WriteString(`<body onload="document.forms[0].submit()">` + "\n")
	fmt.Fprintf(&b, "<form method=\"post\" action=\"%s\">\n", html.EscapeString(redirect))
	// A stable order: code or error first, state last.
	for _, k := range []string{"code", "error", "error_description", "error_uri", "client_info", "session_state", "state"} {
		if val, ok := v[k]; ok {
			fmt.Fprintf(&b, "<input type=\"hidden\" name=\"%s\" value=\"%s\">\n", k, html.EscapeString(val[0]))
		}
	}
	b.WriteString("<noscript><input type=\"submit\" value=\"Continue\"></noscript>\n</form>\n</body>\n</html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(b.String()))
}

var (
	formActionRE = regexp.MustCompile(`<form[^>]*\saction="([^"]*)"`)
	formInputRE  = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// ParseAutoSubmitForm reads the auto-submitting form_post page of the
// authorize endpoint and returns where the form posts and its fields, so
// that a test can play the browser: post fields to action.
func ParseAutoSubmitForm(page []byte) (action string, fields url.Values, err error) {
	m := formActionRE.FindSubmatch(page)
	if m == nil {
		return "", nil, errors.New("simulator: no form in the page")
	}
	fields = url.Values{}
	for _, in := range formInputRE.FindAllSubmatch(page, -1) {
		fields.Add(html.UnescapeString(string(in[1])), html.UnescapeString(string(in[2])))
	}
	return html.UnescapeString(string(m[1])), fields, nil
}

// clientInfo returns the client_info of a user: unpadded base64url JSON
// with uid and utid, which MSAL decodes to key its cache.
func clientInfo(u *EntraUser) string {
	b, _ := json.Marshal(map[string]string{"uid": u.ObjectID, "utid": u.TenantID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// serveDeviceCode starts a device code flow.
func (e *Entra) serveDeviceCode(w http.ResponseWriter, r *http.Request, a entraAuthority, form url.Values) {
	clientID := form.Get("client_id")
	if clientID == "" {
		e.writeError(w, r, newEntraError("invalid_request", 900144, "The request body must contain the following parameter: 'client_id'."))
		return
	}
	if _, ee := parseScope(form.Get("scope")); ee != nil {
		e.writeError(w, r, ee)
		return
	}
	e.lock()
	now := e.nowLocked()
	lifetime := orDefault(e.DeviceCodeLifetime, defaultDeviceLifetime)
	d := &entraDevice{
		device:   "DAQABAAEAAA" + rand.Text() + rand.Text() + rand.Text(),
		user:     e.newUserCodeLocked(),
		clientID: clientID,
		auth:     a,
		expires:  now.Add(lifetime),
	}
	e.devices[d.device] = d
	e.userCode[d.user] = d
	interval := orDefault(e.Interval, 5)
	e.mu.Unlock()

	uri := baseURL(r) + EntraDeviceLoginPath
	writeJSON(w, map[string]any{
		"user_code":        d.user,
		"device_code":      d.device,
		"verification_uri": uri,
		"expires_in":       int(lifetime / time.Second),
		"interval":         interval,
		"message": fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.",
			uri, d.user),
	})
}

func (e *Entra) newUserCodeLocked() string {
	for {
		var b [entraUserCodeLength]byte
		rand.Read(b[:])
		for i := range b {
			b[i] = entraUserCodeAlphabet[int(b[i])%len(entraUserCodeAlphabet)]
		}
		if e.userCode[string(b[:])] == nil {
			return string(b[:])
		}
	}
}

// serveDeviceLogin is the device sign-in page.
func (e *Entra) serveDeviceLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	code := q.Get("user_code")
	if code == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!DOCTYPE html>\n<html>\n  <head><title>Enter code</title></head>\n  <body>\n    <h1>Enter code</h1>\n"+
			"    <form method=\"get\" action=\"%s\">\n      <input type=\"text\" name=\"user_code\">\n      <input type=\"submit\" value=\"Next\">\n    </form>\n  </body>\n</html>\n",
			EntraDeviceLoginPath)
		return
	}
	var err error
	verb := "signed in to the application on your device"
	switch q.Get("action") {
	case "", "approve":
		err = e.decideDevice(code, q.Get("username"), stateApproved)
	case "deny":
		err, verb = e.Decline(code), "declined the sign-in"
	default:
		writeHTML(w, http.StatusBadRequest, "Unknown action", "The action must be approve or deny.")
		return
	}
	switch {
	case errors.Is(err, ErrUnknownUserCode):
		writeHTML(w, http.StatusNotFound, "Code not recognized", "That code didn't work. Check the code and try again.")
	case err != nil:
		writeHTML(w, http.StatusBadRequest, "Code not usable", err.Error())
	default:
		writeHTML(w, http.StatusOK, "Done", "You have "+verb+". You may now close this window.")
	}
}

// A tokenAnswer is a successful answer of the token endpoint.
type tokenAnswer struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    int    `json:"expires_in"`
	ExtExpiresIn int    `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	ClientInfo   string `json:"client_info,omitempty"`
}

// serveToken answers the token endpoint.
func (e *Entra) serveToken(w http.ResponseWriter, r *http.Request, a entraAuthority, form url.Values) {
	clientID := form.Get("client_id")
	if user, _, ok := r.BasicAuth(); ok && clientID == "" {
		clientID, _ = url.QueryUnescape(user)
	}
	if clientID == "" {
		e.writeError(w, r, newEntraError("invalid_request", 900144, "The request body must contain the following parameter: 'client_id'."))
		return
	}
	var ans *tokenAnswer
	var ee *entraError
	e.lock()
	switch g := form.Get("grant_type"); g {
	case grantAuthCode:
		ans, ee = e.redeemCodeLocked(r, a, clientID, form)
	case grantDeviceCode, grantDeviceCodeMSAL:
		ans, ee = e.redeemDeviceLocked(r, clientID, form)
	case grantRefreshToken:
		ans, ee = e.redeemRefreshLocked(r, a, clientID, form)
	case grantClientCredentials:
		ans, ee = e.clientCredentialsLocked(r, a, clientID, form)
	case "":
		ee = newEntraError("invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
	default:
		ee = newEntraError("unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'.", g)
	}
	e.mu.Unlock()
	if ee != nil {
		e.writeError(w, r, ee)
		return
	}
	writeJSON(w, ans)
}

// mfaLocked returns the Conditional Access error when RequireMFA is set.
func (e *Entra) mfaLocked() *entraError {
	if !e.RequireMFA {
		return nil
	}
	ee := newEntraError("interaction_required", 50076,
		"Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '%s'.", DevOpsResourceID)
	ee.SubError = "basic_action"
	ee.Claims = `{"access_token":{"capolids":{"essential":true,"values":["` + nameUUID("policy:mfa") + `"]}}}`
	return ee
}

func (e *Entra) redeemCodeLocked(r *http.Request, a entraAuthority, clientID string, form url.Values) (*tokenAnswer, *entraError) {
	sc, ee := parseScope(form.Get("scope"))
	if ee != nil {
		return nil, ee
	}
	code := form.Get("code")
	c := e.codes[code]
	switch {
	case code == "":
		return nil, newEntraError("invalid_request", 900144, "The request body must contain the following parameter: 'code'.")
	case c == nil:
		return nil, newEntraError("invalid_grant", 9002313, "Invalid request. Request is malformed or invalid: the authorization code is not valid.")
	case c.used:
		return nil, newEntraError("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	case !e.nowLocked().Before(c.expires):
		return nil, newEntraError("invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	case !strings.EqualFold(c.clientID, clientID):
		return nil, newEntraError("invalid_grant", 70000, "The provided authorization code was issued to a different client.")
	case form.Get("redirect_uri") != c.redirectURI:
		return nil, newEntraError("invalid_grant", 50011,
			"The redirect URI '%s' specified in the request does not match the redirect URI '%s' used to obtain the authorization code.", form.Get("redirect_uri"), c.redirectURI)
	case c.challenge != "" && form.Get("code_verifier") == "":
		return nil, newEntraError("invalid_request", 50148, "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.")
	case c.challenge != "" && !equal(pkceChallenge(form.Get("code_verifier")), c.challenge):
		return nil, newEntraError("invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
	case !a.allows(c.user):
		return nil, userNotInTenant(c.user, a)
	}
	c.used = true
	if ee := e.mfaLocked(); ee != nil {
		return nil, ee
	}
	return e.userTokensLocked(r, c.user, clientID, sc, form.Get("client_info") == "1"), nil
}

func userNotInTenant(u *EntraUser, a entraAuthority) *entraError {
	return newEntraError("invalid_grant", 50020,
		"User account '%s' from identity provider does not exist in tenant '%s' and cannot access the application in that tenant.", u.Username, a.segment)
}

func (e *Entra) redeemDeviceLocked(r *http.Request, clientID string, form url.Values) (*tokenAnswer, *entraError) {
	sc, ee := parseScope(form.Get("scope"))
	if ee != nil {
		return nil, ee
	}
	d := e.devices[form.Get("device_code")]
	switch {
	case d == nil:
		return nil, newEntraError("bad_verification_code", 70000, "The provided device_code is not valid.")
	case !strings.EqualFold(d.clientID, clientID):
		return nil, newEntraError("invalid_grant", 70000, "The device_code was issued to a different client.")
	case d.state == stateUsed:
		return nil, newEntraError("invalid_grant", 70000, "The provided device_code was already redeemed.")
	case !e.nowLocked().Before(d.expires):
		return nil, newEntraError("expired_token", 70019, "Verification code expired.")
	case d.state == stateDenied:
		return nil, newEntraError("authorization_declined", 70000, "The user declined the sign-in request.")
	case d.state == statePending:
		return nil, newEntraError("authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
	}
	d.state = stateUsed
	if ee := e.mfaLocked(); ee != nil {
		return nil, ee
	}
	return e.userTokensLocked(r, d.signedIn, clientID, sc, form.Get("client_info") == "1"), nil
}

func (e *Entra) redeemRefreshLocked(r *http.Request, a entraAuthority, clientID string, form url.Values) (*tokenAnswer, *entraError) {
	sc, ee := parseScope(form.Get("scope"))
	if ee != nil {
		return nil, ee
	}
	rt := e.rts[form.Get("refresh_token")]
	now := e.nowLocked()
	lifetime := orDefault(e.RefreshTokenLifetime, defaultRTLifetime)
	switch {
	case form.Get("refresh_token") == "":
		return nil, newEntraError("invalid_request", 900144, "The request body must contain the following parameter: 'refresh_token'.")
	case rt == nil:
		return nil, newEntraError("invalid_grant", 9002313, "Invalid request. Request is malformed or invalid: the refresh token is not valid.")
	case rt.gen < e.rtGen || !now.Before(rt.expires):
		return nil, newEntraError("invalid_grant", 700082,
			"The refresh token has expired due to inactivity. The token was issued on %s and was inactive for %s.",
			rt.expires.Add(-lifetime).UTC().Format(time.RFC3339), lifetime)
	case rt.used && e.SingleUseRefreshTokens:
		return nil, newEntraError("invalid_grant", 70000, "The provided refresh token was already redeemed.")
	case !strings.EqualFold(rt.clientID, clientID):
		return nil, newEntraError("invalid_grant", 70000, "The refresh token was issued to a different client.")
	case !a.allows(rt.user):
		return nil, userNotInTenant(rt.user, a)
	}
	if ee := e.mfaLocked(); ee != nil {
		return nil, ee
	}
	rt.used = true
	return e.userTokensLocked(r, rt.user, clientID, sc, form.Get("client_info") == "1"), nil
}

// userTokensLocked issues the tokens of a user grant.
func (e *Entra) userTokensLocked(r *http.Request, u *EntraUser, clientID string, sc scopeRequest, withClientInfo bool) *tokenAnswer {
	life := orDefault(e.AccessTokenLifetime, time.Hour)
	ans := &tokenAnswer{
		TokenType:    "Bearer",
		Scope:        DevOpsResourceID + "/user_impersonation " + DevOpsScope,
		ExpiresIn:    int(life / time.Second),
		ExtExpiresIn: int(life / time.Second),
		AccessToken:  e.userAccessTokenLocked(u, clientID),
	}
	now := e.nowLocked()
	if sc.offline {
		token := "1.AX" + rand.Text() + rand.Text() + rand.Text() + rand.Text()
		e.rts[token] = &entraRefresh{
			user:     u,
			clientID: clientID,
			expires:  now.Add(orDefault(e.RefreshTokenLifetime, defaultRTLifetime)),
			gen:      e.rtGen,
		}
		ans.RefreshToken = token
	}
	if sc.openid {
		c := EntraClaims{
			Issuer:            issuerURL(baseURL(r), u.TenantID),
			Audience:          clientID,
			Subject:           pairwiseSubject(u, clientID),
			TenantID:          u.TenantID,
			ObjectID:          u.ObjectID,
			PreferredUsername: u.Username,
			Name:              u.Name,
			Version:           "2.0",
			IssuedAt:          now.Unix(),
			NotBefore:         now.Unix(),
			Expiry:            now.Add(time.Hour).Unix(),
			TokenID:           rand.Text(),
		}
		ans.IDToken = signHS256(e.idKey, c)
	}
	if withClientInfo {
		ans.ClientInfo = clientInfo(u)
	}
	return ans
}

// userAccessTokenLocked issues a v1.0 access token for Azure DevOps, as
// Entra does for that resource.
func (e *Entra) userAccessTokenLocked(u *EntraUser, clientID string) string {
	now := e.nowLocked()
	c := EntraClaims{
		Issuer:     fmt.Sprintf(entraAppTokenIssuer, u.TenantID),
		Audience:   DevOpsResourceID,
		Subject:    pairwiseSubject(u, DevOpsResourceID),
		TenantID:   u.TenantID,
		ObjectID:   u.ObjectID,
		Name:       u.Name,
		AppID:      clientID,
		Scope:      "user_impersonation",
		Version:    "1.0",
		IssuedAt:   now.Unix(),
		NotBefore:  now.Unix(),
		Expiry:     now.Add(orDefault(e.AccessTokenLifetime, time.Hour)).Unix(),
		TokenID:    rand.Text(),
		UniqueName: u.Username,
	}
	if u.TenantID == ConsumersTenantID {
		c.Email = u.Username
		c.UniqueName = "live.com#" + u.Username
	} else {
		c.UPN = u.Username
	}
	return signHS256(e.atKey, c)
}

func pairwiseSubject(u *EntraUser, audience string) string {
	sum := sha256.Sum256([]byte(u.ObjectID + "|" + strings.ToLower(audience)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// clientCredentialsLocked answers the client_credentials grant of a
// registered application. A client_assertion is accepted when it is a
// well-formed, unexpired JWT that is either a client's own assertion
// (iss = sub = client_id, aud = this token endpoint, as MSAL makes for
// certificates) or a federated token (aud api://AzureADTokenExchange, any
// issuer and subject, as in workload identity). Signatures are not
// checked.
func (e *Entra) clientCredentialsLocked(r *http.Request, a entraAuthority, clientID string, form url.Values) (*tokenAnswer, *entraError) {
	if a.kind != "tenant" {
		return nil, newEntraError("invalid_request", 50059,
			"No tenant-identifying information found in either the request or implied by any provided credentials: %s cannot be used with client credentials.", a.segment)
	}
	t := e.tenants[a.tenantID]
	app := t.apps[strings.ToLower(clientID)]
	if app == nil {
		return nil, newEntraError("unauthorized_client", 700016,
			"Application with identifier '%s' was not found in the directory '%s'.", clientID, a.tenantID)
	}
	secret := form.Get("client_secret")
	if _, p, ok := r.BasicAuth(); ok && secret == "" {
		secret, _ = url.QueryUnescape(p)
	}
	assertion := form.Get("client_assertion")
	switch {
	case secret != "":
		if app.secret == "" || !equal(secret, app.secret) {
			return nil, newEntraError("invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", clientID)
		}
	case assertion != "":
		if form.Get("client_assertion_type") != clientAssertionJWT {
			return nil, newEntraError("invalid_request", 50027, "The client_assertion_type must be %s.", clientAssertionJWT)
		}
		if err := e.checkAssertionLocked(assertion, clientID, baseURL(r)+r.URL.Path); err != nil {
			return nil, newEntraError("invalid_client", 700027, "Client assertion failed validation: %v.", err)
		}
	default:
		return nil, newEntraError("invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	}
	if _, ee := parseScope(form.Get("scope")); ee != nil {
		return nil, ee
	}
	now := e.nowLocked()
	life := orDefault(e.AccessTokenLifetime, time.Hour)
	c := EntraClaims{
		Issuer:       fmt.Sprintf(entraAppTokenIssuer, t.id),
		Audience:     DevOpsResourceID,
		Subject:      app.objectID,
		TenantID:     t.id,
		ObjectID:     app.objectID,
		AppID:        app.clientID,
		IdentityType: "app",
		Version:      "1.0",
		IssuedAt:     now.Unix(),
		NotBefore:    now.Unix(),
		Expiry:       now.Add(life).Unix(),
		TokenID:      rand.Text(),
	}
	return &tokenAnswer{
		TokenType:    "Bearer",
		ExpiresIn:    int(life / time.Second),
		ExtExpiresIn: int(life / time.Second),
		AccessToken:  signHS256(e.atKey, c),
	}, nil
}

// checkAssertionLocked checks a client assertion's shape and claims.
func (e *Entra) checkAssertionLocked(assertion, clientID, tokenURL string) error {
	var raw json.RawMessage
	if _, _, err := jwt.NewParser().ParseUnverified(assertion, &rawClaims{&raw}); err != nil {
		return fmt.Errorf("not a JWT: %v", err)
	}
	var c struct {
		Issuer   string `json:"iss"`
		Subject  string `json:"sub"`
		Audience any    `json:"aud"`
		Expiry   int64  `json:"exp"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return errors.New("malformed JWT claims")
	}
	var auds []string
	switch v := c.Audience.(type) {
	case string:
		auds = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				auds = append(auds, s)
			}
		}
	}
	if c.Expiry == 0 || e.nowLocked().Unix() >= c.Expiry {
		return errors.New("the assertion has expired or has no exp")
	}
	for _, aud := range auds {
		switch {
		case aud == federatedAudience && c.Issuer != "" && c.Subject != "":
			return nil
		case strings.EqualFold(aud, tokenURL) && strings.EqualFold(c.Issuer, clientID) && strings.EqualFold(c.Subject, clientID):
			return nil
		}
	}
	return fmt.Errorf("aud must be %s (with iss = sub = client_id) or %s, not %v", tokenURL, federatedAudience, auds)
}

// writeError writes an Entra error answer.
func (e *Entra) writeError(w http.ResponseWriter, r *http.Request, ee *entraError) {
	e.lock()
	now := e.nowLocked().UTC()
	e.mu.Unlock()
	out := *ee
	out.Time = now.Format("2006-01-02 15:04:05Z")
	out.TraceID = newUUID()
	out.CorrID = r.Header.Get("client-request-id")
	if out.CorrID == "" {
		out.CorrID = newUUID()
	}
	out.Codes = []int{ee.aadsts}
	out.Desc = fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
		ee.aadsts, ee.message, out.TraceID, out.CorrID, out.Time)
	out.ErrorURI = baseURL(r) + "/error?code=" + strconv.Itoa(ee.aadsts)
	writeJSONStatus(w, ee.status, &out)
}

// writeErrorPage answers an authorize request that cannot be redirected.
func (e *Entra) writeErrorPage(w http.ResponseWriter, ee *entraError) {
	writeHTML(w, http.StatusBadRequest, "Sorry, but we're having trouble signing you in.",
		fmt.Sprintf("AADSTS%d: %s", ee.aadsts, ee.message))
}
