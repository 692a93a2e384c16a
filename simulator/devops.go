package simulator

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Defaults of the simulated Azure DevOps token APIs.
const (
	// DefaultAuthorityURL is the authority host Azure DevOps names in its
	// challenges when DevOps.AuthorityURL is empty.
	DefaultAuthorityURL = "https://login.microsoftonline.com"
	// DefaultSessionTokenLifetime is the lifetime of a session token
	// requested without validTo when DevOps.MaxValidTo is zero.
	DefaultSessionTokenLifetime = 24 * time.Hour
	// DefaultPATLifetime is the lifetime of a PAT requested without validTo.
	DefaultPATLifetime = 30 * 24 * time.Hour

	vstokenIssuer  = "app.vstoken.visualstudio.com"
	vssTimeLayout  = "2006-01-02T15:04:05.0000000Z"
	maxJSONBody    = 64 << 10
	zeroGUID       = "00000000-0000-0000-0000-000000000000"
	devopsFeedRoot = "_packaging"
)

// DevOps simulates Azure DevOps Services: the PyPI feeds of Azure
// Artifacts (pkgs.dev.azure.com) and the token APIs of its identity
// service (vssps.dev.azure.com), both on one handler. It serves:
//
//	GET  /{org}/_packaging/{feed}/pypi/simple/...            an org-scoped feed
//	GET  /{org}/{project}/_packaging/{feed}/pypi/simple/...  a project-scoped feed
//	GET  /{org}[/{project}]/_packaging/{feed-guid}/pypi/download/{name}/{version}/{file}
//	POST /{org}/_apis/Token/SessionTokens?tokenType=SelfDescribing|Compact&api-version=...
//	POST /{org}/_apis/tokens/pats?api-version=...
//	GET, POST /{org}/{project}/_git/{repo}/...                Azure Repos over smart HTTP ([DevOps.AddRepo])
//
// {feed} is the feed's name or GUID; project pages link their files by
// feed GUID in the org-scoped form. Feeds accept HTTP Basic with any user
// name and, as password, a session token or PAT of the organization or an
// Entra access token for Azure DevOps of a user (or service principal) of
// the organization's tenant; and "Authorization: Bearer" with any of
// those. Session tokens and PATs must carry a vso.packaging* scope (or
// app_token). Unauthenticated requests answer 401 with Azure DevOps'
// challenges:
//
//	WWW-Authenticate: Bearer authorization_uri={AuthorityURL}/{tenant}   ("Bearer" alone for
//	                                                                      personal-account orgs)
//	WWW-Authenticate: Basic realm="https://{host}/"
//	WWW-Authenticate: TFS-Federated
//	X-VSS-ResourceTenant: {tenant}                      (zeros for personal-account orgs)
//	X-VSS-AuthorizationEndpoint: {AuthorizationEndpoint(org)}
//
// The token APIs take "Authorization: Bearer {Entra access token}" and a
// JSON body. Errors are VSS JSON ({"$id", "innerException", "message",
// "typeName", "typeKey", "errorCode", "eventId"}). An Entra user who has
// not "opened" the organization (see RequireOpen) gets 401 with TF401444.
//
// The zero value serves nothing until organizations are added with
// [DevOps.AddOrg]; Entra must be set for Entra tokens to be accepted. The
// exported fields are knobs: set them before serving, or at any time
// through [DevOps.Configure]. A DevOps is safe for concurrent use.
type DevOps struct {
	// Entra is the identity provider whose access tokens DevOps trusts.
	Entra *Entra

	// AuthorityURL is the Entra authority host named in challenges,
	// without tenant or trailing slash. Empty means DefaultAuthorityURL.
	AuthorityURL string

	// AuthorizationEndpoint returns the X-VSS-AuthorizationEndpoint of
	// an organization: the base of its token APIs. Nil means this
	// handler's own URL, "https://{host}/{org}/".
	AuthorizationEndpoint func(org string) string

	// RequireOpen makes DevOps refuse, with TF401444, Entra tokens of
	// users who have not been marked with [DevOps.Open]. By default
	// every user of the tenant has opened every organization.
	RequireOpen bool

	// MaxValidTo is the organization policy's maximum session token
	// lifetime. A session token request whose validTo lies further ahead
	// answers 400; one without validTo gets a token valid this long.
	// Zero means no limit, and DefaultSessionTokenLifetime without
	// validTo.
	MaxValidTo time.Duration

	// MaxPATLifetime is the policy's maximum PAT lifetime; a PAT request
	// beyond it answers patTokenError "patLifespanPolicyViolation".
	// Zero means no limit.
	MaxPATLifetime time.Duration

	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	// Recorder records every request. For the token APIs, the Form of the
	// record holds the JSON body's top-level fields: strings as they are,
	// other values (null included) as JSON text.
	// Nil means a Recorder is created on first use.
	Recorder *Recorder

	mu         sync.Mutex
	ready      bool
	sessionKey []byte
	orgs       map[string]*devopsOrg // by lower-case name
	compact    map[string]*devopsToken
	pats       map[string]*devopsToken
	opened     map[string]bool // lower-case "org|username"
	fail       failures
}

