package feed

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Built-in Azure DevOps Artifacts hosts (SPEC §4.1).
const (
	azureHost       = "pkgs.dev.azure.com"
	azureLegacyHost = ".pkgs.visualstudio.com" // {org}.pkgs.visualstudio.com
)

// location is a parsed https URL or bare host[:port], reduced to what
// matching compares: the lower-case host, an explicit port, and the
// unescaped path segments. Segments are split before unescaping, so an
// encoded "%2F" stays inside its segment and can never fake a boundary.
type location struct {
	host, port string
	path       []string
	bare       bool // a bare host[:port] with no scheme or path
}

// scope is what one credential covers.
type scope struct {
	location
	org        string // azure: the organization
	foldPrefix bool   // azure: the org segment compares case-insensitively
	legacyHost string // azure: {org}.pkgs.visualstudio.com, covered whole
}

// parseLocation parses a service string as pip and uv pass it: a full URL
// (userinfo ignored) or a bare host[:port].
func parseLocation(s string) (location, error) {
	bare := !strings.Contains(s, "://")
	if bare {
		// A bare service is host[:port], perhaps after user@: nothing
		// that could hide another host before the '@'.
		if strings.ContainsAny(s, "/\\#?") {
			return location{}, errors.New("not a host")
		}
		if i := strings.LastIndexByte(s, '@'); i >= 0 {
			s = s[i+1:]
		}
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return location{}, errors.New("not a URL")
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return location{}, fmt.Errorf("scheme %q is not https", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return location{}, errors.New("no host")
	}
	if bare && (u.Path != "" || u.RawQuery != "" || u.Fragment != "") {
		return location{}, errors.New("not a host")
	}
	l := location{host: strings.ToLower(u.Hostname()), port: u.Port(), bare: bare}
	if l.port == "" {
		l.port = "443"
	}
	if n, err := strconv.Atoi(l.port); err != nil || n < 1 || n > 65535 {
		return location{}, fmt.Errorf("bad port %q", l.port)
	}
	for _, seg := range strings.Split(u.EscapedPath(), "/") {
		if seg == "" {
			continue
		}
		seg, err := url.PathUnescape(seg)
		if err != nil {
			return location{}, errors.New("bad percent-encoding")
		}
		// A dot segment, or a segment hiding a separator ("..%2Fx",
		// "..\\x"), could walk out of a prefix once the server normalises
		// the path; such URLs are never covered.
		if seg == "." || seg == ".." || strings.ContainsAny(seg, "/\\") {
			return location{}, errors.New("dot segment or separator in a path segment")
		}
		l.path = append(l.path, seg)
	}
	return l, nil
}

// scope returns what f's credential covers.
func (f Feed) scope(t Trust) (scope, error) {
	raw := f.URL
	if f.Kind == Posit && f.Address != "" {
		raw = f.Address
	}
	if raw == "" {
		return scope{}, errors.New("no url")
	}
	u, err := url.Parse(raw)
	if err != nil || !strings.Contains(raw, "://") {
		return scope{}, fmt.Errorf("url %q is not a valid URL", redactRaw(raw))
	}
	if u.User != nil {
		return scope{}, fmt.Errorf("url %q must not contain a user name or token", redact(u))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return scope{}, fmt.Errorf("url %q must not have a query or fragment", redact(u))
	}
	l, err := parseLocation(raw)
	if err != nil {
		return scope{}, fmt.Errorf("url %q: %v", redact(u), err)
	}
	s := scope{location: l}
	if f.Kind != Azure {
		if f.Kind == Posit && f.Address == "" {
			s.path = nil // the whole server
		}
		return s, nil
	}
	switch {
	case l.host == azureHost || hostIn(l.host, l.port, t.AzureFeedHosts):
		if len(l.path) == 0 {
			return scope{}, fmt.Errorf("url %q names no organization", redact(u))
		}
		s.org = strings.ToLower(l.path[0])
		s.path = l.path[:1]
		s.foldPrefix = true
		if l.host == azureHost {
			s.legacyHost = s.org + azureLegacyHost
		}
	case isLegacyAzureHost(l.host):
		s.org = strings.TrimSuffix(l.host, azureLegacyHost)
		s.path = nil
		s.legacyHost = l.host
	default:
		return scope{}, fmt.Errorf("url %q is not on an Azure DevOps Artifacts host", redact(u))
	}
	return s, nil
}

// covers reports whether s covers l, and how specific the match is.
func (s scope) covers(l location) (bool, int) {
	if s.legacyHost != "" && l.host == s.legacyHost && l.port == "443" {
		return true, 1
	}
	if l.host != s.host || l.port != s.port {
		return false, 0
	}
	if l.bare {
		// pip sends what a bare host answers to every path of that host:
		// only a credential for the whole host may answer it (SPEC §3.1).
		return len(s.path) == 0, 0
	}
	if len(l.path) < len(s.path) {
		return false, 0
	}
	for i, seg := range s.path {
		if seg != l.path[i] && !(s.foldPrefix && strings.EqualFold(seg, l.path[i])) {
			return false, 0
		}
	}
	return true, len(s.path)
}

// Covers reports whether f's credential covers service, a URL or bare
// host[:port] as pip and uv pass it.
func (f Feed) Covers(t Trust, service string) bool {
	s, err := f.scope(t)
	if err != nil {
		return false
	}
	l, err := parseLocation(service)
	if err != nil {
		return false
	}
	ok, _ := s.covers(l)
	return ok
}

// Resolve returns the feed whose credential covers service. A URL goes to the
// most specific feed; a bare host[:port] answers only from a credential that
// covers the whole host (a feed or server address with no path below the
// host, or an org's {org}.pkgs.visualstudio.com), and only when exactly one
// does ([ErrAmbiguous] otherwise). Anything else,
// including http URLs and strings that are not URLs, is [ErrNoMatch].
func Resolve(feeds []Feed, t Trust, service string) (Feed, error) {
	return resolve(feeds, t, service, true)
}

// resolve is Resolve; quick skips feeds on other plain hosts before parsing
// them (tests compare it with the full parse).
func resolve(feeds []Feed, t Trust, service string, quick bool) (Feed, error) {
	l, err := parseLocation(service)
	if err != nil {
		return Feed{}, ErrNoMatch
	}
	var (
		best     Feed
		bestLen  = -1
		bestCred string
		tie      bool
	)
	for _, f := range feeds {
		if h, ok := plainHost(f); quick && ok && h != l.host {
			continue // cheaply: a thousand feeds cost microseconds, not parses
		}
		s, err := f.scope(t)
		if err != nil {
			continue
		}
		ok, n := s.covers(l)
		if !ok {
			continue
		}
		cred := f.CredentialID(t)
		switch {
		case n > bestLen:
			best, bestLen, bestCred, tie = f, n, cred, false
		case n == bestLen && cred != bestCred:
			tie = true
		}
	}
	switch {
	case bestLen < 0:
		return Feed{}, ErrNoMatch
	case tie:
		return Feed{}, ErrAmbiguous
	}
	return best, nil
}

// plainHost returns the host a non-Azure feed's scope has, without parsing
// its URL, when that host is plain (lower-case letters, digits, '.', '-'
// once lower-cased): then it is exactly what parseLocation would give, and
// a location on another host cannot be covered. Azure feeds also cover a
// legacy host, so they are never skipped this way.
func plainHost(f Feed) (string, bool) {
	if f.Kind == Azure {
		return "", false
	}
	raw := f.URL
	if f.Kind == Posit && f.Address != "" {
		raw = f.Address
	}
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return "", false
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		rest = rest[:i]
	}
	rest = strings.ToLower(rest)
	if rest == "" || strings.HasSuffix(rest, ".") {
		return "", false
	}
	for _, r := range rest {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return "", false
		}
	}
	return rest, true
}

