package control

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

// TestPipeSDDL checks the control pipe's security descriptor: owned by the
// given SID, a protected DACL with one ACE, allowing everything to that SID
// and nobody else.
// (A second user cannot be made under Wine, so the descriptor itself is
// what is tested.)
func TestPipeSDDL(t *testing.T) {
	t.Parallel()
	sid, err := currentUserSID()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{sid, "S-1-5-21-1004336348-1177238915-682003330-1001"} {
		sd, err := windows.SecurityDescriptorFromString(pipeSDDL(s))
		if err != nil {
			t.Fatalf("parsing %q: %v", pipeSDDL(s), err)
		}
		owner, _, err := sd.Owner()
		if err != nil || owner == nil || owner.String() != s {
			t.Errorf("%s: owner = %v, %v; want %s", s, owner, err, s)
		}
		ctl, _, err := sd.Control()
		if err != nil {
			t.Fatal(err)
		}
		if ctl&windows.SE_DACL_PROTECTED == 0 {
			t.Errorf("%s: DACL not protected: inherited ACEs would widen it", s)
		}
		dacl, _, err := sd.DACL()
		if err != nil || dacl == nil {
			t.Fatalf("%s: DACL = %v, %v", s, dacl, err)
		}
		if dacl.AceCount != 1 {
			t.Fatalf("%s: %d ACEs, want 1", s, dacl.AceCount)
		}
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, 0, &ace); err != nil {
			t.Fatal(err)
		}
		if ace.Header.AceType != windows.ACCESS_ALLOWED_ACE_TYPE {
			t.Errorf("%s: ACE type %d, want allowed", s, ace.Header.AceType)
		}
		if ace.Mask != windows.GENERIC_ALL {
			t.Errorf("%s: ACE mask %#x, want GENERIC_ALL", s, ace.Mask)
		}
		got := (*windows.SID)(unsafe.Pointer(&ace.SidStart)).String()
		if got != s {
			t.Errorf("ACE SID = %s, want %s", got, s)
		}
	}
}

func TestPipeName(t *testing.T) {
	t.Parallel()
	a := pipeName(`C:\Users\ann\AppData\Local\feedkey\control.sock`)
	if !strings.HasPrefix(a, `\\.\pipe\feedkey-`) {
		t.Errorf("pipeName = %s, want a local pipe named feedkey-…", a)
	}
	if b := pipeName(`c:\users\ann\appdata\local\feedkey\control.sock`); b != a {
		t.Errorf("pipeName differs by case (%s, %s): Windows paths are not case-sensitive", a, b)
	}
	if b := pipeName(`C:\Users\bob\AppData\Local\feedkey\control.sock`); b == a {
		t.Errorf("two users' paths map to one pipe %s", a)
	}
	if p := `\\.\pipe\feedkey-demo`; pipeName(p) != p {
		t.Errorf("pipeName(%s) = %s, want it unchanged", p, pipeName(p))
	}
}

// TestPipeRoundTrip serves the control API over the pipe and pings it; with
// no server, the same path is ErrNoServer.
func TestPipeRoundTrip(t *testing.T) {
	// The pipe needs no directory.
	path := filepath.Join(os.TempDir(), fmt.Sprintf("feedkey-control-test-%d", os.Getpid()), "control.sock")
	c := &Client{Path: path}
	if _, err := c.Ping(context.Background()); !errors.Is(err, ErrNoServer) {
		t.Fatalf("Ping before the server: %v, want ErrNoServer", err)
	}
	s := start(t, &Server{Path: path, Handler: &fakeHandler{}})
	primeWinePipe(t, path)
	if _, err := (&Client{Path: s.Path}).Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := (&Server{Path: path, Handler: &fakeHandler{}}).Listen(); !errors.Is(err, ErrRunning) {
		t.Errorf("second Listen: %v, want ErrRunning", err)
	}
}

// primeWinePipe makes one throwaway connection to the pipe. Under Wine the
// first client connects to go-winio's placeholder instance (the one it
// creates without read or write access so that Windows keeps it
// disconnected; Wine does not), which nobody serves and whose deadlines
// never fire; the connections after it are served. On Windows this
// connection is served and answered "bad request". Test code only
// (build/wine-test.sh does the same for the agent).
func primeWinePipe(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(pipeName(path), os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("priming the pipe: %v", err)
	}
	f.Close()
}

func TestTrustedOwner(t *testing.T) {
	t.Parallel()
	sid := func(s string) *windows.SID {
		t.Helper()
		v, err := windows.StringToSid(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	user := sid("S-1-5-21-1004336348-1177238915-682003330-1001")
	tests := []struct {
		owner string
		want  bool
	}{
		{"S-1-5-21-1004336348-1177238915-682003330-1001", true},
		{"S-1-5-32-544", true}, // Administrators: an elevated tray
		{"S-1-5-18", true},     // SYSTEM
		{"S-1-5-21-1004336348-1177238915-682003330-1002", false}, // another user
		{"S-1-1-0", false}, // Everyone
	}
	for _, tt := range tests {
		if got := trustedOwner(sid(tt.owner), user); got != tt.want {
			t.Errorf("trustedOwner(%s) = %v, want %v", tt.owner, got, tt.want)
		}
	}
}

// TestForeignPipeIsNoTray: a pipe of our name that another account created
// (here: owned by Everyone, which Wine lets a process set) counts as no
// tray, and the helper never talks to it.
func TestForeignPipeIsNoTray(t *testing.T) {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("feedkey-control-test-foreign-%d", os.Getpid()), "control.sock")
	ln, err := winio.ListenPipe(pipeName(path), &winio.PipeConfig{SecurityDescriptor: "O:WDD:P(A;;GA;;;WD)"})
	if err != nil {
		t.Skipf("this Windows does not let a process create a pipe owned by Everyone (%v); Wine does, where CI runs this", err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	primeWinePipe(t, path)
	_, err = (&Client{Path: path}).Ping(context.Background())
	if !errors.Is(err, ErrNoServer) || !strings.Contains(err.Error(), "not to you") {
		t.Fatalf("Ping of a foreign pipe: %v, want ErrNoServer naming the owner", err)
	}
}
