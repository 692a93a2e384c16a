//go:build !linux

package store

func keyctlAvailable() bool { return false }
func keyctlStore() Keychain { return nil }
