package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/config/index"
	"github.com/feedkey/feedkey/control"
	"github.com/feedkey/feedkey/helper/pykeyring"
	"github.com/feedkey/feedkey/internal/sibling"
	"github.com/feedkey/feedkey/internal/version"
	"github.com/feedkey/feedkey/internal/wsl"
)

// lookupAnswer is how long a tray has to answer a lookup from memory; it
// answers in well under a millisecond (keyringcli waits as long).
const lookupAnswer = 250 * time.Millisecond

func main() {
	argv := os.Args[1:]
	answer, ok := quick(context.Background(), argv, os.LookupEnv, time.Now())
	if ok {
		if _, err := io.WriteString(os.Stdout, answer.out); err != nil {
			fmt.Fprintf(os.Stderr, "feedkey-keyring: %v\n", err)
			os.Exit(1)
		}
		if answer.warning != "" {
			fmt.Fprintf(os.Stderr, "feedkey-keyring: warning: %s\n", answer.warning)
		}
		os.Exit(answer.code)
	}
	env := os.Environ()
	if answer.trayHung {
		// The whole helper need not wait for it again.
		env = append(env, control.TrayHungEnv+"=1")
	}
	err := handOff(argv, env)
	fmt.Fprintf(os.Stderr, "feedkey-keyring: %v\n", err)
	os.Exit(1)
}

// answer is what the quick path prints, out on stdout and a warning, and
// its exit code; or, when it answers nothing, whether the tray failed to
// answer in time.
type answer struct {
	out, warning string
	code         int
	trayHung     bool
}

// quick answers argv if it is a `get` the quick path can answer in full: a
// version, or a feed's credential the tray holds, or that the config index
// and the keychain give still fresh for a while. ok is false for anything
// else, even an error, which the whole helper then explains.
func quick(ctx context.Context, argv []string, lookupEnv func(string) (string, bool), now time.Time) (answer, bool) {
	getenv := func(k string) string { v, _ := lookupEnv(k); return v }
	if len(argv) == 1 && argv[0] == "--version" {
		return answer{out: version.Line("feedkey-keyring") + "\n"}, true
	}
	a, err := pykeyring.Parse(argv)
	if err != nil || a.Operation != "get" || a.Help || a.ListBackends || a.Disable || a.PrintCompletion != "" {
		return answer{}, false
	}
	// Inside WSL the Windows feedkey may be the store, which the whole
	// helper decides.
	if wsl.Running(getenv) {
		return answer{}, false
	}
	lctx, cancel := context.WithTimeout(ctx, lookupAnswer)
	user, password, kind, err := (&control.Client{}).Lookup(lctx, a.Service)
	cancel()
	switch {
	case err == nil:
		return answer{out: a.Answer(user, password), warning: feed.Kind(kind).UserWarning(a.Username, a.HasUsername)}, true
	case errors.Is(err, control.ErrUnknownFeed):
		return answer{}, false
	}
	lookupErr := err
	miss := answer{trayHung: errors.Is(err, context.DeadlineExceeded)}
	configPath, err := index.ConfigPath()
	if err != nil {
		return miss, false
	}
	cfg, ok := index.Read(index.File(configPath), index.Stamp(configPath, lookupEnv))
	if !ok {
		return miss, false
	}
	backend := getenv("FEEDKEY_STORE")
	if backend == "" {
		backend = cfg.Backend
	}
	// Without the OS keychain: the Secret Service is read through the
	// pipeline alone, and what that cannot answer is handed on.
	keychain := store.Choose(func() string { return backend }, nil)
	f, err := feed.Resolve(cfg.Feeds, cfg.Trust, a.Service)
	var unsafeDir *control.UnsafeDirError
	switch {
	case errors.Is(err, feed.ErrNoMatch) && !errors.As(lookupErr, &unsafeDir):
		// (The whole helper warns of an unsafe socket directory when it
		// would ask the tray about such a service.)
		return plain(ctx, a, keychain, miss)
	case err != nil:
		return miss, false
	}
	c, err := store.New(keychain).LoadKind(ctx, f.CredentialID(cfg.Trust), string(f.Kind))
	if err != nil || !(c.Valid(now, store.FreshFor) || f.Kind == feed.Token && c.Valid(now, store.UsableFor)) {
		// Missing, damaged, or due for a refresh: the whole helper serves
		// a usable one at once and refreshes beside it.
		return miss, false
	}
	return answer{out: a.Answer(f.User(c.Username), c.Secret), warning: f.Kind.UserWarning(a.Username, a.HasUsername)}, true
}

// plain answers for a service no feed covers as the whole helper does with
// no tray to offer to add it: from the entry another program (Python
// keyring) keeps for the service and the user, or, when there is none at
// all, with nothing and exit status 1, as Python keyring. Without a user
// name, or for a name of feedkey's own, or a locked entry, it answers
// nothing (miss).
func plain(ctx context.Context, a pykeyring.Args, k store.Keychain, miss answer) (answer, bool) {
	if !a.HasUsername || store.OwnedEntry(a.Service, a.Username) {
		return miss, false
	}
	secret, err := k.Get(ctx, a.Service, a.Username)
	switch {
	case err == nil:
		return answer{out: a.Answer(a.Username, secret)}, true
	case errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrVanished):
		return answer{code: 1}, true
	}
	return miss, false
}

// handOff replaces this process with `feedkey keyring ARGV`: feedkey
// beside this program (packages and `feedkey install` put them together),
// else on PATH. It returns only if that cannot start.
func handOff(argv, env []string) error {
	self, _ := os.Executable()
	exe, err := sibling.Find(self, "feedkey", exec.LookPath)
	if err != nil {
		return errors.New("feedkey is neither beside this helper nor on PATH: it answers what the helper cannot at once; reinstall feedkey")
	}
	err = syscall.Exec(exe, append([]string{"feedkey", "keyring"}, argv...), env)
	return fmt.Errorf("run %s keyring: %w", exe, err)
}
