package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Keyctl is the Linux kernel's user keyring (keyctl(2)): for machines with
// no Secret Service (SSH boxes, WSL, containers). Entries are "user" keys in
// the keyring every process of the user shares; nothing is written to disk,
// and everything is gone at reboot (then the next use asks for a sign-in).
//
// The kernel bounds what a user may keep (/proc/sys/kernel/keys/maxbytes,
// 20,000 bytes by default): a full quota is one error naming that file, and
// what was stored stays.
type Keyctl struct{}

// keyctlPerm lets the possessor and every process of the user (not only
// those that possess the user keyring through their session) use the key;
// group and others get nothing.
const keyctlPerm = 0x3f3f0000

// keyDescription names an entry: "feedkey-store:" and the escaped service
// and user, so that no pair can be read as another.
func keyDescription(service, user string) string {
	return "feedkey-store:" + url.QueryEscape(service) + ":" + url.QueryEscape(user)
}

// KeyctlAvailable reports whether the kernel keyring can be used here
// (Docker's default seccomp profile blocks it).
func KeyctlAvailable() bool {
	_, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_KEYRING, true)
	return err == nil
}

func (Keyctl) find(service, user string) (int, error) {
	id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", keyDescription(service, user), 0)
	switch {
	case errors.Is(err, unix.ENOKEY), errors.Is(err, unix.EKEYEXPIRED), errors.Is(err, unix.EKEYREVOKED):
		return 0, fmt.Errorf("%s: %w", service, ErrNotFound)
	case err != nil:
		return 0, keyctlError("search", service, err)
	}
	return id, nil
}

// Get implements [Keychain].
func (k Keyctl) Get(_ context.Context, service, user string) (string, error) {
	id, err := k.find(service, user)
	if err != nil {
		return "", err
	}
	return readKey(id, service)
}

func readKey(id int, service string) (string, error) {
	buf := make([]byte, 4096)
	for {
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
		if err != nil {
			if errors.Is(err, unix.ENOKEY) || errors.Is(err, unix.EKEYREVOKED) {
				return "", fmt.Errorf("%s: %w", service, ErrNotFound)
			}
			return "", keyctlError("read", service, err)
		}
		if n <= len(buf) {
			return string(buf[:n]), nil
		}
		buf = make([]byte, n)
	}
}

// Set implements [Keychain]: add_key replaces a key of the same description.
func (Keyctl) Set(_ context.Context, service, user, secret string) error {
	id, err := unix.AddKey("user", keyDescription(service, user), []byte(secret), unix.KEY_SPEC_USER_KEYRING)
	if err != nil {
		return keyctlError("write", service, err)
	}
	if err := unix.KeyctlSetperm(id, keyctlPerm); err != nil {
		unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_USER_KEYRING, 0, 0)
		return keyctlError("write", service, err)
	}
	return nil
}

// Delete implements [Keychain].
func (k Keyctl) Delete(_ context.Context, service, user string) error {
	id, err := k.find(service, user)
	if err != nil {
		return err
	}
	return unlink(id, service)
}

func unlink(id int, service string) error {
	if _, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_USER_KEYRING, 0, 0); err != nil && !errors.Is(err, unix.ENOKEY) {
		return keyctlError("delete", service, err)
	}
	return nil
}

// entries lists the keys of service in the user keyring: id and user.
func entries(service string) (ids []int, users []string, err error) {
	buf := make([]byte, 4096)
	var n int
	for {
		if n, err = unix.KeyctlBuffer(unix.KEYCTL_READ, unix.KEY_SPEC_USER_KEYRING, buf, 0); err != nil {
			return nil, nil, keyctlError("list", service, err)
		}
		if n <= len(buf) {
			break
		}
		buf = make([]byte, n)
	}
	prefix := "feedkey-store:" + url.QueryEscape(service) + ":"
	for i := 0; i+4 <= n; i += 4 {
		id := int(int32(uint32(buf[i]) | uint32(buf[i+1])<<8 | uint32(buf[i+2])<<16 | uint32(buf[i+3])<<24))
		desc, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, id)
		if err != nil {
			continue // gone meanwhile, or not ours to see
		}
		// "type;uid;gid;perm;description"
		parts := strings.SplitN(desc, ";", 5)
		if len(parts) != 5 || parts[0] != "user" || !strings.HasPrefix(parts[4], prefix) {
			continue
		}
		user, err := url.QueryUnescape(strings.TrimPrefix(parts[4], prefix))
		if err != nil {
			continue
		}
		ids, users = append(ids, id), append(users, user)
	}
	return ids, users, nil
}

// DeleteAll implements [Keychain].
func (Keyctl) DeleteAll(_ context.Context, service string) error {
	ids, _, err := entries(service)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := unlink(id, service); err != nil {
			return err
		}
	}
	return nil
}

// Accounts implements [Lister].
func (Keyctl) Accounts(_ context.Context, service string) ([]string, error) {
	_, users, err := entries(service)
	return users, err
}

// Find returns the first entry of service, as Python keyring's
// get_credential does.
func (Keyctl) Find(_ context.Context, service string) (string, string, error) {
	ids, users, err := entries(service)
	if err != nil {
		return "", "", err
	}
	if len(ids) == 0 {
		return "", "", fmt.Errorf("%s: %w", service, ErrNotFound)
	}
	secret, err := readKey(ids[0], service)
	return users[0], secret, err
}

// keyctlError explains a kernel keyring failure in one line.
func keyctlError(op, service string, err error) error {
	switch {
	case errors.Is(err, unix.EDQUOT):
		limit := "/proc/sys/kernel/keys/maxbytes"
		if os.Getuid() == 0 {
			limit = "/proc/sys/kernel/keys/root_maxbytes"
		}
		quota, _ := os.ReadFile(limit)
		return fmt.Errorf("%s %s: %w: the kernel keyring is full (its quota, %s, is %s bytes for this user): raise it, remove feeds you do not use, or use another store", op, service, ErrUnavailable, limit, strings.TrimSpace(string(quota)))
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return fmt.Errorf("%s %s: %w: the kernel keyring cannot be used here (%v; containers often block it): set FEEDKEY_STORE=file to keep credentials in a file", op, service, ErrUnavailable, err)
	}
	return fmt.Errorf("%s %s: %w: kernel keyring: %v", op, service, ErrUnavailable, err)
}

func keyctlAvailable() bool { return KeyctlAvailable() }
func keyctlStore() Keychain { return Keyctl{} }