type devopsOrg struct {
	name     string
	tenantID string
	id       string
	feeds    []*devopsFeed
	repos    []*devopsRepo
}

type devopsFeed struct {
	project string
	name    string
	id      string
	index   *Index
}

// A devopsToken is an issued PAT or compact session token.
type devopsToken struct {
	org             *devopsOrg
	allOrgs         bool
	tenantID        string
	username        string
	scope           string
	authorizationID string
	validTo         time.Time
}

// sessionClaims are the claims of self-describing session tokens.
type sessionClaims struct {
	Issuer          string `json:"iss"`
	Audience        string `json:"aud"`
	NameID          string `json:"nameid"`
	TenantID        string `json:"tid"`
	Username        string `json:"upn"`
	Scope           string `json:"scp"`
	AuthorizationID string `json:"aui"`
	NotBefore       int64  `json:"nbf"`
	Expiry          int64  `json:"exp"`
}

// A devopsPrincipal is who a request authenticated as.
type devopsPrincipal struct {
	kind     string // "entra", "session" or "pat"
	username string
	tenantID string
	objectID string
	scope    string
}

// A vssError is an error answer of Azure DevOps.
type vssError struct {
	status  int
	ID      string  `json:"$id"`
	Inner   *string `json:"innerException"`
	Message string  `json:"message"`
	Type    string  `json:"typeName"`
	TypeKey string  `json:"typeKey"`
	Code    int     `json:"errorCode"`
	EventID int     `json:"eventId"`
}

func newVSSError(status int, typeKey, format string, args ...any) *vssError {
	return &vssError{
		status:  status,
		ID:      "1",
		Message: fmt.Sprintf(format, args...),
		Type:    "Microsoft.VisualStudio.Services.WebApi." + typeKey + ", Microsoft.VisualStudio.Services.WebApi",
		TypeKey: typeKey,
		EventID: 3000,
	}
}

func (v *vssError) Error() string { return v.Message }

// Configure calls fn with d locked, so that tests can change knobs while d
// serves requests. fn must not call d's methods.
func (d *DevOps) Configure(fn func(d *DevOps)) {
	d.lock()
	defer d.mu.Unlock()
	fn(d)
}

func (d *DevOps) lock() {
	d.mu.Lock()
	if d.ready {
		return
	}
	d.ready = true
	if d.Recorder == nil {
		d.Recorder = new(Recorder)
	}
	d.sessionKey = randomKey()
	d.orgs = make(map[string]*devopsOrg)
	d.compact = make(map[string]*devopsToken)
	d.pats = make(map[string]*devopsToken)
	d.opened = make(map[string]bool)
}

func (d *DevOps) nowLocked() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
}

// AddOrg adds an organization backed by an Entra tenant, or by personal
// Microsoft accounts when tenantID is [PersonalTenantID]. It registers the
// tenant with Entra, if set. Adding an organization that exists does
// nothing.
func (d *DevOps) AddOrg(name, tenantID string) {
	tenantID = strings.ToLower(tenantID)
	d.lock()
	if d.orgs[strings.ToLower(name)] != nil {
		d.mu.Unlock()
		return
	}
	d.orgs[strings.ToLower(name)] = &devopsOrg{name: name, tenantID: tenantID, id: newUUID()}
	entra := d.Entra
	d.mu.Unlock()
	if entra != nil && tenantID != PersonalTenantID {
		entra.AddTenant(tenantID)
	}
}

