//go:build linux

// Package testbus starts private D-Bus session buses with gnome-keyring's Secret Service for tests.
//
// Each session is a real dbus-daemon plus a real gnome-keyring-daemon
// (--components=secrets) living in a fresh temporary directory that serves as
// HOME, XDG_* directories and bus socket location. Nothing is mocked, nothing
// touches the real HOME or the user's session bus, and everything is stopped
// and removed when the session ends.
//
// Required Debian packages: dbus-daemon (dbus), gnome-keyring and, for
// Session.Lookup, libsecret-tools.
//
// The bus is started from a generated configuration file instead of the
// stock session.conf: the stock configuration lists
// /usr/share/dbus-1/services, which makes org.freedesktop.secrets (and the
// gnome-keyring prompters) D-Bus-activatable. On the private bus nothing is
// activatable, so a bus started with Options.NoSecretService really has no
// Secret Service, and a locked collection can never pop up a prompter.
package testbus

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

const (
	// password is the login keyring password fed to gnome-keyring-daemon --unlock.
	password = "test"

	startTimeout = 10 * time.Second
	stopTimeout  = 5 * time.Second

	secretsName     = "org.freedesktop.secrets"
	secretsPath     = dbus.ObjectPath("/org/freedesktop/secrets")
	loginPath       = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	serviceIface    = "org.freedesktop.Secret.Service"
	collectionIface = "org.freedesktop.Secret.Collection"
	itemIface       = "org.freedesktop.Secret.Item"
)

// Options selects what kind of session Start creates.
type Options struct {
	Locked          bool // start gnome-keyring with an existing but locked login collection
	NoSecretService bool // a bus with no Secret Service at all
}

// Session is a running private session bus, optionally with gnome-keyring on it.
type Session struct {
	Address string // DBUS_SESSION_BUS_ADDRESS
	Home    string // temporary HOME holding the keyrings

	dir        string // temporary root, removed at stop
	runtimeDir string // XDG_RUNTIME_DIR, 0700

	bus     *proc
	keyring *proc

	stopOnce sync.Once
}

// Start starts a session for t; everything is stopped and removed at t.Cleanup.
// Start fails the test (t.Fatal) if the session cannot be started.
func Start(t testing.TB, opts Options) *Session {
	t.Helper()
	s, stop, err := StartMain(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return s
}

// StartMain is Start for TestMain (no testing.TB): returns the session and a stop func.
// The stop func kills all processes of the session and removes its
// directory; it is safe to call more than once. On error everything already
// started has been stopped.
func StartMain(opts Options) (*Session, func(), error) {
	s, err := start(opts)
	if err != nil {
		return nil, nil, err
	}
	return s, s.stop, nil
}

// Env returns environ with DBUS_SESSION_BUS_ADDRESS, HOME, XDG_DATA_HOME, XDG_CONFIG_HOME, XDG_RUNTIME_DIR (a private 0700 dir) and XDG_CACHE_HOME replaced for this session (for subprocesses).
// environ itself is not modified.
func (s *Session) Env(environ []string) []string {
	vars := s.vars()
	out := make([]string, 0, len(environ)+len(vars))
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if _, replaced := vars[k]; !replaced {
			out = append(out, kv)
		}
	}
	for _, k := range envKeys {
		out = append(out, k+"="+vars[k])
	}
	return out
}

// Setenv points this process at the session (os.Setenv of the same
// variables Env replaces); for TestMain in packages that use go-keyring
// in-process.
//
// godbus caches its session bus connection per process: the first
// dbus.SessionBus() call (which go-keyring makes) connects to whatever
// DBUS_SESSION_BUS_ADDRESS is at that moment and keeps that connection for
// the life of the process. So a process can use only one session in-process:
// call Setenv before anything touches the session bus, and do not expect a
// later Setenv (of another session) to take effect. Use Env and subprocesses
// when a test needs several sessions.
func (s *Session) Setenv() {
	for k, v := range s.vars() {
		os.Setenv(k, v)
	}
}

