package notify

import (
	"strings"
	"unicode/utf16"
)

// putUTF16 copies s into dst as NUL-terminated UTF-16, the form of the
// fixed-size text fields of Windows structures. Text that does not fit is
// cut at a character boundary (never inside a surrogate pair) and ends
// with "…"; NUL characters, which would end the text early, are dropped.
// dst must hold at least two units.
func putUTF16(dst []uint16, s string) {
	u := utf16.Encode([]rune(strings.ReplaceAll(s, "\x00", "")))
	if room := len(dst) - 1; len(u) > room {
		u = u[:room-1]
		if last := u[len(u)-1]; 0xD800 <= last && last < 0xDC00 {
			u = u[:len(u)-1] // a high surrogate whose pair was cut off
		}
		u = append(u, '…')
	}
	n := copy(dst, u)
	clear(dst[n:])
}
