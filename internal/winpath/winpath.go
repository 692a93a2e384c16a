// Package winpath puts a directory on the user's PATH on Windows, in
// HKCU\Environment, as installers do; new processes see it, running ones are
// told through WM_SETTINGCHANGE.
package winpath

import "strings"

// Prepend returns the PATH value list (entries separated by ";") with dir in
// front, and whether it changed. A dir already in list, anywhere, leaves list
// as it is: the user may have placed it on purpose. Entries compare as
// Windows does, case-insensitively and with or without a trailing
// backslash; empty entries are kept as they are.
func Prepend(list, dir string) (string, bool) {
	for _, e := range strings.Split(list, ";") {
		if e != "" && same(e, dir) {
			return list, false
		}
	}
	if list == "" {
		return dir, true
	}
	return dir + ";" + list, true
}

func same(a, b string) bool {
	trim := func(s string) string { return strings.TrimRight(strings.TrimSpace(s), `\/`) }
	return strings.EqualFold(trim(a), trim(b))
}
