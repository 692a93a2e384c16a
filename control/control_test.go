package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeHandler is a Handler whose Credential is a knob.
type fakeHandler struct {
	credential func(ctx context.Context, service string, report func(Prompt)) (string, string, error)
	calls      atomic.Int32
	shows      atomic.Int32
}

func (h *fakeHandler) Credential(ctx context.Context, service string, report func(Prompt)) (string, string, error) {
	h.calls.Add(1)
	if h.credential == nil {
		return "feedkey", "token-for-" + service, nil
	}
	return h.credential(ctx, service, report)
}

func (h *fakeHandler) Show(context.Context) { h.shows.Add(1) }

// sockPath returns a socket path in a fresh short directory (sun_path is
// about 100 bytes, so t.TempDir's long names don't fit) whose parent
// Listen must create.
func sockPath(t *testing.T) string {
	t.Helper()
	base, err := os.MkdirTemp("", "fkc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	return filepath.Join(base, "feedkey", "control.sock")
}

// start runs s until the test ends.
func start(t *testing.T, s *Server) *Server {
	t.Helper()
	if s.Path == "" {
		s.Path = sockPath(t)
	}
	if err := s.Listen(); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	return s
}

func TestRoundTrip(t *testing.T) {
	h := &fakeHandler{}
	s := start(t, &Server{Handler: h})
	c := &Client{Path: s.Path}
	ctx := context.Background()

	svc := "https://pkgs.dev.azure.com/contoso/_packaging/f/pypi/simple/"
	user, pass, err := c.Credential(ctx, svc, 30*time.Second, nil)
	if err != nil {
		t.Fatalf("Credential: %v", err)
	}
	if user != "feedkey" || pass != "token-for-"+svc {
		t.Errorf("Credential = %q, %q", user, pass)
	}
	pid, err := c.Ping(ctx)
	if err != nil || pid != os.Getpid() {
		t.Errorf("Ping = %d, %v; want %d", pid, err, os.Getpid())
	}
	if err := c.Show(ctx); err != nil {
		t.Errorf("Show: %v", err)
	}
	if n := h.shows.Load(); n != 1 {
		t.Errorf("handler Show called %d times, want 1", n)
	}
}

func TestErrorCodes(t *testing.T) {
	tests := []struct {
		err      error
		code     string
		sentinel error
	}{
		{fmt.Errorf("contoso: %w", ErrSignInNeeded), CodeSignInNeeded, ErrSignInNeeded},
		{ErrDeclined, CodeDeclined, ErrDeclined},
		{fmt.Errorf("no feed for x: %w", ErrUnknownFeed), CodeUnknownFeed, ErrUnknownFeed},
		{ErrTimeout, CodeTimeout, ErrTimeout},
		{context.DeadlineExceeded, CodeTimeout, ErrTimeout},
		{errors.New("token endpoint said 500\nsecond line"), CodeFailed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			h := &fakeHandler{credential: func(context.Context, string, func(Prompt)) (string, string, error) {
				return "", "", tt.err
			}}
			s := start(t, &Server{Handler: h})
			_, _, err := (&Client{Path: s.Path}).Credential(context.Background(), "x", time.Second, nil)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if e.Code != tt.code {
				t.Errorf("Code = %q, want %q", e.Code, tt.code)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.sentinel)
			}
			if strings.ContainsAny(e.Message, "\n\r") {
				t.Errorf("Message %q is not one line", e.Message)
			}
		})
	}
}

func TestWaitIsBounded(t *testing.T) {
	// How long the handler's context lasted; the bounds below are far
	// apart (200 ms or 1 s against a minute or an hour) for a loaded machine.
	deadlines := make(chan time.Duration, 1)
	h := &fakeHandler{credential: func(ctx context.Context, _ string, _ func(Prompt)) (string, string, error) {
		t0 := time.Now()
		<-ctx.Done()
		deadlines <- time.Since(t0)
		return "", "", ctx.Err()
	}}

	// MaxWait below the request's wait: the server's bound wins.
	s := start(t, &Server{Handler: h, MaxWait: 200 * time.Millisecond})
	t0 := time.Now()
	_, _, err := (&Client{Path: s.Path}).Credential(context.Background(), "x", time.Minute, nil)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if el := time.Since(t0); el > 5*time.Second {
		t.Errorf("took %v with MaxWait 200ms", el)
	}
	if d := <-deadlines; d > 20*time.Second {
		t.Errorf("handler ran %v, want about 200ms", d)
	}

	// The request's wait below MaxWait: the request wins.
	s2 := start(t, &Server{Handler: h, MaxWait: time.Hour})
	_, _, err = (&Client{Path: s2.Path}).Credential(context.Background(), "x", time.Second, nil)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if d := <-deadlines; d > 30*time.Second {
		t.Errorf("handler ran %v, want about 1s", d)
	}
}

