package simulator_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/feedkey/feedkey/simulator"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"demo-pkg", "demo-pkg"},
		{"Demo_Pkg", "demo-pkg"},
		{"demo.pkg", "demo-pkg"},
		{"Demo-._-Pkg", "demo-pkg"},
		{"FooBar", "foobar"},
		{"a__b..c--d", "a-b-c-d"},
	}
	for _, tt := range tests {
		if got := simulator.NormalizeName(tt.in); got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWheelFilename(t *testing.T) {
	tests := []struct {
		name, version, want string
	}{
		{"demo-pkg", "1.0", "demo_pkg-1.0-py3-none-any.whl"},
		{"Demo.Pkg", "2.0.1", "demo_pkg-2.0.1-py3-none-any.whl"},
		{"foo--bar_baz", "1.0rc1", "foo_bar_baz-1.0rc1-py3-none-any.whl"},
		{"x", "1.0-1", "x-1.0_1-py3-none-any.whl"},
	}
	for _, tt := range tests {
		w := simulator.Wheel{Name: tt.name, Version: tt.version}
		if got := w.Filename(); got != tt.want {
			t.Errorf("Wheel{%q, %q}.Filename() = %q, want %q", tt.name, tt.version, got, tt.want)
		}
	}
}

func TestWheelBytes(t *testing.T) {
	w := simulator.Wheel{
		Name:    "Demo.Pkg",
		Version: "1.0",
		Files: map[string]string{
			"demo_pkg/__init__.py": "VALUE = 42\n",
			"demo_pkg/sub/mod.py":  "X = 'x'\n",
			"demo_pkg/empty.txt":   "",
		},
	}
	data, err := w.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	again, err := w.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, again) {
		t.Error("Bytes is not deterministic")
	}

	files := checkWheel(t, data)
	want := map[string]string{
		"demo_pkg/__init__.py":            "VALUE = 42\n",
		"demo_pkg/sub/mod.py":             "X = 'x'\n",
		"demo_pkg/empty.txt":              "",
		"demo_pkg-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: Demo.Pkg\nVersion: 1.0\n",
		"demo_pkg-1.0.dist-info/WHEEL":    "Wheel-Version: 1.0\nGenerator: feedkey-simulator\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
	}
	for name, content := range want {
		if got, ok := files[name]; !ok {
			t.Errorf("wheel lacks %s", name)
		} else if got != content {
			t.Errorf("%s = %q, want %q", name, got, content)
		}
	}
	if len(files) != len(want) {
		t.Errorf("wheel has %d members besides RECORD, want %d", len(files), len(want))
	}
}

func TestWheelBytesErrors(t *testing.T) {
	tests := []simulator.Wheel{
		{Version: "1.0"},
		{Name: "x"},
		{Name: "x", Version: "1", Files: map[string]string{"/abs.py": ""}},
		{Name: "x", Version: "1", Files: map[string]string{"../up.py": ""}},
		{Name: "x", Version: "1", Files: map[string]string{"a/../b.py": ""}},
		{Name: "x", Version: "1", Files: map[string]string{"x-1.dist-info/METADATA": ""}},
	}
	for _, w := range tests {
		if _, err := w.Bytes(); err == nil {
			t.Errorf("%+v.Bytes() succeeded, want error", w)
		}
	}
}

// checkWheel opens a wheel, checks its RECORD against its members and
// returns the members other than RECORD.
func checkWheel(t *testing.T, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("wheel is not a zip file: %v", err)
	}
	files := make(map[string]string)
	var record, recordName string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("reading %s: %v", f.Name, err)
		}
		if strings.HasSuffix(f.Name, ".dist-info/RECORD") {
			record, recordName = string(b), f.Name
			continue
		}
		files[f.Name] = string(b)
	}
	if recordName == "" {
		t.Fatal("wheel has no RECORD")
	}
	rows, err := csv.NewReader(strings.NewReader(record)).ReadAll()
	if err != nil {
		t.Fatalf("RECORD: %v", err)
	}
	seen := make(map[string]bool)
	for _, row := range rows {
		if len(row) != 3 {
			t.Fatalf("RECORD row %q has %d fields", row, len(row))
		}
		name := row[0]
		seen[name] = true
		if name == recordName {
			if row[1] != "" || row[2] != "" {
				t.Errorf("RECORD's own row = %q, want no hash and size", row)
			}
			continue
		}
		content, ok := files[name]
		if !ok {
			t.Errorf("RECORD lists %s, which the wheel lacks", name)
			continue
		}
		sum := sha256.Sum256([]byte(content))
		if want := "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:]); row[1] != want {
			t.Errorf("RECORD hash of %s = %s, want %s", name, row[1], want)
		}
		if want := strconv.Itoa(len(content)); row[2] != want {
			t.Errorf("RECORD size of %s = %s, want %s", name, row[2], want)
		}
	}
	for name := range files {
		if !seen[name] {
			t.Errorf("RECORD does not list %s", name)
		}
	}
	if !seen[recordName] {
		t.Error("RECORD does not list itself")
	}
	return files
}
