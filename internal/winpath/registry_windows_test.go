package winpath

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/windows/registry"
)

// TestAdd runs on a scratch key of HKCU (under Wine in CI): the user's own
// Environment is never touched by tests.
func TestAdd(t *testing.T) {
	subkey := fmt.Sprintf(`Software\feedkey-test-winpath-%d`, os.Getpid())
	t.Cleanup(func() { registry.DeleteKey(registry.CURRENT_USER, subkey) })
	const dir = `C:\fk\bin`
	read := func() (string, uint32) {
		t.Helper()
		k, err := registry.OpenKey(registry.CURRENT_USER, subkey, registry.QUERY_VALUE)
		if err != nil {
			t.Fatal(err)
		}
		defer k.Close()
		v, typ, err := k.GetStringValue("Path")
		if err != nil {
			t.Fatal(err)
		}
		return v, typ
	}

	// No Path yet: created as REG_EXPAND_SZ.
	if added, err := add(registry.CURRENT_USER, subkey, dir); err != nil || !added {
		t.Fatalf("add to a missing Path = %v, %v; want true, nil", added, err)
	}
	if v, typ := read(); v != dir || typ != registry.EXPAND_SZ {
		t.Errorf("Path = %q (type %d), want %q as REG_EXPAND_SZ", v, typ, dir)
	}
	if added, err := add(registry.CURRENT_USER, subkey, dir+`\`); err != nil || added {
		t.Errorf("adding it again = %v, %v; want false, nil", added, err)
	}

	for _, typ := range []uint32{registry.EXPAND_SZ, registry.SZ} {
		k, _, err := registry.CreateKey(registry.CURRENT_USER, subkey, registry.SET_VALUE)
		if err != nil {
			t.Fatal(err)
		}
		const old = `%USERPROFILE%\bin;C:\x`
		if typ == registry.EXPAND_SZ {
			err = k.SetExpandStringValue("Path", old)
		} else {
			err = k.SetStringValue("Path", old)
		}
		k.Close()
		if err != nil {
			t.Fatal(err)
		}
		if added, err := add(registry.CURRENT_USER, subkey, dir); err != nil || !added {
			t.Fatalf("add = %v, %v", added, err)
		}
		if v, got := read(); v != dir+";"+old || got != typ {
			t.Errorf("Path = %q (type %d), want %q (type %d): the value and its type kept", v, got, dir+";"+old, typ)
		}
	}
}
