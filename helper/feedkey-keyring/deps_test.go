package main_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps the helper small and quick to start: pip runs it for every
// authenticated request (SPEC §1, §10).
func TestDeps(t *testing.T) {
	forbidden := map[string]string{
		"net/http":        "no HTTP client or server: the helper reads the keychain, the tray talks to the network",
		"crypto/tls":      "no TLS: nothing in the helper dials out",
		"testing":         "test code must not be linked into the program",
		"fyne.io/systray": "the tray belongs to feedkey, not the helper",
		"github.com/Azure/azure-sdk-for-go/sdk/azidentity":                "Entra ID sign-in runs in feedkey",
		"github.com/AzureAD/microsoft-authentication-library-for-go/apps": "MSAL runs in feedkey",
		"golang.org/x/oauth2":    "OAuth flows run in feedkey",
		"github.com/pkg/browser": "the helper never opens a browser",
	}
	// Of feedkey's own packages the helper links only the shared contracts:
	// feeds and matching, the keychain store, the config, the control
	// protocol. Nothing under app/ (the tray program's orchestration).
	own := map[string]bool{
		"github.com/feedkey/feedkey/auth/feed":              true,
		"github.com/feedkey/feedkey/auth/store":             true,
		"github.com/feedkey/feedkey/auth/store/oskeychain":  true, // the OS keychain (not on Linux: see quickForbidden)
		"github.com/feedkey/feedkey/config/index":           true, // the config as the quick path reads it
		"github.com/feedkey/feedkey/helper/pykeyring":       true, // Python keyring's command line
		"github.com/feedkey/feedkey/auth/untrusted":         true,
		"github.com/feedkey/feedkey/config":                 true,
		"github.com/feedkey/feedkey/control":                true,
		"github.com/feedkey/feedkey/internal/sessionbus":    true,
		"github.com/feedkey/feedkey/internal/console":       true, // the terminal, for sign-in prompts
		"github.com/feedkey/feedkey/internal/timeleft":      true, // "15 m left" in prompts
		"github.com/feedkey/feedkey/internal/version":       true, // --version
		"github.com/feedkey/feedkey/internal/filelock":      true, // the file store's lock
		"github.com/feedkey/feedkey/internal/jsonobj":       true, // records and answers read without struct reflection
		"github.com/feedkey/feedkey/internal/sibling":       true, // feedkey, installed beside the helper
		"github.com/feedkey/feedkey/internal/wsl":           true, // inside WSL, hand the run to the Windows helper
		"github.com/feedkey/feedkey/helper/keyringcli":      true,
		"github.com/feedkey/feedkey/helper/feedkey-keyring": true,
	}
	// On Linux the helper is the quick path alone (main_linux.go): what it
	// cannot answer it hands to `feedkey keyring`. Each of these cost every
	// run a tenth of a millisecond or more just by being linked, measured
	// side by side as programs that only import them.
	quickForbidden := map[string]string{
		"github.com/godbus/dbus":                           "the quick path reads the Secret Service with store's own pipeline",
		"github.com/zalando/go-keyring":                    "the OS keychain's general path runs in `feedkey keyring`",
		"github.com/BurntSushi/toml":                       "the quick path reads the config index (config/index), never TOML",
		"github.com/feedkey/feedkey/config":                "its TOML half: the quick path links config/index only",
		"github.com/feedkey/feedkey/auth/store/oskeychain": "the OS keychain's general path runs in `feedkey keyring`",
		"github.com/feedkey/feedkey/helper/keyringcli":     "the whole helper runs in `feedkey keyring`",
	}
	for _, goos := range []string{"linux", "windows", "darwin"} {
		cmd := exec.Command("go", "list", "-deps", ".")
		cmd.Env = append(cmd.Environ(), "GOOS="+goos, "CGO_ENABLED=0")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps (GOOS=%s): %v", goos, err)
		}
		for _, pkg := range strings.Fields(string(out)) {
			if strings.HasPrefix(pkg, "github.com/feedkey/feedkey/") && !own[pkg] {
				t.Errorf("GOOS=%s: the helper links %s: only shared contracts (auth/feed, auth/store, auth/untrusted, config, control), never app/", goos, pkg)
			}
			for bad, why := range forbidden {
				if pkg == bad || strings.HasPrefix(pkg, bad+"/") {
					t.Errorf("GOOS=%s: the helper links %s: %s", goos, pkg, why)
				}
			}
			if goos != "linux" {
				continue
			}
			for bad, why := range quickForbidden {
				if pkg == bad || strings.HasPrefix(pkg, bad+"/") && bad != "github.com/feedkey/feedkey/config" {
					t.Errorf("GOOS=linux: the quick path links %s: %s", pkg, why)
				}
			}
		}
	}
}
