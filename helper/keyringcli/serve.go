package keyringcli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/config"
	"github.com/feedkey/feedkey/control"
	"github.com/feedkey/feedkey/helper/pykeyring"
	"github.com/feedkey/feedkey/internal/version"
)

// Env is everything a helper run touches outside its arguments. Only the
// helper's main builds the real one; tests pass buffers and a test keychain.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// ConfigPath is the user config file; see [config.Path].
	ConfigPath string
	// LoadConfig loads the config (the helper's main: once per run, through
	// the index of [config.LoadCached]); nil means config.LoadEnv of
	// ConfigPath, every time.
	LoadConfig func() (*config.Config, error)
	// LookupEnv reads the variables the config depends on; nil means the
	// process environment.
	LookupEnv func(string) (string, bool)
	// Keychain holds both feedkey's credentials and the plain entries of
	// services that match no feed.
	Keychain store.Keychain
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Refresh gets a fresh credential for feeds that feedkey signs in to
	// (not static tokens) when the stored one is missing or stale; nil
	// means no refresh.
	Refresh Refresher
	// Tray asks the running tray for a credential, waiting up to wait for
	// a sign-in (longer once the tray reports a code, through onPrompt);
	// it returns an error wrapping control.ErrNoServer when no tray runs.
	// Nil, or a non-interactive run, means never ask.
	Tray func(ctx context.Context, service string, wait time.Duration, onPrompt func(control.Prompt)) (user, password string, err error)
	// SignIn gets a credential like Refresh, and when only a person can
	// help and no tray runs, signs them in on the terminal (one sign-in
	// per credential across processes). Used only in interactive runs; nil
	// means Refresh.
	SignIn Refresher
	// Tell reaches the person waiting: the controlling terminal, else
	// stderr (see console.Terminal). Nil means Stderr.
	Tell io.Writer
	// Interactive reports whether a person may be waited for (not CI).
	Interactive bool
	// Lookup asks a running tray for the credential of service from its
	// memory, answering at once: no config parse, no keychain round trips.
	// It returns an error wrapping control.ErrNoServer (no tray),
	// control.ErrUnknownFeed (no feed covers service) or anything else for
	// a miss. Nil means the store is always read.
	Lookup func(ctx context.Context, service string) (user, password, kind string, err error)
	// Changed tells a running tray that the helper wrote a feed's
	// credential (`keyring set` of a static token). Nil means nobody.
	Changed func(ctx context.Context)
	// RefreshBeside starts a refresh of service's credential without
	// waiting for it, after a still-valid but stale token was served: it
	// asks the tray, else starts `feedkey token` in the background. It
	// must return within ctx's deadline. Nil means no refresh.
	RefreshBeside func(ctx context.Context, service string) error
	// Delegate, when set, answers every command line instead of this
	// helper (inside WSL, the Windows feedkey's helper; see internal/wsl).
	Delegate Delegator
}

// besideTimeout bounds how long serving a valid token may wait for the tray
// to take a refresh request: a tray that does not answer at once counts as
// none.
const besideTimeout = 300 * time.Millisecond

// trayWait bounds how long the helper waits for the tray to start a sign-in
// (or to offer an unknown feed); once the tray reports a code, the wait runs
// to the code's expiry.
const trayWait = 120 * time.Second

// errExit is returned by handlers that already explained themselves on
// stderr; it carries the exit code.
type errExit int

func (e errExit) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// Run runs one helper command line and returns the process exit code:
// 0 success, 1 not found or failed, 2 bad usage (as Python keyring).
func Run(ctx context.Context, argv []string, env Env) int {
	if len(argv) == 1 && argv[0] == "--version" {
		// Not an upstream option (so not in Parse): only alone.
		fmt.Fprintln(env.Stdout, version.Line("feedkey-keyring"))
		return 0
	}
	args, err := pykeyring.Parse(argv)
	if err != nil {
		var ue *pykeyring.UsageError
		if errors.As(err, &ue) {
			fmt.Fprint(env.Stderr, pykeyring.Usage())
			fmt.Fprintf(env.Stderr, "keyring: error: %s\n", ue.Msg)
			return 2
		}
		fmt.Fprintf(env.Stderr, "keyring: error: %v\n", err)
		return 2
	}
	h := &handler{env: env, args: args}
	run := h.run
	if env.Delegate != nil && !args.Help {
		run = func(ctx context.Context) error { return h.delegate(ctx, argv) }
	}
	if err := run(ctx); err != nil {
		var code errExit
		if errors.As(err, &code) {
			return int(code)
		}
		fmt.Fprintf(env.Stderr, "feedkey-keyring: %v\n", err)
		return 1
	}
	return 0
}

