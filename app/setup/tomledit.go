package setup

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// TOML files (uv.toml, pixi's and hatch's config.toml) are edited as text, so
// comments and layout survive, and each result is parsed back and checked
// before it is written: an edit that does not read back as intended is
// refused rather than written.

// ErrUnsafeEdit is returned when an edit would not read back as intended
// (an unusual layout the line editor does not understand).
var ErrUnsafeEdit = errors.New("cannot edit the file safely")

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string { return strconv.Quote(s) }

// tomlHeader reports the table a "[a.b]" line opens ("" for other lines;
// array tables "[[x]]" report "[[x]]").
func tomlHeader(line string) (string, bool) {
	t := strings.TrimSpace(line)
	if i := strings.Index(t, "#"); i >= 0 && !strings.Contains(t[:i], `"`) {
		t = strings.TrimSpace(t[:i])
	}
	if strings.HasPrefix(t, "[[") && strings.HasSuffix(t, "]]") {
		return "[[" + strings.TrimSpace(t[2:len(t)-2]) + "]]", true
	}
	if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
		parts := strings.Split(t[1:len(t)-1], ".")
		for i := range parts {
			parts[i] = strings.Trim(strings.TrimSpace(parts[i]), `"`)
		}
		return strings.Join(parts, "."), true
	}
	return "", false
}

// SetTOML sets key in table ("" for the top level) to the TOML value literal
// lit, adding the table or the key when missing.
func SetTOML(data []byte, table, key, lit string) ([]byte, error) {
	text := strings.TrimSuffix(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	var lines []string
	if text != "" {
		lines = strings.Split(text, "\n")
	}
	start, end := -1, len(lines) // the table's header line, and its end
	if table == "" {
		start = -1
		for i, l := range lines {
			if _, ok := tomlHeader(l); ok {
				end = i
				break
			}
		}
	} else {
		for i, l := range lines {
			name, ok := tomlHeader(l)
			if !ok {
				continue
			}
			if start >= 0 {
				end = i
				break
			}
			if name == table {
				start = i
			}
		}
		if start < 0 {
			if len(lines) > 0 {
				lines = append(lines, "")
			}
			lines = append(lines, "["+table+"]", key+" = "+lit)
			return checkTOML(lines, table, key, lit)
		}
	}
	for i := start + 1; i < end; i++ {
		k, _, ok := strings.Cut(lines[i], "=")
		if !ok || strings.Trim(strings.TrimSpace(k), `"`) != key || strings.HasPrefix(strings.TrimSpace(lines[i]), "#") {
			continue
		}
		lines[i] = key + " = " + lit
		return checkTOML(lines, table, key, lit)
	}
	at := end
	for at > start+1 && strings.TrimSpace(lines[at-1]) == "" {
		at--
	}
	lines = splice(lines, at, at, []string{key + " = " + lit})
	return checkTOML(lines, table, key, lit)
}

// checkTOML parses the edited lines and checks that table.key reads lit.
func checkTOML(lines []string, table, key, lit string) ([]byte, error) {
	out := []byte(strings.Join(lines, "\n") + "\n")
	var doc, want map[string]any
	if _, err := toml.Decode(string(out), &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsafeEdit, err)
	}
	if _, err := toml.Decode("v = "+lit, &want); err != nil {
		return nil, fmt.Errorf("setting %s: %w", key, err)
	}
	m := doc
	if table != "" {
		for _, part := range strings.Split(table, ".") {
			next, ok := m[part].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%w: [%s] is not a table after the edit", ErrUnsafeEdit, table)
			}
			m = next
		}
	}
	if !reflect.DeepEqual(m[key], want["v"]) {
		return nil, fmt.Errorf("%w: %s does not read back as %s", ErrUnsafeEdit, key, lit)
	}
	return out, nil
}

// AppendTOML appends block (complete tables) to data and checks that the
// result parses.
func AppendTOML(data []byte, block string) ([]byte, error) {
	text := strings.TrimRight(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	if text != "" {
		text += "\n\n"
	}
	out := []byte(text + strings.TrimRight(block, "\n") + "\n")
	var doc map[string]any
	if _, err := toml.Decode(string(out), &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsafeEdit, err)
	}
	return out, nil
}
