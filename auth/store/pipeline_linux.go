//go:build linux

package store

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/feedkey/feedkey/internal/sessionbus"
)

// pipeline is a lean session-bus connection for the one read the helper
// makes on every run (SPEC §10): feedkey's record for a service. godbus's
// handshake waits for three answers before the first call can leave, and
// its replies cross goroutines; here the handshake and Hello go out without
// waiting, the first call right behind them, as sd-bus sends them, and
// every call is answered in the calling goroutine. OpenSession waits for the
// search's answer (session, in oskeychain's keychain_linux.go, says why it
// never goes first). The few calls and answers are marshalled here (wire_linux.go,
// and the parsers below) rather than through godbus's reflection, which
// cost the helper more than the calls' round trips. Anything unexpected
// closes the pipeline and the caller takes the general path (the OS
// keychain, package oskeychain), which explains; without one (the helper's
// quick path), the whole helper does.
type pipeline struct {
	conn    *sock
	r       *bufio.Reader
	out     []byte // messages queued, sent with the next call
	serial  uint32
	authed  bool
	session string // the "plain" session's path, once opened

	// running is the bus's answer to NameHasOwner for the Secret
	// Service, once asked (asked says so).
	asked, running bool
}

// pipe is the process's pipeline, dialled on first use; broken stays set
// once one failed, so that a run tries it at most once.
var pipe struct {
	sync.Mutex
	p      *pipeline
	broken bool
}

// busError is the error a method call was answered with.
type busError struct {
	Name    string // such as org.freedesktop.DBus.Error.ServiceUnknown
	Message string // the text that came with it, if any
}

func (e *busError) Error() string {
	if e.Message == "" {
		return e.Name
	}
	return e.Name + ": " + e.Message
}

// errPipeline marks an answer the pipeline could not use: the caller falls
// back to the general path.
var errPipeline = errors.New("secret service pipeline")

// withPipeline runs f on the process's pipeline, dialling it first if need
// be, under ctx's deadline. Any error of f's closes the pipeline for the
// rest of the run; it is returned wrapped in errPipeline.
func withPipeline(ctx context.Context, f func(*pipeline) error) error {
	pipe.Lock()
	defer pipe.Unlock()
	if pipe.broken {
		return errPipeline
	}
	if pipe.p == nil {
		name, ok := sessionbus.UnixSocket(os.Getenv("DBUS_SESSION_BUS_ADDRESS"), os.Getenv("XDG_RUNTIME_DIR"))
		if !ok || !sessionbus.Available() {
			pipe.broken = true
			return errPipeline
		}
		p, err := dialPipeline(ctx, name)
		if err != nil {
			pipe.broken = true
			return fmt.Errorf("%w: %w", errPipeline, err)
		}
		pipe.p = p
	}
	if dl, ok := ctx.Deadline(); ok {
		pipe.p.conn.SetDeadline(dl)
	} else {
		pipe.p.conn.SetDeadline(time.Time{})
	}
	if err := f(pipe.p); err != nil {
		pipe.p.conn.Close()
		pipe.p, pipe.broken = nil, true
		return fmt.Errorf("%w: %w", errPipeline, err)
	}
	return nil
}

// dialPipeline connects to the bus socket name and queues, without
// waiting, the EXTERNAL handshake, BEGIN and Hello: the bus answers the
// handshake and then handles the messages queued behind it, the first call
// included (D-Bus specification, "BEGIN command"; sd-bus pipelines the same
// way). They leave with the first call.
func dialPipeline(ctx context.Context, name string) (*pipeline, error) {
	dl, _ := ctx.Deadline()
	nc, err := dialSock(name, dl)
	if err != nil {
		return nil, err
	}
	p := &pipeline{conn: nc, r: bufio.NewReaderSize(nc, 4096)}
	p.out = append(p.out, "\x00AUTH EXTERNAL "...)
	p.out = hex.AppendEncode(p.out, strconv.AppendInt(nil, int64(os.Geteuid()), 10))
	p.out = append(p.out, "\r\nBEGIN\r\n"...)
	p.callBus("Hello", "", nil)
	return p, nil
}

// Where the pipeline's calls go (the bus's own path is in callBus).
const (
	secretsName  = "org.freedesktop.secrets"
	busName      = "org.freedesktop.DBus"
	secretsPath  = "/org/freedesktop/secrets"
	secretsIface = "org.freedesktop.Secret.Service"
)

