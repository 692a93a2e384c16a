//go:build linux

package testbus

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
)

// helperEnv makes the test binary act as a go-keyring client (see
// TestHelperGoKeyring) instead of running the tests.
const helperEnv = "TESTBUS_GO_KEYRING_HELPER"

// secretStruct is the org.freedesktop.Secret.Secret (oayays) struct.
type secretStruct struct {
	Session     dbus.ObjectPath
	Parameters  []byte
	Value       []byte
	ContentType string
}

// storeLikeGoKeyring writes an item the way go-keyring's Set does (plain
// session, login collection, service/username attributes, replace=true),
// but over a private connection.
func storeLikeGoKeyring(t *testing.T, s *Session, service, user, secret string) {
	t.Helper()
	conn, err := s.connect()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var out dbus.Variant
	var session dbus.ObjectPath
	if err := conn.Object(secretsName, secretsPath).Call(serviceIface+".OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&out, &session); err != nil {
		t.Fatalf("OpenSession: %v", err)
	}
	props := map[string]dbus.Variant{
		itemIface + ".Label":      dbus.MakeVariant("Password for '" + user + "' on '" + service + "'"),
		itemIface + ".Attributes": dbus.MakeVariant(map[string]string{"service": service, "username": user}),
	}
	var item, prompt dbus.ObjectPath
	err = conn.Object(secretsName, loginPath).Call(collectionIface+".CreateItem", 0, props,
		secretStruct{session, []byte{}, []byte(secret), "text/plain; charset=utf8"}, true).Store(&item, &prompt)
	if err != nil {
		t.Fatalf("CreateItem: %v", err)
	}
	if prompt != "/" {
		t.Fatalf("CreateItem wants prompt %s", prompt)
	}
}

func loginLocked(t *testing.T, s *Session) bool {
	t.Helper()
	conn, err := s.connect()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	v, err := getProperty(context.Background(), conn, loginPath, collectionIface, "Locked")
	if err != nil {
		t.Fatalf("Get Locked of login collection: %v", err)
	}
	locked, ok := v.Value().(bool)
	if !ok {
		t.Fatalf("Locked is %s", v.Signature())
	}
	return locked
}

func mustLookup(t *testing.T, s *Session, service, user, want string) {
	t.Helper()
	got, found, err := s.Lookup(service, user)
	if err != nil {
		t.Fatal(err)
	}
	if !found || got != want {
		t.Fatalf("Lookup(%q, %q) = %q, %v; want %q, true", service, user, got, found, want)
	}
}

func mustNotFind(t *testing.T, s *Session, service, user string) {
	t.Helper()
	got, found, err := s.Lookup(service, user)
	if err != nil {
		t.Fatal(err)
	}
	if found {
		t.Fatalf("Lookup(%q, %q) = %q, found; want not found", service, user, got)
	}
}

func secretToolStore(t *testing.T, s *Session, service, user, secret string) {
	t.Helper()
	cmd := exec.Command("secret-tool", "store", "--label=test item", "service", service, "username", user)
	cmd.Env = s.Env(os.Environ())
	cmd.Stdin = strings.NewReader(secret)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("secret-tool store: %v: %s", err, out)
	}
}

func alive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

func TestStartUnlocked(t *testing.T) {
	t0 := time.Now()
	s := Start(t, Options{})
	t.Logf("Start(Options{}) took %v", time.Since(t0))

	if !strings.HasPrefix(s.Address, "unix:path="+filepath.Dir(s.Home)) {
		t.Errorf("Address %q is not inside the session dir %s", s.Address, filepath.Dir(s.Home))
	}
	if loginLocked(t, s) {
		t.Fatal("login collection is locked")
	}
	if _, err := os.Stat(filepath.Join(s.Home, ".local/share/keyrings/login.keyring")); err != nil {
		t.Errorf("login keyring not in temporary HOME: %v", err)
	}

	mustNotFind(t, s, "svc-dbus", "alice")
	storeLikeGoKeyring(t, s, "svc-dbus", "alice", "s3cret with spaces\nand newline")
	mustLookup(t, s, "svc-dbus", "alice", "s3cret with spaces\nand newline")
	mustNotFind(t, s, "svc-dbus", "bob")

	secretToolStore(t, s, "svc-tool", "bob", "pw-tool")
	mustLookup(t, s, "svc-tool", "bob", "pw-tool")

	items, err := s.Items("svc-dbus")
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0]["service"] != "svc-dbus" || items[0]["username"] != "alice" {
		t.Fatalf("Items(svc-dbus) = %v", items)
	}
	if items, err := s.Items("no-such-service"); err != nil || len(items) != 0 {
		t.Fatalf("Items(no-such-service) = %v, %v", items, err)
	}
}

// TestHelperGoKeyring is not a test: it is the go-keyring client process
// started by TestGoKeyringSubprocess.
func TestHelperGoKeyring(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("helper process only")
	}
	if err := keyring.Set("svc-go", "carol", "pw-go"); err != nil {
		t.Fatalf("keyring.Set: %v", err)
	}
	got, err := keyring.Get("svc-go", "carol")
	if err != nil || got != "pw-go" {
		t.Fatalf("keyring.Get = %q, %v", got, err)
	}
	if _, err := keyring.Get("svc-go", "nobody"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("keyring.Get(nobody) err = %v, want ErrNotFound", err)
	}
}

