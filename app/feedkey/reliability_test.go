//go:build linux

package main_test

import (
	"encoding/json"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/feedkey/feedkey/internal/testbin"
	"github.com/feedkey/feedkey/simulator"
)

// skewedPPM is a Package Manager whose clock runs behind or ahead of ours by
// a settable offset: tokens it issues can be made stale or expired on
// feedkey's clock.
func skewedPPM() (*simulator.PPM, *atomic.Int64) {
	var offset atomic.Int64
	ppm := &simulator.PPM{
		Interval:        1,
		IDTokenLifetime: 48 * time.Hour,
		Now:             func() time.Time { return time.Now().Add(time.Duration(offset.Load())) },
	}
	return ppm, &offset
}

// signIn adds the world's feed and signs in through the device flow.
func (w *positWorld) signIn() string {
	w.t.Helper()
	r := w.feedkey("add", w.url)
	if r.Code != 0 {
		w.t.Fatalf("add = %d %q", r.Code, r.Stderr)
	}
	id := strings.Fields(strings.TrimPrefix(r.Stdout, "Added posit feed "))[0]
	if r := w.feedkey("login", id); r.Code != 0 {
		w.t.Fatalf("login = %d %q", r.Code, r.Stderr)
	}
	return id
}

// parallel runs n copies of a command at once and returns their results.
func parallel(t *testing.T, n int, env []string, exe string, args ...string) []testbin.Result {
	t.Helper()
	results := make([]testbin.Result, n)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i] = testbin.Run(t, env, "", exe, args...) })
	}
	wg.Wait()
	return results
}

// TestOneRefreshPerMachine: 30 callers at once for one stale or expired
// credential (uv runs helpers in parallel, CI runs many jobs) make one
// refresh call, and every caller gets the new token.
func TestOneRefreshPerMachine(t *testing.T) {
	for _, tc := range []struct {
		name   string
		skew   time.Duration // how far behind the server's clock is at sign-in
		helper bool
	}{
		// 4 minutes left: `feedkey token` wants 5.
		{"feedkey token, stale", -56 * time.Minute, false},
		// Expired: the helper waits for `feedkey token`.
		{"helper, expired", -61 * time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ppm, offset := skewedPPM()
			w := newPositWorld(t, ppm)
			w.setenv("CI", "true") // no tray: the helper runs `feedkey token`
			offset.Store(int64(tc.skew))
			w.signIn()
			offset.Store(0)
			exe, args := w.bin.Feedkey, []string{"token", w.url}
			if tc.helper {
				exe, args = w.bin.Keyring, []string{"get", w.url, "__token__"}
			}
			before := ppm.Exchanges()
			results := parallel(t, 30, w.env, exe, args...)
			for _, r := range results {
				if r.Code != 0 || r.Stdout != results[0].Stdout || r.Stdout == "" {
					t.Fatalf("a caller got exit %d %q %q; the first got %q", r.Code, r.Stdout, r.Stderr, results[0].Stdout)
				}
			}
			if got := ppm.Exchanges() - before; got != 1 {
				t.Errorf("30 parallel callers made %d refresh calls, want 1", got)
			}
			t.Logf("30 parallel callers: %d refresh call(s)", ppm.Exchanges()-before)
		})
	}
}