// callBus queues a call to the bus itself.
func (p *pipeline) callBus(member, sig string, body func(*wire)) uint32 {
	return p.queue(0, busName, "/org/freedesktop/DBus", busName, member, sig, body)
}

// callSecrets queues a call to the Secret Service.
func (p *pipeline) callSecrets(flags byte, method, sig string, body func(*wire)) uint32 {
	return p.queue(flags, secretsName, secretsPath, secretsIface, method, sig, body)
}

// queue appends a method call to the messages waiting to be sent and
// returns its serial.
func (p *pipeline) queue(flags byte, dest, path, iface, member, sig string, body func(*wire)) uint32 {
	p.serial++
	p.out = appendCall(p.out, p.serial, flags, dest, path, iface, member, sig, body)
	return p.serial
}

// flush sends the queued messages.
func (p *pipeline) flush() error {
	_, err := p.conn.Write(p.out)
	p.out = p.out[:0]
	return err
}

// call sends a method call to the Secret Service, with whatever is queued
// before it, and returns its reply.
func (p *pipeline) call(method, sig string, body func(*wire)) (reply, []byte, error) {
	serial := p.callSecrets(0, method, sig, body)
	if err := p.flush(); err != nil {
		return reply{}, nil, err
	}
	return p.await(serial)
}

// openSession returns the plain session, opening it on first use.
func (p *pipeline) openSession() (string, error) {
	if p.session != "" {
		return p.session, nil
	}
	h, raw, err := p.call("OpenSession", "sv", func(w *wire) {
		w.str("plain")
		w.sig("s") // a variant holding the empty string
		w.str("")
	})
	if err != nil {
		return "", err
	}
	c := h.bodyCursor(raw, "vo")
	if v := c.signature(); v != "s" && c.err == nil {
		c.err = fmt.Errorf("output of type %q", v)
	}
	c.string()
	path := c.string()
	if err := c.done(); err != nil {
		return "", fmt.Errorf("OpenSession: %w", err)
	}
	p.session = path
	return p.session, nil
}

// await reads messages until the reply to serial and returns its header and
// the whole message, or the error it carries. Signals and other replies
// are passed by.
func (p *pipeline) await(serial uint32) (reply, []byte, error) {
	if !p.authed {
		line, err := p.r.ReadString('\n')
		if err != nil {
			return reply{}, nil, fmt.Errorf("session bus handshake: %w", err)
		}
		if len(line) < 3 || line[:3] != "OK " {
			return reply{}, nil, fmt.Errorf("session bus handshake: the bus answered %.40q", line)
		}
		p.authed = true
	}
	for {
		raw, err := p.readMessage()
		if err != nil {
			return reply{}, nil, err
		}
		h, err := parseReply(raw)
		if err != nil {
			return reply{}, nil, err
		}
		if h.typ != typeMethodReturn && h.typ != typeError || h.serial != serial {
			continue // signals, and answers nobody waits for
		}
		if h.typ == typeError {
			e := &busError{Name: h.errorName}
			if c := h.bodyCursor(raw, "s"); c.err == nil {
				if text := c.string(); c.done() == nil {
					e.Message = text
				}
			}
			return reply{}, nil, e
		}
		return h, raw, nil
	}
}

// pipelinedService is getService over the pipeline: one SearchItems (with
// the marker), OpenSession on the process's first read, and one GetSecrets.
// Any outcome other than the values, even "none", is an error: the general
// path then looks again and says why.
func pipelinedService(ctx context.Context, service string) ([]string, error) {
	vals, _, err := pipelinedRead(ctx, service, false)
	return vals, err
}

// pipelinedAutoService is pipelinedService before a store is chosen: the
// bus is asked whether the Secret Service runs in the same write as the
// search (which carries NO_AUTO_START, so it never starts one), saving the
// helper a round of calls. running is the bus's answer; the values and
// their error mean something only when it is true.
func pipelinedAutoService(ctx context.Context, service string) (vals []string, running bool, err error) {
	return pipelinedRead(ctx, service, true)
}

// flagNoAutoStart asks the bus not to start a service for the call (D-Bus
// specification, "Message Format").
const flagNoAutoStart = 0x2

