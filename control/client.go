package control

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"time"

	"github.com/feedkey/feedkey/auth/untrusted"
)

// shortOpTimeout bounds ping and show, which the tray answers at once.
const shortOpTimeout = 5 * time.Second

// answerGrace is how long past the requested wait the client still waits for
// the tray's answer (the tray answers "timeout" at the wait).
const answerGrace = 10 * time.Second

// Client talks to the tray's control socket. Its zero value is ready and
// uses [Path]. A Client is safe for concurrent use; each call is one
// connection.
type Client struct {
	// Path is the socket path; empty means [Path]().
	Path string
	// Dial connects to the socket; nil means a unix socket (a named pipe on
	// Windows, whatever network says). Tests may replace it.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Credential asks the tray for the credential of service (the URL or host as
// pip passed it), letting the tray run a sign-in for up to wait (0 means the
// tray's limit). Errors: [ErrNoServer] when no tray runs, [*Error] when the
// tray answers a failure (errors.Is matches [ErrSignInNeeded], [ErrDeclined],
// [ErrUnknownFeed], [ErrTimeout]).
//
// If onPrompt is not nil, the tray reports each sign-in it starts for the
// request, and the wait runs until that sign-in's code expires.
func (c *Client) Credential(ctx context.Context, service string, wait time.Duration, onPrompt func(Prompt)) (user, password string, err error) {
	secs := int((wait + time.Second - 1) / time.Second)
	limit := wait
	if limit <= 0 {
		limit = DefaultMaxWait
	}
	var a answer
	req := request{Op: opCredential, Service: service, Wait: secs, Progress: onPrompt != nil}
	if err := c.exchange(ctx, req, limit+answerGrace, &a, onPrompt); err != nil {
		return "", "", err
	}
	return a.Username, a.Password, nil
}

// TrayHungEnv is set to 1 in the environment of a helper run that another
// one hands a call on to after the tray did not answer it in time: the run
// need not wait for the tray again.
const TrayHungEnv = "FEEDKEY_TRAY_HUNG"

// Lookup asks the tray for the credential of service from its memory: it
// answers at once or not at all. Errors: [ErrNoServer] when no tray runs,
// [ErrMiss] (read the store instead), [ErrUnknownFeed] (no feed covers it).
// Bound ctx tightly: a tray that does not answer at once counts as none.
func (c *Client) Lookup(ctx context.Context, service string) (user, password, kind string, err error) {
	var a answer
	if err := c.do(ctx, request{Op: opLookup, Service: service}, shortOpTimeout, &a); err != nil {
		return "", "", "", err
	}
	return a.Username, a.Password, a.Kind, nil
}

// StartRefresh asks the tray to refresh the credential for service in the
// background, and returns as soon as the tray has the request. Bound ctx
// tightly: a tray that does not answer at once should count as none.
func (c *Client) StartRefresh(ctx context.Context, service string) error {
	var a answer
	return c.do(ctx, request{Op: opRefresh, Service: service}, shortOpTimeout, &a)
}

// Ping asks whether a tray is running and returns its process id.
func (c *Client) Ping(ctx context.Context) (pid int, err error) {
	var a answer
	if err := c.do(ctx, request{Op: opPing}, shortOpTimeout, &a); err != nil {
		return 0, err
	}
	return a.PID, nil
}

// Show asks the running tray to announce itself (a second start does this).
func (c *Client) Show(ctx context.Context) error {
	var a answer
	return c.do(ctx, request{Op: opShow}, shortOpTimeout, &a)
}

// Reload asks the running tray to re-read the config and keychain, after the
// CLI changed them.
func (c *Client) Reload(ctx context.Context) error {
	var a answer
	return c.do(ctx, request{Op: opReload}, shortOpTimeout, &a)
}

// do sends req on a fresh connection and decodes the answer into a, within
// timeout or ctx, whichever ends first.
func (c *Client) do(ctx context.Context, req request, timeout time.Duration, a *answer) error {
	return c.exchange(ctx, req, timeout, a, nil)
}

// exchange is do, passing prompt lines before the answer to onPrompt; each
// one moves the deadline to its expiry (plus the grace).
func (c *Client) exchange(ctx context.Context, req request, timeout time.Duration, a *answer, onPrompt func(Prompt)) error {
	path := c.Path
	if path == "" {
		p, err := Path()
		if err != nil {
			return err
		}
		path = p
	}
	dial := c.Dial
	if dial == nil {
		if err := checkDir(filepath.Dir(path)); err != nil {
			return err
		}
		dial = dialSocket
	}
	conn, err := dial(ctx, "unix", path)
	if err != nil {
		// Whatever keeps us from connecting (nothing listens, a stale
		// socket, no AF_UNIX at all: WSAEAFNOSUPPORT on older Windows and
		// Wine), no tray can answer: callers fall back to working alone,
		// and a tray starting up takes the place.
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w (%s: %v)", ErrNoServer, path, err)
	}
	defer conn.Close()
	// Closing the connection on ctx's end unblocks the read below; the tray
	// takes the disconnect as a cancellation.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	deadline := time.Now().Add(timeout)
	conn.SetDeadline(deadline)

	if _, err := conn.Write(append(req.appendJSON(nil), '\n')); err != nil {
		return c.ioErr(ctx, req.Op, err)
	}
	dec := json.NewDecoder(io.LimitReader(conn, maxAnswer))
	for {
		*a = answer{}
		if err := dec.Decode(a); err != nil {
			return c.ioErr(ctx, req.Op, err)
		}
		if a.Prompt == nil {
			break
		}
		if onPrompt == nil {
			return fmt.Errorf("feedkey tray sent a prompt to a %s request that did not ask for one", req.Op)
		}
		p, ok := a.Prompt.clean()
		if !ok {
			return fmt.Errorf("feedkey tray sent a sign-in link that is not an https page")
		}
		if end := promptEnd(p, time.Now()).Add(answerGrace); end.After(deadline) {
			deadline = end
			conn.SetDeadline(deadline)
		}
		onPrompt(p)
	}
	if a.Error != "" || a.Code != "" {
		code := a.Code
		if code == "" {
			code = CodeFailed
		}
		return &Error{Code: code, Message: untrusted.OneLine(a.Error, 300)}
	}
	return nil
}

func (c *Client) ioErr(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err == io.EOF {
		return fmt.Errorf("feedkey tray closed the connection without answering %s", op)
	}
	return fmt.Errorf("asking the feedkey tray (%s): %w", op, err)
}
