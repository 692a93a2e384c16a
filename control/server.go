package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/feedkey/feedkey/auth/untrusted"
)

// DefaultMaxWait bounds a credential request when [Server.MaxWait] is zero.
const DefaultMaxWait = 120 * time.Second

// MaxPromptWait bounds how far a reported sign-in extends a credential
// request that asked for progress: a device code lives 15 minutes at most.
const MaxPromptWait = 20 * time.Minute

// promptEnd is when a request waiting on p should give up: the code's
// expiry, within MaxPromptWait of now.
func promptEnd(p Prompt, now time.Time) time.Time {
	if p.Expires <= 0 {
		return time.Time{}
	}
	if end, limit := time.Unix(p.Expires, 0), now.Add(MaxPromptWait); end.Before(limit) {
		return end
	}
	return now.Add(MaxPromptWait)
}

const (
	readTimeout  = 10 * time.Second // to receive the request line
	writeTimeout = 10 * time.Second // to send the answer line
)

// Handler answers the tray's side of the protocol. Its methods are called
// concurrently, one goroutine per connection.
type Handler interface {
	// Credential returns the credential for service (a URL or host as pip
	// passed it), signing in if needed, and calls report with each sign-in
	// that waits for the person. It must return soon after ctx is done:
	// ctx ends at the request's wait (moved to the expiry of a reported
	// code when the client asked for progress) or when the client
	// disconnects. Return (wrapped) ErrSignInNeeded, ErrDeclined,
	// ErrUnknownFeed or ErrTimeout to choose the answer's code; other
	// errors answer "failed". The error's text goes to the client on one
	// line: keep secrets out.
	Credential(ctx context.Context, service string, report func(Prompt)) (user, password string, err error)
	// Show makes the tray announce itself (a second start asked for it).
	Show(ctx context.Context)
}

// Reloader is implemented by handlers that re-read the config and keychain
// when asked: the CLI asks after it changed them (login, logout, add).
type Reloader interface {
	Reload(ctx context.Context)
}

// RefreshStarter is implemented by handlers that can refresh a credential in
// the background when asked: the helper served a token that is still valid
// but close to expiry, and must not wait for the refresh.
type RefreshStarter interface {
	// StartRefresh starts a refresh of the credential for service unless
	// one is running or a failure backoff is under way, and returns at once.
	StartRefresh(service string)
}

// Looker is implemented by handlers that answer from memory what they hold:
// the helper asks first, and reads the store only on a miss.
type Looker interface {
	// Lookup returns the credential that covers service if one is in
	// memory and can be served now, with its feed's kind. It must not
	// block on the network or the keychain. Errors: ErrUnknownFeed (no
	// feed covers it), anything else counts as a miss.
	Lookup(service string) (user, password, kind string, err error)
}

// Server serves the control socket. Set the fields, then call [Server.Listen]
// and [Server.Serve] (Serve listens itself if Listen was not called).
type Server struct {
	// Path is the socket path; empty means [Path](). Listen fills it in.
	Path    string
	Handler Handler
	// MaxWait bounds how long a credential request may wait; 0 means
	// DefaultMaxWait. A request's own "wait" can only shorten it.
	MaxWait time.Duration
	// Logf, if set, gets one line per rejected connection. Nothing secret
	// is ever logged.
	Logf func(format string, args ...any)

	mu sync.Mutex
	ln net.Listener
}

// Listen creates the socket directory (0700), refuses to start with
// [ErrRunning] if a live server answers on the path (single instance: dial
// before you listen), then listens: on Unix it removes a stale socket file
// and makes the socket 0600; on Windows it creates the named pipe that
// stands for the path, open to the current user only.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return errors.New("control socket: already listening")
	}
	if s.Path == "" {
		p, err := Path()
		if err != nil {
			return err
		}
		s.Path = p
	}
	if err := prepareDir(filepath.Dir(s.Path)); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	pid, err := (&Client{Path: s.Path}).Ping(ctx)
	switch {
	case err == nil:
		return fmt.Errorf("%w (pid %d)", ErrRunning, pid)
	case !errors.Is(err, ErrNoServer):
		// Something accepted the connection but did not answer like a tray
		// (a hung tray?): don't pull the socket from under it.
		return fmt.Errorf("%w: %s accepts connections but does not answer: %w", ErrRunning, s.Path, err)
	}
	ln, err := listen(s.Path)
	if err != nil {
		return err
	}
	s.ln = ln
	return nil
}

// Serve accepts connections until ctx is done or [Server.Close] is called,
// then waits for the connections in flight (their contexts are cancelled)
// and returns nil.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
		s.mu.Lock()
		ln = s.ln
		s.mu.Unlock()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Out of file descriptors and the like: back off as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveConn(ctx, conn)
		}()
	}
}

// Close stops listening and removes the socket file; Serve then returns.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Close()
}

func (s *Server) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