func pipelinedRead(ctx context.Context, service string, askRunning bool) (out []string, running bool, err error) {
	if !Owned(service) {
		return nil, false, errors.ErrUnsupported
	}
	err = withPipeline(ctx, func(p *pipeline) error {
		if askRunning && p.asked && !p.running {
			return nil
		}
		var ownerSerial uint32
		var flags byte
		if askRunning && !p.asked {
			ownerSerial = p.callBus("NameHasOwner", "s", func(w *wire) { w.str(secretsName) })
			flags = flagNoAutoStart
		}
		searchSerial := p.search(flags, [][2]string{{MarkerAttribute, MarkerValue}, {"service", service}})
		if err := p.flush(); err != nil {
			return err
		}
		if ownerSerial != 0 {
			if err := p.awaitRunning(ownerSerial); err != nil {
				return err
			}
		}
		running = p.running || !askRunning
		if !running {
			// The bus refused the search for want of a Secret Service;
			// the answer is passed by on the pipeline's next read.
			return nil
		}
		unlocked, locked, err := p.awaitSearch(searchSerial)
		if err != nil {
			return err
		}
		if len(unlocked) == 0 || len(locked) > 0 || len(unlocked) > MaxRecordEntries {
			// Not an error of the pipeline's: keep it for the next read.
			return nil
		}
		out, err = p.secrets(unlocked)
		return err
	})
	if err == nil && out == nil {
		err = errPipeline
	}
	return out, running, err
}

// pipelinedPlain reads the item another program (Python keyring,
// go-keyring) keeps for service and user, as the OS keychain's Get does:
// the first unlocked item the search finds. found is false only when the
// search finds no item at all; a locked one is left to the general path,
// which can prompt, as an error wrapping errPipeline.
func pipelinedPlain(ctx context.Context, service, user string) (secret string, found bool, err error) {
	if Owned(service) {
		return "", false, errors.ErrUnsupported
	}
	lockedOnly := false
	err = withPipeline(ctx, func(p *pipeline) error {
		serial := p.search(0, [][2]string{{"service", service}, {"username", user}})
		if err := p.flush(); err != nil {
			return err
		}
		unlocked, locked, err := p.awaitSearch(serial)
		switch {
		case err != nil:
			return err
		case len(unlocked) == 0 && len(locked) == 0:
			return nil
		case len(unlocked) == 0:
			lockedOnly = true // not the pipeline's error: keep it for the next read
			return nil
		}
		vals, err := p.secrets(unlocked[:1])
		if err != nil {
			return err
		}
		secret, found = vals[0], true
		return nil
	})
	if err == nil && lockedOnly {
		err = errPipeline
	}
	return secret, found, err
}

// search queues SearchItems for attrs, given in the order godbus writes a
// map's entries (sorted), and returns its serial.
func (p *pipeline) search(flags byte, attrs [][2]string) uint32 {
	return p.callSecrets(flags, "SearchItems", "a{ss}", func(w *wire) {
		w.array(8, func() {
			for _, kv := range attrs {
				w.pad(8)
				w.str(kv[0])
				w.str(kv[1])
			}
		})
	})
}

// awaitSearch reads the answer to the SearchItems sent as serial.
func (p *pipeline) awaitSearch(serial uint32) (unlocked, locked []string, err error) {
	h, raw, err := p.await(serial)
	if err != nil {
		return nil, nil, err
	}
	c := h.bodyCursor(raw, "aoao")
	unlocked, locked = c.objectPaths(), c.objectPaths()
	if err := c.done(); err != nil {
		return nil, nil, fmt.Errorf("SearchItems: %w", err)
	}
	return unlocked, locked, nil
}

// secrets reads items' values, opening the session on first use. The
// values come in no particular order.
func (p *pipeline) secrets(items []string) ([]string, error) {
	session, err := p.openSession()
	if err != nil {
		return nil, err
	}
	h, raw, err := p.call("GetSecrets", "aoo", func(w *wire) {
		w.array(4, func() {
			for _, item := range items {
				w.str(item)
			}
		})
		w.str(session)
	})
	if err != nil {
		return nil, err
	}
	if h.signature != secretsSignature {
		return nil, fmt.Errorf("GetSecrets: an answer of type %q", h.signature)
	}
	secrets, err := parseSecrets(raw, h.body)
	if err != nil {
		return nil, err
	}
	if len(secrets) != len(items) {
		return nil, fmt.Errorf("GetSecrets: %d values for %d items", len(secrets), len(items))
	}
	out := make([]string, 0, len(secrets))
	for _, s := range secrets {
		out = append(out, s)
	}
	return out, nil
}