type handler struct {
	env  Env
	args pykeyring.Args
}

func (h *handler) run(ctx context.Context) error {
	a := h.args
	switch {
	case a.Help:
		_, err := io.WriteString(h.env.Stdout, pykeyring.Help())
		return err
	case a.ListBackends:
		_, err := fmt.Fprintf(h.env.Stdout, "feedkey.Keyring (priority: 10)\n")
		return err
	case a.PrintCompletion != "":
		// Upstream without its completion extra answers the same.
		return errors.New("Install keyring[completion] for completion support.")
	case a.Disable:
		return errors.New("feedkey-keyring cannot be disabled with --disable: take it off PATH or set pip's --keyring-provider")
	}
	switch a.Operation {
	case "get":
		return h.get(ctx)
	case "set":
		return h.set(ctx)
	case "del":
		return h.del(ctx)
	case "diagnose":
		_, err := fmt.Fprintf(h.env.Stdout, "backend: feedkey.Keyring (OS keychain through feedkey)\nconfig path: %s\n", h.env.ConfigPath)
		return err
	}
	return errors.New("no operation")
}

// lookup finds the feed covering the service, if any. A broken config file
// fails the call: guessing could hand a token to the wrong place.
func (h *handler) lookup() (*config.Config, feed.Feed, bool, error) {
	var cfg *config.Config
	var err error
	if h.env.LoadConfig != nil {
		cfg, err = h.env.LoadConfig()
	} else {
		cfg, err = config.LoadEnv(h.env.ConfigPath, h.env.LookupEnv)
	}
	if err != nil {
		return nil, feed.Feed{}, false, err
	}
	f, err := cfg.Resolve(h.args.Service)
	switch {
	case err == nil:
		return cfg, f, true, nil
	case errors.Is(err, feed.ErrAmbiguous):
		// pip and uv ask with the full URL first; a bare host shared by
		// several credentials must not pick one.
		return nil, feed.Feed{}, false, fmt.Errorf("%s: %w; ask with the feed URL", feed.Redact(h.args.Service), err)
	}
	return cfg, feed.Feed{}, false, nil
}

func (h *handler) get(ctx context.Context) error {
	if h.env.Lookup != nil {
		// A running tray holds every credential it keeps fresh.
		user, password, kind, err := h.env.Lookup(ctx, h.args.Service)
		switch {
		case err == nil:
			h.warnUser(feed.Kind(kind))
			return h.emit(user, password)
		case errors.Is(err, control.ErrUnknownFeed):
			return h.unknown(ctx)
		}
	}
	cfg, f, ok, err := h.lookup()
	if err != nil {
		return err
	}
	if !ok {
		return h.unknown(ctx)
	}
	id := f.CredentialID(cfg.Trust)
	// Never hand one kind of feed's token to another's host.
	c, err := store.New(h.env.Keychain).LoadKind(ctx, id, string(f.Kind))
	now := h.now
	user := c.Username
	beside := false
	switch {
	case errors.Is(err, store.ErrDamaged):
		return fmt.Errorf("%w: %s", err, f.Hint())
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return err
	case err == nil && c.Valid(now(), store.FreshFor), err == nil && f.Kind == feed.Token && c.Valid(now(), store.UsableFor):
	case err == nil && c.Valid(now(), store.UsableFor):
		// Never make a valid token wait: serve it, refresh beside it.
		beside = h.env.RefreshBeside != nil
	case f.Kind != feed.Token && (h.env.Refresh != nil || h.env.SignIn != nil || h.askTray()):
		// Missing or expired: only now is waiting worth it.
		u, secret, rerr := h.renew(ctx, f.ID)
		if rerr != nil {
			return rerr
		}
		user, c.Secret = u, secret
	case err != nil:
		return fmt.Errorf("no credential stored for feed %s: %s", f.ID, f.Hint())
	default:
		return fmt.Errorf("the credential for feed %s expired at %s: %s", f.ID, c.Expires.Local().Format(time.RFC1123), f.Hint())
	}
	user = f.User(user)
	h.warnUser(f.Kind)
	if err := h.emit(user, c.Secret); err != nil || !beside {
		return err
	}
	bctx, cancel := context.WithTimeout(ctx, besideTimeout)
	defer cancel()
	if err := h.env.RefreshBeside(bctx, h.args.Service); err != nil {
		fmt.Fprintf(h.env.Stderr, "feedkey-keyring: warning: could not start a refresh of feed %s: %v\n", f.ID, err)
	}
	return nil
}

