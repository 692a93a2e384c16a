package oskeychain

import (
	"context"
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/danieljoos/wincred"
	"github.com/zalando/go-keyring"
)

// find answers `get SERVICE` in creds mode (no user name) as Python
// keyring's WinVaultKeyring.get_credential does: the generic credential
// whose target is service itself, which is where Python keyring writes it,
// with the user name stored inside. If there is none, the first entry
// go-keyring (so feedkey's helper) wrote for service, target
// "service:user", answers.
func find(_ context.Context, service string) (string, string, error) {
	c, err := wincred.GetGenericCredential(service)
	switch {
	case err == nil:
		return c.UserName, decodeBlob(c.CredentialBlob), nil
	case !errors.Is(err, wincred.ErrElementNotFound):
		return "", "", err
	}
	creds, err := wincred.FilteredList(service + ":*")
	if err != nil {
		return "", "", err
	}
	for _, c := range creds {
		user, ok := strings.CutPrefix(c.TargetName, service+":")
		if !ok {
			continue
		}
		secret, err := keyring.Get(service, user)
		if err != nil {
			return "", "", err
		}
		return user, secret, nil
	}
	return "", "", keyring.ErrNotFound
}

// decodeBlob reads a credential value as Python keyring's
// DecodingCredential does: UTF-16LE (what it writes) if that decodes, else
// UTF-8 (what go-keyring writes).
func decodeBlob(b []byte) string {
	if len(b)%2 == 0 {
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
		if s := string(utf16.Decode(u)); !strings.ContainsRune(s, utf8.RuneError) {
			return s
		}
	}
	return string(b)
}
