package pykeyring

import (
	"encoding/json"
	"strings"
)

// Answer lays out a credential as Python keyring prints it for a's mode and
// output format, and nothing else (non-ASCII text stays UTF-8 where Python
// writes \u escapes; both read back the same).
func (a Args) Answer(user, password string) string {
	creds := a.Mode == "creds"
	switch {
	case a.Output == "json" && creds:
		return `{"username": ` + jsonString(user) + `, "password": ` + jsonString(password) + "}\n"
	case a.Output == "json":
		return `{"password": ` + jsonString(password) + "}\n"
	case creds:
		return user + "\n" + password + "\n"
	}
	return password + "\n"
}

// jsonString quotes s as a JSON string for pip's and uv's parsers.
// SetEscapeHTML(false) leaves <, > and & alone: the answer is never part of
// an HTML page.
func jsonString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err) // a string always encodes
	}
	return strings.TrimSuffix(b.String(), "\n")
}
