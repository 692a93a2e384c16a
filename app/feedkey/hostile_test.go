//go:build linux

package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/feedkey/feedkey/simulator"
	"github.com/feedkey/feedkey/simulator/simtest"
)

// TestPositHostileSignInLink: `feedkey login` never lets a Package Manager
// decide what the browser opens (SPEC §8). A sign-in link that is not an
// https page is one line naming the feed, and no opener (xdg-open and the
// fallbacks pkg/browser tries, first on PATH) is ever run; a user code is
// printed without control characters.
func TestPositHostileSignInLink(t *testing.T) {
	w := newPositWorld(t, &simulator.PPM{})
	// Openers that only record that they ran, ahead of the world's browser.
	openers, opened := t.TempDir(), filepath.Join(t.TempDir(), "opened")
	for _, name := range []string{"xdg-open", "x-www-browser", "www-browser"} {
		script := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> " + opened + "\n"
		if err := os.WriteFile(filepath.Join(openers, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	w.setenv("PATH", openers+string(os.PathListSeparator)+lastEnv(w.env, "PATH"))

	// device starts a Package Manager that answers the device flow with
	// link and code, and denies the sign-in when polled.
	device := func(link, code string) *simtest.Hostile {
		return simtest.NewHostile(t, w.srv.CA, func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("Content-Type", "application/json")
			if r.URL.Path == "/__api__/device" {
				json.NewEncoder(rw).Encode(map[string]any{"device_code": "DEVICE-CODE", "user_code": code,
					"verification_uri": link, "verification_uri_complete": link, "interval": 1, "expires_in": 60})
				return
			}
			rw.WriteHeader(http.StatusBadRequest)
			io.WriteString(rw, `{"error":"access_denied"}`)
		})
	}

	for i, link := range []string{
		"file:///etc/passwd",
		"javascript:alert(1)",
		"smb://host/x.desktop",
		"-–foo https://ppm.example/device",
		"--no-sandbox https://ppm.example/device",
		"https://user:SECRETPW@ppm.example/device",
		"http://127.0.0.1/device",
		`\\evil\share\run.exe`,
		"https://ppm.example/device\n\x1b[2Jhttps://evil.example/",
	} {
		ppm := device(link, "ABCD-EFGH")
		id := fmt.Sprintf("hostile-%d", i)
		if r := w.feedkey("add", ppm.URL+"/simple/", "--kind", "posit", "--name", id); r.Code != 0 {
			t.Fatalf("add: %d %s", r.Code, r.Stderr)
		}
		r := w.feedkey("login", id)
		if r.Code != 1 || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, id+":") ||
			!strings.Contains(r.Stderr, "not an https page") || strings.Contains(r.Stderr, "SECRETPW") || strings.Contains(r.Stderr, "\x1b") {
			t.Errorf("login with link %q = %d, stderr %q; want one line naming feed %s", link, r.Code, r.Stderr, id)
		}
		if strings.Contains(r.Stderr+r.Stdout, "ABCD-EFGH") {
			t.Errorf("link %q: the user code was shown beside a refused link: %q", link, r.Stderr)
		}
		if b, err := os.ReadFile(opened); err == nil {
			t.Fatalf("link %q: an opener ran with %q", link, b)
		}
	}

	// A good link with a code that tries to rewrite the terminal: the code
	// is shown without its control and bidi characters, the link opened.
	ppm := device("https://ppm.example/device", "AB\x1b[2J\x1b]8;;https://evil.example\aCD\u202eEF\u009b")
	if r := w.feedkey("add", ppm.URL+"/simple/", "--kind", "posit", "--name", "codes"); r.Code != 0 {
		t.Fatalf("add: %d %s", r.Code, r.Stderr)
	}
	r := w.feedkey("login", "codes")
	if r.Code != 1 || !strings.Contains(r.Stderr, "the sign-in was denied") {
		t.Fatalf("login = %d %q, want the denial", r.Code, r.Stderr)
	}
	if strings.ContainsAny(r.Stderr, "\x1b\a\u202e\u009b") || !strings.Contains(r.Stderr, "AB[2J]8;;https://evil.exampleCDEF") {
		t.Errorf("the user code reached the terminal with control characters: %q", r.Stderr)
	}
	if b, _ := os.ReadFile(opened); string(b) != "https://ppm.example/device\n" {
		t.Errorf("opened %q, want only the https page", b)
	}
}

// lastEnv returns the value that exec uses for key in env: the last one.
func lastEnv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return ""
}
