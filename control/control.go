// Package control is the tray's control socket: the server the tray runs and
// the client the helper uses to ask it for a credential (SPEC §6, §8).
//
// The wire protocol is one JSON request line and one JSON answer line per
// connection:
//
//	{"op":"credential","service":"https://pkgs.dev.azure.com/contoso/_packaging/f/pypi/simple/","wait":120,"progress":true}
//	→ {"prompt":{"feed":"contoso","url":"https://microsoft.com/devicelogin","code":"ABCD-EFGH","expires":1795000000}}   (zero or more, with "progress")
//	→ {"username":"...","password":"..."}
//	→ {"error":"sign-in declined","code":"declined"}
//	{"op":"ping"} → {"ok":true,"pid":1234}
//	{"op":"show"} → {"ok":true}
//	{"op":"reload"} → {"ok":true}
//	{"op":"refresh","service":"https://…"} → {"ok":true}   (answered at once; the refresh runs beside)
//	{"op":"lookup","service":"https://…"} → {"username":"...","password":"...","kind":"azure"}   (from memory, at once)
//	→ {"error":"...","code":"miss"}   (no usable credential in memory: read the store)
//	→ {"error":"...","code":"unknown_feed"}   (no feed covers the service)
//
// The helper links this package, so it must stay free of net/http and
// crypto/tls (see deps_test.go).
package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/feedkey/feedkey/auth/untrusted"
	"github.com/feedkey/feedkey/internal/jsonobj"
	"github.com/feedkey/feedkey/internal/timeleft"
)

// MaxRequest bounds a request line, newline included.
const MaxRequest = 64 << 10

// maxAnswer bounds the answer line the client reads.
const maxAnswer = 64 << 10

// Operation names on the wire.
const (
	opCredential = "credential"
	opPing       = "ping"
	opShow       = "show"
	opReload     = "reload"
	opRefresh    = "refresh"
	opLookup     = "lookup"
)

// Error codes on the wire, carried by [Error.Code].
const (
	CodeSignInNeeded = "signin_needed"
	CodeDeclined     = "declined"
	CodeUnknownFeed  = "unknown_feed"
	CodeTimeout      = "timeout"
	CodeFailed       = "failed"
	CodeMiss         = "miss"
)

// Sentinel errors. A [Handler] returns them (wrapped or not) to choose the
// answer's code; on the client side errors.Is matches an [*Error] against
// the sentinel of its code.
var (
	// ErrSignInNeeded: the feed needs a person to sign in and none could.
	ErrSignInNeeded = errors.New("sign-in needed: run `feedkey login` or use the tray menu")
	// ErrDeclined: the person declined the sign-in or the offer to add the feed.
	ErrDeclined = errors.New("sign-in declined")
	// ErrUnknownFeed: the service is not a configured or recognised feed.
	ErrUnknownFeed = errors.New("unknown feed: add it with `feedkey add URL`")
	// ErrTimeout: the credential was not ready within the wait.
	ErrTimeout = errors.New("timed out waiting for the sign-in")
	// ErrMiss: a lookup found no credential in the tray's memory that can
	// be served now; the store (or a credential request) may still have one.
	ErrMiss = errors.New("no usable credential in the tray's memory")

	// ErrNoServer: no tray is running (the socket is absent or refuses connections).
	ErrNoServer = errors.New("feedkey tray is not running")
	// ErrRunning: Listen found another live tray answering on the socket.
	ErrRunning = errors.New("feedkey tray is already running")
)

// UnsafeDirError means the socket directory is not this user's alone: another
// user created it first (the shared temporary directory is the fallback
// when XDG_RUNTIME_DIR is unset), or it is open to others. Nothing there can
// be trusted to be the tray, so the client treats it as no tray: it wraps
// [ErrNoServer].
type UnsafeDirError struct {
	Dir    string
	Reason string // e.g. "belongs to uid 1001"
	Listen bool   // the tray refused to listen there (else a client refused to dial)
}

// Error says what is wrong and what to do. It never advises removing the
// directory: it may be another user's.
func (e *UnsafeDirError) Error() string {
	consequence := "so the tray cannot be reached safely"
	if e.Listen {
		consequence = "so the tray will not listen there"
	}
	return fmt.Sprintf("the tray's socket directory %s %s, %s; set XDG_RUNTIME_DIR to a directory of your own (mode 0700)", e.Dir, e.Reason, consequence)
}

// Unwrap makes errors.Is(err, ErrNoServer) true.
func (e *UnsafeDirError) Unwrap() error { return ErrNoServer }

// Error is a failure answered by the tray.
type Error struct {
	Code    string // one of the Code* constants; unknown codes are kept as sent
	Message string // one line written by the tray
}

func (e *Error) Error() string { return "feedkey tray: " + e.Message }

