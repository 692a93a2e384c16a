package control

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const helperSockEnv = "FEEDKEY_CONTROL_TEST_SOCK"

// TestPeerOtherUIDIsRejected connects as nobody (uid 65534) through a copy
// of this test binary and checks the server closes without answering.
func TestPeerOtherUIDIsRejected(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as another uid")
	}
	// Only in this test is the tree open to other users: the socket's own
	// checks must then be what keeps nobody out.
	base, err := os.MkdirTemp("", "fkpeer")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	var mu sync.Mutex
	var logs []string
	h := &fakeHandler{}
	s := start(t, &Server{
		Path:    filepath.Join(base, "d", "control.sock"),
		Handler: h,
		Logf: func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			logs = append(logs, fmt.Sprintf(format, args...))
		},
	})
	for _, p := range []string{base, filepath.Dir(s.Path)} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(s.Path, 0o666); err != nil {
		t.Fatal(err)
	}
	// The go build cache is 0700: copy the test binary where nobody can run it.
	bin := filepath.Join(base, "control.test")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}

	run := func(cred *syscall.Credential) string {
		cmd := exec.Command(bin, "-test.run=^TestHelperDial$", "-test.v")
		cmd.Env = append(os.Environ(), helperSockEnv+"="+s.Path)
		cmd.Dir = base
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helper: %v\n%s", err, out)
		}
		return string(out)
	}

	// As ourselves the helper gets an answer: the harness works.
	if out := run(nil); !strings.Contains(out, `uid=0 answer="{\"username\"`) {
		t.Fatalf("helper as root:\n%s", out)
	}
	calls := h.calls.Load()

	out := run(&syscall.Credential{Uid: 65534, Gid: 65534})
	if !strings.Contains(out, `uid=65534 answer=""`) {
		t.Errorf("helper as nobody got an answer:\n%s", out)
	}
	if n := h.calls.Load(); n != calls {
		t.Errorf("handler ran for the other user's request")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logs) != 1 || !strings.Contains(logs[0], "peer uid 65534 is not ours") {
		t.Errorf("logs = %q", logs)
	}
}

// TestHelperDial is the client side of TestPeerOtherUIDIsRejected.
func TestHelperDial(t *testing.T) {
	path := os.Getenv(helperSockEnv)
	if path == "" {
		t.Skip("helper for TestPeerOtherUIDIsRejected")
	}
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("dial as uid %d: %v", os.Getuid(), err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	// A rejected peer may find the connection closed before it writes.
	_, werr := conn.Write([]byte(`{"op":"credential","service":"https://x.example/simple/"}` + "\n"))
	got, err := io.ReadAll(conn)
	fmt.Printf("uid=%d answer=%q write=%v read=%v\n", os.Getuid(), got, werr, err)
}