// TestValidTokenNeverWaitsOnAFrozenTray: a tray that accepts connections
// and never answers (stopped, hung) must not delay a token that is still
// valid: the helper serves it at once and starts a refresh beside it.
func TestValidTokenNeverWaitsOnAFrozenTray(t *testing.T) {
	ppm, offset := skewedPPM()
	w := newPositWorld(t, ppm)
	offset.Store(int64(-56 * time.Minute)) // 4 minutes left
	id := w.signIn()
	offset.Store(0)
	stored := storedSecret(t, w, id)

	// A frozen peer on the tray's socket.
	runtime := t.TempDir()
	os.Chmod(runtime, 0o700)
	os.Mkdir(filepath.Join(runtime, "feedkey"), 0o700)
	ln, err := net.Listen("unix", filepath.Join(runtime, "feedkey", "control.sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // read nothing, answer nothing
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	})
	w.setenv("XDG_RUNTIME_DIR", runtime)
	w.setenv("CI", "")
	w.setenv("FEEDKEY_NONINTERACTIVE", "")

	before := ppm.Exchanges()
	start := time.Now()
	r := testbin.Run(t, w.env, "", w.bin.Keyring, "get", w.url, "__token__")
	took := time.Since(start)
	if r.Code != 0 || r.Stdout != stored+"\n" {
		t.Fatalf("get = %d %q %q, want the stored token", r.Code, r.Stdout, r.Stderr)
	}
	if took >= time.Second {
		t.Errorf("the helper took %s to serve a valid token with a frozen tray, want < 1 s", took)
	}
	t.Logf("helper answered in %s with a frozen tray", took.Round(time.Millisecond))
	// The refresh beside it lands in the store.
	waitFor(t, func() bool { return ppm.Exchanges() > before && storedSecret(t, w, id) != stored })
}

// storedSecret reads the secret of a feed's record as the helper would,
// straight from the Secret Service (the record is small enough to inline).
func storedSecret(t *testing.T, w *positWorld, feedID string) string {
	t.Helper()
	r := w.feedkey("status", "--json")
	var st struct {
		Feeds []struct{ ID, Credential string }
	}
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		t.Fatalf("status --json: %v %q", err, r.Stdout)
	}
	for _, f := range st.Feeds {
		if f.ID == feedID {
			raw, found, err := session.Lookup("feedkey:"+f.Credential, "credential")
			if err != nil || !found {
				t.Fatalf("lookup %s: %v %v", f.Credential, found, err)
			}
			var rec struct{ Secret string }
			json.Unmarshal([]byte(raw), &rec)
			return rec.Secret
		}
	}
	t.Fatalf("no feed %s in %s", feedID, r.Stdout)
	return ""
}

// TestKilledRefreshesLeaveNoOrphans: refreshes of a chunked credential (an
// Azure one carries MSAL's cache) killed at random points leave the
// credential whole, and the next successful refresh leaves no chunk of any
// other generation in the keychain.
func TestKilledRefreshesLeaveNoOrphans(t *testing.T) {
	w := newAzureWorld(t, nil)
	w.must("add", w.feedURL("contoso"))
	w.must("login", "contoso")
	var st struct {
		Feeds []struct{ Credential string }
	}
	json.Unmarshal([]byte(w.must("status", "--json").Stdout), &st)
	svc := "feedkey:" + st.Feeds[0].Credential

	for range 30 {
		cmd := exec.Command(w.bin.Feedkey, "refresh", "contoso-py")
		cmd.Env = w.env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.IntN(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	if r := w.feedkey("token", w.feedURL("contoso")); r.Code != 0 || r.Stdout == "" {
		t.Fatalf("after the kills: token = %d %q", r.Code, r.Stderr)
	}
	w.must("refresh", "contoso-py")

	items, err := w.bus.Items(svc)
	if err != nil {
		t.Fatal(err)
	}
	raw, _, err := w.bus.Lookup(svc, "credential")
	if err != nil {
		t.Fatal(err)
	}
	var head struct {
		Gen    int64
		Chunks int
	}
	json.Unmarshal([]byte(raw), &head)
	if head.Chunks == 0 {
		t.Fatalf("the Azure record is not chunked (%d bytes): the test proves nothing", len(raw))
	}
	orphans := 0
	for _, it := range items {
		if acct := it["username"]; acct != "credential" && !strings.HasPrefix(acct, "chunk-"+strconv.FormatInt(head.Gen, 10)+"-") {
			orphans++
		}
	}
	if orphans != 0 || len(items) != 1+head.Chunks {
		t.Errorf("after 30 killed refreshes and one good one: %d items, %d orphaned, want 1 + %d chunks", len(items), orphans, head.Chunks)
	}
	t.Logf("after 30 killed refreshes and one good one: %d items, %d orphaned chunks", len(items), orphans)
	if r := w.feedkey("doctor"); strings.Contains(r.Stdout, "orphan") {
		t.Errorf("doctor still reports orphans: %s", r.Stdout)
	}
}
