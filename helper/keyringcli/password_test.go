package keyringcli

import (
	"strings"
	"testing"
)

// TestReadPassword checks `keyring set` reads stdin as Python keyring does:
// one trailing newline dropped; on Windows, where Python's stdin translates
// newlines, "\r\n" and "\r" count as "\n".
func TestReadPassword(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in              string
		unix, universal string // "" means an error
	}{
		{"pw", "pw", "pw"},
		{"pw\n", "pw", "pw"},
		{"pw\r\n", "pw\r", "pw"},
		{"pw\r", "pw\r", "pw"},
		{"pw\n\n", "pw\n", "pw\n"},
		{"a\r\nb\r\n", "a\r\nb\r", "a\nb"},
		{"\n", "", ""},
		{"\r\n", "\r", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		for _, mode := range []struct {
			universal bool
			want      string
		}{{false, tt.unix}, {true, tt.universal}} {
			got, err := readPassword(strings.NewReader(tt.in), mode.universal)
			if mode.want == "" {
				if err == nil {
					t.Errorf("readPassword(%q, %v) = %q, want an error", tt.in, mode.universal, got)
				}
				continue
			}
			if err != nil || got != mode.want {
				t.Errorf("readPassword(%q, %v) = %q, %v; want %q", tt.in, mode.universal, got, err, mode.want)
			}
		}
	}
}
