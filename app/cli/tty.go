package cli

import (
	"os"

	"github.com/pkg/browser"
	"golang.org/x/term"
)

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// readSecretTTY reads a line from the terminal on stdin without echoing it.
func readSecretTTY() (string, error) {
	b, err := term.ReadPassword(int(os.Stdin.Fd()))
	os.Stderr.WriteString("\n")
	return string(b), err
}

// openBrowser opens url with pkg/browser, whose opener writes to stderr so
// stdout stays clean for tokens.
func openBrowser(url string) error {
	browser.Stdout = os.Stderr
	return browser.OpenURL(url)
}
