package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

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
	p := termPrompter{feed: "ppm", w: &out, open: func(u string) error { opened = append(opened, u); return nil }}
	if err := p.DeviceCode(context.Background(), "https://ppm.example/device", "AB\x1b[2JCD\u202eEF\u009b"); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(out.String(), "\x1b\u202e\u009b") || !strings.Contains(out.String(), "AB[2JCDEF") {
		t.Errorf("printed %q", out.String())
	}
	if len(opened) != 1 || opened[0] != "https://ppm.example/device" {
		t.Errorf("opened %q", opened)
	}
}