// TestPromptProgress: a client that asks for progress gets each sign-in the
// handler reports, cleaned, and waits until the code expires rather than the
// request's wait; a client that does not ask gets only the answer.
func TestPromptProgress(t *testing.T) {
	t.Parallel()
	approve := make(chan struct{})
	h := &fakeHandler{credential: func(ctx context.Context, _ string, report func(Prompt)) (string, string, error) {
		report(Prompt{Feed: "team\x1b[2J", URL: "https://login.example/device", Code: "ABCD-EFGH", Expires: time.Now().Add(10 * time.Minute).Unix()})
		select {
		case <-approve:
			return "u", "secret", nil
		case <-ctx.Done():
			return "", "", ctx.Err()
		}
	}}
	s := start(t, &Server{Handler: h, MaxWait: time.Hour})
	var got []Prompt
	prompted := make(chan struct{})
	go func() {
		<-prompted
		// Past the request's 1 s wait: the code's expiry counts now.
		time.Sleep(1500 * time.Millisecond)
		close(approve)
	}()
	user, pass, err := (&Client{Path: s.Path}).Credential(context.Background(), "x", time.Second, func(p Prompt) {
		got = append(got, p)
		close(prompted)
	})
	if err != nil || user != "u" || pass != "secret" {
		t.Fatalf("Credential = %q, %q, %v; want u, secret", user, pass, err)
	}
	if len(got) != 1 || got[0].Code != "ABCD-EFGH" || got[0].URL != "https://login.example/device" || strings.ContainsRune(got[0].Feed, 0x1b) {
		t.Fatalf("prompts = %+v", got)
	}
	if line := got[0].Text(time.Now()); !strings.Contains(line, "ABCD-EFGH") || !strings.Contains(line, "https://login.example/device") || !strings.Contains(line, "m left") {
		t.Errorf("Text = %q, want the link, the code and the time left", line)
	}

	// Without progress: the prompt is not sent and the request's own wait holds.
	approve2 := make(chan struct{})
	defer close(approve2)
	h.credential = func(ctx context.Context, _ string, report func(Prompt)) (string, string, error) {
		report(Prompt{Feed: "team", URL: "https://login.example/device", Code: "X", Expires: time.Now().Add(10 * time.Minute).Unix()})
		select {
		case <-approve2:
		case <-ctx.Done():
		}
		return "", "", ctx.Err()
	}
	if _, _, err := (&Client{Path: s.Path}).Credential(context.Background(), "x", time.Second, nil); !errors.Is(err, ErrTimeout) {
		t.Errorf("without progress: err = %v, want ErrTimeout at the request's wait", err)
	}
}

// TestHostilePrompt: a prompt whose link is not an https page ends the
// request; nothing reaches the caller's onPrompt.
func TestHostilePrompt(t *testing.T) {
	t.Parallel()
	h := &fakeHandler{credential: func(ctx context.Context, _ string, report func(Prompt)) (string, string, error) {
		report(Prompt{Feed: "team", URL: "file:///etc/passwd", Code: "X"})
		<-ctx.Done()
		return "", "", ctx.Err()
	}}
	s := start(t, &Server{Handler: h})
	called := false
	_, _, err := (&Client{Path: s.Path}).Credential(context.Background(), "x", 5*time.Second, func(Prompt) { called = true })
	if err == nil || called {
		t.Errorf("err = %v, onPrompt called = %v; want an error and no call", err, called)
	}
}

func TestHandlerIgnoringContextStillTimesOut(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	h := &fakeHandler{credential: func(context.Context, string, func(Prompt)) (string, string, error) {
		<-release
		return "late", "late", nil
	}}
	s := start(t, &Server{Handler: h, MaxWait: 100 * time.Millisecond})
	_, _, err := (&Client{Path: s.Path}).Credential(context.Background(), "x", 0, nil)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
}