// AddFeed adds a feed to an organization, scoped to project unless project
// is empty, and returns its GUID. It panics if the organization is unknown.
func (d *DevOps) AddFeed(org, project, feedName string) (guid string) {
	d.lock()
	defer d.mu.Unlock()
	o := d.orgs[strings.ToLower(org)]
	if o == nil {
		panic("simulator: AddFeed: unknown organization " + org)
	}
	f := &devopsFeed{project: project, name: feedName, id: newUUID()}
	f.index = &Index{
		Prefix: "/simple/",
		FilePath: func(name, version, filename string) string {
			return "/" + o.name + "/" + devopsFeedRoot + "/" + f.id + "/pypi/download/" + name + "/" + version + "/" + filename
		},
	}
	o.feeds = append(o.feeds, f)
	return f.id
}

// AddWheel builds w and adds it to a feed, named by name or GUID.
func (d *DevOps) AddWheel(org, feed string, w Wheel) error {
	d.lock()
	var ix *Index
	if o := d.orgs[strings.ToLower(org)]; o != nil {
		for _, f := range o.feeds {
			if strings.EqualFold(f.name, feed) || strings.EqualFold(f.id, feed) {
				ix = f.index
				break
			}
		}
	}
	d.mu.Unlock()
	if ix == nil {
		return fmt.Errorf("simulator: no feed %q in organization %q", feed, org)
	}
	return ix.Add(w)
}

// Open marks the organization as opened by username (a user name, or a
// service principal's client id), for RequireOpen.
func (d *DevOps) Open(org, username string) {
	d.lock()
	defer d.mu.Unlock()
	d.opened[strings.ToLower(org)+"|"+strings.ToLower(username)] = true
}

// ExpireSessionTokens makes every session token issued so far invalid.
func (d *DevOps) ExpireSessionTokens() {
	d.lock()
	defer d.mu.Unlock()
	d.sessionKey = randomKey()
	clear(d.compact)
}

// RevokePATs revokes every PAT issued so far.
func (d *DevOps) RevokePATs() {
	d.lock()
	defer d.mu.Unlock()
	clear(d.pats)
}

// FailNext makes the next n requests, whatever they are, answer the HTTP
// status (say 429 or 503) with Retry-After: 1.
func (d *DevOps) FailNext(status, n int) {
	d.lock()
	defer d.mu.Unlock()
	d.fail = failures{status, n}
}

// devopsKnobs is a snapshot of the knobs, taken under the lock.
type devopsKnobs struct {
	entra       *Entra
	authority   string
	endpoint    func(string) string
	requireOpen bool
	maxValidTo  time.Duration
	maxPAT      time.Duration
	now         time.Time
}

// apiRoute names the token API a path is for, if any.
func apiRoute(segs []string) string {
	if len(segs) != 4 || segs[1] != "_apis" {
		return ""
	}
	switch strings.ToLower(segs[2] + "/" + segs[3]) {
	case "token/sessiontokens":
		return "session"
	case "tokens/pats":
		return "pat"
	}
	return ""
}

