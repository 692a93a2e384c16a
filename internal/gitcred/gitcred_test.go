package gitcred

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

func TestRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     Request
		err      bool
	}{
		{"git get with path", "protocol=https\nhost=dev.azure.com\npath=contoso/web/_git/web\n\n",
			Request{Protocol: "https", Host: "dev.azure.com", Path: "contoso/web/_git/web"}, false},
		{"end of input ends the list", "protocol=https\nhost=127.0.0.1:8443",
			Request{Protocol: "https", Host: "127.0.0.1:8443"}, false},
		{"stops at the blank line", "protocol=https\n\nhost=evil.example\n",
			Request{Protocol: "https"}, false},
		{"empty input", "", Request{}, false},
		{"unknown keys ignored", "capability[]=authtype\nwwwauth[]=Basic realm=\"x\"\nprotocol=https\nhost=a.example\n",
			Request{Protocol: "https", Host: "a.example"}, false},
		{"value keeps '=' and spaces", "username=a=b c\npassword= p=\n",
			Request{Username: "a=b c", Password: " p="}, false},
		{"later value wins", "host=a.example\nhost=b.example\n", Request{Host: "b.example"}, false},
		{"url is split", "url=https://org@dev.azure.com/org/p/_git/r\n",
			Request{Protocol: "https", Host: "dev.azure.com", Path: "org/p/_git/r", Username: "org"}, false},
		{"url keeps the port", "url=https://127.0.0.1:8443\n", Request{Protocol: "https", Host: "127.0.0.1:8443"}, false},
		{"CRLF is not stripped", "host=a.example\r\n", Request{Host: "a.example\r"}, false},
		{"no '='", "protocol https\n", Request{}, true},
		{"empty key", "=https\n", Request{}, true},
		{"NUL", "host=a\x00b\n", Request{}, true},
		{"url without scheme", "url=dev.azure.com/x\n", Request{}, true},
		{"too long", "host=" + strings.Repeat("a", MaxInput) + "\n", Request{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Read(strings.NewReader(tt.in))
			if (err != nil) != tt.err {
				t.Fatalf("Read(%q) error = %v, want error %v", tt.in, err, tt.err)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("Read(%q) error = %v, want ErrMalformed", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("Read(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

// TestReadOneByteAtATime: git writes the request through a pipe; short
// reads change nothing.
func TestReadOneByteAtATime(t *testing.T) {
	t.Parallel()
	in := "protocol=https\nhost=dev.azure.com\npath=o/p/_git/r\n\n"
	got, err := Read(iotest.OneByteReader(strings.NewReader(in)))
	if err != nil || got.Path != "o/p/_git/r" {
		t.Fatalf("Read = %+v, %v", got, err)
	}
}

func TestWrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a    Answer
		want string
		err  bool
	}{
		{"full", Answer{Username: "VssSessionToken", Password: "s3cret", PasswordExpiryUTC: 1700000000},
			"username=VssSessionToken\npassword=s3cret\npassword_expiry_utc=1700000000\n\n", false},
		{"no expiry", Answer{Username: "u", Password: "p"}, "username=u\npassword=p\n\n", false},
		{"nothing", Answer{}, "\n", false},
		{"newline in password", Answer{Username: "u", Password: "p\nhost=evil"}, "", true},
		{"NUL in username", Answer{Username: "u\x00", Password: "p"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			err := Write(&b, tt.a)
			if (err != nil) != tt.err || b.String() != tt.want {
				t.Fatalf("Write(%+v) = %q, %v; want %q, error %v", tt.a, b.String(), err, tt.want, tt.err)
			}
		})
	}
}

// FuzzRead checks that any input gives an error or attributes that hold no
// newline or NUL, and that an answer made of them reads back the same.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"protocol=https\nhost=dev.azure.com\npath=contoso/web/_git/web\n\n",
		"url=https://u:p@127.0.0.1:8443/o/p/_git/r?x#y\n",
		"host=a\x00b\n", "=\n", "a\n\nb=c", "capability[]=authtype\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		req, err := Read(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, v := range []string{req.Protocol, req.Host, req.Path, req.Username, req.Password} {
			if strings.ContainsAny(v, "\n\x00") {
				t.Fatalf("Read(%q) = %+v: a value holds a newline or NUL", in, req)
			}
		}
		var b bytes.Buffer
		if err := Write(&b, Answer{Username: req.Username, Password: req.Password}); err != nil {
			t.Fatalf("Write of what Read gave: %v", err)
		}
		back, err := Read(&b)
		if err != nil || back.Username != req.Username || back.Password != req.Password {
			t.Fatalf("round trip of %+v = %+v, %v", req, back, err)
		}
	})
}
