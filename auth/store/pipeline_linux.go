//go:build linux

package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/feedkey/feedkey/internal/sessionbus"
)

// pipeline is a lean session-bus connection for the one read the helper
// makes on every run (SPEC §10): feedkey's record for a service. godbus's
// handshake waits for three answers before the first call can leave, and
// its replies cross goroutines; here the handshake and Hello go out without
// waiting, the first call right behind them, as sd-bus sends them, and
// every call is answered in the calling goroutine. OpenSession waits for the
// search's answer (session, in keychain_linux.go, says why it never goes
// first). godbus still encodes every message and decodes all but
// GetSecrets' answer; anything unexpected closes the pipeline and the caller
// takes the general path, which explains.
type pipeline struct {
	conn    net.Conn
	r       *bufio.Reader
	serial  uint32
	authed  bool
	session dbus.ObjectPath // the "plain" session, once opened
}

// pipe is the process's pipeline, dialled on first use; broken stays set
// once one failed, so that a run tries it at most once.
var pipe struct {
	sync.Mutex
	p      *pipeline
	broken bool
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
		name, ok := unixBusAddress(os.Getenv("DBUS_SESSION_BUS_ADDRESS"), os.Getenv("XDG_RUNTIME_DIR"))
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

// dialPipeline connects to the bus socket name and sends, without waiting,
// the EXTERNAL handshake, BEGIN and Hello: the bus answers the handshake and
// then handles the messages queued behind it, the first call included
// (D-Bus specification, "BEGIN command"; sd-bus pipelines the same way).
func dialPipeline(ctx context.Context, name string) (*pipeline, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", name)
	if err != nil {
		return nil, err
	}
	p := &pipeline{conn: nc, r: bufio.NewReaderSize(nc, 4096)}
	var buf bytes.Buffer
	buf.WriteString("\x00AUTH EXTERNAL ")
	buf.WriteString(hex.EncodeToString([]byte(strconv.Itoa(os.Geteuid()))))
	buf.WriteString("\r\nBEGIN\r\n")
	if err := p.encode(&buf, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello"); err != nil {
		nc.Close()
		return nil, err
	}
	if _, err := nc.Write(buf.Bytes()); err != nil {
		nc.Close()
		return nil, err
	}
	return p, nil
}

// encode appends a method call to buf, numbered with the next serial
// (p.serial after the call).
func (p *pipeline) encode(buf *bytes.Buffer, dest string, path dbus.ObjectPath, iface, member string, args ...any) error {
	p.serial++
	msg := &dbus.Message{
		Type: dbus.TypeMethodCall,
		Headers: map[dbus.HeaderField]dbus.Variant{
			dbus.FieldPath:        dbus.MakeVariant(path),
			dbus.FieldDestination: dbus.MakeVariant(dest),
			dbus.FieldInterface:   dbus.MakeVariant(iface),
			dbus.FieldMember:      dbus.MakeVariant(member),
		},
		Body: args,
	}
	if len(args) > 0 {
		msg.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(args...))
	}
	// godbus numbers messages only on its own connections: the serial is
	// the fixed header's uint32 at offset 8 (D-Bus specification, "Message
	// Format"), written in after encoding.
	start := buf.Len()
	if err := msg.EncodeTo(buf, binary.LittleEndian); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(buf.Bytes()[start+8:start+12], p.serial)
	return nil
}

// call sends a method call to the Secret Service and returns its reply's
// body.
func (p *pipeline) call(method string, args ...any) ([]any, error) {
	var buf bytes.Buffer
	if err := p.encode(&buf, secretsName, "/org/freedesktop/secrets", "org.freedesktop.Secret.Service", method, args...); err != nil {
		return nil, err
	}
	if _, err := p.conn.Write(buf.Bytes()); err != nil {
		return nil, err
	}
	return p.await(p.serial)
}

// openSession returns the plain session, opening it on first use.
func (p *pipeline) openSession() (dbus.ObjectPath, error) {
	if p.session != "" {
		return p.session, nil
	}
	body, err := p.call("OpenSession", "plain", dbus.MakeVariant(""))
	if err != nil {
		return "", err
	}
	if len(body) == 2 {
		if path, ok := body[1].(dbus.ObjectPath); ok {
			p.session = path
			return path, nil
		}
	}
	return "", errors.New("OpenSession: unexpected answer")
}

// await reads messages until the reply to serial, and returns its body or
// its error. Signals and other replies are dropped.
func (p *pipeline) await(serial uint32) ([]any, error) {
	if !p.authed {
		line, err := p.r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("session bus handshake: %w", err)
		}
		if len(line) < 3 || line[:3] != "OK " {
			return nil, fmt.Errorf("session bus handshake: the bus answered %.40q", line)
		}
		p.authed = true
	}
	for {
		raw, err := p.readMessage()
		if err != nil {
			return nil, err
		}
		h, err := parseReply(raw)
		if err != nil {
			return nil, err
		}
		if h.typ != dbus.TypeMethodReply && h.typ != dbus.TypeError || h.serial != serial {
			continue // signals, and answers nobody waits for
		}
		var body []any
		if h.typ == dbus.TypeMethodReply && h.signature == secretsSignature {
			body, err = parseSecrets(raw, h.body)
		} else {
			var msg *dbus.Message
			if msg, err = dbus.DecodeMessage(bytes.NewReader(raw)); err == nil {
				body = msg.Body
			}
		}
		if err != nil {
			return nil, err
		}
		var callErr error
		if h.typ == dbus.TypeError {
			callErr = dbus.Error{Name: h.errorName, Body: body}
		}
		return body, callErr
	}
}

