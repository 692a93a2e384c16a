package pykeyring

import (
	"os/exec"
	"strings"
	"testing"
)

// TestJSONString has Python's json module read back what the answer quotes.
func TestJSONString(t *testing.T) {
	inputs := []string{"plain", `quo"te\back`, "new\nline\ttab\r\b\f", "<&>", "é", "😀", "\x01\x7f", "\u2028\u2029", ""}
	for _, in := range inputs {
		cmd := exec.Command("/usr/bin/python3", "-c", "import json,sys; sys.stdout.write(json.loads(sys.stdin.read()))")
		cmd.Stdin = strings.NewReader(jsonString(in))
		got, err := cmd.Output()
		if err != nil {
			t.Fatalf("python3 json.loads(%s): %v", jsonString(in), err)
		}
		if string(got) != in {
			t.Errorf("json.loads(%s) = %q, want %q", jsonString(in), got, in)
		}
	}
}

func TestAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode, output, want string
	}{
		{"password", "plain", "pw\n"},
		{"creds", "plain", "me\npw\n"},
		{"password", "json", `{"password": "pw"}` + "\n"},
		{"creds", "json", `{"username": "me", "password": "pw"}` + "\n"},
	} {
		if got := (Args{Mode: tc.mode, Output: tc.output}).Answer("me", "pw"); got != tc.want {
			t.Errorf("mode %s, output %s: %q, want %q", tc.mode, tc.output, got, tc.want)
		}
	}
}