// Is reports whether target is the sentinel for e's code, so callers can
// branch with errors.Is(err, ErrSignInNeeded).
func (e *Error) Is(target error) bool {
	s, ok := codeSentinel[e.Code]
	return ok && target == s
}

var codeSentinel = map[string]error{
	CodeSignInNeeded: ErrSignInNeeded,
	CodeDeclined:     ErrDeclined,
	CodeUnknownFeed:  ErrUnknownFeed,
	CodeTimeout:      ErrTimeout,
	CodeMiss:         ErrMiss,
}

// request is the single request line.
type request struct {
	Op      string `json:"op"`
	Service string `json:"service,omitempty"`
	Wait    int    `json:"wait,omitempty"` // seconds; 0 means the server's MaxWait
	// Progress asks for prompt lines before the answer of a credential
	// request (older clients read one line only).
	Progress bool `json:"progress,omitempty"`
}

// appendJSON appends the request as its json tags write it, built by hand
// for the reason answer.UnmarshalJSON gives.
func (r request) appendJSON(b []byte) []byte {
	b = append(b, `{"op":`...)
	b = appendString(b, r.Op)
	if r.Service != "" {
		b = append(b, `,"service":`...)
		b = appendString(b, r.Service)
	}
	if r.Wait != 0 {
		b = append(b, `,"wait":`...)
		b = strconv.AppendInt(b, int64(r.Wait), 10)
	}
	if r.Progress {
		b = append(b, `,"progress":true`...)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string. encoding/json quotes a plain
// string without reflecting on a type; it cannot fail on one.
func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// Prompt is a sign-in the tray started for a credential request and that
// waits for the person: the waiting helper prints it where the person looks
// (its terminal), since pip may be all they watch.
type Prompt struct {
	Feed string `json:"feed"`
	// URL is the page to open: the device page when Code is set, else the
	// browser sign-in page the tray opened.
	URL  string `json:"url"`
	Code string `json:"code,omitempty"`
	// Expires is when the code (or the browser sign-in) stops being
	// accepted, in Unix seconds; 0 when unknown.
	Expires int64 `json:"expires,omitempty"`
}

// Text is the prompt in one line for a terminal, with the time left at now.
func (p Prompt) Text(now time.Time) string {
	left := ""
	if p.Expires > 0 {
		left = fmt.Sprintf(" (%s left)", timeleft.String(time.Unix(p.Expires, 0).Sub(now)))
	}
	if p.Code == "" {
		return fmt.Sprintf("Sign in to feed %s in your browser: %s%s", p.Feed, p.URL, left)
	}
	return fmt.Sprintf("Sign in to feed %s: open %s and enter the code %s%s", p.Feed, p.URL, p.Code, left)
}

// clean makes a prompt from the wire safe to print and to open: a link that
// is not an https page is dropped, text loses control characters.
func (p Prompt) clean() (Prompt, bool) {
	link, err := untrusted.URL(p.URL)
	if err != nil {
		return Prompt{}, false
	}
	return Prompt{Feed: untrusted.OneLine(p.Feed, 100), URL: link, Code: untrusted.OneLine(p.Code, 40), Expires: p.Expires}, true
}

// answer is one answer line: a prompt (with progress), or the final answer,
// where Error non-empty means failure.
type answer struct {
	Prompt   *Prompt `json:"prompt,omitempty"`
	OK       bool    `json:"ok,omitempty"`
	PID      int     `json:"pid,omitempty"`
	Username string  `json:"username,omitempty"`
	Password string  `json:"password,omitempty"`
	Kind     string  `json:"kind,omitempty"` // lookup: the feed's kind
	Error    string  `json:"error,omitempty"`
	Code     string  `json:"code,omitempty"`
}

// UnmarshalJSON reads an answer key by key, as its json tags name them: the
// helper decodes one answer a run, and a struct's first Unmarshal costs
// more (internal/jsonobj).
func (a *answer) UnmarshalJSON(data []byte) error {
	*a = answer{}
	return jsonobj.Decode(data, func(key string) any {
		switch key {
		case "prompt":
			return &a.Prompt
		case "ok":
			return &a.OK
		case "pid":
			return &a.PID
		case "username":
			return &a.Username
		case "password":
			return &a.Password
		case "kind":
			return &a.Kind
		case "error":
			return &a.Error
		case "code":
			return &a.Code
		}
		return nil
	})
}

// Path returns the socket path: $XDG_RUNTIME_DIR/feedkey/control.sock, else
// os.TempDir()/feedkey-<uid>/control.sock; on Windows
// %LOCALAPPDATA%\feedkey\control.sock (AF_UNIX, Windows 10 1803 and later).
func Path() (string, error) {
	// FEEDKEY_SOCKET lets a second tray (feedkey demo) run beside the
	// user's own; the helper finds it through the same variable.
	if p := os.Getenv("FEEDKEY_SOCKET"); p != "" {
		return p, nil
	}
	dir, err := defaultDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "control.sock"), nil
}
