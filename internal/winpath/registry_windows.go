package winpath

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// AddUser puts dir in front of the user's Path (HKCU\Environment) unless it
// is there already, and tells running programs that the environment
// changed, so that terminals opened from Explorer afterwards have it.
// added is false when dir was there already.
//
// Windows builds a process's PATH as the machine Path followed by the user
// Path: a keyring in the machine Path (a Python installed for all users)
// still comes first.
func AddUser(dir string) (added bool, err error) {
	added, err = add(registry.CURRENT_USER, `Environment`, dir)
	if added {
		broadcast()
	}
	return added, err
}

// add is AddUser's registry part on any key, for tests. The value keeps its
// type: REG_EXPAND_SZ, as Windows creates it, keeps entries like
// %USERPROFILE%\bin unexpanded; a missing value is created as REG_EXPAND_SZ.
func add(root registry.Key, subkey, dir string) (bool, error) {
	k, _, err := registry.CreateKey(root, subkey, registry.QUERY_VALUE|registry.SET_VALUE)
	if err != nil {
		return false, fmt.Errorf("opening the user environment in the registry: %w", err)
	}
	defer k.Close()
	list, typ, err := k.GetStringValue("Path")
	switch {
	case errors.Is(err, registry.ErrNotExist):
		list, typ = "", registry.EXPAND_SZ
	case err != nil:
		return false, fmt.Errorf("reading the user Path: %w", err)
	}
	list, changed := Prepend(list, dir)
	if !changed {
		return false, nil
	}
	if typ == registry.EXPAND_SZ {
		err = k.SetExpandStringValue("Path", list)
	} else {
		err = k.SetStringValue("Path", list)
	}
	if err != nil {
		return false, fmt.Errorf("writing the user Path: %w", err)
	}
	return true, nil
}

var sendMessageTimeout = windows.NewLazySystemDLL("user32.dll").NewProc("SendMessageTimeoutW")

// broadcast sends WM_SETTINGCHANGE "Environment" to every top-level window,
// as the System Properties dialog does, waiting at most 5 s for hung ones.
// Nobody answering changes nothing: new logons read the registry anyway.
func broadcast() {
	const (
		hwndBroadcast   = 0xffff
		wmSettingChange = 0x001a
		smtoAbortIfHung = 0x0002
	)
	env, _ := windows.UTF16PtrFromString("Environment")
	var result uintptr
	sendMessageTimeout.Call(hwndBroadcast, wmSettingChange, 0, uintptr(unsafe.Pointer(env)), smtoAbortIfHung, 5000, uintptr(unsafe.Pointer(&result)))
}
