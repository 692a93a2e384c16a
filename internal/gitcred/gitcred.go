// Package gitcred reads and writes the attribute lists of git's credential
// helper protocol (gitcredentials(7), git-credential(1)): key=value lines,
// one attribute a line, ended by a blank line or the end of input. Keys
// hold no '=', newline or NUL; values no newline or NUL; nothing is quoted.
package gitcred

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// MaxInput bounds what [Read] accepts. git's requests are a few hundred
// bytes; anything far larger is not git talking.
const MaxInput = 64 << 10

// ErrMalformed is returned by [Read] for input that is not an attribute
// list; [Write] returns it for a value that cannot be written.
var ErrMalformed = errors.New("malformed git credential attributes")

// Request is what git describes: the attributes feedkey reads. Unknown
// attributes (wwwauth[], capability[], oauth_refresh_token, ...) are
// ignored, as the protocol asks.
type Request struct {
	Protocol string // "https"
	Host     string // host, with ":port" when the URL named one
	Path     string // the repository path without a leading '/', only with credential.useHttpPath
	Username string // from the URL or config, if any
	Password string // only in store and erase
}

// Answer is what a helper's get prints.
type Answer struct {
	Username string
	Password string
	// PasswordExpiryUTC is the password's expiry in Unix seconds; 0 omits
	// it. git ≥ 2.41 stops using a password past it; older ones ignore it.
	PasswordExpiryUTC int64
}

// Read reads one attribute list from r: up to a blank line or the end of
// input. A "url" attribute is split into the others, as git itself does.
func Read(r io.Reader) (Request, error) {
	var req Request
	br := bufio.NewReader(io.LimitReader(r, MaxInput+1))
	total := 0
	for {
		line, err := br.ReadString('\n')
		total += len(line)
		if total > MaxInput {
			return Request{}, fmt.Errorf("%w: more than %d bytes", ErrMalformed, MaxInput)
		}
		if err != nil && err != io.EOF {
			return Request{}, fmt.Errorf("read git credential attributes: %w", err)
		}
		eof := err == io.EOF
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			return req, nil // a blank line or the end of input
		}
		if err := req.set(line); err != nil {
			return Request{}, err
		}
		if eof {
			return req, nil
		}
	}
}

func (req *Request) set(line string) error {
	if strings.IndexByte(line, 0) >= 0 {
		return fmt.Errorf("%w: NUL byte", ErrMalformed)
	}
	key, value, ok := strings.Cut(line, "=")
	if !ok || key == "" {
		// git itself dies on such a line ("invalid credential line").
		return fmt.Errorf("%w: a line without key=value", ErrMalformed)
	}
	switch key {
	case "protocol":
		req.Protocol = value
	case "host":
		req.Host = value
	case "path":
		req.Path = value
	case "username":
		req.Username = value
	case "password":
		req.Password = value
	case "url":
		return req.setURL(value)
	}
	return nil
}

// setURL splits a url attribute into protocol, host, path and username,
// leaving unset what the URL lacks.
func (req *Request) setURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return fmt.Errorf("%w: url attribute is not a URL", ErrMalformed)
	}
	req.Protocol, req.Host = u.Scheme, u.Host
	if p := strings.TrimPrefix(u.Path, "/"); p != "" {
		req.Path = p
	}
	if u.User != nil {
		req.Username = u.User.Username()
	}
	// Percent-encoding can smuggle in what a line cannot hold.
	for _, v := range []string{req.Host, req.Path, req.Username} {
		if strings.ContainsAny(v, "\n\x00") {
			return fmt.Errorf("%w: url attribute decodes to a newline or NUL", ErrMalformed)
		}
	}
	return nil
}

// Write writes a as an attribute list ended by a blank line. A value with a
// newline or NUL cannot be sent and is an error, with nothing written.
func Write(w io.Writer, a Answer) error {
	var b strings.Builder
	for _, kv := range [][2]string{{"username", a.Username}, {"password", a.Password}} {
		if kv[1] == "" {
			continue
		}
		if strings.ContainsAny(kv[1], "\n\x00") {
			return fmt.Errorf("%w: the %s holds a newline or NUL", ErrMalformed, kv[0])
		}
		b.WriteString(kv[0] + "=" + kv[1] + "\n")
	}
	if a.PasswordExpiryUTC > 0 {
		fmt.Fprintf(&b, "password_expiry_utc=%d\n", a.PasswordExpiryUTC)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}