// ServeHTTP implements http.Handler.
func (d *DevOps) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	api := apiRoute(segs)
	var body map[string]json.RawMessage
	var bodyErr error
	var form url.Values
	if api != "" && r.Method == http.MethodPost {
		body, bodyErr = readJSONBody(w, r)
		form = flattenJSON(body)
	}

	d.lock()
	d.Recorder.RecordForm(r, form)
	status, fail := d.fail.take()
	o := d.orgs[strings.ToLower(segs[0])]
	k := devopsKnobs{
		entra:       d.Entra,
		authority:   strings.TrimSuffix(orDefault(d.AuthorityURL, DefaultAuthorityURL), "/"),
		endpoint:    d.AuthorizationEndpoint,
		requireOpen: d.RequireOpen,
		maxValidTo:  d.MaxValidTo,
		maxPAT:      d.MaxPATLifetime,
		now:         d.nowLocked(),
	}
	d.mu.Unlock()

	switch {
	case fail:
		w.Header().Set("Retry-After", "1")
		writeVSSError(w, newVSSError(status, "VssServiceUnavailableException",
			"The service is temporarily unavailable or too busy (HTTP %d). Retry after 1 second.", status))
		return
	case o == nil:
		writeVSSError(w, newVSSError(http.StatusNotFound, "AccountNotFoundException",
			"TF400813: The organization '%s' does not exist or you are not authorized to access it.", segs[0]))
		return
	}

	p, verr := d.authenticate(r, o, k)
	if verr != nil {
		if verr.status == http.StatusUnauthorized {
			d.challenge(w, r, o, k)
		}
		writeVSSError(w, verr)
		return
	}
	if api != "" {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeVSSError(w, newVSSError(http.StatusMethodNotAllowed, "VssResourceNotFoundException",
				"The requested resource does not support http method '%s'.", r.Method))
			return
		}
		if p.kind != "entra" {
			d.challenge(w, r, o, k)
			writeVSSError(w, newVSSError(http.StatusUnauthorized, "UnauthorizedRequestException",
				"TF400813: The user '%s' is not authorized to access this resource: token APIs need an Entra access token.", p.username))
			return
		}
		if bodyErr != nil {
			writeVSSError(w, newVSSError(http.StatusBadRequest, "VssPropertyValidationException",
				"The request body is not valid JSON: %v", bodyErr))
			return
		}
		if r.URL.Query().Get("api-version") == "" && !strings.Contains(r.Header.Get("Accept"), "api-version=") {
			writeVSSError(w, newVSSError(http.StatusBadRequest, "VssVersionNotSpecifiedException",
				"No api-version was supplied for the \"%s\" request. The version must be supplied either as part of the Accept header (e.g. \"application/json; api-version=1.0\") or as a query parameter (e.g. '?api-version=1.0').", r.Method))
			return
		}
		if api == "session" {
			d.serveSessionToken(w, r, o, k, p, body)
		} else {
			d.servePAT(w, o, k, p, body)
		}
		return
	}
	if isGitPath(segs) {
		d.serveGit(w, r, o, segs, p)
		return
	}
	d.serveFeed(w, r, o, segs, p)
}

// readJSONBody reads a JSON object body of at most maxJSONBody bytes. An
// empty body is an empty object.
func readJSONBody(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		return nil, err
	}
	body := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(data)) == 0 {
		return body, nil
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return nil, err
	}
	return body, nil
}

// flattenJSON turns a JSON object's fields into form values for recording.
func flattenJSON(body map[string]json.RawMessage) url.Values {
	if body == nil {
		return nil
	}
	form := url.Values{}
	for k, raw := range body {
		var s string
		if bytes.HasPrefix(raw, []byte(`"`)) && json.Unmarshal(raw, &s) == nil {
			form.Set(k, s)
		} else {
			form.Set(k, string(raw))
		}
	}
	return form
}

// challenge sets the headers of Azure DevOps' 401 answers.
func (d *DevOps) challenge(w http.ResponseWriter, r *http.Request, o *devopsOrg, k devopsKnobs) {
	h := w.Header()
	if o.tenantID == PersonalTenantID {
		h.Add("WWW-Authenticate", "Bearer")
	} else {
		h.Add("WWW-Authenticate", "Bearer authorization_uri="+k.authority+"/"+o.tenantID)
	}
	h.Add("WWW-Authenticate", `Basic realm="`+baseURL(r)+`/"`)
	h.Add("WWW-Authenticate", "TFS-Federated")
	endpoint := baseURL(r) + "/" + o.name + "/"
	if k.endpoint != nil {
		endpoint = k.endpoint(o.name)
	}
	h.Set("X-TFS-FedAuthRealm", baseURL(r)+"/")
	h.Set("X-TFS-ProcessId", newUUID())
	h.Set("X-VSS-E2EID", newUUID())
	h.Set("X-VSS-ResourceTenant", o.tenantID)
	h.Set("X-VSS-AuthorizationEndpoint", endpoint)
}

