//go:build !linux

package testbus

import (
	"errors"
	"testing"
)

// Options selects what kind of session Start creates.
type Options struct {
	Locked          bool
	NoSecretService bool
}

// Session is a private session bus; there is none outside Linux.
type Session struct {
	Address string
	Home    string
}

// Start skips t: Secret Service is the Linux keychain; macOS and Windows
// tests use their own stores.
func Start(t testing.TB, opts Options) *Session {
	t.Skip("Secret Service (D-Bus, gnome-keyring) exists only on Linux")
	return nil
}

// StartMain fails outside Linux.
func StartMain(opts Options) (*Session, func(), error) {
	return nil, nil, errors.New("testbus: Secret Service exists only on Linux")
}

// Env returns environ unchanged.
func (s *Session) Env(environ []string) []string { return environ }

// Setenv does nothing outside Linux.
func (s *Session) Setenv() {}

// Lookup is not available outside Linux.
func (s *Session) Lookup(service, user string) (string, bool, error) {
	return "", false, errors.New("testbus: Linux only")
}

// Items is not available outside Linux.
func (s *Session) Items(service string) ([]map[string]string, error) {
	return nil, errors.New("testbus: Linux only")
}
