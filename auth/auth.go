// Package auth names what the tray and the CLI share about signing in: the
// [Provider] each feed kind implements and the [Prompter] through which a
// sign-in reaches the person. Feeds and URL matching live in auth/feed, the
// keychain in auth/store, and each kind's provider in its own package.
package auth

import (
	"context"
	"errors"
	"time"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
)

// ErrSignInRequired means a credential cannot be obtained without a person:
// callers that must not prompt (the helper, `feedkey token`) stop there and
// say which `feedkey login` to run.
var ErrSignInRequired = errors.New("sign-in needed")

// ErrNoBrowser means no browser can be opened here; sign-ins fall back to a
// device code shown to the person.
var ErrNoBrowser = errors.New("no browser can be opened")

// Provider obtains the credential of one kind of feed.
// Implementations are safe for concurrent use by different feeds; callers
// run at most one Login or Refresh per credential at a time.
type Provider interface {
	// Refresh returns a fresh credential without user interaction, from what
	// old holds (refresh material in its Data) or from the environment. It
	// returns an error wrapping ErrSignInRequired when only Login can help.
	Refresh(ctx context.Context, f feed.Feed, old store.Credential) (store.Credential, error)
	// Login signs the person in interactively through p.
	Login(ctx context.Context, f feed.Feed, p Prompter) (store.Credential, error)
}

// Prompter shows a sign-in to the person: a terminal, or later the tray.
type Prompter interface {
	// OpenBrowser opens url (a sign-in page that redirects back to this
	// machine) in the browser, or returns ErrNoBrowser.
	OpenBrowser(ctx context.Context, url string) error
	// DeviceCode shows the code to enter at the verification page and
	// opens that page (with the code in it when the server offers one) in
	// the browser if it can.
	DeviceCode(ctx context.Context, d DeviceCode) error
}

// DeviceCode is a device sign-in waiting for the person (RFC 8628): the
// page to open, the code to enter there, and when the code expires. Both
// strings come from the server: providers pass the link only if it passes
// untrusted.URL, and the code through untrusted.Text.
type DeviceCode struct {
	URL     string
	Code    string
	Expires time.Time // zero when the server did not say
}