// serveConn answers one request on conn.
func (s *Server) serveConn(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	// Identify the peer once, before reading a byte (SPEC §8).
	if err := checkPeer(conn); err != nil {
		s.logf("control socket: rejected a connection: %v", err)
		return
	}
	conn.SetReadDeadline(time.Now().Add(readTimeout))
	req, err := readRequest(conn)
	if err != nil {
		s.reply(conn, answer{Error: "bad request: " + untrusted.OneLine(err.Error(), 200), Code: CodeFailed})
		if errors.Is(err, errTooLarge) {
			// Closing with unread input resets the connection, and the
			// peer may lose the answer: drain a little first.
			conn.SetReadDeadline(time.Now().Add(time.Second))
			io.Copy(io.Discard, io.LimitReader(conn, 4*MaxRequest))
		}
		return
	}
	conn.SetReadDeadline(time.Time{})
	var a answer
	switch req.Op {
	case opPing:
		a = answer{OK: true, PID: os.Getpid()}
	case opShow:
		sctx, cancel := context.WithTimeout(ctx, shortOpTimeout)
		s.Handler.Show(sctx)
		cancel()
		a = answer{OK: true}
	case opReload:
		if r, ok := s.Handler.(Reloader); ok {
			sctx, cancel := context.WithTimeout(ctx, shortOpTimeout)
			r.Reload(sctx)
			cancel()
		}
		a = answer{OK: true}
	case opRefresh:
		if r, ok := s.Handler.(RefreshStarter); ok && req.Service != "" {
			r.StartRefresh(req.Service)
		}
		a = answer{OK: true}
	case opLookup:
		l, ok := s.Handler.(Looker)
		if !ok || req.Service == "" {
			a = answer{Error: "lookup not served", Code: CodeMiss}
			break
		}
		user, password, kind, err := l.Lookup(req.Service)
		switch {
		case errors.Is(err, ErrUnknownFeed):
			a = errorAnswer(err)
		case err != nil:
			a = answer{Error: untrusted.OneLine(err.Error(), 300), Code: CodeMiss}
		default:
			a = answer{Username: user, Password: password, Kind: kind}
		}
	case opCredential:
		var ok bool
		if a, ok = s.credential(ctx, conn, req); !ok {
			return // the client left; nobody to answer
		}
	default:
		a = answer{Error: "unknown op " + untrusted.OneLine(fmt.Sprintf("%q", req.Op), 40), Code: CodeFailed}
	}
	s.reply(conn, a)
}

// credential runs the handler within the request's wait, cancelling it when
// the client disconnects. ok is false when there is nobody left to answer.
func (s *Server) credential(ctx context.Context, conn net.Conn, req request) (a answer, ok bool) {
	if req.Service == "" {
		return answer{Error: "bad request: no service", Code: CodeFailed}, true
	}
	wait := s.MaxWait
	if wait <= 0 {
		wait = DefaultMaxWait
	}
	if req.Wait > 0 && int64(req.Wait) < int64(wait/time.Second) {
		wait = time.Duration(req.Wait) * time.Second
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var deadlineMu sync.Mutex
	deadline := time.Now().Add(wait)
	timer := time.AfterFunc(wait, cancel)
	defer timer.Stop()
	report := func(p Prompt) {
		deadlineMu.Lock()
		defer deadlineMu.Unlock()
		if !req.Progress {
			return
		}
		if end := promptEnd(p, time.Now()); end.After(deadline) && ctx.Err() == nil {
			deadline = end
			timer.Reset(time.Until(end))
		}
		s.reply(conn, answer{Prompt: &p})
	}

	// The client sends nothing after its request line, so a read returns
	// only when it disconnects (or half-closes: the protocol does not
	// allow that). Either way the handler should stop.
	var gone = make(chan struct{})
	go func() {
		defer close(gone)
		var b [512]byte
		for {
			if _, err := conn.Read(b[:]); err != nil {
				cancel()
				return
			}
		}
	}()

	type result struct {
		user, password string
		err            error
	}
	done := make(chan result, 1) // the handler may finish after we answered
	go func() {
		u, p, err := s.Handler.Credential(ctx, req.Service, report)
		done <- result{u, p, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		r.err = ctx.Err()
	}
	if r.err != nil && ctx.Err() != nil {
		// The wait ended (or the client left, checked below); what the
		// handler made of its cancelled context does not matter.
		r.err = ErrTimeout
	}
	// No prompt line may follow the answer.
	deadlineMu.Lock()
	req.Progress = false
	deadlineMu.Unlock()
	select {
	case <-gone:
		return answer{}, false
	default:
	}
	if r.err != nil {
		return errorAnswer(r.err), true
	}
	return answer{Username: r.user, Password: r.password}, true
}

// errorAnswer maps a handler error to its wire code and one-line message.
func errorAnswer(err error) answer {
	code := CodeFailed
	switch {
	case errors.Is(err, ErrSignInNeeded):
		code = CodeSignInNeeded
	case errors.Is(err, ErrDeclined):
		code = CodeDeclined
	case errors.Is(err, ErrUnknownFeed):
		code = CodeUnknownFeed
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		code = CodeTimeout
		if errors.Is(err, context.DeadlineExceeded) {
			err = ErrTimeout
		}
	}
	return answer{Error: untrusted.OneLine(err.Error(), 300), Code: code}
}

var errTooLarge = fmt.Errorf("request larger than %d bytes", MaxRequest)

// readRequest reads one bounded request line.
func readRequest(r io.Reader) (request, error) {
	var req request
	line, err := bufio.NewReaderSize(r, MaxRequest).ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return req, errTooLarge
	case errors.Is(err, io.EOF) && len(line) > 0:
		// A last line without its newline is still a request.
	case err != nil:
		return req, err
	}
	if err := json.Unmarshal(line, &req); err != nil {
		return req, err
	}
	return req, nil
}

func (s *Server) reply(conn net.Conn, a answer) {
	line, err := json.Marshal(a)
	if err != nil {
		return
	}
	conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	conn.Write(append(line, '\n'))
}