// Overlap returns an error when two feeds with different credentials cover
// exactly the same scope, which would make answers depend on file order.
func Overlap(feeds []Feed, t Trust) error {
	seen := map[string]Feed{}
	for _, f := range feeds {
		s, err := f.scope(t)
		if err != nil {
			continue
		}
		key := s.host + ":" + s.port + "/" + strings.Join(s.path, "/")
		if s.foldPrefix {
			key = strings.ToLower(key)
		}
		if g, ok := seen[key]; ok && g.CredentialID(t) != f.CredentialID(t) {
			return fmt.Errorf("feeds %s and %s cover the same URL", g.ID, f.ID)
		}
		seen[key] = f
	}
	return nil
}

// NormalizeURL returns raw with any user name or token removed and the path
// ending in one '/', the form feedkey stores. It returns the removed user
// name, if any, so that `feedkey add https://__token__@host/simple/` keeps it.
func NormalizeURL(raw string) (normalized, user string, err error) {
	u, err := url.Parse(raw)
	if err != nil || !strings.Contains(raw, "://") || u.Host == "" {
		return "", "", fmt.Errorf("%q is not a URL", redactRaw(raw))
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return "", "", fmt.Errorf("%s: feedkey hands tokens only to https URLs", redact(u))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("%s: a feed URL has no query or fragment", redact(u))
	}
	if u.User != nil {
		user = u.User.Username()
		u.User = nil
	}
	u.Scheme = "https"
	u.Host = strings.ToLower(u.Host)
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	if _, err := parseLocation(u.String()); err != nil {
		return "", "", fmt.Errorf("%s: %v", redact(u), err)
	}
	return u.String(), user, nil
}