// pipelinedHasOwner asks the bus whether the Secret Service runs, once a
// run.
func pipelinedHasOwner(ctx context.Context) (bool, error) {
	var running bool
	err := withPipeline(ctx, func(p *pipeline) error {
		if !p.asked {
			serial := p.callBus("NameHasOwner", "s", func(w *wire) { w.str(secretsName) })
			if err := p.flush(); err != nil {
				return err
			}
			if err := p.awaitRunning(serial); err != nil {
				return err
			}
		}
		running = p.running
		return nil
	})
	return running, err
}

// secretServiceAvailable reports whether a Secret Service runs on the
// session bus or can be started by it (gnome-keyring is started on first
// use), asking over the pipeline the store's first read then uses; where
// that cannot be dialled, system (the OS keychain, if it can tell) answers.
func secretServiceAvailable(system Keychain) bool {
	if !sessionbus.Available() {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	running, err := pipelinedHasOwner(ctx)
	if err == nil && !running {
		running, err = pipelinedActivatable(ctx)
	}
	if err == nil {
		return running
	}
	if a, ok := system.(interface{ Available(context.Context) bool }); ok {
		return a.Available(ctx)
	}
	return false
}

// pipelinedActivatable asks the bus whether it can start the Secret
// Service.
func pipelinedActivatable(ctx context.Context) (bool, error) {
	var found bool
	err := withPipeline(ctx, func(p *pipeline) error {
		serial := p.callBus("ListActivatableNames", "", nil)
		if err := p.flush(); err != nil {
			return err
		}
		h, raw, err := p.await(serial)
		if err != nil {
			return err
		}
		c := h.bodyCursor(raw, "as")
		names := c.objectPaths() // an as is laid out as an ao
		if err := c.done(); err != nil {
			return fmt.Errorf("ListActivatableNames: %w", err)
		}
		found = slices.Contains(names, secretsName)
		return nil
	})
	return found, err
}

// awaitRunning reads NameHasOwner's answer, sent as serial, into p.running.
func (p *pipeline) awaitRunning(serial uint32) error {
	h, raw, err := p.await(serial)
	if err != nil {
		return err
	}
	c := h.bodyCursor(raw, "b")
	v := c.uint32()
	if err := c.done(); err != nil || v > 1 {
		return fmt.Errorf("NameHasOwner: an answer of %d, %v", v, err)
	}
	p.asked, p.running = true, v == 1
	return nil
}

// maxPipelineMessage bounds a message the pipeline reads: a record is at
// most 66 items of about 2 KB; anything larger goes the general way.
const maxPipelineMessage = 4 << 20

// readMessage reads one whole message off the wire, undecoded.
func (p *pipeline) readMessage() ([]byte, error) {
	fixed, err := p.r.Peek(16)
	if err != nil {
		return nil, err
	}
	order, err := byteOrder(fixed[0])
	if err != nil {
		return nil, err
	}
	fields, body := order.Uint32(fixed[12:16]), order.Uint32(fixed[4:8])
	if fields > maxPipelineMessage || body > maxPipelineMessage {
		return nil, errors.New("message too long")
	}
	n := align(16+int(fields), 8) + int(body)
	if n > maxPipelineMessage {
		return nil, errors.New("message too long")
	}
	raw := make([]byte, n)
	if _, err := io.ReadFull(p.r, raw); err != nil {
		return nil, err
	}
	return raw, nil
}

func byteOrder(b byte) (binary.ByteOrder, error) {
	switch b {
	case 'l':
		return binary.LittleEndian, nil
	case 'B':
		return binary.BigEndian, nil
	}
	return nil, fmt.Errorf("bad byte order %q", b)
}

func align(n, to int) int { return (n + to - 1) &^ (to - 1) }

// reply is what the pipeline needs of a message's header.
type reply struct {
	typ       byte   // typeMethodReturn, typeError, …
	serial    uint32 // the call it answers; 0 for none
	errorName string
	signature string
	body      int // offset of the body in the message
}

// secretsSignature is GetSecrets' answer, a{o(oayays)}.
const secretsSignature = "a{o(oayays)}"

// parseReply reads the header of a message read by readMessage. Header
// fields have fixed types (D-Bus specification, "Message Format"): a field
// of another type makes the message malformed.
func parseReply(raw []byte) (reply, error) {
	order, err := byteOrder(raw[0])
	if err != nil {
		return reply{}, err
	}
	r := reply{typ: raw[1]}
	c := cursor{b: raw[:16+order.Uint32(raw[12:16])], pos: 16, order: order}
	for c.err == nil && c.pos < len(c.b) {
		c.align(8)
		code := c.byte()
		sig := c.signature()
		switch sig {
		case "s", "o":
			v := c.string()
			if code == fieldErrorName {
				r.errorName = v
			}
		case "g":
			v := c.signature()
			if code == fieldSignature {
				r.signature = v
			}
		case "u":
			v := c.uint32()
			if code == fieldReplySerial {
				r.serial = v
			}
		default:
			return reply{}, fmt.Errorf("header field %d of type %q", code, sig)
		}
	}
	if c.err != nil {
		return reply{}, fmt.Errorf("malformed header: %w", c.err)
	}
	r.body = align(len(c.b), 8)
	return r, nil
}

// parseSecrets decodes GetSecrets' answer, a{o(oayays)}, into each item's
// value. godbus builds each byte of an ay through reflection: a 6 KB
// credential cost it a third more than a small one.
func parseSecrets(raw []byte, body int) (map[string]string, error) {
	order, _ := byteOrder(raw[0])
	c := cursor{b: raw, pos: body, order: order}
	n := int(c.uint32())
	c.align(8)
	end := c.pos + n
	if c.err == nil && (n > len(raw) || end > len(raw)) {
		return nil, errors.New("malformed GetSecrets answer: array past the message")
	}
	out := map[string]string{}
	for c.err == nil && c.pos < end {
		c.align(8)
		item := c.string()
		c.align(8)
		c.string() // the session
		c.bytes()  // its parameters, none for "plain"
		value := c.bytes()
		c.string() // the content type
		out[item] = string(value)
	}
	if c.err != nil || c.pos != end {
		return nil, errors.New("malformed GetSecrets answer")
	}
	return out, nil
}

// bodyCursor returns a cursor over the body of raw, whose header h is,
// with an error already set when the body is not of type sig.
func (h reply) bodyCursor(raw []byte, sig string) cursor {
	order, _ := byteOrder(raw[0])
	c := cursor{b: raw, pos: h.body, order: order}
	if h.signature != sig {
		c.err = fmt.Errorf("an answer of type %q, not %q", h.signature, sig)
	}
	return c
}

// cursor reads D-Bus marshalled values; the first error sticks and every
// later read returns a zero value.
type cursor struct {
	b     []byte
	pos   int
	order binary.ByteOrder
	err   error
}

var errShort = errors.New("value past the end")

func (c *cursor) take(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || n > len(c.b)-c.pos {
		c.err = errShort
		return nil
	}
	v := c.b[c.pos : c.pos+n]
	c.pos += n
	return v
}

func (c *cursor) align(to int) { c.take(align(c.pos, to) - c.pos) }

func (c *cursor) byte() byte {
	if v := c.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (c *cursor) uint32() uint32 {
	c.align(4)
	if v := c.take(4); v != nil {
		return c.order.Uint32(v)
	}
	return 0
}

// string reads an s or o: a length, the bytes, a NUL.
func (c *cursor) string() string { return c.terminated(int(c.uint32())) }

// signature reads a g: a one-byte length, the bytes, a NUL.
func (c *cursor) signature() string { return c.terminated(int(c.byte())) }

// terminated reads n bytes and the NUL that must follow them.
func (c *cursor) terminated(n int) string {
	v := c.take(n + 1)
	if v == nil {
		return ""
	}
	if v[n] != 0 {
		c.err = errors.New("a string without its NUL")
		return ""
	}
	return string(v[:n])
}

// objectPaths reads an ao.
func (c *cursor) objectPaths() []string {
	n := int(c.uint32())
	if c.err == nil && n > len(c.b)-c.pos {
		c.err = errShort
	}
	end := c.pos + n
	var out []string
	for c.err == nil && c.pos < end {
		out = append(out, c.string())
	}
	if c.err == nil && c.pos != end {
		c.err = errors.New("array past its length")
	}
	return out
}

// done returns the first error, or one if anything is left unread.
func (c *cursor) done() error {
	if c.err == nil && c.pos != len(c.b) {
		c.err = errors.New("more values than the signature says")
	}
	return c.err
}

// bytes reads an ay, in place in the message.
func (c *cursor) bytes() []byte { return c.take(int(c.uint32())) }