// Lookup returns the secret stored under attributes service=service,
// username=user, read independently of the code under test with
// `secret-tool lookup service S username U` (libsecret-tools) running in the
// session environment. found is false (and err nil) when no such item
// exists; a locked login collection also reads as not found.
func (s *Session) Lookup(service, user string) (secret string, found bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "secret-tool", "lookup", "service", service, "username", user)
	cmd.Env = s.Env(os.Environ())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		// secret-tool prints the secret without a trailing newline when
		// stdout is not a terminal.
		return stdout.String(), true, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == 1 && stdout.Len() == 0 && strings.TrimSpace(stderr.String()) == "":
		return "", false, nil
	default:
		return "", false, fmt.Errorf("testbus: secret-tool lookup service %q username %q: %v; stderr: %q", service, user, err, strings.TrimSpace(stderr.String()))
	}
}

// Items lists the attribute maps of all items (in any collection) whose
// "service" attribute equals service. It asks the Secret Service directly
// (org.freedesktop.Secret.Service.SearchItems, then the Attributes property
// of each item) over a private D-Bus connection to the session bus; no
// secrets are read, so locked items are listed too as long as gnome-keyring
// exposes their attributes.
func (s *Session) Items(service string) ([]map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	conn, err := s.connect()
	if err != nil {
		return nil, err
	}
	defer conn.Close()

	var unlocked, locked []dbus.ObjectPath
	err = conn.Object(secretsName, secretsPath).CallWithContext(ctx, serviceIface+".SearchItems", 0,
		map[string]string{"service": service}).Store(&unlocked, &locked)
	if err != nil {
		return nil, fmt.Errorf("testbus: SearchItems service=%q: %w", service, err)
	}
	items := make([]map[string]string, 0, len(unlocked)+len(locked))
	for _, p := range append(unlocked, locked...) {
		v, err := getProperty(ctx, conn, p, itemIface, "Attributes")
		if err != nil {
			return nil, fmt.Errorf("testbus: attributes of %s: %w", p, err)
		}
		attrs, ok := v.Value().(map[string]string)
		if !ok {
			return nil, fmt.Errorf("testbus: attributes of %s: unexpected type %s", p, v.Signature())
		}
		items = append(items, attrs)
	}
	return items, nil
}

var envKeys = []string{
	"DBUS_SESSION_BUS_ADDRESS",
	// The session is a Secret Service world: feedkey uses it, never the
	// kernel keyring that every process of the user shares. Tests of the
	// automatic choice set FEEDKEY_STORE= after Env.
	"FEEDKEY_STORE",
	"HOME",
	"XDG_DATA_HOME",
	"XDG_CONFIG_HOME",
	"XDG_RUNTIME_DIR",
	"XDG_CACHE_HOME",
}

func (s *Session) vars() map[string]string {
	return map[string]string{
		"DBUS_SESSION_BUS_ADDRESS": s.Address,
		"FEEDKEY_STORE":            "secret-service",
		"HOME":                     s.Home,
		"XDG_DATA_HOME":            filepath.Join(s.Home, ".local", "share"),
		"XDG_CONFIG_HOME":          filepath.Join(s.Home, ".config"),
		"XDG_RUNTIME_DIR":          s.runtimeDir,
		"XDG_CACHE_HOME":           filepath.Join(s.Home, ".cache"),
	}
}

// connect opens a private connection to the session bus. It never uses
// dbus.SessionBus (which is cached process-wide) and never autolaunches.
func (s *Session) connect() (*dbus.Conn, error) {
	if !strings.HasPrefix(s.Address, "unix:") {
		return nil, fmt.Errorf("testbus: refusing to connect to non-unix bus address %q", s.Address)
	}
	conn, err := dbus.Connect(s.Address)
	if err != nil {
		return nil, fmt.Errorf("testbus: connect to private bus %s: %w", s.Address, err)
	}
	return conn, nil
}

const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <!-- deliberately no <standard_session_servicedirs/>: nothing is activatable -->
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