func TestClientDisconnectCancelsHandler(t *testing.T) {
	entered := make(chan struct{})
	handlerErr := make(chan error, 1)
	h := &fakeHandler{credential: func(ctx context.Context, _ string, _ func(Prompt)) (string, string, error) {
		close(entered)
		<-ctx.Done()
		handlerErr <- ctx.Err()
		return "", "", ctx.Err()
	}}
	s := start(t, &Server{Handler: h})

	ctx, cancel := context.WithCancel(context.Background())
	clientErr := make(chan error, 1)
	go func() {
		_, _, err := (&Client{Path: s.Path}).Credential(ctx, "x", time.Minute, nil)
		clientErr <- err
	}()
	<-entered
	cancel()
	select {
	case err := <-handlerErr:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("handler ctx.Err() = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler's context was not cancelled after the client left")
	}
	if err := <-clientErr; !errors.Is(err, context.Canceled) {
		t.Errorf("client err = %v, want context.Canceled", err)
	}
}

// rawExchange sends payload on a fresh connection and returns what comes back.
func rawExchange(t *testing.T, path string, payload []byte) []byte {
	t.Helper()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	go conn.Write(payload) // may block past the server's bound; the close ends it
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("reading answer: %v", err)
	}
	return got
}

func decodeAnswer(t *testing.T, b []byte) answer {
	t.Helper()
	var a answer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("answer %q: %v", b, err)
	}
	return a
}

func TestBadRequests(t *testing.T) {
	h := &fakeHandler{}
	s := start(t, &Server{Handler: h})
	tests := []struct {
		name    string
		payload []byte
		want    string // in the error message
	}{
		{"oversized", []byte(`{"op":"credential","service":"` + strings.Repeat("a", MaxRequest) + "\"}\n"), "larger than"},
		{"oversized without newline", []byte(strings.Repeat("a", MaxRequest+1)), "larger than"},
		{"not json", []byte("hello\n"), "bad request"},
		{"unknown op", []byte(`{"op":"erase"}` + "\n"), "unknown op"},
		{"no service", []byte(`{"op":"credential"}` + "\n"), "no service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := decodeAnswer(t, rawExchange(t, s.Path, tt.payload))
			if a.Code != CodeFailed || !strings.Contains(a.Error, tt.want) {
				t.Errorf("answer = %+v, want code failed and %q", a, tt.want)
			}
		})
	}
	if n := h.calls.Load(); n != 0 {
		t.Errorf("handler called %d times for bad requests", n)
	}
}

func TestLastLineWithoutNewline(t *testing.T) {
	s := start(t, &Server{Handler: &fakeHandler{}})
	conn, err := net.Dial("unix", s.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	conn.Write([]byte(`{"op":"ping"}`))
	conn.(*net.UnixConn).CloseWrite()
	a := decodeAnswer(t, must(io.ReadAll(conn)))
	if !a.OK || a.PID != os.Getpid() {
		t.Errorf("answer = %+v", a)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestNoServer(t *testing.T) {
	path := sockPath(t)
	c := &Client{Path: path}
	if _, err := c.Ping(context.Background()); !errors.Is(err, ErrNoServer) {
		t.Errorf("absent socket: err = %v, want ErrNoServer", err)
	}
	makeStale(t, path)
	if _, _, err := c.Credential(context.Background(), "x", time.Second, nil); !errors.Is(err, ErrNoServer) {
		t.Errorf("stale socket: err = %v, want ErrNoServer", err)
	}
}

// makeStale leaves a socket file at path that nobody listens on, as a
// crashed tray would.
func makeStale(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket file missing: %v", err)
	}
}

func TestSecondListenIsErrRunning(t *testing.T) {
	s := start(t, &Server{Handler: &fakeHandler{}})
	second := &Server{Path: s.Path, Handler: &fakeHandler{}}
	if err := second.Listen(); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Listen: err = %v, want ErrRunning", err)
	}
	// The first is untouched.
	if _, err := (&Client{Path: s.Path}).Ping(context.Background()); err != nil {
		t.Errorf("first server after second Listen: %v", err)
	}
}

func TestStaleSocketIsReplaced(t *testing.T) {
	path := sockPath(t)
	makeStale(t, path)
	s := start(t, &Server{Path: path, Handler: &fakeHandler{}})
	if _, err := (&Client{Path: s.Path}).Ping(context.Background()); err != nil {
		t.Errorf("Ping after replacing stale socket: %v", err)
	}
}

func TestNonSocketFileIsKept(t *testing.T) {
	path := sockPath(t)
	os.MkdirAll(filepath.Dir(path), 0o700)
	if err := os.WriteFile(path, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Server{Path: path, Handler: &fakeHandler{}}
	if err := s.Listen(); err == nil {
		s.Close()
		t.Fatal("Listen replaced a regular file")
	}
	if b, _ := os.ReadFile(path); string(b) != "mine" {
		t.Errorf("regular file changed to %q", b)
	}
}

func TestCloseRemovesSocket(t *testing.T) {
	path := sockPath(t)
	s := &Server{Path: path, Handler: &fakeHandler{}}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(context.Background()) }()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve after Close: %v", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file after Close: %v", err)
	}
}

