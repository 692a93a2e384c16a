package setup

import (
	"strings"
)

// INI files (pip.conf, .pypirc) are edited line by line, as configparser
// reads them: "[section]" headers, "key = value" or "key: value" lines,
// indented continuation lines, and "#" or ";" comments. Everything the edit
// does not name stays byte for byte.

// iniKey normalizes a key as pip does: case and "_" versus "-" do not count.
func iniKey(k string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(k)), "_", "-")
}

// iniLine splits a "key = value" line; ok is false for headers, comments,
// blank and continuation lines.
func iniLine(line string) (key, value string, ok bool) {
	if line == "" || line[0] == ' ' || line[0] == '\t' || line[0] == '#' || line[0] == ';' || line[0] == '[' {
		return "", "", false
	}
	i := strings.IndexAny(line, "=:")
	if i < 0 {
		return "", "", false
	}
	return iniKey(line[:i]), strings.TrimSpace(line[i+1:]), true
}

func iniHeader(line string) (string, bool) {
	t := strings.TrimSpace(line)
	if !strings.HasPrefix(t, "[") || !strings.HasSuffix(t, "]") {
		return "", false
	}
	return strings.TrimSpace(t[1 : len(t)-1]), true
}

func isContinuation(line string) bool {
	return line != "" && (line[0] == ' ' || line[0] == '\t') && strings.TrimSpace(line) != ""
}

// iniSection finds a section: the index of its header line and of the line
// after its last line; start is -1 when it is missing.
func iniSection(lines []string, section string) (start, end int) {
	start = -1
	for i, l := range lines {
		if name, ok := iniHeader(l); ok {
			if start >= 0 {
				return start, i
			}
			if name == section {
				start = i
			}
		}
	}
	return start, len(lines)
}

// GetINI returns the value of key in section; continuation lines are joined
// with "\n".
func GetINI(data []byte, section, key string) (string, bool) {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	start, end := iniSection(lines, section)
	if start < 0 {
		return "", false
	}
	for i := start + 1; i < end; i++ {
		k, v, ok := iniLine(lines[i])
		if !ok || k != iniKey(key) {
			continue
		}
		for j := i + 1; j < end && isContinuation(lines[j]); j++ {
			v += "\n" + strings.TrimSpace(lines[j])
		}
		return strings.TrimPrefix(v, "\n"), true
	}
	return "", false
}

// renderINI renders "key = value", a multi-line value as continuation lines.
func renderINI(key, value string) []string {
	parts := strings.Split(value, "\n")
	if len(parts) == 1 {
		return []string{key + " = " + value}
	}
	out := []string{key + " ="}
	for _, p := range parts {
		if p != "" {
			out = append(out, "    "+p)
		}
	}
	return out
}

// SetINI sets key in section to value, adding the section or the key when
// missing, and returns the new content.
func SetINI(data []byte, section, key, value string) []byte {
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	text = strings.TrimSuffix(text, "\n")
	var lines []string
	if text != "" {
		lines = strings.Split(text, "\n")
	}
	start, end := iniSection(lines, section)
	if start < 0 {
		if len(lines) > 0 {
			lines = append(lines, "")
		}
		lines = append(append(lines, "["+section+"]"), renderINI(key, value)...)
		return []byte(strings.Join(lines, "\n") + "\n")
	}
	for i := start + 1; i < end; i++ {
		if k, _, ok := iniLine(lines[i]); !ok || k != iniKey(key) {
			continue
		}
		j := i + 1
		for j < end && isContinuation(lines[j]) {
			j++
		}
		lines = splice(lines, i, j, renderINI(key, value))
		return []byte(strings.Join(lines, "\n") + "\n")
	}
	at := end
	for at > start+1 && strings.TrimSpace(lines[at-1]) == "" {
		at-- // after the section's last setting, before blank lines
	}
	lines = splice(lines, at, at, renderINI(key, value))
	return []byte(strings.Join(lines, "\n") + "\n")
}

// splice replaces lines[i:j] with repl.
func splice(lines []string, i, j int, repl []string) []string {
	out := make([]string, 0, len(lines)-(j-i)+len(repl))
	out = append(out, lines[:i]...)
	out = append(out, repl...)
	return append(out, lines[j:]...)
}
