package daemon

import (
	"testing"

	"github.com/feedkey/feedkey/auth/feed"
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
			simtest.CheckRefused(t, p, link, "ppm")
			if len(opened) != 0 || a.notice != "" {
				t.Errorf("opened %q, notice %q", opened, a.notice)
			}
		})
	}
}