func TestPathDefault(t *testing.T) {
	p, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p) != "control.sock" || !filepath.IsAbs(p) {
		t.Errorf("Path() = %q", p)
	}
}

type reloadHandler struct {
	fakeHandler
	reloads atomic.Int32
}

func (h *reloadHandler) Reload(context.Context) { h.reloads.Add(1) }

func TestReload(t *testing.T) {
	h := &reloadHandler{}
	s := start(t, &Server{Path: sockPath(t), Handler: h})
	if err := (&Client{Path: s.Path}).Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h.reloads.Load() != 1 {
		t.Errorf("reloads = %d", h.reloads.Load())
	}
	// A handler without Reload answers ok too: the CLI asks any tray.
	s2 := start(t, &Server{Path: sockPath(t), Handler: &fakeHandler{}})
	if err := (&Client{Path: s2.Path}).Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// lookerHandler answers lookups from a map.
type lookerHandler struct {
	fakeHandler
	creds map[string]string
}

func (h *lookerHandler) Lookup(service string) (string, string, string, error) {
	switch secret, ok := h.creds[service]; {
	case ok && secret != "":
		return "__token__", secret, "token", nil
	case ok:
		return "", "", "", errors.New("expired")
	}
	return "", "", "", ErrUnknownFeed
}

// TestLookup: a hit, a miss and an unknown service; a tray without lookups
// answers a miss.
func TestLookup(t *testing.T) {
	t.Parallel()
	s := start(t, &Server{Handler: &lookerHandler{creds: map[string]string{"https://a/": "tok", "https://b/": ""}}})
	c := &Client{Path: s.Path}
	ctx := context.Background()
	if user, pass, kind, err := c.Lookup(ctx, "https://a/"); err != nil || user != "__token__" || pass != "tok" || kind != "token" {
		t.Errorf("hit = %q %q %q %v", user, pass, kind, err)
	}
	if _, _, _, err := c.Lookup(ctx, "https://b/"); !errors.Is(err, ErrMiss) {
		t.Errorf("expired = %v, want ErrMiss", err)
	}
	if _, _, _, err := c.Lookup(ctx, "https://c/"); !errors.Is(err, ErrUnknownFeed) {
		t.Errorf("unknown = %v, want ErrUnknownFeed", err)
	}
	plain := start(t, &Server{Handler: &fakeHandler{}})
	if _, _, _, err := (&Client{Path: plain.Path}).Lookup(ctx, "https://a/"); !errors.Is(err, ErrMiss) {
		t.Errorf("a tray without lookups = %v, want ErrMiss", err)
	}
}

// TestWireByHand checks the client's hand-made request encoding and answer
// decoding against encoding/json's for the same types.
func TestWireByHand(t *testing.T) {
	t.Parallel()
	for _, req := range []request{
		{Op: opPing},
		{Op: opLookup, Service: "https://pypi.example/simple/"},
		{Op: opCredential, Service: "a \"quoted\" <html> & \u2028 \x01 service", Wait: 120, Progress: true},
		{Op: opCredential, Wait: -1},
	} {
		want, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		if got := req.appendJSON(nil); string(got) != string(want) {
			t.Errorf("appendJSON = %s, want %s", got, want)
		}
	}

	for _, a := range []answer{
		{},
		{OK: true, PID: 4242},
		{Username: "u\"ser", Password: "pa\\ss\nword", Kind: "azure"},
		{Error: "no \u00e9 way", Code: CodeMiss},
		{Prompt: &Prompt{Feed: "team", URL: "https://login.example/device", Code: "ABCD-EFGH", Expires: 1764392400}},
	} {
		line, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		got := answer{Kind: "left over"}
		if err := json.Unmarshal(line, &got); err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		if !reflect.DeepEqual(got, a) {
			t.Errorf("%s: decoded %+v", line, got)
		}
	}
	var a answer
	if err := json.Unmarshal([]byte(`{"ok":true,"later":{"field":[1,2]},"pid":7}`), &a); err != nil || !a.OK || a.PID != 7 {
		t.Errorf("an answer with a key this client does not know: %+v, %v", a, err)
	}
	for _, bad := range []string{`[]`, `{"ok":"yes"}`, `{"pid":1.5}`, `{"prompt":"x"}`, `{"ok":true`} {
		if err := json.Unmarshal([]byte(bad), new(answer)); err == nil {
			t.Errorf("%s: decoded without an error", bad)
		}
	}
}
