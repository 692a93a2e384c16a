package keyringcli

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// TestDelegate: with a Delegate (inside WSL, the Windows helper), every
// command line is handed over as given, stdin with it; a `get` answer is
// passed on only in the shape pip reads, and the exit code is kept.
func TestDelegate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		argv     []string
		answer   string
		code     int
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"password", []string{"get", "https://h/simple/", "__token__"}, "tok\n", 0, 0, "tok\n", ""},
		{"creds", []string{"--mode", "creds", "get", "https://h/simple/"}, "__token__\ntok\n", 0, 0, "__token__\ntok\n", ""},
		{"json", []string{"--mode", "creds", "--output", "json", "get", "https://h/simple/"}, `{"username":"u","password":"p"}` + "\n", 0, 0, `{"username":"u","password":"p"}` + "\n", ""},
		{"not found", []string{"get", "svc", "u"}, "", 1, 1, "", ""},
		{"set", []string{"set", "svc", "u"}, "", 0, 0, "", ""},
		{"two lines for a password", []string{"get", "svc", "u"}, "a\nb\n", 0, 1, "", "not 1 line(s)"},
		{"binary", []string{"get", "svc", "u"}, "a\x00b\n", 0, 1, "", "not text"},
		{"bad json", []string{"--output", "json", "--mode", "creds", "get", "svc"}, `{"password": 5}`, 0, 1, "", `field "password" is not a string`},
		{"empty", []string{"get", "svc", "u"}, "\n", 0, 1, "", "not 1 line(s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var gotArgv []string
			var gotStdin string
			var out, errb bytes.Buffer
			code := Run(context.Background(), tc.argv, Env{
				Stdin: strings.NewReader("stdin-secret"), Stdout: &out, Stderr: &errb,
				Delegate: func(_ context.Context, argv []string, stdin io.Reader) ([]byte, int, error) {
					gotArgv = argv
					b, _ := io.ReadAll(stdin)
					gotStdin = string(b)
					return []byte(tc.answer), tc.code, nil
				},
			})
			if code != tc.wantCode || out.String() != tc.wantOut || !strings.Contains(errb.String(), tc.wantErr) {
				t.Errorf("Run = %d, %q, %q; want %d, %q, %q", code, out.String(), errb.String(), tc.wantCode, tc.wantOut, tc.wantErr)
			}
			if strings.Join(gotArgv, " ") != strings.Join(tc.argv, " ") || gotStdin != "stdin-secret" {
				t.Errorf("handed over %q with stdin %q", gotArgv, gotStdin)
			}
			if tc.wantErr != "" && strings.Count(strings.TrimSpace(errb.String()), "\n") != 0 {
				t.Errorf("more than one line: %q", errb.String())
			}
		})
	}
	// Bad usage is answered here, without handing anything over.
	var errb bytes.Buffer
	called := false
	code := Run(context.Background(), []string{"get"}, Env{Stdout: io.Discard, Stderr: &errb,
		Delegate: func(context.Context, []string, io.Reader) ([]byte, int, error) { called = true; return nil, 0, nil }})
	if code != 2 || called {
		t.Errorf("bad usage: %d, handed over %v", code, called)
	}
}
