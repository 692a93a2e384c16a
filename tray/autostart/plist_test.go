package autostart

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// plistDict decodes the top-level <dict> of a property list into key →
// value, where a value is a string, a bool or a []string (array of strings).
func plistDict(t *testing.T, data []byte) map[string]any {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	dict := map[string]any{}
	var key string
	var inArray bool
	var arr []string
	var text strings.Builder
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("plist is not well-formed XML: %v\n%s", err, data)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			depth++
			text.Reset()
			switch tk.Name.Local {
			case "array":
				inArray, arr = true, nil
			case "true":
				dict[key] = true
			case "false":
				dict[key] = false
			}
		case xml.CharData:
			text.Write(tk)
		case xml.EndElement:
			depth--
			switch tk.Name.Local {
			case "key":
				key = text.String()
			case "string":
				if inArray {
					arr = append(arr, text.String())
				} else {
					dict[key] = text.String()
				}
			case "array":
				inArray = false
				dict[key] = arr
			}
		}
	}
	return dict
}

func TestLaunchAgentPlist(t *testing.T) {
	exe := "/Applications/Feed Key.app/Contents/MacOS/feedkey"
	args := []string{"tray", "<&>\"'"}
	d := plistDict(t, launchAgentPlist(exe, args))
	if d["Label"] != LaunchAgentLabel {
		t.Errorf("Label = %v", d["Label"])
	}
	if d["RunAtLoad"] != true {
		t.Errorf("RunAtLoad = %v, want true", d["RunAtLoad"])
	}
	pa, _ := d["ProgramArguments"].([]string)
	if len(pa) != 3 || pa[0] != exe || pa[1] != args[0] || pa[2] != args[1] {
		t.Errorf("ProgramArguments = %q", pa)
	}
	if _, ok := d["KeepAlive"]; ok {
		t.Error("KeepAlive set: quitting the tray would restart it")
	}
}
