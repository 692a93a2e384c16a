package pykeyring

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// FuzzParse takes an argv encoded as NUL-separated arguments (an empty
// input is an empty argv); the seed corpus is in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var argv []string
		if len(data) > 0 {
			argv = strings.Split(string(data), "\x00")
		}
		got, err := Parse(argv)
		again, err2 := Parse(argv)
		if got != again || (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("Parse(%q) not deterministic: %+v, %v then %+v, %v", argv, got, err, again, err2)
		}
		if err != nil {
			var ue *UsageError
			if !errors.As(err, &ue) || ue.Msg == "" {
				t.Fatalf("Parse(%q) error %#v is not a *UsageError", argv, err)
			}
			return
		}
		if !slices.Contains(optMode.choices, got.Mode) || !slices.Contains(optOutput.choices, got.Output) {
			t.Fatalf("Parse(%q) = %+v: mode or output out of range", argv, got)
		}
		if got.PrintCompletion != "" && !slices.Contains(optPrintCompletion.choices, got.PrintCompletion) {
			t.Fatalf("Parse(%q) = %+v: bad shell", argv, got)
		}
		if got.Help || got.PrintCompletion != "" {
			return
		}
		canon := canonicalArgv(got)
		back, err := Parse(canon)
		if err != nil || back != got {
			t.Fatalf("Parse(%q) = %+v, but its canonical form %q parses as %+v, %v", argv, got, canon, back, err)
		}
	})
}

// canonicalArgv renders a into the argv that means it, values attached
// with '=' and positionals after "--".
func canonicalArgv(a Args) []string {
	argv := []string{"--mode=" + a.Mode, "--output=" + a.Output}
	if a.KeyringPath != "" {
		argv = append(argv, "--keyring-path="+a.KeyringPath)
	}
	if a.KeyringBackend != "" {
		argv = append(argv, "--keyring-backend="+a.KeyringBackend)
	}
	if a.ListBackends {
		argv = append(argv, "--list-backends")
	}
	if a.Disable {
		argv = append(argv, "--disable")
	}
	argv = append(argv, "--")
	if a.Operation != "" {
		argv = append(argv, a.Operation)
	}
	if a.HasService {
		argv = append(argv, a.Service)
	}
	if a.HasUsername {
		argv = append(argv, a.Username)
	}
	return argv
}
