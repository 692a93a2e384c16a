package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/simulator/simtest"
)

// TestTermPrompterRefusesHostileLinks: the terminal prompter checks a link
// again before it opens or prints it (the providers check it first), and
// prints a server's code without control characters.
func TestTermPrompterRefusesHostileLinks(t *testing.T) {
	t.Parallel()
	for _, link := range simtest.HostileLinks {
		t.Run(link, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			var opened []string
			p := termPrompter{feed: "ppm", w: &out, open: func(u string) error { opened = append(opened, u); return nil }}
			simtest.CheckRefused(t, p, link, "ppm")
			if len(opened) != 0 || out.Len() != 0 {
				t.Errorf("opened %q, printed %q", opened, out.String())
			}
		})
	}

	var out bytes.Buffer
	var opened []string
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	p := termPrompter{feed: "ppm", w: &out, open: func(u string) error { opened = append(opened, u); return nil }, now: func() time.Time { return now }}
	if err := p.DeviceCode(context.Background(), auth.DeviceCode{URL: "https://ppm.example/device", Code: "AB\x1b[2JCD\u202eEF\u009b", Expires: now.Add(15 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(out.String(), "\x1b\u202e\u009b") || !strings.Contains(out.String(), "AB[2JCDEF") {
		t.Errorf("printed %q", out.String())
	}
	// One line says it all: the feed, the link, the code, the time left.
	if line := strings.SplitN(out.String(), "\n", 2)[0]; line != "Sign in to feed ppm: open https://ppm.example/device and enter the code AB[2JCDEF (15 m left)" {
		t.Errorf("first line %q", line)
	}
	if len(opened) != 1 || opened[0] != "https://ppm.example/device" {
		t.Errorf("opened %q", opened)
	}
}