func start(opts Options) (s *Session, err error) {
	for _, bin := range []string{"dbus-daemon", "gnome-keyring-daemon"} {
		if opts.NoSecretService && bin == "gnome-keyring-daemon" {
			continue
		}
		if _, err := exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("testbus: %s not found (install Debian packages dbus-daemon gnome-keyring libsecret-tools): %w", bin, err)
		}
	}
	deadline := time.Now().Add(startTimeout)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	dir, err := makeTempDir()
	if err != nil {
		return nil, err
	}
	s = &Session{
		dir:        dir,
		Home:       filepath.Join(dir, "home"),
		runtimeDir: filepath.Join(dir, "run"),
	}
	defer func() {
		if err != nil {
			s.stop()
			s = nil
		}
	}()
	for _, d := range []string{s.Home, s.runtimeDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return s, fmt.Errorf("testbus: %w", err)
		}
	}
	for _, d := range []string{".local/share", ".config", ".cache"} {
		if err := os.MkdirAll(filepath.Join(s.Home, d), 0o700); err != nil {
			return s, fmt.Errorf("testbus: %w", err)
		}
	}
	// Explicit chmod: Mkdir is subject to the umask.
	if err := os.Chmod(s.runtimeDir, 0o700); err != nil {
		return s, fmt.Errorf("testbus: %w", err)
	}
	confPath := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(confPath, []byte(busConfig), 0o600); err != nil {
		return s, fmt.Errorf("testbus: %w", err)
	}

	if err := s.startBus(ctx, confPath); err != nil {
		return s, err
	}

	conn, err := s.connect()
	if err != nil {
		return s, err
	}
	defer conn.Close()
	w, err := newWatcher(ctx, s.Address, conn)
	if err != nil {
		return s, err
	}

	if opts.NoSecretService {
		owned, err := w.nameHasOwner()
		if err != nil {
			return s, err
		}
		if owned {
			return s, fmt.Errorf("testbus: %s unexpectedly owned on private bus %s", secretsName, s.Address)
		}
		return s, nil
	}

	// An unlocked login collection: gnome-keyring --unlock creates (or
	// unlocks) it with the password read from stdin.
	if err := s.runKeyring(w, true, wantUnlocked); err != nil {
		return s, err
	}
	if !opts.Locked {
		return s, nil
	}

	// Locked: make sure login.keyring is on disk, restart gnome-keyring
	// without --unlock, and check the login collection comes up locked.
	keyringFile := filepath.Join(s.Home, ".local", "share", "keyrings", "login.keyring")
	if _, err := os.Stat(keyringFile); err != nil {
		// gnome-keyring 42 writes the file on --unlock already; storing an
		// item forces a write on versions that do not.
		if err := w.seedItem(); err != nil {
			return s, err
		}
		if _, err := os.Stat(keyringFile); err != nil {
			return s, fmt.Errorf("testbus: gnome-keyring did not write %s: %v; gnome-keyring-daemon stderr: %q", keyringFile, err, s.keyring.stderr.String())
		}
	}
	s.keyring.stop()
	if err := w.waitNameReleased(); err != nil {
		return s, err
	}
	if err := s.runKeyring(w, false, wantLocked); err != nil {
		return s, err
	}
	return s, nil
}

func makeTempDir() (string, error) {
	dir, err := os.MkdirTemp("", "testbus-")
	if err != nil {
		return "", fmt.Errorf("testbus: %w", err)
	}
	// sun_path holds 108 bytes; fall back to /tmp if TMPDIR is very long.
	if len(dir)+len("/bus") >= 100 {
		os.Remove(dir)
		if dir, err = os.MkdirTemp("/tmp", "testbus-"); err != nil {
			return "", fmt.Errorf("testbus: %w", err)
		}
	}
	return dir, nil
}

func (s *Session) startBus(ctx context.Context, confPath string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("testbus: %w", err)
	}
	defer r.Close()
	cmd := exec.Command("dbus-daemon",
		"--config-file="+confPath,
		"--nofork", "--nopidfile",
		"--print-address=3",
		"--address=unix:path="+filepath.Join(s.dir, "bus"))
	cmd.ExtraFiles = []*os.File{w} // fd 3
	cmd.Dir = s.dir
	cmd.Env = withoutKeys(s.Env(os.Environ()), "DBUS_SESSION_BUS_ADDRESS")
	s.bus, err = startProc(cmd)
	w.Close()
	if err != nil {
		return err
	}

	type line struct {
		s   string
		err error
	}
	ch := make(chan line, 1)
	go func() {
		l, err := bufio.NewReader(r).ReadString('\n')
		ch <- line{l, err}
	}()
	select {
	case l := <-ch:
		addr := strings.TrimSpace(l.s)
		if l.err != nil || !strings.HasPrefix(addr, "unix:") {
			<-waitOrTimeout(s.bus.done, time.Second)
			return fmt.Errorf("testbus: dbus-daemon printed no address (%q, %v); exit: %v; stderr: %q", l.s, l.err, s.bus.exitErr(), s.bus.stderr.String())
		}
		s.Address = addr
		return nil
	case <-ctx.Done():
		return fmt.Errorf("testbus: dbus-daemon printed no address within %v; stderr: %q", startTimeout, s.bus.stderr.String())
	}
}