// credential returns the token of a request's Authorization header: the
// password of HTTP Basic or a Bearer token.
func credential(r *http.Request) (string, bool) {
	if _, pass, ok := r.BasicAuth(); ok {
		return pass, pass != ""
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if ok && strings.EqualFold(scheme, "Bearer") {
		token = strings.TrimSpace(token)
		return token, token != ""
	}
	return "", false
}

// authenticate finds who a request speaks for.
func (d *DevOps) authenticate(r *http.Request, o *devopsOrg, k devopsKnobs) (devopsPrincipal, *vssError) {
	token, ok := credential(r)
	if !ok {
		return devopsPrincipal{}, newVSSError(http.StatusUnauthorized, "UnauthorizedRequestException",
			"TF400813: The user '' is not authorized to access this resource.")
	}
	if p, ok := d.sessionOrPAT(token, o, k.now); ok {
		return p, nil
	}
	if k.entra != nil && strings.Count(token, ".") == 2 {
		if c, ok := k.entra.ValidAccessToken(token); ok {
			p := devopsPrincipal{kind: "entra", username: c.Username(), tenantID: c.TenantID, objectID: c.ObjectID}
			want := o.tenantID
			if want == PersonalTenantID {
				want = ConsumersTenantID
			}
			if !strings.EqualFold(c.TenantID, want) {
				return p, newVSSError(http.StatusUnauthorized, "UnauthorizedRequestException",
					"TF400813: The user '%s\\%s' is not authorized to access this resource: the organization %s is connected to tenant %s.",
					c.TenantID, p.username, o.name, o.tenantID)
			}
			if k.requireOpen && !d.hasOpened(o, p.username) {
				return p, newVSSError(http.StatusUnauthorized, "UnauthorizedRequestException",
					"TF401444: Please sign-in at least once as %s in a web browser to enable access to the service.", p.username)
			}
			return p, nil
		}
	}
	return devopsPrincipal{}, newVSSError(http.StatusUnauthorized, "UnauthorizedRequestException",
		"TF400813: The user '' is not authorized to access this resource: the credentials are not valid.")
}

func (d *DevOps) hasOpened(o *devopsOrg, username string) bool {
	d.lock()
	defer d.mu.Unlock()
	return d.opened[strings.ToLower(o.name)+"|"+strings.ToLower(username)]
}

// sessionOrPAT checks token as a session token or PAT valid for o.
func (d *DevOps) sessionOrPAT(token string, o *devopsOrg, now time.Time) (devopsPrincipal, bool) {
	d.lock()
	defer d.mu.Unlock()
	var c sessionClaims
	if verifyHS256(d.sessionKey, token, &c) == nil {
		if c.Issuer == vstokenIssuer && c.Audience == vstokenIssuer+"|vso:"+o.id && now.Unix() < c.Expiry {
			return devopsPrincipal{kind: "session", username: c.Username, tenantID: c.TenantID, objectID: c.NameID, scope: c.Scope}, true
		}
		return devopsPrincipal{}, false
	}
	kind, t := "session", d.compact[token]
	if t == nil {
		kind, t = "pat", d.pats[token]
	}
	if t == nil || !now.Before(t.validTo) {
		return devopsPrincipal{}, false
	}
	if t.org != o && !(t.allOrgs && strings.EqualFold(t.tenantID, canonicalTenant(o.tenantID))) {
		return devopsPrincipal{}, false
	}
	return devopsPrincipal{kind: kind, username: t.username, tenantID: t.tenantID, scope: t.scope}, true
}

// packagingScope reports whether a token scope allows reading feeds.
func packagingScope(scope string) bool {
	for _, s := range strings.Fields(scope) {
		if strings.HasPrefix(s, "vso.packaging") || s == "app_token" {
			return true
		}
	}
	return false
}

// serveFeed serves the feeds' indexes and downloads.
func (d *DevOps) serveFeed(w http.ResponseWriter, r *http.Request, o *devopsOrg, segs []string, p devopsPrincipal) {
	i := 1
	project := ""
	if len(segs) > 2 && segs[1] != devopsFeedRoot && segs[2] == devopsFeedRoot {
		project, i = segs[1], 2
	}
	if len(segs) < i+4 || segs[i] != devopsFeedRoot || !strings.EqualFold(segs[i+2], "pypi") {
		writeVSSError(w, newVSSError(http.StatusNotFound, "VssResourceNotFoundException",
			"The resource %s cannot be found.", r.URL.Path))
		return
	}
	if p.kind != "entra" && !packagingScope(p.scope) {
		writeVSSError(w, newVSSError(http.StatusForbidden, "InvalidAccessException",
			"Access denied. The token's scope '%s' does not include vso.packaging.", p.scope))
		return
	}
	f := d.findFeed(o, project, segs[i+1])
	if f == nil {
		writeVSSError(w, newVSSError(http.StatusNotFound, "FeedIdNotFoundException",
			"The feed with ID '%s' doesn't exist.", segs[i+1]))
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.RawPath = ""
	switch strings.ToLower(segs[i+3]) {
	case "simple":
		prefix := "/" + strings.Join(segs[:i+4], "/")
		r2.URL.Path = "/simple" + strings.TrimPrefix(r.URL.Path, prefix)
		f.index.ServeHTTP(&locationRewriter{ResponseWriter: w, from: "/simple/", to: prefix + "/"}, r2)
	case "upload":
		f.index.serveUpload(w, r)
	case "download":
		r2.URL.Path = "/" + o.name + "/" + devopsFeedRoot + "/" + f.id + "/pypi/download/" + strings.Join(segs[i+4:], "/")
		f.index.ServeHTTP(w, r2)
	default:
		writeVSSError(w, newVSSError(http.StatusNotFound, "VssResourceNotFoundException",
			"The resource %s cannot be found.", r.URL.Path))
	}
}

// findFeed finds a feed by name or GUID. Project-scoped feeds are found by
// name only under their project; by GUID, also in the org-scoped form.
func (d *DevOps) findFeed(o *devopsOrg, project, ref string) *devopsFeed {
	d.lock()
	defer d.mu.Unlock()
	for _, f := range o.feeds {
		switch {
		case strings.EqualFold(f.id, ref) && (project == "" || strings.EqualFold(project, f.project)):
			return f
		case strings.EqualFold(f.name, ref) && strings.EqualFold(project, f.project):
			return f
		}
	}
	return nil
}

// locationRewriter rewrites the path prefix of redirects an Index answers.
type locationRewriter struct {
	http.ResponseWriter
	from, to string
}

func (l *locationRewriter) WriteHeader(code int) {
	if loc := l.Header().Get("Location"); strings.HasPrefix(loc, l.from) {
		l.Header().Set("Location", l.to+loc[len(l.from):])
	}
	l.ResponseWriter.WriteHeader(code)
}

// tokenRequest is the body of the SessionTokens and PATs APIs.
type tokenRequest struct {
	displayName string
	scope       string
	validTo     time.Time // zero if absent or null
	allOrgs     bool
}

func parseTokenRequest(body map[string]json.RawMessage) (tokenRequest, error) {
	var t tokenRequest
	for k, raw := range body {
		var err error
		switch strings.ToLower(k) {
		case "displayname":
			err = json.Unmarshal(raw, &t.displayName)
		case "scope":
			err = json.Unmarshal(raw, &t.scope)
		case "allorgs":
			err = json.Unmarshal(raw, &t.allOrgs)
		case "validto":
			var s *string
			if err = json.Unmarshal(raw, &s); err == nil && s != nil && *s != "" {
				t.validTo, err = parseVSSTime(*s)
			}
		}
		if err != nil {
			return t, fmt.Errorf("field %s: %v", k, err)
		}
	}
	return t, nil
}

// parseVSSTime parses a time as .NET clients send it; no zone means UTC.
func parseVSSTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse %q as a date", s)
}

func vssTime(t time.Time) string { return t.UTC().Format(vssTimeLayout) }

// serveSessionToken answers the SessionTokens API.
func (d *DevOps) serveSessionToken(w http.ResponseWriter, r *http.Request, o *devopsOrg, k devopsKnobs, p devopsPrincipal, body map[string]json.RawMessage) {
	req, err := parseTokenRequest(body)
	if err != nil {
		writeVSSError(w, newVSSError(http.StatusBadRequest, "VssPropertyValidationException", "%v", err))
		return
	}
	tokenType := r.URL.Query().Get("tokenType")
	if tokenType != "" && !strings.EqualFold(tokenType, "SelfDescribing") && !strings.EqualFold(tokenType, "Compact") {
		writeVSSError(w, newVSSError(http.StatusBadRequest, "ArgumentException",
			"The tokenType '%s' is not valid: use SelfDescribing or Compact.", tokenType))
		return
	}
	validTo := req.validTo
	switch {
	case validTo.IsZero() && k.maxValidTo > 0:
		validTo = k.now.Add(k.maxValidTo)
	case validTo.IsZero():
		validTo = k.now.Add(DefaultSessionTokenLifetime)
	case !validTo.After(k.now):
		writeVSSError(w, newVSSError(http.StatusBadRequest, "SessionTokenCreateException",
			"The validTo date %s is in the past.", vssTime(validTo)))
		return
	case k.maxValidTo > 0 && validTo.After(k.now.Add(k.maxValidTo)):
		writeVSSError(w, newVSSError(http.StatusBadRequest, "SessionTokenCreateException",
			"The requested validTo %s exceeds the maximum session token lifetime of %s allowed by the policy of organization %s.",
			vssTime(validTo), k.maxValidTo, o.name))
		return
	}
	scope := orDefault(req.scope, "app_token")
	authID := newUUID()
	var token string
	if strings.EqualFold(tokenType, "Compact") {
		token = compactToken()
		d.lock()
		d.compact[token] = &devopsToken{org: o, tenantID: p.tenantID, username: p.username, scope: scope, authorizationID: authID, validTo: validTo}
		d.mu.Unlock()
	} else {
		d.lock()
		key := d.sessionKey
		d.mu.Unlock()
		token = signHS256(key, sessionClaims{
			Issuer:          vstokenIssuer,
			Audience:        vstokenIssuer + "|vso:" + o.id,
			NameID:          p.objectID,
			TenantID:        p.tenantID,
			Username:        p.username,
			Scope:           scope,
			AuthorizationID: authID,
			NotBefore:       k.now.Unix(),
			Expiry:          validTo.Unix(),
		})
	}
	writeJSON(w, map[string]any{
		"clientId":            zeroGUID,
		"accessId":            newUUID(),
		"authorizationId":     authID,
		"hostAuthorizationId": zeroGUID,
		"userId":              p.objectID,
		"validFrom":           vssTime(k.now),
		"validTo":             vssTime(validTo),
		"displayName":         req.displayName,
		"scope":               scope,
		"targetAccounts":      []string{o.id},
		"token":               token,
		"alternateToken":      nil,
		"isValid":             true,
		"isPublic":            false,
		"publicData":          nil,
		"source":              nil,
		"claims":              nil,
	})
}

// compactToken returns a 52-character token shaped like a classic PAT.
func compactToken() string { return strings.ToLower(rand.Text() + rand.Text()) }

// servePAT answers the PATs API. Like Azure DevOps, it reports request
// errors in patTokenError with HTTP 200.
func (d *DevOps) servePAT(w http.ResponseWriter, o *devopsOrg, k devopsKnobs, p devopsPrincipal, body map[string]json.RawMessage) {
	req, err := parseTokenRequest(body)
	fail := func(code string) {
		writeJSON(w, map[string]any{"patToken": nil, "patTokenError": code})
	}
	validTo := req.validTo
	if validTo.IsZero() {
		validTo = k.now.Add(DefaultPATLifetime)
	}
	switch {
	case err != nil:
		fail("invalidValidTo")
		return
	case req.displayName == "":
		fail("displayNameRequired")
		return
	case req.scope == "":
		fail("invalidScope")
		return
	case !validTo.After(k.now):
		fail("invalidValidTo")
		return
	case k.maxPAT > 0 && validTo.After(k.now.Add(k.maxPAT)):
		fail("patLifespanPolicyViolation")
		return
	}
	t := &devopsToken{
		org:             o,
		allOrgs:         req.allOrgs,
		tenantID:        p.tenantID,
		username:        p.username,
		scope:           req.scope,
		authorizationID: newUUID(),
		validTo:         validTo,
	}
	token := compactToken()
	d.lock()
	d.pats[token] = t
	d.mu.Unlock()
	var targets any = []string{o.id}
	if req.allOrgs {
		targets = nil
	}
	writeJSON(w, map[string]any{
		"patToken": map[string]any{
			"displayName":     req.displayName,
			"validTo":         vssTime(validTo),
			"validFrom":       vssTime(k.now),
			"scope":           req.scope,
			"targetAccounts":  targets,
			"authorizationId": t.authorizationID,
			"token":           token,
		},
		"patTokenError": "none",
	})
}

func writeVSSError(w http.ResponseWriter, v *vssError) {
	w.Header().Set("X-TFS-ServiceError", url.PathEscape(v.Message))
	writeJSONStatus(w, v.status, v)
}
