// Package feed describes package feeds and decides which stored credential
// covers a URL that pip, uv or another client asks about.
//
// The rules are strict on purpose (SPEC §2.2, §3.1, §8): https only, the exact
// host and port, and path prefixes that end on a segment boundary. A token
// never goes to a host its credential was not made for.
package feed

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Kind is the family of a feed; it decides how its credential is obtained.
type Kind string

// Feed kinds (SPEC §2.1).
const (
	Azure Kind = "azure" // Azure DevOps Artifacts, one credential per organization
	Posit Kind = "posit" // Posit Package Manager, one credential per server address
	Token Kind = "token" // any index that takes a fixed token pasted by the user
)

// Canonical user names presented with a credential (SPEC §3.1).
const (
	AzureUsername = "VssSessionToken"
	PositUsername = "__token__"
	TokenUsername = "__token__"
)

// UserWarning is the warning due when a client asks for the credential of
// a feed of kind k with the user name user, or "" when none is: Package
// Manager takes only its own. asked is false when no user name was given.
func (k Kind) UserWarning(user string, asked bool) string {
	if k != Posit || !asked || user == PositUsername {
		return ""
	}
	return fmt.Sprintf("Posit Package Manager expects the user name %s, not %q", PositUsername, user)
}

// Feed is one configured package feed, as written in the config file.
type Feed struct {
	ID       string `toml:"id"`
	Kind     Kind   `toml:"kind"`
	URL      string `toml:"url"`
	Username string `toml:"username,omitempty"`  // static feeds: the user name to present
	Address  string `toml:"address,omitempty"`   // posit: server address; defaults to the URL's origin
	Token    string `toml:"token,omitempty"`     // azure: session | pat | entra
	SignIn   string `toml:"sign_in,omitempty"`   // azure: browser | device-code
	ClientID string `toml:"client_id,omitempty"` // azure: public client id; default the Azure CLI's
	// IdentityTokenFile (posit) names a file holding an identity token that
	// is exchanged at this feed's server only, re-read at every refresh.
	IdentityTokenFile string `toml:"identity_token_file,omitempty"`
}

// Trust lists hosts trusted beyond the built-in Microsoft ones. It comes only
// from explicit configuration (SPEC §4.2).
type Trust struct {
	AzureFeedHosts      []string `toml:"azure_feed_hosts,omitempty"`
	AzureAuthorityHosts []string `toml:"azure_authority_hosts,omitempty"`
	AzureTokenHosts     []string `toml:"azure_token_hosts,omitempty"`
}

// ValidID reports whether id is usable as a feed id: a lower-case slug of at
// most 63 characters that starts with a letter or digit. (No regexp: its
// compilation would cost the helper a tenth of a millisecond at every start.)
func ValidID(id string) bool {
	if id == "" || len(id) > 63 {
		return false
	}
	for i, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case i > 0 && (r == '.' || r == '_' || r == '-'):
		default:
			return false
		}
	}
	return true
}

// Slug turns s into a feed id: lower case, runs of other characters become
// one '-'. It returns "feed" when nothing usable is left.
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if len(out) > 63 {
		out = strings.TrimRight(out[:63], "-")
	}
	if out == "" {
		return "feed"
	}
	return out
}

// Validate checks a feed's fields and returns an error naming the first
// problem.
func (f Feed) Validate(t Trust) error {
	if !ValidID(f.ID) {
		return fmt.Errorf("feed id %q: use lower-case letters, digits, '.', '_' or '-'", f.ID)
	}
	if _, err := f.scope(t); err != nil {
		return fmt.Errorf("feed %s: %w", f.ID, err)
	}
	if f.IdentityTokenFile != "" && f.Kind != Posit {
		return fmt.Errorf("feed %s: identity_token_file is for Package Manager feeds only", f.ID)
	}
	switch f.Kind {
	case Azure:
		switch f.Token {
		case "", "session", "pat", "entra":
		default:
			return fmt.Errorf("feed %s: token = %q: want session, pat or entra", f.ID, f.Token)
		}
		switch f.SignIn {
		case "", "browser", "device-code":
		default:
			return fmt.Errorf("feed %s: sign_in = %q: want browser or device-code", f.ID, f.SignIn)
		}
	case Posit:
		if f.IdentityTokenFile != "" && !filepath.IsAbs(f.IdentityTokenFile) {
			return fmt.Errorf("feed %s: identity_token_file = %q: want an absolute path", f.ID, f.IdentityTokenFile)
		}
	case Token:
	default:
		return fmt.Errorf("feed %s: unknown kind %q: want azure, posit or token", f.ID, f.Kind)
	}
	return nil
}

// CredentialID names the keychain credential that serves f. Feeds that share
// a credential (all feeds of one Azure organization, all repositories of one
// PPM server) share the id.
//
// Ids start with the kind, so feeds of different kinds never share one, and
// where the readable part is lossy (a slug drops punctuation and length)
// they end in a hash of exactly what the credential covers, so two servers
// never share one either.
func (f Feed) CredentialID(t Trust) string {
	s, err := f.scope(t)
	if err != nil {
		return string(f.Kind) + "-" + f.ID
	}
	switch f.Kind {
	case Azure:
		if s.legacyHost != "" {
			// Microsoft's hosts: one credential per org, on both of them.
			return "azure-" + Slug(s.org)
		}
		return "azure-" + Slug(s.org) + "-" + scopeHash(s.host, s.port, s.org)
	case Posit:
		return "posit-" + Slug(s.host) + "-" + scopeHash(s.host, s.port, strings.Join(s.path, "/"))
	default:
		return "token-" + f.ID
	}
}

// scopeHash is a short, stable digest of what a credential covers.
func scopeHash(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:5])
}

// User returns the user name to present with f's credential: stored, the
// one kept with the credential, or else the feed's default.
func (f Feed) User(stored string) string {
	if stored != "" {
		return stored
	}
	return f.DefaultUsername()
}

// Hint says how a person gets a credential for f.
func (f Feed) Hint() string {
	if f.Kind == Token {
		return fmt.Sprintf("store one with `feedkey login %s` (the token is read from stdin)", f.ID)
	}
	return fmt.Sprintf("run `feedkey login %s`", f.ID)
}

// DefaultUsername is the user name presented with f's credential when the
// stored credential names none.
func (f Feed) DefaultUsername() string {
	switch f.Kind {
	case Azure:
		return AzureUsername
	case Posit:
		return PositUsername
	}
	if f.Username != "" {
		return f.Username
	}
	return TokenUsername
}

// Errors returned by [Resolve].
var (
	ErrNoMatch   = errors.New("no feed covers this service")
	ErrAmbiguous = errors.New("more than one credential covers this host")
)
