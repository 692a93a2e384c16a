package control

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestHelperDeps guards what the helper links through this package (SPEC §1:
// it stays small and starts in milliseconds), on every platform we ship.
func TestHelperDeps(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	forbidden := map[string]string{
		"net/http":      "an HTTP stack is the tray's; the helper only dials a unix socket",
		"crypto/tls":    "the helper makes no network connections",
		"html/template": "pages are the tray's (app/page)",
	}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		cmd := exec.Command(goBin, "list", "-deps", ".")
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list (%s): %v\n%s", goos, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if why, bad := forbidden[dep]; bad {
				t.Errorf("%s: control imports %s: %s", goos, dep, why)
			}
		}
	}
}
