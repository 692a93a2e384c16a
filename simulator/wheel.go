package simulator

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// zipTime is the modification time of every wheel member, so that a wheel's
// bytes depend only on its contents. It is the earliest time zip can store.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// A Wheel describes a pure-Python wheel (PEP 427) tagged py3-none-any.
type Wheel struct {
	Name    string            // project name, e.g. "demo-pkg"
	Version string            // version, e.g. "1.0"
	Files   map[string]string // slash-separated path in the wheel → content, e.g. "demo_pkg/__init__.py"
	// EntryPoints, if set, is the wheel's entry_points.txt, e.g.
	// "[console_scripts]\ndemo = demo_pkg:main\n" (an app pipx installs).
	EntryPoints string
}

// NormalizeName returns the PEP 503 normalized form of a project name:
// lower case, with each run of "-", "_" and "." replaced by a single "-".
func NormalizeName(name string) string {
	return collapseSeparators(name, '-')
}

// collapseSeparators lower-cases name and replaces runs of -_. with sep.
func collapseSeparators(name string, sep byte) string {
	var b strings.Builder
	inRun := false
	for i := 0; i < len(name); i++ {
		switch c := name[i]; c {
		case '-', '_', '.':
			if !inRun {
				b.WriteByte(sep)
			}
			inRun = true
		default:
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
			inRun = false
		}
	}
	return b.String()
}

// distName is the escaped distribution name used in wheel and dist-info
// names: the normalized name with "_" as separator.
func (w Wheel) distName() string { return collapseSeparators(w.Name, '_') }

// distInfo is the name of the wheel's .dist-info directory.
func (w Wheel) distInfo() string {
	return w.distName() + "-" + strings.ReplaceAll(w.Version, "-", "_") + ".dist-info"
}

// Filename returns the wheel's file name, {name}-{version}-py3-none-any.whl.
func (w Wheel) Filename() string {
	return w.distName() + "-" + strings.ReplaceAll(w.Version, "-", "_") + "-py3-none-any.whl"
}

// Bytes builds the wheel: the package files followed by the METADATA, WHEEL
// and RECORD files of its .dist-info directory. The result depends only on
// w, so building the same wheel twice yields identical bytes.
func (w Wheel) Bytes() ([]byte, error) {
	if w.Name == "" || w.Version == "" {
		return nil, fmt.Errorf("simulator: wheel needs a name and a version")
	}
	info := w.distInfo()
	names := make([]string, 0, len(w.Files))
	for name := range w.Files {
		if name == "" || path.IsAbs(name) || path.Clean(name) != name || name == ".." || strings.HasPrefix(name, "../") {
			return nil, fmt.Errorf("simulator: invalid wheel member %q", name)
		}
		if name == info || strings.HasPrefix(name, info+"/") {
			return nil, fmt.Errorf("simulator: wheel member %q collides with the .dist-info directory", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)

	type member struct{ name, data string }
	members := make([]member, 0, len(names)+3)
	for _, name := range names {
		members = append(members, member{name, w.Files[name]})
	}
	members = append(members,
		member{info + "/METADATA", "Metadata-Version: 2.1\nName: " + w.Name + "\nVersion: " + w.Version + "\n"},
		member{info + "/WHEEL", "Wheel-Version: 1.0\nGenerator: feedkey-simulator\nRoot-Is-Purelib: true\nTag: py3-none-any\n"},
	)
	if w.EntryPoints != "" {
		members = append(members, member{info + "/entry_points.txt", w.EntryPoints})
	}

	var buf, record bytes.Buffer
	zw := zip.NewWriter(&buf)
	rw := csv.NewWriter(&record)
	for _, m := range members {
		if err := writeMember(zw, m.name, m.data); err != nil {
			return nil, err
		}
		sum := sha256.Sum256([]byte(m.data))
		hash := "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:])
		if err := rw.Write([]string{m.name, hash, strconv.Itoa(len(m.data))}); err != nil {
			return nil, err
		}
	}
	if err := rw.Write([]string{info + "/RECORD", "", ""}); err != nil {
		return nil, err
	}
	rw.Flush()
	if err := rw.Error(); err != nil {
		return nil, err
	}
	if err := writeMember(zw, info+"/RECORD", record.String()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeMember(zw *zip.Writer, name, data string) error {
	hdr := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipTime}
	hdr.SetMode(0o644)
	f, err := zw.CreateHeader(hdr)
	if err != nil {
		return fmt.Errorf("simulator: adding %s to wheel: %w", name, err)
	}
	_, err = f.Write([]byte(data))
	return err
}
