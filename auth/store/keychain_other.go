//go:build !linux

package store

import (
	"context"

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

func find(context.Context, string) (string, string, error) { return "", "", keyring.ErrNotFound }

// dedupe has nothing to do where the store keys entries by name alone.
func dedupe(string, string, string) error { return nil }
