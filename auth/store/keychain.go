package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Keychain is the OS secret store as the rest of feedkey sees it: flat
// (service, user) → secret entries. Implementations are safe for concurrent
// use and honour ctx: a call that does not finish in time returns an error
// instead of hanging.
type Keychain interface {
	// Get returns the secret, or an error wrapping ErrNotFound.
	Get(ctx context.Context, service, user string) (string, error)
	// Set creates or replaces the entry.
	Set(ctx context.Context, service, user, secret string) error
	// Delete removes the entry, or returns an error wrapping ErrNotFound.
	Delete(ctx context.Context, service, user string) error
	// DeleteAll removes every entry of service; none is not an error.
	DeleteAll(ctx context.Context, service string) error
}

// Errors that callers branch on.
var (
	ErrNotFound = errors.New("not found in the keychain")
	// ErrUnavailable means the OS store could not be used at all: no
	// Secret Service, a locked collection, no answer in time.
	ErrUnavailable = errors.New("keychain unavailable")
	// ErrLocked means the keychain is locked and nobody can answer an
	// unlock prompt now. Errors wrapping it wrap ErrUnavailable too.
	ErrLocked = errors.New("the keychain is locked")
)

// ErrVanished is an entry that was found but deleted or replaced before it
// could be read: a writer got in between. Readers try again.
var ErrVanished = fmt.Errorf("%w: replaced while being read", ErrNotFound)

// DefaultTimeout bounds every keychain call. go-keyring has no timeouts of its
// own: an unlock prompt nobody answers would block forever (SPEC §12).
const DefaultTimeout = 3 * time.Second

// Owned reports whether service is one of feedkey's own names.
func Owned(service string) bool { return strings.HasPrefix(service, ServicePrefix) }

// OwnedEntry reports whether the entry of service and user is one of
// feedkey's own, by its service or by the two joined: Credential Manager
// names go-keyring's entries "service:user".
func OwnedEntry(service, user string) bool { return Owned(service) || Owned(service+":"+user) }

// MarkerAttribute is a Secret Service attribute only feedkey writes, on the
// items under its own service names; its value is always MarkerValue.
// Python keyring and secret-tool write "service" and "username" (Python
// keyring adds "application"), so an item they leave under a feedkey name
// never carries it, and a lookup that requires it never serves such an item
// (SPEC §8). Secret Service matches a search on a subset of the attributes,
// so other readers still find feedkey's items.
const MarkerAttribute, MarkerValue = "feedkey", "record"

// MaxRecordEntries bounds the entries of one record read in one round: a
// head and at most 64 chunks. More items than that under one name is not a
// record feedkey wrote.
const MaxRecordEntries = 66
