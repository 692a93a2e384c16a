package pykeyring

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// parseTests were written from what an oracle printed: upstream's parser
// definition (jaraco/keyring keyring/cli.py, v25.7.0, without shtab) plus
// the checks of CommandLineTool.run, run by CPython with argparse's parsing
// code as in the current Lib/argparse.py (3.15). An Args with empty Mode or
// Output means the default ("password", "plain").
var parseTests = []struct {
	argv []string
	want Args
	err  string // the UsageError's message, if any
}{
	// pip >= 26.2, uv, pip <= 26.1: the exact argv each sends.
	{[]string{"--mode=creds", "--output=json", "get", "https://pypi.example/simple/", "__token__"}, Args{Operation: "get", Service: "https://pypi.example/simple/", HasService: true, Username: "__token__", HasUsername: true, Mode: "creds", Output: "json"}, ""},
	{[]string{"--mode=creds", "--output=json", "get", "https://pypi.example/simple/"}, Args{Operation: "get", Service: "https://pypi.example/simple/", HasService: true, Mode: "creds", Output: "json"}, ""},
	{[]string{"get", "https://pypi.example/simple/", "--mode", "creds"}, Args{Operation: "get", Service: "https://pypi.example/simple/", HasService: true, Mode: "creds"}, ""},
	{[]string{"get", "https://pypi.example/simple/", "user"}, Args{Operation: "get", Service: "https://pypi.example/simple/", HasService: true, Username: "user", HasUsername: true}, ""},

	// Options anywhere, including between positionals.
	{[]string{"get", "--mode", "creds", "URL"}, Args{Operation: "get", Service: "URL", HasService: true, Mode: "creds"}, ""},
	{[]string{"get", "URL", "--mode", "password", "USER"}, Args{Operation: "get", Service: "URL", HasService: true, Username: "USER", HasUsername: true}, ""},

	// Unambiguous prefixes of long options; ambiguous ones.
	{[]string{"--mod", "creds", "get", "U"}, Args{Operation: "get", Service: "U", HasService: true, Mode: "creds"}, ""},
	{[]string{"--out=json", "--mo=creds", "get", "U"}, Args{Operation: "get", Service: "U", HasService: true, Mode: "creds", Output: "json"}, ""},
	{[]string{"--k", "x", "get", "a", "b"}, Args{}, "ambiguous option: --k could match --keyring-path, --keyring-backend"},
	{[]string{"--keyring=x", "get", "a", "b"}, Args{}, "ambiguous option: --keyring=x could match --keyring-path, --keyring-backend"},
	{[]string{"--keyring-p=x", "get", "a", "b"}, Args{Operation: "get", Service: "a", HasService: true, Username: "b", HasUsername: true, KeyringPath: "x"}, ""},

	// Short options: -pX, -p X, -p=X; the value may hold '='.
	{[]string{"-pX", "get", "a", "b"}, Args{Operation: "get", Service: "a", HasService: true, Username: "b", HasUsername: true, KeyringPath: "X"}, ""},
	{[]string{"-p", "X", "get", "a", "b"}, Args{Operation: "get", Service: "a", HasService: true, Username: "b", HasUsername: true, KeyringPath: "X"}, ""},
	{[]string{"-p=X", "get", "a", "b"}, Args{Operation: "get", Service: "a", HasService: true, Username: "b", HasUsername: true, KeyringPath: "X"}, ""},
	{[]string{"-bX=Y", "get", "a", "b"}, Args{Operation: "get", Service: "a", HasService: true, Username: "b", HasUsername: true, KeyringBackend: "X=Y"}, ""},

	// Option values: bad choices (with argparse's suggestion), missing, empty.
	{[]string{"--mode", "x", "get", "a", "b"}, Args{}, "argument --mode: invalid choice: 'x' (choose from password, creds)"},
	{[]string{"--mode", "cred", "get", "a", "b"}, Args{}, "argument --mode: invalid choice: 'cred', maybe you meant 'creds'? (choose from password, creds)"},
	{[]string{"--mode", "pass", "get", "a", "b"}, Args{}, "argument --mode: invalid choice: 'pass', maybe you meant 'password'? (choose from password, creds)"},
	{[]string{"--mode"}, Args{}, "argument --mode: expected one argument"},
	{[]string{"get", "a", "b", "--mode"}, Args{}, "argument --mode: expected one argument"},
	{[]string{"--mode=", "get", "a", "b"}, Args{}, "argument --mode: invalid choice: '' (choose from password, creds)"},
	{[]string{"--mode", "", "get", "a", "b"}, Args{}, "argument --mode: invalid choice: '' (choose from password, creds)"},

	// Extra positionals, "--", and arguments that start with '-'.
	{[]string{"get", "a", "b", "c"}, Args{}, "unrecognized arguments: c"},
	{[]string{"get", "a", "b", "c", "d"}, Args{}, "unrecognized arguments: c d"},
	{[]string{"get", "a", "b", "--", "c"}, Args{}, "unrecognized arguments: c"},
	{[]string{"--", "get", "a", "b"}, Args{Operation: "get", Service: "a", HasService: true, Username: "b", HasUsername: true}, ""},
	{[]string{"get", "--", "-x", "-y"}, Args{Operation: "get", Service: "-x", HasService: true, Username: "-y", HasUsername: true}, ""},
	{[]string{"get", "a", "--", "--mode"}, Args{Operation: "get", Service: "a", HasService: true, Username: "--mode", HasUsername: true}, ""},
	{[]string{"-", "a", "b"}, Args{}, "argument operation: invalid choice: '-' (choose from get, set, del, diagnose)"},
	{[]string{"get", "-", "-"}, Args{Operation: "get", Service: "-", HasService: true, Username: "-", HasUsername: true}, ""},
	{[]string{"get", "-x", "b"}, Args{}, "unrecognized arguments: -x"},
	{[]string{"get", "a", "-x"}, Args{}, "unrecognized arguments: -x"},
	{[]string{"get", "-5", "b"}, Args{Operation: "get", Service: "-5", HasService: true, Username: "b", HasUsername: true}, ""},
	{[]string{"get", "-.5", "b"}, Args{Operation: "get", Service: "-.5", HasService: true, Username: "b", HasUsername: true}, ""},
	{[]string{"get", "-a b", "c"}, Args{Operation: "get", Service: "-a b", HasService: true, Username: "c", HasUsername: true}, ""},

	// The operation's choices.
	{[]string{"foo", "a", "b"}, Args{}, "argument operation: invalid choice: 'foo' (choose from get, set, del, diagnose)"},
	{[]string{"gett"}, Args{}, "argument operation: invalid choice: 'gett', maybe you meant 'get'? (choose from get, set, del, diagnose)"},
	{[]string{"dell", "a", "b"}, Args{}, "argument operation: invalid choice: 'dell', maybe you meant 'del'? (choose from get, set, del, diagnose)"},

	// Checks CommandLineTool.run makes after parsing.
	{[]string{"diagnose"}, Args{Operation: "diagnose"}, ""},
	{[]string{"diagnose", "x", "y"}, Args{Operation: "diagnose", Service: "x", HasService: true, Username: "y", HasUsername: true}, ""},
	{nil, Args{}, "Specify operation (get, set, del, diagnose)."},
	{[]string{"get"}, Args{}, "get requires service and username"},
	{[]string{"get", "a"}, Args{}, "get requires service and username"},
	{[]string{"--mode=creds", "get"}, Args{}, "get requires service"},
	{[]string{"--mode=creds", "get", "a"}, Args{Operation: "get", Service: "a", HasService: true, Mode: "creds"}, ""},
	{[]string{"set", "a"}, Args{}, "set requires service and username"},
	{[]string{"del", "a"}, Args{}, "del requires service and username"},
	{[]string{"del", "", ""}, Args{Operation: "del", Service: "", HasService: true, Username: "", HasUsername: true}, ""},
	{[]string{"get", "", "x"}, Args{Operation: "get", Service: "", HasService: true, Username: "x", HasUsername: true}, ""},
	{[]string{"--list-backends"}, Args{ListBackends: true}, ""},
	{[]string{"--disable", "foo"}, Args{}, "argument operation: invalid choice: 'foo' (choose from get, set, del, diagnose)"},
	{[]string{"--list-backends", "get", "a", "b", "c"}, Args{}, "unrecognized arguments: c"},

	// -h acts as soon as it is reached; errors before it win.
	{[]string{"-h", "--mode", "x"}, Args{Help: true}, ""},
	{[]string{"--mode", "x", "-h"}, Args{}, "argument --mode: invalid choice: 'x' (choose from password, creds)"},
	{[]string{"foo", "-h"}, Args{}, "argument operation: invalid choice: 'foo' (choose from get, set, del, diagnose)"},
	{[]string{"-h", "foo"}, Args{Help: true}, ""},
	{[]string{"get", "a", "b", "c", "-h"}, Args{Help: true}, ""},
	{[]string{"-hx"}, Args{Help: true}, ""},

	// Values attached to flags; clusters of short options.
	{[]string{"-h=x"}, Args{}, "argument -h/--help: ignored explicit argument 'x'"},
	{[]string{"-h="}, Args{}, "argument -h/--help: ignored explicit argument ''"},
	{[]string{"--help=x"}, Args{}, "argument -h/--help: ignored explicit argument 'x'"},
	{[]string{"--disable=x"}, Args{}, "argument --disable: ignored explicit argument 'x'"},
	{[]string{"--disable="}, Args{}, "argument --disable: ignored explicit argument ''"},
	{[]string{"--dis=1"}, Args{}, "argument --disable: ignored explicit argument '1'"},
	{[]string{"-hp"}, Args{}, "argument -p/--keyring-path: expected one argument"},
	{[]string{"-hp", "X"}, Args{Help: true}, ""},
	{[]string{"-ph"}, Args{}, "Specify operation (get, set, del, diagnose)."},
	{[]string{"-hb"}, Args{}, "argument -b/--keyring-backend: expected one argument"},
	{[]string{"-hh=x"}, Args{}, "argument -h/--help: ignored explicit argument 'x'"},

	// A bare "--=" or "-=" prefixes every option.
	{[]string{"--=x"}, Args{}, "ambiguous option: --=x could match --help, --keyring-path, --keyring-backend, --list-backends, --disable, --mode, --output, --print-completion"},
	{[]string{"-=x"}, Args{}, "ambiguous option: -=x could match -h, --help, -p, --keyring-path, -b, --keyring-backend, --list-backends, --disable, --mode, --output, --print-completion"},
	{[]string{"-="}, Args{}, "ambiguous option: -= could match -h, --help, -p, --keyring-path, -b, --keyring-backend, --list-backends, --disable, --mode, --output, --print-completion"},
	{[]string{"---x"}, Args{}, "unrecognized arguments: ---x"},

	// --print-completion without keyring's completion extra.
	{[]string{"--print-completion", "bash"}, Args{PrintCompletion: "bash"}, ""},
	{[]string{"--print-completion", "fish"}, Args{}, "argument --print-completion: invalid choice: 'fish' (choose from bash, zsh, tcsh)"},
	{[]string{"--print-completion", "bas"}, Args{}, "argument --print-completion: invalid choice: 'bas', maybe you meant 'bash'? (choose from bash, zsh, tcsh)"},
	{[]string{"--print-completion"}, Args{}, "argument --print-completion: expected one argument"},
	{[]string{"--p", "zsh"}, Args{PrintCompletion: "zsh"}, ""},

	// Option values that look like options; repeated options.
	{[]string{"-p"}, Args{}, "argument -p/--keyring-path: expected one argument"},
	{[]string{"-p", "-x"}, Args{}, "argument -p/--keyring-path: expected one argument"},
	{[]string{"-p", "--"}, Args{}, "argument -p/--keyring-path: expected one argument"},
	{[]string{"-p", "-"}, Args{}, "Specify operation (get, set, del, diagnose)."},
	{[]string{"-p", "", "get", "a", "b"}, Args{Operation: "get", Service: "a", HasService: true, Username: "b", HasUsername: true}, ""},
	{[]string{"-p", "a", "-p", "b", "get", "x", "y"}, Args{Operation: "get", Service: "x", HasService: true, Username: "y", HasUsername: true, KeyringPath: "b"}, ""},
	{[]string{"--mode", "creds", "--mode", "password", "get", "a"}, Args{}, "get requires service and username"},
	{[]string{"get", "a", "b", "--output", "yaml"}, Args{}, "argument --output: invalid choice: 'yaml' (choose from plain, json)"},
	{[]string{"get", "a", "b", "--output", "jsn"}, Args{}, "argument --output: invalid choice: 'jsn', maybe you meant 'json'? (choose from plain, json)"},

	// Python's repr() of the rejected value.
	{[]string{"it's"}, Args{}, "argument operation: invalid choice: \"it's\" (choose from get, set, del, diagnose)"},
	{[]string{"a\"b'c"}, Args{}, "argument operation: invalid choice: 'a\"b\\'c' (choose from get, set, del, diagnose)"},
	{[]string{"été"}, Args{}, "argument operation: invalid choice: 'été' (choose from get, set, del, diagnose)"},
	{[]string{"a\tb\nc"}, Args{}, "argument operation: invalid choice: 'a\\tb\\nc' (choose from get, set, del, diagnose)"},
	{[]string{"\x01\x7f\u0080\u00a0\u200b"}, Args{}, "argument operation: invalid choice: '\\x01\\x7f\\x80\\xa0\\u200b' (choose from get, set, del, diagnose)"},
	{[]string{"--mode", "😀"}, Args{}, "argument --mode: invalid choice: '😀' (choose from password, creds)"},

	// Unknown options.
	{[]string{"--zzz"}, Args{}, "unrecognized arguments: --zzz"},
	{[]string{"get", "a", "b", "--zzz", "--yyy"}, Args{}, "unrecognized arguments: --zzz --yyy"},
	{[]string{"--zzz", "get", "a", "b", "x"}, Args{}, "unrecognized arguments: --zzz x"},
	{[]string{"-x", "get", "a", "b"}, Args{}, "unrecognized arguments: -x"},
	{[]string{"get", "-xa"}, Args{}, "unrecognized arguments: -xa"},

	// More "--".
	{[]string{"--mode", "creds", "get", "--", "a"}, Args{Operation: "get", Service: "a", HasService: true, Mode: "creds"}, ""},
	{[]string{"--", "--", "a", "b"}, Args{}, "argument operation: invalid choice: '--' (choose from get, set, del, diagnose)"},
	{[]string{"get", "a", "b", "--"}, Args{Operation: "get", Service: "a", HasService: true, Username: "b", HasUsername: true}, ""},
	{[]string{"get", "a", "b", "--", "--"}, Args{}, "unrecognized arguments: --"},
	{[]string{"--list-backends", "--", "x"}, Args{}, "argument operation: invalid choice: 'x' (choose from get, set, del, diagnose)"},
	{[]string{"get", "a", "--output", "json", "b"}, Args{Operation: "get", Service: "a", HasService: true, Username: "b", HasUsername: true, Output: "json"}, ""},
	{[]string{"-p", "x", "get", "a", "-b", "y", "b"}, Args{Operation: "get", Service: "a", HasService: true, Username: "b", HasUsername: true, KeyringPath: "x", KeyringBackend: "y"}, ""},
	{[]string{"--mode", "CREDS"}, Args{}, "argument --mode: invalid choice: 'CREDS' (choose from password, creds)"},
	{[]string{"--output", "plain", "--output"}, Args{}, "argument --output: expected one argument"},
	{[]string{"--mode=creds=x"}, Args{}, "argument --mode: invalid choice: 'creds=x', maybe you meant 'creds'? (choose from password, creds)"},
	{[]string{"--mode creds"}, Args{}, "argument operation: invalid choice: '--mode creds' (choose from get, set, del, diagnose)"},
	{[]string{"--output=json", "--", "get", "a"}, Args{}, "get requires service and username"},
	{[]string{"get", "--", "a", "--", "b"}, Args{}, "unrecognized arguments: b"},

	// Bytes that are not UTF-8 reach Python as surrogate escapes (U+DC80..U+DCFF).
	{[]string{"--mode", "\xff"}, Args{}, "argument --mode: invalid choice: '\\udcff' (choose from password, creds)"},
	{[]string{"--mode", "\xe2\x82a"}, Args{}, "argument --mode: invalid choice: '\\udce2\\udc82a' (choose from password, creds)"},
	{[]string{"--mode", "\xed\xa0\x80"}, Args{}, "argument --mode: invalid choice: '\\udced\\udca0\\udc80' (choose from password, creds)"},
	{[]string{"--mode", "�"}, Args{}, "argument --mode: invalid choice: '�' (choose from password, creds)"},
	{[]string{"--mode", "\xe2\x82\xac\xcd"}, Args{}, "argument --mode: invalid choice: '€\\udccd' (choose from password, creds)"},
	{[]string{"--mode", "cred\xff"}, Args{}, "argument --mode: invalid choice: 'cred\\udcff', maybe you meant 'creds'? (choose from password, creds)"},
	{[]string{"--mode", "\u0378\ue000😀\u00ad\u2028 x"}, Args{}, "argument --mode: invalid choice: '\\u0378\\ue000😀\\xad\\u2028 x' (choose from password, creds)"},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		got, err := Parse(tt.argv)
		if tt.err != "" {
			var ue *UsageError
			if !errors.As(err, &ue) || ue.Msg != tt.err {
				t.Errorf("Parse(%q) = %+v, %v; want error %q", tt.argv, got, err, tt.err)
			}
			continue
		}
		want := tt.want
		if want.Mode == "" {
			want.Mode = "password"
		}
		if want.Output == "" {
			want.Output = "plain"
		}
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.argv, got, err, want)
		}
	}
}