func TestGoKeyringSubprocess(t *testing.T) {
	s := Start(t, Options{})
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperGoKeyring$", "-test.count=1", "-test.v")
	cmd.Env = append(s.Env(os.Environ()), helperEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestHelperGoKeyring") {
		t.Fatalf("go-keyring helper: %v\n%s", err, out)
	}
	mustLookup(t, s, "svc-go", "carol", "pw-go")
	items, err := s.Items("svc-go")
	if err != nil || len(items) != 1 || items[0]["username"] != "carol" {
		t.Fatalf("Items(svc-go) = %v, %v", items, err)
	}
}

func TestPythonKeyringInterop(t *testing.T) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import keyring.backends.SecretService").Run(); err != nil {
		t.Skipf("%s with python3-keyring not available: %v", py, err)
	}
	s := Start(t, Options{})
	cmd := exec.Command(py, "-m", "keyring", "set", "svc-py", "dave")
	cmd.Env = append(s.Env(os.Environ()), "PYTHON_KEYRING_BACKEND=keyring.backends.SecretService.Keyring")
	// keyring 23.x strips exactly one trailing newline from piped input and
	// returns "" if there is none, so the newline is required.
	cmd.Stdin = strings.NewReader("pw-py\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("python3 -m keyring set: %v\n%s", err, out)
	}
	mustLookup(t, s, "svc-py", "dave", "pw-py")

	// And the other way round: python reads what secret-tool wrote.
	secretToolStore(t, s, "svc-py", "erin", "pw-tool")
	cmd = exec.Command(py, "-m", "keyring", "get", "svc-py", "erin")
	cmd.Env = append(s.Env(os.Environ()), "PYTHON_KEYRING_BACKEND=keyring.backends.SecretService.Keyring")
	out, err := cmd.Output()
	if err != nil || string(out) != "pw-tool\n" {
		t.Fatalf("python3 -m keyring get = %q, %v", out, err)
	}
}

func TestLocked(t *testing.T) {
	t0 := time.Now()
	s := Start(t, Options{Locked: true})
	t.Logf("Start(Options{Locked: true}) took %v", time.Since(t0))
	if !loginLocked(t, s) {
		t.Fatal("login collection is not locked")
	}
	if _, err := os.Stat(filepath.Join(s.Home, ".local/share/keyrings/login.keyring")); err != nil {
		t.Fatal(err)
	}
	// A locked keyring cannot be read (and no prompter can be activated).
	t1 := time.Now()
	mustNotFind(t, s, "svc", "user")
	t.Logf("Lookup on locked keyring took %v", time.Since(t1))
}

func TestNoSecretService(t *testing.T) {
	s := Start(t, Options{NoSecretService: true})
	conn, err := s.connect()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var owned bool
	if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, secretsName).Store(&owned); err != nil {
		t.Fatal(err)
	}
	if owned {
		t.Fatalf("%s is owned", secretsName)
	}
	var activatable []string
	if err := conn.BusObject().Call("org.freedesktop.DBus.ListActivatableNames", 0).Store(&activatable); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(activatable, secretsName) {
		t.Fatalf("%s is activatable: %v", secretsName, activatable)
	}
	if _, _, err := s.Lookup("svc", "user"); err == nil {
		t.Fatal("Lookup without Secret Service succeeded")
	} else {
		t.Logf("Lookup without Secret Service: %v", err)
	}
	if _, err := s.Items("svc"); err == nil {
		t.Fatal("Items without Secret Service succeeded")
	}
	if _, err := os.Stat(filepath.Join(s.Home, ".local/share/keyrings")); !os.IsNotExist(err) {
		t.Fatalf("keyrings dir exists without Secret Service: %v", err)
	}
}

func TestTwoSessions(t *testing.T) {
	a := Start(t, Options{})
	b := Start(t, Options{})
	if a.Address == b.Address || a.Home == b.Home {
		t.Fatalf("sessions share address or home: %+v %+v", a, b)
	}
	storeLikeGoKeyring(t, a, "svc", "user", "in-a")
	mustNotFind(t, b, "svc", "user")
	secretToolStore(t, b, "svc", "user", "in-b")
	mustLookup(t, a, "svc", "user", "in-a")
	mustLookup(t, b, "svc", "user", "in-b")
}

func TestParallelSessions(t *testing.T) {
	for _, name := range []string{"p1", "p2", "p3"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := Start(t, Options{Locked: name == "p3"})
			if name == "p3" {
				if !loginLocked(t, s) {
					t.Fatal("not locked")
				}
				return
			}
			secretToolStore(t, s, "svc", name, "pw-"+name)
			mustLookup(t, s, "svc", name, "pw-"+name)
			items, err := s.Items("svc")
			if err != nil || len(items) != 1 {
				t.Fatalf("Items = %v, %v", items, err)
			}
		})
	}
}

