package autostart

import (
	"strings"
	"testing"
)

// parseExec decodes an Exec value the way the Desktop Entry Specification
// describes, independently of desktopExec: first the string-value escapes
// (\s \n \t \r \\), then the argument quoting, then %% → %.
func parseExec(t *testing.T, value string) []string {
	t.Helper()
	var s strings.Builder
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c != '\\' {
			s.WriteByte(c)
			continue
		}
		i++
		if i == len(value) {
			t.Fatalf("dangling backslash in %q", value)
		}
		switch value[i] {
		case 's':
			s.WriteByte(' ')
		case 'n':
			s.WriteByte('\n')
		case 't':
			s.WriteByte('\t')
		case 'r':
			s.WriteByte('\r')
		case '\\':
			s.WriteByte('\\')
		default:
			t.Fatalf("invalid string escape \\%c in %q", value[i], value)
		}
	}
	in := s.String()

	var args []string
	for i := 0; i < len(in); {
		if in[i] == ' ' {
			i++
			continue
		}
		var arg strings.Builder
		if in[i] == '"' {
			i++
			for ; ; i++ {
				if i == len(in) {
					t.Fatalf("unterminated quote in %q", in)
				}
				if in[i] == '"' {
					i++
					break
				}
				if in[i] == '\\' {
					i++
					if i == len(in) || !strings.ContainsRune("\"`$\\", rune(in[i])) {
						t.Fatalf("invalid quoted escape in %q", in)
					}
				}
				arg.WriteByte(in[i])
			}
			if i < len(in) && in[i] != ' ' {
				t.Fatalf("quoted argument followed by %q in %q", in[i], in)
			}
		} else {
			for ; i < len(in) && in[i] != ' '; i++ {
				if strings.ContainsRune(execReserved, rune(in[i])) {
					t.Fatalf("reserved character %q outside quotes in %q", in[i], in)
				}
				arg.WriteByte(in[i])
			}
		}
		a := arg.String()
		// Field codes: only %% is allowed in what we write.
		var out strings.Builder
		for j := 0; j < len(a); j++ {
			if a[j] == '%' {
				if j+1 == len(a) || a[j+1] != '%' {
					t.Fatalf("field code in %q", a)
				}
				j++
			}
			out.WriteByte(a[j])
		}
		args = append(args, out.String())
	}
	return args
}

func TestDesktopExecQuoting(t *testing.T) {
	for _, tc := range []struct {
		exe  string
		args []string
		want string
	}{
		{"/usr/bin/feedkey", nil, `/usr/bin/feedkey`},
		{"/usr/bin/feedkey", []string{"tray", "--quiet"}, `/usr/bin/feedkey tray --quiet`},
		{"/home/ann/My Apps/feedkey", []string{"tray"}, `"/home/ann/My Apps/feedkey" tray`},
		{"/opt/a$b/feedkey", nil, `"/opt/a\\$b/feedkey"`},
		{`/opt/back\slash/feedkey`, nil, `"/opt/back\\\\slash/feedkey"`},
		{`/opt/"q"/feedkey`, nil, `"/opt/\\"q\\"/feedkey"`},
		{"/opt/100%/feedkey", []string{"%u"}, `/opt/100%%/feedkey %%u`},
		{"/opt/tick`/feedkey", nil, "\"/opt/tick\\\\`/feedkey\""},
		{"/opt/it's/feedkey", []string{""}, `"/opt/it's/feedkey" ""`},
		{"/opt/new\nline/feedkey", nil, `"/opt/new\nline/feedkey"`},
		{"/opt/tab\there/feedkey", nil, `"/opt/tab\there/feedkey"`},
	} {
		got := desktopExec(tc.exe, tc.args)
		if got != tc.want {
			t.Errorf("desktopExec(%q, %q) = %s, want %s", tc.exe, tc.args, got, tc.want)
		}
		want := append([]string{tc.exe}, tc.args...)
		if back := parseExec(t, got); strings.Join(back, "\x00") != strings.Join(want, "\x00") || len(back) != len(want) {
			t.Errorf("Exec=%s decodes to %q, want %q", got, back, want)
		}
	}
}

func TestDesktopExecRoundTrip(t *testing.T) {
	// Every printable ASCII character, and some non-ASCII, survive.
	var all strings.Builder
	for c := ' '; c <= '~'; c++ {
		all.WriteRune(c)
	}
	for _, arg := range []string{all.String(), "é ü 日本", "a%%b", "\\\\", "\"'`"} {
		exe := "/opt/" + arg + "/feedkey"
		got := parseExec(t, desktopExec(exe, []string{arg}))
		if len(got) != 2 || got[0] != exe || got[1] != arg {
			t.Errorf("round trip of %q: got %q", arg, got)
		}
	}
}

func TestDesktopEntry(t *testing.T) {
	e := desktopEntry("/opt/My Apps/feedkey", []string{"tray"})
	for _, line := range []string{
		"[Desktop Entry]",
		"Type=Application",
		"Name=feedkey",
		`Exec="/opt/My Apps/feedkey" tray`,
		"X-GNOME-Autostart-enabled=true",
	} {
		if !strings.Contains("\n"+e, "\n"+line+"\n") {
			t.Errorf("entry lacks line %q:\n%s", line, e)
		}
	}
	if !strings.HasPrefix(e, "[Desktop Entry]\n") {
		t.Errorf("entry does not start with the group header:\n%s", e)
	}
}

func TestCheckCommand(t *testing.T) {
	for _, tc := range []struct {
		exe  string
		args []string
	}{
		{"", nil},
		{"feedkey", nil},
		{"./feedkey", nil},
		{"/usr/bin/feedkey", []string{"a\x00b"}},
	} {
		if err := checkCommand(tc.exe, tc.args); err == nil {
			t.Errorf("checkCommand(%q, %q) = nil, want an error", tc.exe, tc.args)
		}
	}
}
