// Package console reaches the person at the terminal even when a program's
// stderr is captured (pip ≥ 26.2 captures its keyring helper's).
package console

import (
	"io"
	"os"
	"runtime"
	"sync"
)

// Terminal returns a writer to the person at the controlling terminal, or to
// fallback when the process has none. pip ≥ 26.2 captures the helper's
// stderr, so a sign-in code printed there would reach nobody; the terminal
// is opened on the first write only, so runs that print nothing pay nothing.
func Terminal(fallback io.Writer) io.Writer { return &terminal{fallback: fallback} }

type terminal struct {
	fallback io.Writer
	once     sync.Once
	w        io.Writer
}

func (t *terminal) Write(p []byte) (int, error) {
	t.once.Do(func() {
		t.w = t.fallback
		name := "/dev/tty"
		if runtime.GOOS == "windows" {
			name = "CONOUT$"
		}
		if f, err := os.OpenFile(name, os.O_WRONLY, 0); err == nil {
			t.w = f // kept open until the process exits
		}
	})
	return t.w.Write(p)
}
