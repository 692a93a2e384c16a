// Package version says which feedkey this is. A release build stamps the
// variables with -ldflags "-X" (build/release.sh, .goreleaser.yaml); `go
// install …@vX` fills them from the module's build info; a plain `go build`
// in a checkout says "dev" and the commit it was built from.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Stamped at build time: -X github.com/feedkey/feedkey/internal/version.Version=1.2.3 …
var (
	Version = "" // e.g. "1.2.3"; empty: from build info, else "dev"
	Commit  = "" // the git commit; empty: from build info
	Date    = "" // the commit's date, RFC 3339; empty: from build info
)

// Info is the version of the running program.
type Info struct {
	Version, Commit, Date, Go string
}

// Get returns the stamped version, filled in from the build info where the
// build did not stamp it.
func Get() Info {
	i := Info{Version: Version, Commit: Commit, Date: Date, Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && i.Commit == "":
				i.Commit = s.Value
			case s.Key == "vcs.time" && i.Date == "":
				i.Date = s.Value
			}
		}
	}
	if i.Version == "" {
		i.Version = "dev"
	}
	return i
}

// String is the one line --version prints after the program's name:
// "1.2.3 (commit 0123abcd, 2026-11-28T10:00:00Z, go1.26.0)".
func (i Info) String() string {
	s := i.Version + " ("
	if i.Commit != "" {
		c := i.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		s += "commit " + c + ", "
	}
	if i.Date != "" {
		s += i.Date + ", "
	}
	return s + i.Go + ")"
}

// Line is "PROGRAM version VERSION (…)".
func Line(program string) string { return fmt.Sprintf("%s version %s", program, Get()) }
