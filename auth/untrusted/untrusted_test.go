package untrusted

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode"
)

func TestURL(t *testing.T) {
	t.Parallel()
	ok := []string{
		"https://ppm.example.com/__login__/device",
		"https://login.microsoftonline.com/common/oauth2/deviceauth",
		"https://127.0.0.1:8443/device?code=ABCD-EFGH",
		"HTTPS://Example.COM/x",
		"https://[::1]:9/x",
	}
	for _, raw := range ok {
		if got, err := URL(raw); err != nil || got != raw {
			t.Errorf("URL(%q) = %q, %v; want it accepted", raw, got, err)
		}
	}
	bad := []string{
		"",
		"file:///etc/passwd",
		"javascript:alert(1)",
		"smb://host/share/x.desktop",
		`\\host\share\evil.exe`,
		"C:\\Windows\\System32\\calc.exe",
		"-a https://example.com",
		"--help",
		"http://example.com/device",
		"http://127.0.0.1:8080/device",
		"https://user:pw@example.com/",
		"https://token@example.com/",
		"https:///nohost",
		"https:example.com",
		"https://example.com/a b",
		"https://example.com/\x1b[31mred",
		"https://example.com/\u202egnp.exe",
		"https://example.com\\@evil.com/",
		"https://example.com:99999/",
		"data:text/html,<script>alert(1)</script>",
		"https://" + strings.Repeat("a", maxURL),
	}
	for _, raw := range bad {
		got, err := URL(raw)
		if !errors.Is(err, ErrURL) || got != "" {
			t.Errorf("URL(%q) = %q, %v; want ErrURL", raw, got, err)
			continue
		}
		if strings.Contains(err.Error(), "pw@") || strings.ContainsRune(err.Error(), '\x1b') {
			t.Errorf("URL(%q): message %q shows a secret or a control character", raw, err)
		}
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ABCD-EFGH":                   "ABCD-EFGH",
		"AB\x1b[2J\x1b]0;pwned\aCD":   "AB[2J]0;pwnedCD",
		"code\r\nFAKE PROMPT: ":       "codeFAKE PROMPT: ",
		"\u202eHGFE-DCBA\u200b":       "HGFE-DCBA",
		"ok \u009b31m":                "ok 31m",
		"https://example.com/ü?x=1#f": "https://example.com/ü?x=1#f",
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzURL(f *testing.F) {
	for _, s := range []string{"https://example.com/x", "file:///etc/passwd", "-x", "https://u@h/", "https://h:1/\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := URL(raw)
		if err != nil {
			if got != "" || !errors.Is(err, ErrURL) {
				t.Fatalf("URL(%q) = %q, %v", raw, got, err)
			}
			return
		}
		u, perr := url.Parse(got)
		if got != raw || perr != nil || !strings.EqualFold(u.Scheme, "https") || u.Hostname() == "" || u.User != nil {
			t.Fatalf("URL(%q) accepted %q", raw, got)
		}
		for _, r := range got {
			if !unicode.IsPrint(r) || r == ' ' || r == '\\' {
				t.Fatalf("URL(%q) accepted a non-printable or separator rune %q", raw, r)
			}
		}
	})
}

func TestOneLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"AADSTS700082: The refresh token has expired\r\nTrace ID: x", 0, "AADSTS700082: The refresh token has expired Trace ID: x"},
		{"a\x1b[2Jb\tc", 0, "a[2Jb c"},
		{"  padded  ", 0, "padded"},
		{"héllo wörld", 5, "héllo…"},
		{"short", 10, "short"},
	} {
		if got := OneLine(tc.in, tc.max); got != tc.want {
			t.Errorf("OneLine(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}
