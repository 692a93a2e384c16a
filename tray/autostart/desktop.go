package autostart

import "strings"

// desktopEntry returns the XDG autostart desktop entry that runs exe with args.
func desktopEntry(exe string, args []string) string {
	var b strings.Builder
	b.WriteString("[Desktop Entry]\n")
	b.WriteString("Type=Application\n")
	b.WriteString("Version=1.0\n")
	b.WriteString("Name=" + Name + "\n")
	b.WriteString("Comment=Keeps package feed credentials fresh\n")
	b.WriteString("Exec=" + desktopExec(exe, args) + "\n")
	b.WriteString("Terminal=false\n")
	b.WriteString("X-GNOME-Autostart-enabled=true\n")
	return b.String()
}

// desktopExec builds the value of an Exec key following the Desktop Entry
// Specification (1.5, "The Exec key"):
//
//  1. An argument that is empty or contains a reserved character (space,
//     tab, newline, " ' \ > < ~ | & ; $ * ? # ` ( )) is enclosed in double
//     quotes, and inside the quotes ", `, $ and \ are preceded by a
//     backslash.
//  2. A literal % is written %% (field codes are expanded inside quotes too).
//  3. The whole value is then escaped as a string value: \ becomes \\ and
//     newline, tab and carriage return become \n, \t and \r. (So a literal
//     backslash in a quoted argument ends up as four backslashes.)
func desktopExec(exe string, args []string) string {
	parts := make([]string, 0, 1+len(args))
	for _, a := range append([]string{exe}, args...) {
		parts = append(parts, execQuote(a))
	}
	return escapeString(strings.Join(parts, " "))
}

const execReserved = " \t\n\"'\\><~|&;$*?#`()"

// execQuote applies steps 1 and 2 of desktopExec to one argument.
func execQuote(arg string) string {
	arg = strings.ReplaceAll(arg, "%", "%%")
	if arg != "" && !strings.ContainsAny(arg, execReserved) {
		return arg
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range arg {
		switch r {
		case '"', '`', '$', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// escapeString escapes a desktop entry string value.
func escapeString(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`, "\r", `\r`).Replace(s)
}
