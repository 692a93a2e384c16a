// Package storetest provides an in-memory [store.Keychain] for narrow unit
// tests. End-to-end tests use the real OS keychain instead.
package storetest

import (
	"context"
	"fmt"
	"sync"

	"github.com/feedkey/feedkey/auth/store"
)

// Memory is an in-memory keychain. The zero value is ready to use and safe
// for concurrent use. Err, when set, is returned by every call, to simulate
// a keychain that cannot be used.
type Memory struct {
	mu      sync.Mutex
	entries map[[2]string]string
	Err     error
}

// Get implements [store.Keychain].
func (m *Memory) Get(_ context.Context, service, user string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Err != nil {
		return "", m.Err
	}
	v, ok := m.entries[[2]string{service, user}]
	if !ok {
		return "", fmt.Errorf("%s: %w", service, store.ErrNotFound)
	}
	return v, nil
}

// Set implements [store.Keychain].
func (m *Memory) Set(_ context.Context, service, user, secret string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Err != nil {
		return m.Err
	}
	if m.entries == nil {
		m.entries = map[[2]string]string{}
	}
	m.entries[[2]string{service, user}] = secret
	return nil
}

// Delete implements [store.Keychain].
func (m *Memory) Delete(_ context.Context, service, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Err != nil {
		return m.Err
	}
	k := [2]string{service, user}
	if _, ok := m.entries[k]; !ok {
		return fmt.Errorf("%s: %w", service, store.ErrNotFound)
	}
	delete(m.entries, k)
	return nil
}

// Accounts implements [store.Lister].
func (m *Memory) Accounts(_ context.Context, service string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Err != nil {
		return nil, m.Err
	}
	var accounts []string
	for k := range m.entries {
		if k[0] == service {
			accounts = append(accounts, k[1])
		}
	}
	return accounts, nil
}

// DeleteAll implements [store.Keychain].
func (m *Memory) DeleteAll(_ context.Context, service string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Err != nil {
		return m.Err
	}
	for k := range m.entries {
		if k[0] == service {
			delete(m.entries, k)
		}
	}
	return nil
}

// Len returns the number of entries under service.
func (m *Memory) Len(service string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k := range m.entries {
		if k[0] == service {
			n++
		}
	}
	return n
}