// keyringAttempts bounds restarts of a gnome-keyring-daemon that dies
// before it is ready. gnome-keyring 42 occasionally aborts on its first
// D-Bus request ("gkd_secret_service_get_pkcs11_session: assertion 'client'
// failed" followed by a GLib assertion in invoke_get_property_in_idle_cb);
// a fresh daemon on the same HOME is a faithful replacement.
const keyringAttempts = 3

// runKeyring starts gnome-keyring-daemon and waits until it is ready with
// the login collection in the wanted state, restarting it if it crashes
// during startup.
func (s *Session) runKeyring(w *watcher, unlock bool, want lockWant) error {
	var errs []error
	for attempt := 1; attempt <= keyringAttempts; attempt++ {
		if attempt > 1 {
			if err := w.waitNameReleased(); err != nil {
				return errors.Join(append(errs, err)...)
			}
		}
		err := s.startKeyring(unlock)
		if err == nil {
			err = w.waitKeyring(s.keyring, want)
		}
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("attempt %d: %w", attempt, err))
		if s.keyring != nil {
			s.keyring.stop()
		}
		if !errors.Is(err, errExited) {
			break
		}
	}
	return errors.Join(errs...)
}

func (s *Session) startKeyring(unlock bool) error {
	args := []string{"--foreground", "--components=secrets"}
	if unlock {
		args = append(args, "--unlock")
	}
	cmd := exec.Command("gnome-keyring-daemon", args...)
	cmd.Dir = s.Home
	// Keep the daemon off the host's system bus (it would watch logind for
	// the end of the user's real session).
	cmd.Env = append(withoutKeys(s.Env(os.Environ()), "DBUS_SYSTEM_BUS_ADDRESS"),
		"DBUS_SYSTEM_BUS_ADDRESS=unix:path="+filepath.Join(s.dir, "no-system-bus"))
	// In --foreground mode gnome-keyring redirects its stdout to stderr once
	// initialization is complete: EOF on this pipe means "ready".
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("testbus: %w", err)
	}
	cmd.Stdout = stdoutW
	var stdin io.WriteCloser
	if unlock {
		if stdin, err = cmd.StdinPipe(); err != nil {
			stdoutR.Close()
			stdoutW.Close()
			return fmt.Errorf("testbus: %w", err)
		}
	} // else: nil Stdin is /dev/null
	p, err := startProc(cmd)
	stdoutW.Close()
	if err != nil {
		stdoutR.Close()
		if stdin != nil {
			stdin.Close()
		}
		return err
	}
	p.ready = make(chan struct{})
	go func() {
		io.Copy(p.stderr, stdoutR)
		stdoutR.Close()
		close(p.ready)
	}()
	s.keyring = p
	if stdin != nil {
		// gnome-keyring reads the password up to EOF: no trailing newline.
		_, werr := io.WriteString(stdin, password)
		cerr := stdin.Close()
		if werr != nil || cerr != nil {
			<-waitOrTimeout(p.done, time.Second)
			err := fmt.Errorf("testbus: writing password to gnome-keyring-daemon: %v %v", werr, cerr)
			select {
			case <-p.done:
				err = fmt.Errorf("%w; gnome-keyring-daemon %w (%v)", err, errExited, p.exitErr())
			default:
			}
			return fmt.Errorf("%w; stderr: %q", err, p.stderr.String())
		}
	}
	return nil
}

func (s *Session) stop() {
	s.stopOnce.Do(func() {
		if s.keyring != nil {
			s.keyring.stop()
		}
		if s.bus != nil {
			s.bus.stop()
		}
		if s.dir != "" {
			os.RemoveAll(s.dir)
		}
	})
}

