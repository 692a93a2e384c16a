// Package oskeychain is the operating system's own secret store as a
// [store.Keychain]: Secret Service on Linux (godbus), Keychain on macOS and
// Credential Manager on Windows (github.com/zalando/go-keyring).
//
// It is apart from package store so that the helper's quick path, which
// reads the Secret Service with store's own pipeline, links neither godbus
// nor go-keyring: their start-up alone cost every pip run a tenth of a
// millisecond each (SPEC §10).
package oskeychain

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/feedkey/feedkey/auth/store"
)

// Keychain is the operating system's keychain: Secret Service on Linux,
// Keychain on macOS, Credential Manager on Windows. The zero value is ready
// to use.
type Keychain struct {
	// Timeout bounds each call; zero means [store.DefaultTimeout].
	Timeout time.Duration
}

// Get implements [store.Keychain].
func (k Keychain) Get(ctx context.Context, service, user string) (string, error) {
	var secret string
	err := k.do(ctx, opRead, service, user, func(ctx context.Context) (err error) {
		secret, err = get(ctx, service, user)
		return err
	})
	return secret, err
}

// GetMany implements [store.MultiGetter]: on Linux the searches go out together
// and one GetSecrets reads every item, so a chunked record costs two rounds
// of D-Bus calls, not two per part.
func (k Keychain) GetMany(ctx context.Context, service string, users []string) ([]string, error) {
	var secrets []string
	err := k.do(ctx, opRead, service, "", func(ctx context.Context) (err error) {
		secrets, err = getMany(ctx, service, users)
		return err
	})
	return secrets, err
}

// GetService implements [store.ServiceReader] on Linux: one search for
// the items feedkey wrote under service (its marker attribute keeps other
// programs' items out) and one GetSecrets, whatever the number of chunks.
// [store.Chosen] reads over its pipeline first; this is the general path,
// which says why when it cannot answer either.
func (k Keychain) GetService(ctx context.Context, service string) ([]string, error) {
	var secrets []string
	err := k.do(ctx, opRead, service, "", func(ctx context.Context) (err error) {
		secrets, err = getService(ctx, service)
		return err
	})
	return secrets, err
}

// Set implements [store.Keychain].
func (k Keychain) Set(ctx context.Context, service, user, secret string) error {
	return k.do(ctx, opWrite, service, user, func(context.Context) error {
		if err := set(service, user, secret); err != nil {
			return err
		}
		return dedupe(service, user, secret)
	})
}

// Delete implements [store.Keychain].
func (k Keychain) Delete(ctx context.Context, service, user string) error {
	return k.do(ctx, opDelete, service, user, func(context.Context) error {
		return del(service, user)
	})
}

// DeleteAll implements [store.Keychain].
func (k Keychain) DeleteAll(ctx context.Context, service string) error {
	err := k.do(ctx, opDelete, service, "", func(context.Context) error {
		return keyring.DeleteAll(service)
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// timeout is k.Timeout, or store.DefaultTimeout when that is zero.
func (k Keychain) timeout() time.Duration {
	if k.Timeout == 0 {
		return store.DefaultTimeout
	}
	return k.Timeout
}

// Operations, for messages and for what preflight may check.
const (
	opRead   = "read"
	opWrite  = "write"
	opDelete = "delete"
)

// do runs f under the timeout, after a cheap platform check that turns the
// usual "cannot work here" situations into one clear error up front. Errors
// that are neither "not found", "too big" nor "unsupported" (what this OS's
// store lacks, such as GetService off Linux) are retried until the timeout:
// gnome-keyring fails calls now and then when many clients talk to it at
// once, and every operation here is idempotent.
func (k Keychain) do(ctx context.Context, op, service, user string, f func(context.Context) error) error {
	timeout := k.timeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var err error
	for attempt := 0; ; attempt++ {
		err = k.try(ctx, op, service, user, f)
		if err == nil || errors.Is(err, keyring.ErrNotFound) || errors.Is(err, keyring.ErrSetDataTooBig) || errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrCorrupt) || errors.Is(err, errors.ErrUnsupported) || vanished(err) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(10<<min(attempt, 5)) * time.Millisecond):
			continue
		}
		break
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return fmt.Errorf("%s: %w", service, store.ErrNotFound)
	case vanished(err):
		return fmt.Errorf("%s: %w", service, store.ErrVanished)
	case errors.Is(err, errors.ErrUnsupported):
		return fmt.Errorf("%s %s: %w", op, service, err)
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("%s %s: value too large for this keychain: %w", op, service, err)
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, store.ErrCorrupt):
		return fmt.Errorf("%s %s: %w", op, service, err)
	case errors.Is(err, context.DeadlineExceeded):
		if derr := diagnose(); derr != nil {
			return fmt.Errorf("%s %s: %w", op, service, derr)
		}
		return fmt.Errorf("%s %s: %w: no answer within %s (is an unlock prompt waiting?)", op, service, store.ErrUnavailable, timeout)
	}
	return fmt.Errorf("%s %s: %w: %w", op, service, store.ErrUnavailable, explain(err))
}

// try makes one attempt. If the store never answers, f's goroutine stays
// blocked; the caller gets its error on time and a short-lived process exits
// regardless.
func (k Keychain) try(ctx context.Context, op, service, user string, f func(context.Context) error) error {
	if err := preflight(ctx, op, service, user); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Foreign counts the items under service, one of feedkey's names, that
// another program wrote: they lack feedkey's marker and are never served.
// Where the store cannot tell writers apart it reports none.
func (k Keychain) Foreign(ctx context.Context, service string) (n int, err error) {
	err = k.do(ctx, opRead, service, "", func(ctx context.Context) (err error) {
		n, err = foreign(ctx, service)
		return err
	})
	return n, err
}

// Accounts implements [store.Lister] where the OS store can search (Secret
// Service); elsewhere it returns an error wrapping errors.ErrUnsupported.
func (k Keychain) Accounts(ctx context.Context, service string) (accounts []string, err error) {
	err = k.do(ctx, opRead, service, "", func(ctx context.Context) (err error) {
		accounts, err = list(ctx, service)
		return err
	})
	return accounts, err
}

// Find returns the user and secret of the first entry of service, whatever
// its user, as Python keyring's get_credential does. Where the OS store
// cannot search (macOS, Windows) it reports store.ErrNotFound.
func (k Keychain) Find(ctx context.Context, service string) (user, secret string, err error) {
	err = k.do(ctx, opRead, service, "", func(ctx context.Context) (err error) {
		user, secret, err = find(ctx, service)
		return err
	})
	return user, secret, err
}

// getEach reads users' items of service one by one.
func getEach(ctx context.Context, service string, users []string) ([]string, error) {
	out := make([]string, len(users))
	for i, u := range users {
		s, err := get(ctx, service, u)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}
