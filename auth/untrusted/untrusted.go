// Package untrusted checks what a server sends before feedkey acts on it or
// shows it to a person (SPEC §8): a URL to open in the browser, and text to
// print on a terminal.
//
// A sign-in server chooses the verification link of a device sign-in. Handed
// to the system opener unchecked, a "file:", "smb:" or "javascript:" URL, a
// UNC path (which Windows' ShellExecute runs), or a value starting with '-'
// (read as an option by xdg-open) would let that server decide what this
// machine opens or runs.
package untrusted

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// ErrURL is wrapped by every URL that is refused.
var ErrURL = errors.New("refusing a URL from the server")

// maxURL bounds a URL worth opening; sign-in links are far shorter.
const maxURL = 4096

// URL returns raw unchanged if it may be opened in a browser or shown as a
// link: an absolute https URL with a host and no user info, made of
// printable characters with no spaces or backslashes. Anything else is an
// error wrapping [ErrURL] that shows the value with its secrets hidden.
//
// Plain http is never accepted, not even on loopback: the simulator that
// tests use speaks https, as real servers do.
func URL(raw string) (string, error) {
	refuse := func(why string) (string, error) {
		return "", fmt.Errorf("%w: %s is %s", ErrURL, quote(raw), why)
	}
	switch {
	case raw == "":
		return refuse("empty")
	case len(raw) > maxURL:
		return refuse("too long")
	case strings.HasPrefix(raw, "-"):
		return refuse("read as an option")
	}
	for _, r := range raw {
		if r == ' ' || r == '\\' || !unicode.IsPrint(r) {
			return refuse("not a plain URL (spaces, backslashes or control characters)")
		}
	}
	if !strings.HasPrefix(strings.ToLower(raw), "https://") {
		return refuse("not an https URL")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return refuse("not a URL")
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return refuse("without a host")
	case u.User != nil:
		return refuse("carrying a user name or password")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return refuse("on a bad port")
		}
	}
	return raw, nil
}

// Text returns s fit to print on a terminal: control characters (which
// could move the cursor, recolour or rewrite what is shown: ESC, C1 codes)
// and invisible format characters (bidi overrides, zero-width spaces) are
// removed.
func Text(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
}

// OneLine returns s, text from a server or a library, fit for one line of a
// message: control and invisible characters removed, runs of white space
// made one space, and at most max runes (then "…"); max ≤ 0 means no limit.
func OneLine(s string, max int) string {
	s = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)), " ")
	if max > 0 {
		if r := []rune(s); len(r) > max {
			return string(r[:max]) + "…"
		}
	}
	return s
}

// quote shows a refused value in a message: printable, short, no secrets.
func quote(raw string) string {
	s := Text(raw)
	if u, err := url.Parse(s); err == nil {
		if u.User != nil {
			u.User = url.User("***")
		}
		if u.RawQuery != "" {
			u.RawQuery = "…"
		}
		s = u.String()
	}
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return strconv.Quote(s)
}