func withoutKeys(environ []string, keys ...string) []string {
	out := environ[:0:0]
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, key := range keys {
			drop = drop || k == key
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// proc is a daemon started in its own process group.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stderr *syncBuffer   // stdout and stderr, merged
	done   chan struct{} // closed when the process has exited
	ready  chan struct{} // gnome-keyring only: closed at EOF on its stdout
	err    error         // Wait result, valid after done
	once   sync.Once
}

func startProc(cmd *exec.Cmd) (*proc, error) {
	p := &proc{name: filepath.Base(cmd.Path), cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = p.stderr
	}
	cmd.Stderr = p.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid: true,
		// Do not outlive a test binary that dies without running cleanups
		// (e.g. killed by go test -timeout).
		Pdeathsig: syscall.SIGKILL,
	}
	cmd.WaitDelay = time.Second
	if err := spawn(cmd); err != nil {
		return nil, fmt.Errorf("testbus: start %s: %w", p.name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pdeathsig is delivered when the *thread* that forked the child exits, not
// the process. Go may retire an OS thread (when a goroutine exits while
// locked to it), so all daemons are forked from one goroutine that is
// locked to its thread for the life of the process.
var (
	spawnOnce sync.Once
	spawnReqs chan spawnReq
)

type spawnReq struct {
	cmd *exec.Cmd
	err chan error
}

func spawn(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnReqs = make(chan spawnReq)
		go func() {
			runtime.LockOSThread() // never unlocked: this thread lives as long as the process
			for r := range spawnReqs {
				r.err <- r.cmd.Start()
			}
		}()
	})
	r := spawnReq{cmd, make(chan error, 1)}
	spawnReqs <- r
	return <-r.err
}

func (p *proc) exitErr() error {
	select {
	case <-p.done:
		if p.err == nil {
			return errors.New("exited with status 0")
		}
		return p.err
	default:
		return errors.New("still running")
	}
}

// stop sends SIGTERM to the process group, escalates to SIGKILL after
// stopTimeout, waits for the process and finally kills whatever is left in
// its group.
func (p *proc) stop() {
	p.once.Do(func() {
		pgid := p.cmd.Process.Pid
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-p.done
		}
		syscall.Kill(-pgid, syscall.SIGKILL) // stragglers; ESRCH when none
	})
}

func waitOrTimeout(done <-chan struct{}, d time.Duration) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(d):
		}
		close(ch)
	}()
	return ch
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// watcher waits for bus state changes driven by signals: NameOwnerChanged
// for org.freedesktop.secrets and the Secret Service's own signals. Every
// signal re-evaluates the awaited condition; there is no polling.
type watcher struct {
	ctx  context.Context
	addr string
	conn *dbus.Conn
	sigs chan *dbus.Signal
}

func newWatcher(ctx context.Context, addr string, conn *dbus.Conn) (*watcher, error) {
	w := &watcher{ctx: ctx, addr: addr, conn: conn, sigs: make(chan *dbus.Signal, 64)}
	conn.Signal(w.sigs)
	matches := [][]dbus.MatchOption{
		{
			dbus.WithMatchSender("org.freedesktop.DBus"),
			dbus.WithMatchInterface("org.freedesktop.DBus"),
			dbus.WithMatchMember("NameOwnerChanged"),
			dbus.WithMatchArg(0, secretsName),
		},
		{
			dbus.WithMatchSender(secretsName),
			dbus.WithMatchInterface(serviceIface),
		},
		{
			dbus.WithMatchSender(secretsName),
			dbus.WithMatchInterface("org.freedesktop.DBus.Properties"),
			dbus.WithMatchMember("PropertiesChanged"),
		},
	}
	for _, m := range matches {
		if err := conn.AddMatchSignalContext(ctx, m...); err != nil {
			return nil, fmt.Errorf("testbus: AddMatch on private bus: %w", err)
		}
	}
	return w, nil
}

func (w *watcher) nameHasOwner() (bool, error) {
	var owned bool
	err := w.conn.BusObject().CallWithContext(w.ctx, "org.freedesktop.DBus.NameHasOwner", 0, secretsName).Store(&owned)
	if err != nil {
		return false, fmt.Errorf("testbus: NameHasOwner(%s): %w", secretsName, err)
	}
	return owned, nil
}