// Redact returns raw, a URL or anything a person or a server passed as one,
// fit for a message: any user info (a user name can be a token too) becomes
// "***" and any query "…". Every message that shows such a URL goes through
// it.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || !strings.Contains(raw, "://") {
		return redactRaw(raw)
	}
	return redact(u)
}

// redact is [Redact] for a parsed URL.
func redact(u *url.URL) string {
	c := *u
	if c.RawQuery != "" || c.ForceQuery {
		c.RawQuery, c.ForceQuery = "…", false
	}
	if c.Fragment != "" {
		c.Fragment, c.RawFragment = "…", ""
	}
	if c.User == nil {
		return c.String()
	}
	c.User = nil
	s := c.String()
	if i := strings.Index(s, "//"); i >= 0 {
		return s[:i+2] + "***@" + s[i+2:]
	}
	return s
}

// redactRaw hides what could be a secret in a string that is not a valid
// URL: everything between "//" and an '@', and any query.
func redactRaw(s string) string {
	if i := strings.Index(s, "//"); i >= 0 {
		if j := strings.LastIndexByte(s[i+2:], '@'); j >= 0 {
			s = s[:i+2] + "***" + s[i+2+j:]
		}
	} else if j := strings.LastIndexByte(s, '@'); j >= 0 {
		s = "***" + s[j:]
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i] + "?…"
	}
	return s
}

func hostIn(host, port string, list []string) bool {
	for _, h := range list {
		l, err := parseLocation(h)
		if err == nil && l.host == host && l.port == port {
			return true
		}
	}
	return false
}

// isLegacyAzureHost reports whether host is {org}.pkgs.visualstudio.com for
// a single-label org.
func isLegacyAzureHost(host string) bool {
	org, ok := strings.CutSuffix(host, azureLegacyHost)
	return ok && org != "" && !strings.Contains(org, ".")
}

// Org returns the Azure DevOps organization of an Azure feed, lower case,
// or "" for other feeds.
func (f Feed) Org(t Trust) string {
	if f.Kind != Azure {
		return ""
	}
	s, err := f.scope(t)
	if err != nil {
		return ""
	}
	return s.org
}
