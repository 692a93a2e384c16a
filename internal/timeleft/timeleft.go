// Package timeleft formats a remaining time the one way feedkey shows it
// everywhere: the menu, `feedkey status`, and sign-in prompts in a terminal.
package timeleft

import (
	"fmt"
	"time"
)

// String formats d, rounded to the minute: "5 h 12 m", "3 days", "1 m",
// "less than a minute".
func String(d time.Duration) string {
	d = d.Round(time.Minute)
	if d < time.Minute {
		return "less than a minute"
	}
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h >= 48:
		return fmt.Sprintf("%d days", h/24)
	case h > 0:
		return fmt.Sprintf("%d h %d m", h, m)
	}
	return fmt.Sprintf("%d m", m)
}