// errExited marks waits that failed because the daemon exited.
var errExited = errors.New("daemon exited")

// waitFor re-evaluates cond after each signal (and once when p's stdout
// reaches EOF) until it reports true, the process p (if any) exits, or the
// deadline passes. Errors from cond are treated as "not yet" and reported if
// the wait fails.
func (w *watcher) waitFor(p *proc, what string, cond func() (bool, error)) error {
	var exited, ready <-chan struct{}
	if p != nil {
		exited, ready = p.done, p.ready
	}
	var lastErr error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		lastErr = err
		select {
		case <-w.sigs:
		case <-ready:
			ready = nil // one-shot
		case <-exited:
			return fmt.Errorf("testbus: %s %w (%v) while waiting for %s; last check: %v; %s stderr: %q",
				p.name, errExited, p.exitErr(), what, lastErr, p.name, p.stderr.String())
		case <-w.ctx.Done():
			msg := fmt.Sprintf("testbus: timed out after %v waiting for %s on private bus %s; last check: %v", startTimeout, what, w.addr, lastErr)
			if p != nil {
				msg += fmt.Sprintf("; %s (%v) stderr: %q", p.name, p.exitErr(), p.stderr.String())
			}
			return errors.New(msg)
		}
	}
}

type lockWant int

const (
	wantUnlocked lockWant = iota
	wantLocked
)

// waitKeyring waits until gnome-keyring owns org.freedesktop.secrets and
// has finished initializing (EOF on its stdout), and then until the login
// collection exists with the wanted Locked state. No request is sent to the
// daemon before it reports itself initialized.
func (w *watcher) waitKeyring(p *proc, want lockWant) error {
	err := w.waitFor(p, "gnome-keyring-daemon to own "+secretsName+" and finish initializing", func() (bool, error) {
		select {
		case <-p.ready:
		default:
			return false, errors.New("stdout still open (initializing)")
		}
		return w.nameHasOwner()
	})
	if err != nil {
		return err
	}
	wantLocked := want == wantLocked
	return w.waitFor(p, fmt.Sprintf("login collection with Locked=%v", wantLocked), func() (bool, error) {
		v, err := getProperty(w.ctx, w.conn, loginPath, collectionIface, "Locked")
		if err != nil {
			return false, err
		}
		locked, ok := v.Value().(bool)
		if !ok {
			return false, fmt.Errorf("Locked has type %s", v.Signature())
		}
		if locked != wantLocked {
			return false, fmt.Errorf("login collection Locked=%v", locked)
		}
		return true, nil
	})
}

func (w *watcher) waitNameReleased() error {
	return w.waitFor(nil, secretsName+" to be released", func() (bool, error) {
		owned, err := w.nameHasOwner()
		return !owned && err == nil, err
	})
}

// seedItem stores one throwaway item in the login collection.
func (w *watcher) seedItem() error {
	svc := w.conn.Object(secretsName, secretsPath)
	var out dbus.Variant
	var session dbus.ObjectPath
	if err := svc.CallWithContext(w.ctx, serviceIface+".OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&out, &session); err != nil {
		return fmt.Errorf("testbus: OpenSession: %w", err)
	}
	props := map[string]dbus.Variant{
		itemIface + ".Label":      dbus.MakeVariant("testbus seed"),
		itemIface + ".Attributes": dbus.MakeVariant(map[string]string{"testbus": "seed"}),
	}
	secret := struct {
		Session     dbus.ObjectPath
		Parameters  []byte
		Value       []byte
		ContentType string
	}{session, []byte{}, []byte("seed"), "text/plain"}
	var item, prompt dbus.ObjectPath
	if err := w.conn.Object(secretsName, loginPath).CallWithContext(w.ctx, collectionIface+".CreateItem", 0, props, secret, true).Store(&item, &prompt); err != nil {
		return fmt.Errorf("testbus: CreateItem in login collection: %w", err)
	}
	return nil
}

func getProperty(ctx context.Context, conn *dbus.Conn, path dbus.ObjectPath, iface, prop string) (dbus.Variant, error) {
	var v dbus.Variant
	err := conn.Object(secretsName, path).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, iface, prop).Store(&v)
	return v, err
}
