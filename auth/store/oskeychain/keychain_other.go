//go:build !linux

package oskeychain

import (
	"context"
	"errors"
	"fmt"

	"github.com/zalando/go-keyring"
)

// preflight has nothing cheap to check on macOS and Windows: their stores
// are always present, and a locked macOS keychain shows its own prompt.
func preflight(context.Context, string, string, string) error { return nil }

func diagnose() error { return nil }

func explain(err error) error { return err }

func vanished(error) bool { return false }

func get(_ context.Context, service, user string) (string, error) {
	return keyring.Get(service, user)
}

// set and del go straight to go-keyring: Keychain and Credential Manager key
// an entry by its name alone, so another writer replaces feedkey's entry
// rather than sitting beside it, and the record check in Load refuses a
// value that is not a feedkey record. There is no marker here (SPEC §8):
// go-keyring exposes neither Credential Manager's Comment and Attributes nor
// a Keychain item's comment, so a foreign value that parses as a record is
// served. Accidents are unlikely: go-keyring names a Windows credential
// "service:user", while Python keyring names its own "service" (or
// "user@service"); on macOS Python keyring writes the same item, which
// takes a program that means to.
func set(service, user, secret string) error { return keyring.Set(service, user, secret) }

func del(service, user string) error { return keyring.Delete(service, user) }

// list cannot search by service in Keychain or Credential Manager through
// go-keyring.
func list(context.Context, string) ([]string, error) {
	return nil, fmt.Errorf("listing keychain entries: %w", errors.ErrUnsupported)
}

// foreign finds nothing where entries have no attributes to tell writers
// apart.
func foreign(context.Context, string) (int, error) { return 0, nil }

// dedupe has nothing to do where the store keys entries by name alone.
func dedupe(string, string, string) error { return nil }

// getMany reads the items one by one: these stores have no batch read.
func getMany(ctx context.Context, service string, users []string) ([]string, error) {
	return getEach(ctx, service, users)
}

// getService has no one-round form in these stores: Load reads entry by
// entry.
func getService(context.Context, string) ([]string, error) { return nil, errors.ErrUnsupported }
