package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/feedkey/feedkey/auth/store"
)

func init() {
	if store.KeyctlAvailable() {
		moreKeychains["keyctl"] = func() store.Keychain { return store.Keyctl{} }
	}
}

// TestKeyctlQuota fills the user's kernel keyring quota: saving then fails
// with one line that names the quota, and what was stored stays readable.
func TestKeyctlQuota(t *testing.T) {
	if os.Getenv("FEEDKEY_KEYCTL_QUOTA") != "1" {
		t.Skip("fills the user's kernel keyring quota, which every test process shares: build/test.sh runs it alone (FEEDKEY_KEYCTL_QUOTA=1)")
	}
	if !store.KeyctlAvailable() {
		t.Skip("the kernel keyring is blocked here (seccomp): the keyctl store cannot run")
	}
	limitFile := "/proc/sys/kernel/keys/maxbytes"
	if os.Getuid() == 0 {
		limitFile = "/proc/sys/kernel/keys/root_maxbytes"
	}
	raw, _ := os.ReadFile(limitFile)
	limit, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || limit > 64<<20 {
		t.Skipf("%s is %q: too large to fill in a test", limitFile, raw)
	}
	ctx := context.Background()
	st := store.New(store.Keyctl{})
	const id = "quota-test"
	t.Cleanup(func() { st.Delete(ctx, id) })
	if err := st.Save(ctx, id, store.Credential{Kind: "token", Secret: "kept-token"}); err != nil {
		t.Fatal(err)
	}
	// Fill the quota with filler keys, 30 KB each.
	var fillers []int
	t.Cleanup(func() {
		for _, k := range fillers {
			unix.KeyctlInt(unix.KEYCTL_UNLINK, k, unix.KEY_SPEC_USER_KEYRING, 0, 0)
		}
		// The kernel frees unlinked keys later, in its key garbage
		// collector: wait until the quota is free again for what runs next.
		for range 200 {
			if k, err := unix.AddKey("user", "feedkey-quota-probe", []byte(strings.Repeat("p", 30<<10)), unix.KEY_SPEC_USER_KEYRING); err == nil {
				unix.KeyctlInt(unix.KEYCTL_UNLINK, k, unix.KEY_SPEC_USER_KEYRING, 0, 0)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Error("the kernel keyring quota was not freed within 10 s")
	})
	payload := []byte(strings.Repeat("x", 30<<10))
	for i := 0; ; i++ {
		k, err := unix.AddKey("user", fmt.Sprintf("feedkey-quota-filler-%d", i), payload, unix.KEY_SPEC_USER_KEYRING)
		if errors.Is(err, unix.EDQUOT) {
			break
		}
		if err != nil {
			t.Fatalf("filler %d: %v", i, err)
		}
		fillers = append(fillers, k)
	}
	// Then the small bytes left, with small keys.
	for i := 0; ; i++ {
		k, err := unix.AddKey("user", fmt.Sprintf("feedkey-quota-small-%d", i), []byte(strings.Repeat("y", 200)), unix.KEY_SPEC_USER_KEYRING)
		if err != nil {
			break
		}
		fillers = append(fillers, k)
	}
	t.Logf("%d filler keys fill the quota", len(fillers))
	err = st.Save(ctx, "quota-test-2", store.Credential{Kind: "token", Secret: strings.Repeat("z", 5000)})
	if err == nil || !strings.Contains(err.Error(), limitFile) || strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("Save with the quota full = %v; want one line naming %s", err, limitFile)
	}
	if c, err := st.Load(ctx, id); err != nil || c.Secret != "kept-token" {
		t.Errorf("the stored credential after a full quota: %q, %v", c.Secret, err)
	}
}