func TestUsageError(t *testing.T) {
	_, err := Parse([]string{"--zzz"})
	if err == nil || err.Error() != "unrecognized arguments: --zzz" {
		t.Errorf("Parse(--zzz) error = %v", err)
	}
}

// TestHelp checks Usage and Help against what the oracle printed for
// "keyring -h" and "keyring --zzz" (COLUMNS unset, not a terminal).
func TestHelp(t *testing.T) {
	const usage = `usage: keyring [-h] [-p KEYRING_PATH] [-b KEYRING_BACKEND] [--list-backends]
               [--disable] [--mode {password,creds}] [--output {plain,json}]
               [--print-completion {bash,zsh,tcsh}]
               [{get,set,del,diagnose}] [service] [username]
`
	if got := Usage(); got != usage {
		t.Errorf("Usage() = %q, want %q", got, usage)
	}
	help := Help()
	for _, line := range []string{
		"\npositional arguments:\n  {get,set,del,diagnose}\n  service\n  username\n\noptions:\n",
		"\n  -h, --help            show this help message and exit\n",
		"\n  -p, --keyring-path KEYRING_PATH\n                        Path to the keyring backend\n",
		"\n  --mode {password,creds}\n                        Mode for 'get' operation. 'password' requires a\n",
		"\n                        is 'password'\n  --output {plain,json}\n",
	} {
		if !strings.Contains(help, line) {
			t.Errorf("Help() lacks %q", line)
		}
	}
	if !strings.HasPrefix(help, usage+"\n") || !strings.HasSuffix(help, "print shell completion script\n") {
		t.Errorf("Help() = %q", help)
	}
}

// TestMatchOptionalsIsArgparsesRegexp compares matchOptionals with the
// regexp argparse uses, (-*A?-*) repeated n times, on every pattern of up to
// eight arguments.
func TestMatchOptionalsIsArgparsesRegexp(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 3; n++ {
		re := regexp.MustCompile("^" + strings.Repeat(`(-*A?-*)`, n))
		var walk func(p []byte)
		walk = func(p []byte) {
			loc := re.FindSubmatchIndex(p)
			counts, end := matchOptionals(p, n)
			for k := range n {
				if want := loc[2*k+3] - loc[2*k+2]; counts[k] != want {
					t.Fatalf("n=%d %q: group %d takes %d, the regexp %d", n, p, k, counts[k], want)
				}
			}
			if end != loc[1] {
				t.Fatalf("n=%d %q: ends at %d, the regexp at %d", n, p, end, loc[1])
			}
			if len(p) == 8 {
				return
			}
			for _, c := range []byte("AO-") {
				walk(append(p[:len(p):len(p)], c))
			}
		}
		walk(nil)
	}
}
