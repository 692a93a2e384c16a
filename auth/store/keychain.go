package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
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

// errVanished is an entry that was found but deleted or replaced before it
// could be read: a writer got in between. Readers try again.
var errVanished = fmt.Errorf("%w: replaced while being read", ErrNotFound)

// DefaultTimeout bounds every keychain call. go-keyring has no timeouts of its
// own: an unlock prompt nobody answers would block forever (SPEC §12).
const DefaultTimeout = 3 * time.Second

// OS is the operating system's keychain through github.com/zalando/go-keyring:
// Secret Service on Linux, Keychain on macOS, Credential Manager on Windows.
// The zero value is ready to use.
type OS struct {
	// Timeout bounds each call; zero means DefaultTimeout.
	Timeout time.Duration
}

// Get implements [Keychain].
func (k OS) Get(ctx context.Context, service, user string) (string, error) {
	var secret string
	err := k.do(ctx, opRead, service, user, func(ctx context.Context) (err error) {
		secret, err = get(ctx, service, user)
		return err
	})
	return secret, err
}

// GetMany implements [MultiGetter]: on Linux the searches go out together
// and one GetSecrets reads every item, so a chunked record costs two rounds
// of D-Bus calls, not two per part.
func (k OS) GetMany(ctx context.Context, service string, users []string) ([]string, error) {
	var secrets []string
	err := k.do(ctx, opRead, service, "", func(ctx context.Context) (err error) {
		secrets, err = getMany(ctx, service, users)
		return err
	})
	return secrets, err
}

// GetService implements [ServiceReader] on Linux: one search for the items
// feedkey wrote under service (its marker attribute keeps other programs'
// items out) and one GetSecrets, whatever the number of chunks. The helper's
// first read goes over a pipelined connection (pipeline_linux.go); when that
// cannot answer, the general path does, and says why.
func (k OS) GetService(ctx context.Context, service string) ([]string, error) {
	pctx, cancel := context.WithTimeout(ctx, k.timeout())
	secrets, err := pipelinedService(pctx, service)
	cancel()
	return k.afterPipeline(ctx, service, secrets, err)
}

// afterPipeline answers GetService from the pipeline's outcome: its values,
// else the general path's.
func (k OS) afterPipeline(ctx context.Context, service string, secrets []string, err error) ([]string, error) {
	switch {
	case err == nil:
		return secrets, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The general path would wait as long again.
		return nil, fmt.Errorf("%s %s: %w: no answer within %s (is an unlock prompt waiting?)", opRead, service, ErrUnavailable, k.timeout())
	}
	err = k.do(ctx, opRead, service, "", func(ctx context.Context) (err error) {
		secrets, err = getService(ctx, service)
		return err
	})
	return secrets, err
}

// Set implements [Keychain].
func (k OS) Set(ctx context.Context, service, user, secret string) error {
	return k.do(ctx, opWrite, service, user, func(context.Context) error {
		if err := set(service, user, secret); err != nil {
			return err
		}
		return dedupe(service, user, secret)
	})
}

// Delete implements [Keychain].
func (k OS) Delete(ctx context.Context, service, user string) error {
	return k.do(ctx, opDelete, service, user, func(context.Context) error {
		return del(service, user)
	})
}

// DeleteAll implements [Keychain].
func (k OS) DeleteAll(ctx context.Context, service string) error {
	err := k.do(ctx, opDelete, service, "", func(context.Context) error {
		return keyring.DeleteAll(service)
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// timeout is k.Timeout, or DefaultTimeout when that is zero.
func (k OS) timeout() time.Duration {
	if k.Timeout == 0 {
		return DefaultTimeout
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
func (k OS) do(ctx context.Context, op, service, user string, f func(context.Context) error) error {
	timeout := k.timeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var err error
	for attempt := 0; ; attempt++ {
		err = k.try(ctx, op, service, user, f)
		if err == nil || errors.Is(err, keyring.ErrNotFound) || errors.Is(err, keyring.ErrSetDataTooBig) || errors.Is(err, ErrUnavailable) || errors.Is(err, ErrCorrupt) || errors.Is(err, errors.ErrUnsupported) || vanished(err) {
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
		return fmt.Errorf("%s: %w", service, ErrNotFound)
	case vanished(err):
		return fmt.Errorf("%s: %w", service, errVanished)
	case errors.Is(err, errors.ErrUnsupported):
		return fmt.Errorf("%s %s: %w", op, service, err)
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("%s %s: value too large for this keychain: %w", op, service, err)
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrCorrupt):
		return fmt.Errorf("%s %s: %w", op, service, err)
	case errors.Is(err, context.DeadlineExceeded):
		if derr := diagnose(); derr != nil {
			return fmt.Errorf("%s %s: %w", op, service, derr)
		}
		return fmt.Errorf("%s %s: %w: no answer within %s (is an unlock prompt waiting?)", op, service, ErrUnavailable, timeout)
	}
	return fmt.Errorf("%s %s: %w: %w", op, service, ErrUnavailable, explain(err))
}

// try makes one attempt. If the store never answers, f's goroutine stays
// blocked; the caller gets its error on time and a short-lived process exits
// regardless.
func (k OS) try(ctx context.Context, op, service, user string, f func(context.Context) error) error {
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
func (k OS) Foreign(ctx context.Context, service string) (n int, err error) {
	err = k.do(ctx, opRead, service, "", func(ctx context.Context) (err error) {
		n, err = foreign(ctx, service)
		return err
	})
	return n, err
}

// Accounts implements [Lister] where the OS store can search (Secret
// Service); elsewhere it returns an error wrapping errors.ErrUnsupported.
func (k OS) Accounts(ctx context.Context, service string) (accounts []string, err error) {
	err = k.do(ctx, opRead, service, "", func(ctx context.Context) (err error) {
		accounts, err = list(ctx, service)
		return err
	})
	return accounts, err
}

// owned reports whether service is one of feedkey's own names.
func owned(service string) bool { return strings.HasPrefix(service, ServicePrefix) }

// Find returns the user and secret of the first entry of service, whatever
// its user, as Python keyring's get_credential does. Where the OS store
// cannot search (macOS, Windows) it reports ErrNotFound.
func (k OS) Find(ctx context.Context, service string) (user, secret string, err error) {
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
