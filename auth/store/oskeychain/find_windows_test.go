package oskeychain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"unicode/utf16"

	"github.com/danieljoos/wincred"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/zalando/go-keyring"
)

// utf16Blob encodes s as Python keyring's WinVaultKeyring stores it.
func utf16Blob(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// TestFindAsPython checks `get SERVICE` in creds mode on Windows: an entry
// Python keyring wrote (target SERVICE, user inside, UTF-16 value) answers
// first, as in WinVaultKeyring.get_credential; else an entry go-keyring
// wrote (target SERVICE:USER). Runs in Wine's Credential Manager in CI.
func TestFindAsPython(t *testing.T) {
	ctx := context.Background()
	prefix := fmt.Sprintf("feedkey-test-find-%d-", os.Getpid())
	python, goKeyring, both, none := prefix+"python", prefix+"go", prefix+"both", prefix+"none"

	for _, svc := range []string{python, both} {
		c := wincred.NewGenericCredential(svc)
		c.UserName, c.CredentialBlob, c.Comment = "alice", utf16Blob("pw-é-python"), "Stored using python-keyring"
		if err := c.Write(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Delete() })
	}
	for _, svc := range []string{goKeyring, both} {
		if err := keyring.Set(svc, "bob", "pw-go"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { keyring.Delete(svc, "bob") })
	}

	tests := []struct {
		service, user, secret string
	}{
		{python, "alice", "pw-é-python"},
		{goKeyring, "bob", "pw-go"},
		{both, "alice", "pw-é-python"},
	}
	for _, tt := range tests {
		user, secret, err := Keychain{}.Find(ctx, tt.service)
		if err != nil || user != tt.user || secret != tt.secret {
			t.Errorf("Find(%s) = %q, %q, %v; want %q, %q", tt.service, user, secret, err, tt.user, tt.secret)
		}
	}
	if _, _, err := (Keychain{}).Find(ctx, none); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Find(missing) = %v, want ErrNotFound", err)
	}
}

func TestDecodeBlob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		blob []byte
		want string
	}{
		{utf16Blob("pw-é"), "pw-é"},
		{[]byte("odd"), "odd"},                       // odd length: not UTF-16
		{[]byte{0x00, 0xd8, 'a', 'b'}, "\x00\xd8ab"}, // a lone surrogate: not UTF-16
		{[]byte{}, ""},
	}
	for _, tt := range tests {
		if got := decodeBlob(tt.blob); got != tt.want {
			t.Errorf("decodeBlob(%x) = %q, want %q", tt.blob, got, tt.want)
		}
	}
}
