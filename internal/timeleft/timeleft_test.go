package timeleft

import (
	"testing"
	"time"
)

func TestString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "less than a minute"},
		{29 * time.Second, "less than a minute"},
		{31 * time.Second, "1 m"},
		{14*time.Minute + 50*time.Second, "15 m"},
		{7*time.Hour + 59*time.Minute, "7 h 59 m"},
		{47*time.Hour + 59*time.Minute, "47 h 59 m"},
		{72 * time.Hour, "3 days"},
	} {
		if got := String(tc.d); got != tc.want {
			t.Errorf("String(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