// pipelinedService is getService over the pipeline: one SearchItems (with
// the marker), OpenSession on the process's first read, and one GetSecrets. Any outcome other than the values, even
// "none", is an error: the general path then looks again and says why.
func pipelinedService(ctx context.Context, service string) ([]string, error) {
	if !owned(service) {
		return nil, errors.ErrUnsupported
	}
	var out []string
	err := withPipeline(ctx, func(p *pipeline) error {
		body, err := p.call("SearchItems", map[string]string{"service": service, markerAttr: markerValue})
		if err != nil {
			return err
		}
		if len(body) != 2 {
			return errors.New("SearchItems: unexpected answer")
		}
		unlocked, ok1 := body[0].([]dbus.ObjectPath)
		locked, ok2 := body[1].([]dbus.ObjectPath)
		if !ok1 || !ok2 || len(unlocked) == 0 || len(locked) > 0 || len(unlocked) > maxServiceItems {
			// Not an error of the pipeline's: keep it for the next read.
			return nil
		}
		session, err := p.openSession()
		if err != nil {
			return err
		}
		body, err = p.call("GetSecrets", unlocked, session)
		if err != nil {
			return err
		}
		secrets, err := secretValues(body)
		if err != nil {
			return err
		}
		if len(secrets) != len(unlocked) {
			return fmt.Errorf("GetSecrets: %d values for %d items", len(secrets), len(unlocked))
		}
		out = make([]string, 0, len(secrets))
		for _, s := range secrets {
			out = append(out, s)
		}
		return nil
	})
	if err == nil && out == nil {
		err = errPipeline
	}
	return out, err
}

// pipelinedHasOwner asks the bus whether the Secret Service runs.
func pipelinedHasOwner(ctx context.Context) (bool, error) {
	var owned bool
	err := withPipeline(ctx, func(p *pipeline) error {
		var buf bytes.Buffer
		if err := p.encode(&buf, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner", secretsName); err != nil {
			return err
		}
		if _, err := p.conn.Write(buf.Bytes()); err != nil {
			return err
		}
		body, err := p.await(p.serial)
		if err != nil {
			return err
		}
		if len(body) != 1 {
			return errors.New("NameHasOwner: unexpected answer")
		}
		owned, _ = body[0].(bool)
		return nil
	})
	return owned, err
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
	typ       dbus.Type
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
	r := reply{typ: dbus.Type(raw[1])}
	c := cursor{b: raw[:16+order.Uint32(raw[12:16])], pos: 16, order: order}
	for c.err == nil && c.pos < len(c.b) {
		c.align(8)
		code := c.byte()
		sig := c.signature()
		switch sig {
		case "s", "o":
			v := c.string()
			if code == byte(dbus.FieldErrorName) {
				r.errorName = v
			}
		case "g":
			v := c.signature()
			if code == byte(dbus.FieldSignature) {
				r.signature = v
			}
		case "u":
			v := c.uint32()
			if code == byte(dbus.FieldReplySerial) {
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

// parseSecrets decodes GetSecrets' answer in place of godbus, which builds
// each byte of an ay through reflection (a 6 KB credential cost a third
// more than a small one). It returns the shape godbus would, which
// secretValues reads.
func parseSecrets(raw []byte, body int) ([]any, error) {
	order, _ := byteOrder(raw[0])
	c := cursor{b: raw, pos: body, order: order}
	n := int(c.uint32())
	c.align(8)
	end := c.pos + n
	if c.err == nil && (n > len(raw) || end > len(raw)) {
		return nil, errors.New("malformed GetSecrets answer: array past the message")
	}
	out := map[dbus.ObjectPath][]any{}
	for c.err == nil && c.pos < end {
		c.align(8)
		item := dbus.ObjectPath(c.string())
		c.align(8)
		session := dbus.ObjectPath(c.string())
		params := c.bytes()
		value := c.bytes()
		contentType := c.string()
		out[item] = []any{session, params, value, contentType}
	}
	if c.err != nil || c.pos != end {
		return nil, errors.New("malformed GetSecrets answer")
	}
	return []any{out}, nil
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
func (c *cursor) string() string {
	n := c.uint32()
	v := c.take(int(n) + 1)
	if v == nil {
		return ""
	}
	if v[n] != 0 {
		c.err = errors.New("string without its NUL")
		return ""
	}
	return string(v[:n])
}

// signature reads a g: a one-byte length, the bytes, a NUL.
func (c *cursor) signature() string {
	n := int(c.byte())
	v := c.take(n + 1)
	if v == nil {
		return ""
	}
	if v[n] != 0 {
		c.err = errors.New("signature without its NUL")
		return ""
	}
	return string(v[:n])
}

// bytes reads an ay, copied out of the message.
func (c *cursor) bytes() []byte {
	n := c.uint32()
	if v := c.take(int(n)); v != nil {
		return bytes.Clone(v)
	}
	return nil
}