// unknown answers for a service no feed covers: a tray may offer to add it
// (an Azure DevOps feed on a recognised host), else the plain store.
func (h *handler) unknown(ctx context.Context) error {
	if h.askTray() && strings.HasPrefix(h.args.Service, "https://") {
		user, password, err := h.fromTray(ctx, "")
		switch {
		case err == nil:
			return h.emit(user, password)
		case !errors.Is(err, control.ErrNoServer) && !errors.Is(err, control.ErrUnknownFeed):
			return err
		}
	}
	return h.getPlain(ctx)
}

// warnUser warns when pip asks a Package Manager feed with another user
// name than the one it takes.
func (h *handler) warnUser(kind feed.Kind) {
	if w := kind.UserWarning(h.args.Username, h.args.HasUsername); w != "" {
		fmt.Fprintf(h.env.Stderr, "feedkey-keyring: warning: %s\n", w)
	}
}

func (h *handler) askTray() bool { return h.env.Tray != nil && h.env.Interactive }

// renew gets a fresh credential for feed id: from the tray when one runs
// (it signs the person in if needed), else by a silent refresh, or a
// sign-in on the terminal when a person may be there.
func (h *handler) renew(ctx context.Context, id string) (string, string, error) {
	if h.askTray() {
		user, password, err := h.fromTray(ctx, id)
		if !errors.Is(err, control.ErrNoServer) {
			return user, password, err
		}
	}
	if h.env.SignIn != nil && h.env.Interactive {
		return h.env.SignIn(ctx, h.args.Service)
	}
	if h.env.Refresh == nil {
		return "", "", control.ErrNoServer
	}
	return h.env.Refresh(ctx, h.args.Service)
}

// fromTray asks the tray for feed id's credential (id is empty for a feed
// the tray may offer to add). The person is told on the terminal what the
// tray asks of them (feed, link, code, time left), or that the tray is
// working when it takes long.
func (h *handler) fromTray(ctx context.Context, id string) (string, string, error) {
	var mu sync.Mutex
	prompted := false
	slow := time.AfterFunc(time.Second, func() {
		mu.Lock()
		defer mu.Unlock()
		if prompted {
			return
		}
		what := "a credential"
		if id != "" {
			what = "the credential of feed " + id
		}
		fmt.Fprintf(h.tell(), "feedkey-keyring: waiting for the feedkey tray to get %s (see its menu and your browser)…\n", what)
	})
	defer slow.Stop()
	var last control.Prompt
	onPrompt := func(p control.Prompt) {
		mu.Lock()
		defer mu.Unlock()
		prompted = true
		if p == last {
			return
		}
		last = p
		fmt.Fprintf(h.tell(), "feedkey-keyring: %s\n", p.Text(h.now()))
	}
	user, password, err := h.env.Tray(ctx, h.args.Service, trayWait, onPrompt)
	if ud := (*control.UnsafeDirError)(nil); errors.As(err, &ud) {
		// Counts as no tray; say why once, and carry on with the store.
		fmt.Fprintf(h.env.Stderr, "feedkey-keyring: warning: %v\n", ud)
	}
	return user, password, err
}

func (h *handler) tell() io.Writer {
	if h.env.Tell != nil {
		return h.env.Tell
	}
	return h.env.Stderr
}