func TestEnv(t *testing.T) {
	s := Start(t, Options{NoSecretService: true})
	in := []string{"HOME=/nonexistent", "PATH=/bin", "XDG_RUNTIME_DIR=/run/user/0", "DBUS_SESSION_BUS_ADDRESS=unix:path=/x", "FOO=bar"}
	env := s.Env(in)
	if in[0] != "HOME=/nonexistent" {
		t.Fatal("Env modified its argument")
	}
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := got[k]; dup {
			t.Fatalf("duplicate %s in %v", k, env)
		}
		got[k] = v
	}
	want := map[string]string{
		"PATH":                     "/bin",
		"FOO":                      "bar",
		"HOME":                     s.Home,
		"DBUS_SESSION_BUS_ADDRESS": s.Address,
		"XDG_DATA_HOME":            filepath.Join(s.Home, ".local/share"),
		"XDG_CONFIG_HOME":          filepath.Join(s.Home, ".config"),
		"XDG_CACHE_HOME":           filepath.Join(s.Home, ".cache"),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	rt := got["XDG_RUNTIME_DIR"]
	fi, err := os.Stat(rt)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("XDG_RUNTIME_DIR %s: %v %v", rt, fi.Mode(), err)
	}
	if !strings.HasPrefix(rt, filepath.Dir(s.Home)) {
		t.Errorf("XDG_RUNTIME_DIR %s not private to the session", rt)
	}
}

func TestSetenv(t *testing.T) {
	s := Start(t, Options{NoSecretService: true})
	for _, k := range envKeys {
		t.Setenv(k, os.Getenv(k)) // restored at test end
	}
	s.Setenv()
	for _, kv := range s.Env(nil) {
		k, v, _ := strings.Cut(kv, "=")
		if os.Getenv(k) != v {
			t.Errorf("after Setenv %s = %q, want %q", k, os.Getenv(k), v)
		}
	}
}

func TestStartMainStop(t *testing.T) {
	for _, opts := range []Options{{}, {Locked: true}, {NoSecretService: true}} {
		s, stop, err := StartMain(opts)
		if err != nil {
			t.Fatal(err)
		}
		pids := []int{s.bus.cmd.Process.Pid}
		if s.keyring != nil {
			pids = append(pids, s.keyring.cmd.Process.Pid)
		}
		dir := filepath.Dir(s.Home)
		stop()
		stop() // idempotent
		for _, pid := range pids {
			if alive(pid) {
				t.Errorf("%+v: pid %d still alive after stop", opts, pid)
			}
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%+v: %s not removed: %v", opts, dir, err)
		}
	}
}

// TestKeyringCrashRetried puts a gnome-keyring-daemon wrapper on PATH that
// aborts on its first run (as gnome-keyring 42 occasionally does) and checks
// that Start restarts the daemon.
func TestKeyringCrashRetried(t *testing.T) {
	gk, err := exec.LookPath("gnome-keyring-daemon")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	counter := filepath.Join(t.TempDir(), "runs")
	script := "#!/bin/sh\n" +
		"n=$(cat \"$TESTBUS_FAKE_COUNTER\" 2>/dev/null || echo 0)\n" +
		"echo $((n+1)) > \"$TESTBUS_FAKE_COUNTER\"\n" +
		"if [ \"$n\" = 0 ]; then echo 'simulated crash' >&2; kill -ABRT $$; fi\n" +
		"exec " + gk + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "gnome-keyring-daemon"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("TESTBUS_FAKE_COUNTER", counter)

	s := Start(t, Options{})
	if runs, _ := os.ReadFile(counter); strings.TrimSpace(string(runs)) != "2" {
		t.Fatalf("gnome-keyring-daemon ran %q times, want 2", runs)
	}
	if loginLocked(t, s) {
		t.Fatal("login collection locked")
	}
	secretToolStore(t, s, "svc", "u", "pw")
	mustLookup(t, s, "svc", "u", "pw")
}

func BenchmarkStart(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts Options
	}{{"unlocked", Options{}}, {"locked", Options{Locked: true}}, {"nosecretservice", Options{NoSecretService: true}}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				_, stop, err := StartMain(bc.opts)
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				stop()
				b.StartTimer()
			}
		})
	}
}

// TestItemsLockedCollection locks the login collection after storing an item
// and checks what the independent readers report.
func TestItemsLockedCollection(t *testing.T) {
	s := Start(t, Options{})
	secretToolStore(t, s, "svc-lock", "frank", "pw")
	conn, err := s.connect()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	if err := conn.Object(secretsName, secretsPath).Call(serviceIface+".Lock", 0, []dbus.ObjectPath{loginPath}).Store(&locked, &prompt); err != nil {
		t.Fatal(err)
	}
	if !loginLocked(t, s) {
		t.Fatal("Lock did not lock the login collection")
	}
	items, err := s.Items("svc-lock")
	t.Logf("Items on locked collection: %v, %v", items, err)
	if err != nil || len(items) != 1 || items[0]["username"] != "frank" {
		t.Fatalf("Items(svc-lock) = %v, %v", items, err)
	}
	mustNotFind(t, s, "svc-lock", "frank")
}
