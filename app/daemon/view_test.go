package daemon

import (
	"testing"

	"github.com/feedkey/feedkey/tray"
)

// TestSummary: the header counts each credential once, in its state.
func TestSummary(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		total     int
		count     map[tray.State]int
		signingIn int
		want      string
	}{
		{0, nil, 0, "no feeds yet (Add feed…)"},
		{2, map[tray.State]int{tray.OK: 2}, 0, "2 ready"},
		{2, map[tray.State]int{tray.OK: 1, tray.Refreshing: 1}, 1, "1 ready, 1 signing in"},
		{2, map[tray.State]int{tray.OK: 1, tray.Refreshing: 1}, 0, "1 ready, 1 refreshing"},
		{3, map[tray.State]int{tray.SignIn: 1, tray.Error: 2}, 0, "1 needs sign-in, 2 failing"},
		{2, map[tray.State]int{tray.SignIn: 2}, 0, "2 need sign-in"},
	} {
		if got := summary(tc.total, tc.count, tc.signingIn); got != tc.want {
			t.Errorf("summary(%d, %v, %d) = %q, want %q", tc.total, tc.count, tc.signingIn, got, tc.want)
		}
	}
}