func (h *handler) now() time.Time {
	if h.env.Now != nil {
		return h.env.Now()
	}
	return time.Now()
}

// emit prints the answer in the requested mode and format, and nothing else.
func (h *handler) emit(user, password string) error {
	_, err := io.WriteString(h.env.Stdout, h.args.Answer(user, password))
	return err
}

// getPlain answers for a service no feed covers, from the same OS store a
// Python keyring uses.
func (h *handler) getPlain(ctx context.Context) error {
	a := h.args
	if err := notOwned(a.Service, a.Username); err != nil {
		return err
	}
	if !a.HasUsername {
		f, ok := h.env.Keychain.(finder)
		if !ok {
			return errExit(1)
		}
		user, secret, err := f.Find(ctx, a.Service)
		if errors.Is(err, store.ErrNotFound) {
			return errExit(1)
		} else if err != nil {
			return err
		}
		return h.emit(user, secret)
	}
	secret, err := h.env.Keychain.Get(ctx, a.Service, a.Username)
	if errors.Is(err, store.ErrNotFound) {
		return errExit(1)
	} else if err != nil {
		return err
	}
	return h.emit(a.Username, secret)
}

// finder is implemented by keychains that can look an entry up by service
// alone, as Python keyring does for `get SERVICE` in creds mode.
type finder interface {
	Find(ctx context.Context, service string) (user, secret string, err error)
}

func (h *handler) set(ctx context.Context) error {
	if err := notOwned(h.args.Service, h.args.Username); err != nil {
		return err
	}
	cfg, f, ok, err := h.lookup()
	if err != nil {
		return err
	}
	if ok && f.Kind != feed.Token {
		return fmt.Errorf("feedkey manages the credential for feed %s: run `feedkey login %s`", f.ID, f.ID)
	}
	password, err := readPassword(h.env.Stdin, runtime.GOOS == "windows")
	if err != nil {
		return err
	}
	if ok {
		// A static feed's token may be replaced the way a user would with
		// Python keyring.
		if err := store.New(h.env.Keychain).Save(ctx, f.CredentialID(cfg.Trust), store.Credential{
			Kind: string(feed.Token), Username: h.args.Username, Secret: password,
		}); err != nil {
			return err
		}
		if h.env.Changed != nil {
			h.env.Changed(ctx) // a tray answering from memory must not serve the old token
		}
		return nil
	}
	// The OS keychain removes other writers' duplicates of the pair, so
	// Python keyring reads this value afterwards (SPEC §2.3).
	return h.env.Keychain.Set(ctx, h.args.Service, h.args.Username, password)
}

// readPassword reads the password from stdin as Python keyring does when
// stdin is not a terminal: all of it, minus one trailing newline. On
// Windows (universal) Python reads stdin in universal-newline mode, so
// "\r\n" and a lone "\r" become "\n" first: `printf 'pw\r\n' | keyring set`
// stores "pw" there.
func readPassword(r io.Reader, universal bool) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	s := string(b)
	if universal {
		s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	}
	password := strings.TrimSuffix(s, "\n")
	if password == "" {
		return "", errors.New("empty password on stdin: nothing stored")
	}
	return password, nil
}

// notOwned refuses plain access to the entries feedkey itself keeps: their
// raw records hold refresh tokens, and written by hand they would no longer
// be feedkey records. Windows joins service and user as "service:user", so
// the joined name is checked too.
func notOwned(service, user string) error {
	if store.OwnedEntry(service, user) {
		return fmt.Errorf("%s is managed by feedkey: use `feedkey add`, `feedkey login` or `feedkey logout`", service)
	}
	return nil
}

func (h *handler) del(ctx context.Context) error {
	if err := notOwned(h.args.Service, h.args.Username); err != nil {
		return err
	}
	_, f, ok, err := h.lookup()
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("feedkey manages the credential for feed %s: run `feedkey logout %s`", f.ID, f.ID)
	}
	err = h.env.Keychain.Delete(ctx, h.args.Service, h.args.Username)
	if errors.Is(err, store.ErrNotFound) {
		return errExit(1)
	}
	return err
}
