package daemon

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/untrusted"
	"github.com/feedkey/feedkey/simulator/simtest"
)

// TestPrompterRefusesHostileLinks: the tray checks a link again before it
// opens it or shows it in the menu, a notification or the local page (the
// providers check it first).
func TestPrompterRefusesHostileLinks(t *testing.T) {
	t.Parallel()
	for _, link := range simtest.HostileLinks {
		t.Run(link, func(t *testing.T) {
			t.Parallel()
			var opened []string
			// No page, no bus: a refused link must be refused before either is used.
			a := &App{opts: Options{OpenURL: func(u string) error { opened = append(opened, u); return nil }}}
			p := prompter{a: a, feed: feed.Feed{ID: "ppm"}}
			for name, show := range map[string]func() error{
				"OpenBrowser": func() error { return p.OpenBrowser(context.Background(), link) },
				"DeviceCode":  func() error { return p.DeviceCode(context.Background(), link, "ABCD") },
			} {
				err := show()
				if !errors.Is(err, untrusted.ErrURL) || !strings.Contains(err.Error(), "ppm") || strings.Contains(err.Error(), "pw@") {
					t.Errorf("%s = %v, want a refusal naming the feed", name, err)
				}
			}
			if len(opened) != 0 || a.notice != "" || a.lastPage != "" {
				t.Errorf("opened %q, notice %q, page %q", opened, a.notice, a.lastPage)
			}
		})
	}
}
