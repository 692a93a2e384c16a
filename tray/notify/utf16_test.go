package notify

import (
	"strings"
	"testing"
	"unicode/utf16"
)

func TestPutUTF16(t *testing.T) {
	tests := []struct {
		name string
		size int
		in   string
		want string
	}{
		{"fits", 8, "Sign in", "Sign in"},
		{"empty", 4, "", ""},
		{"exactly full", 8, "1234567", "1234567"},
		{"one over", 8, "12345678", "123456…"},
		{"long", 64, strings.Repeat("x", 300), strings.Repeat("x", 62) + "…"},
		{"NUL dropped", 8, "ab\x00cd", "abcd"},
		{"non-ASCII", 8, "café ✓", "café ✓"},
		// 😀 is two UTF-16 units: cut before it, not between them.
		{"surrogate pair cut whole", 5, "ab😀", "ab😀"},
		{"surrogate pair not split", 5, "abc😀", "abc…"},
		{"surrogate pair dropped at the cut", 6, "abc😀d", "abc…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := make([]uint16, tt.size)
			for i := range dst {
				dst[i] = 0xFFFF // old contents must not survive
			}
			putUTF16(dst, tt.in)
			end := 0
			for end < len(dst) && dst[end] != 0 {
				end++
			}
			if end == len(dst) {
				t.Fatalf("putUTF16(%d, %q) left no NUL: %v", tt.size, tt.in, dst)
			}
			if got := string(utf16.Decode(dst[:end])); got != tt.want {
				t.Errorf("putUTF16(%d, %q) = %q, want %q", tt.size, tt.in, got, tt.want)
			}
			for i, c := range dst[end:] {
				if c != 0 {
					t.Errorf("unit %d after the text is %#x, want 0", end+i, c)
				}
			}
		})
	}
}
