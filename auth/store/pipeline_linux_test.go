//go:build linux

package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	ss "github.com/zalando/go-keyring/secret_service"
)

// resetPipeline forgets the process's pipeline, so that the next read dials
// a new one.
func resetPipeline() {
	pipe.Lock()
	defer pipe.Unlock()
	if pipe.p != nil {
		pipe.p.conn.Close()
	}
	pipe.p, pipe.broken = nil, false
}

// TestPipelinedService reads records over the pipeline from the package's
// gnome-keyring: every item of a service in one round, nothing of another
// program's, and a miss that leaves the pipeline usable.
func TestPipelinedService(t *testing.T) {
	resetPipeline()
	t.Cleanup(resetPipeline)
	ctx := context.Background()
	svc := ServicePrefix + "pipeline-test:record"
	for _, kv := range [][2]string{{"head", "h-value"}, {"chunk-1", "c1-value"}} {
		putItem(t, svc, kv[0], kv[1])
	}

	got, err := pipelinedService(ctx, svc)
	if err != nil {
		t.Fatalf("pipelinedService: %v", err)
	}
	slices.Sort(got)
	if want := []string{"c1-value", "h-value"}; !slices.Equal(got, want) {
		t.Errorf("pipelinedService = %q, want %q", got, want)
	}

	if _, err := pipelinedService(ctx, ServicePrefix+"pipeline-test:absent"); !errors.Is(err, errPipeline) {
		t.Errorf("absent service: err = %v, want errPipeline (the general path answers)", err)
	}
	if _, err := pipelinedService(ctx, "not-feedkeys"); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("a service feedkey does not own: err = %v, want ErrUnsupported", err)
	}
	// A miss is not a broken pipeline: the same connection reads again.
	pipe.Lock()
	before := pipe.p
	pipe.Unlock()
	if got, err := pipelinedService(ctx, svc); err != nil || len(got) != 2 {
		t.Fatalf("second read: %q, %v", got, err)
	}
	pipe.Lock()
	same := pipe.p == before && before != nil
	pipe.Unlock()
	if !same {
		t.Error("the pipeline was dialled again after a miss")
	}
	if owned, err := pipelinedHasOwner(ctx); err != nil || !owned {
		t.Errorf("pipelinedHasOwner = %v, %v; want true", owned, err)
	}
}

// TestPipelinedPlain reads another program's item as the OS keychain's Get
// does: found, none at all (not an error of the pipeline's), and never an
// item under one of feedkey's names.
func TestPipelinedPlain(t *testing.T) {
	resetPipeline()
	t.Cleanup(resetPipeline)
	ctx := context.Background()
	// As Python keyring writes it.
	putItemAttrs(t, map[string]string{"service": "https://plain.example/", "username": "me", "application": "Python keyring library"}, "pw")
	secret, found, err := pipelinedPlain(ctx, "https://plain.example/", "me")
	if err != nil || !found || secret != "pw" {
		t.Errorf("pipelinedPlain = %q, %v, %v; want pw", secret, found, err)
	}
	if _, found, err := pipelinedPlain(ctx, "https://plain.example/", "someone-else"); err != nil || found {
		t.Errorf("another user: found %v, %v; want none, no error", found, err)
	}
	if _, _, err := pipelinedPlain(ctx, ServicePrefix+"x", "credential"); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("one of feedkey's names: %v, want ErrUnsupported", err)
	}
	// Through the store the helper's quick path uses.
	c := Choose(nil, nil)
	if got, err := c.Get(ctx, "https://plain.example/", "me"); err != nil || got != "pw" {
		t.Errorf("Chosen without the OS keychain: Get = %q, %v", got, err)
	}
	if _, err := c.Get(ctx, "https://plain.example/", "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Chosen without the OS keychain, no entry: %v, want ErrNotFound", err)
	}
}

// TestPipelineHostileBus points the pipeline at a socket that answers
// wrongly or not at all: each read ends in time with an error, marks the
// pipeline broken (so the run takes the general path), and never hangs.
func TestPipelineHostileBus(t *testing.T) {
	cases := []struct {
		name   string
		answer func(c net.Conn, done <-chan struct{})
		want   error
	}{
		{"handshake rejected", func(c net.Conn, _ <-chan struct{}) { c.Write([]byte("REJECTED EXTERNAL\r\n")) }, errPipeline},
		{"closed at once", func(net.Conn, <-chan struct{}) {}, errPipeline},
		{"garbage after OK", func(c net.Conn, _ <-chan struct{}) {
			c.Write([]byte("OK 0123456789abcdef0123456789abcdef\r\nthis is not a D-Bus message at all, not at all"))
		}, errPipeline},
		{"a message too long", func(c net.Conn, _ <-chan struct{}) {
			// A little-endian method reply whose body would be 1 GiB.
			c.Write([]byte("OK 0123456789abcdef0123456789abcdef\r\nl\x02\x00\x01\x00\x00\x00\x40\x01\x00\x00\x00\x00\x00\x00\x00"))
		}, errPipeline},
		{"silence", func(_ net.Conn, done <-chan struct{}) { <-done }, os.ErrDeadlineExceeded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fakeBus(t, tc.answer)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := pipelinedService(ctx, ServicePrefix+"pipeline-test:hostile")
			if took := time.Since(start); took > 1500*time.Millisecond {
				t.Errorf("the read took %s with a 300ms deadline", took)
			}
			if !errors.Is(err, tc.want) || tc.want == errPipeline && errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			pipe.Lock()
			broken := pipe.broken
			pipe.Unlock()
			if !broken {
				t.Error("the pipeline is still in use after a bad answer")
			}
			if _, err := pipelinedService(ctx, ServicePrefix+"pipeline-test:hostile"); !errors.Is(err, errPipeline) {
				t.Errorf("after a failure: err = %v, want errPipeline at once", err)
			}
		})
	}
}

// fakeBus makes the session bus, for the rest of the test, a socket whose
// one connection answer handles after reading the client's opening line, as
// a bus does; done is closed when the test ends. The pipeline starts afresh.
func fakeBus(t *testing.T, answer func(c net.Conn, done <-chan struct{})) {
	t.Helper()
	resetPipeline()
	t.Cleanup(resetPipeline)
	sock := filepath.Join(t.TempDir(), "bus")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		l.Close()
	})
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		r.ReadString('\n')
		answer(readerConn{c, r}, done)
	}()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+sock)
}

// TestChosenAutoReadsInOneRound checks the helper's first read with the
// store still to choose: the pipeline asks whether a Secret Service runs
// along with the search, and the choice follows the answer.
func TestChosenAutoReadsInOneRound(t *testing.T) {
	resetPipeline()
	t.Cleanup(resetPipeline)
	svc := ServicePrefix + "pipeline-test:auto"
	putItem(t, svc, "head", "auto-value")

	c := Choose(nil, nil)
	got, err := c.GetService(context.Background(), svc)
	if err != nil || !slices.Equal(got, []string{"auto-value"}) {
		t.Fatalf("GetService = %q, %v", got, err)
	}
	if name := c.Name(); name != BackendSecretService {
		t.Errorf("chosen store %q, want %q", name, BackendSecretService)
	}
	pipe.Lock()
	asked := pipe.p != nil && pipe.p.asked && pipe.p.running
	pipe.Unlock()
	if !asked {
		t.Error("the pipeline did not ask whether the Secret Service runs")
	}
	// A store named by the user is not second-guessed.
	if _, err := Choose(func() string { return BackendFile }, nil).GetService(context.Background(), svc); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("file store: err = %v, want ErrUnsupported (it has no one-round read)", err)
	}
}

// TestAutoNeverStartsASecretService plays a bus on which no Secret Service
// runs: the search that goes out with NameHasOwner carries NO_AUTO_START
// (so it starts none), and the read reports that none runs.
func TestAutoNeverStartsASecretService(t *testing.T) {
	calls := make(chan *dbus.Message, 8)
	fakeBus(t, func(c net.Conn, done <-chan struct{}) {
		r := bufio.NewReader(c)
		if line, err := r.ReadString('\n'); err != nil || line != "BEGIN\r\n" {
			return
		}
		var out bytes.Buffer
		out.WriteString("OK 0123456789abcdef0123456789abcdef\r\n")
		for range 3 { // Hello, NameHasOwner, SearchItems
			msg, err := dbus.DecodeMessage(r)
			if err != nil {
				return
			}
			calls <- msg
			switch msg.Headers[dbus.FieldMember].Value() {
			case "Hello":
				out.Write(encodeReply(t, binary.LittleEndian, msg.Serial(), ":1.9"))
			case "NameHasOwner":
				out.Write(encodeReply(t, binary.LittleEndian, msg.Serial(), false))
			default:
				e := dbus.NewError("org.freedesktop.DBus.Error.ServiceUnknown", []any{"not activatable"})
				m := &dbus.Message{Type: dbus.TypeError, Headers: map[dbus.HeaderField]dbus.Variant{
					dbus.FieldReplySerial: dbus.MakeVariant(msg.Serial()),
					dbus.FieldErrorName:   dbus.MakeVariant(e.Name),
					dbus.FieldSignature:   dbus.MakeVariant(dbus.SignatureOf(e.Body...)),
				}, Body: e.Body}
				m.EncodeTo(&out, binary.LittleEndian)
			}
		}
		c.Write(out.Bytes())
		<-done
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	vals, running, err := pipelinedAutoService(ctx, ServicePrefix+"pipeline-test:none")
	if running || vals != nil {
		t.Errorf("pipelinedAutoService = %q, running %v (%v); want nothing, not running", vals, running, err)
	}
	close(calls)
	var members []string
	for msg := range calls {
		member := msg.Headers[dbus.FieldMember].Value().(string)
		members = append(members, member)
		if member == "SearchItems" && msg.Flags&dbus.FlagNoAutoStart == 0 {
			t.Error("the search went out without NO_AUTO_START: it would start a Secret Service")
		}
	}
	if want := []string{"Hello", "NameHasOwner", "SearchItems"}; !slices.Equal(members, want) {
		t.Errorf("calls %q, want %q in one write", members, want)
	}
	// The answer is kept: asking again costs no call.
	if running, err := pipelinedHasOwner(ctx); running || err != nil {
		t.Errorf("pipelinedHasOwner = %v, %v; want false, nil", running, err)
	}
}

// TestGetServiceNoAnswer checks that a Secret Service that never answers
// costs one timeout and one clear line, not one per path.
func TestGetServiceNoAnswer(t *testing.T) {
	fakeBus(t, func(_ net.Conn, done <-chan struct{}) { <-done })
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	c := Choose(func() string { return BackendSecretService }, nil)
	_, err := c.GetService(ctx, ServicePrefix+"pipeline-test:silent")
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("GetService took %s with a 300ms deadline", took)
	}
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no answer in time") {
		t.Errorf("err = %v, want ErrUnavailable saying no answer in time", err)
	}
}

// encodeReply marshals a method reply to serial with body, as a bus would.
func encodeReply(t testing.TB, order binary.ByteOrder, serial uint32, body ...any) []byte {
	msg := &dbus.Message{
		Type: dbus.TypeMethodReply,
		Headers: map[dbus.HeaderField]dbus.Variant{
			dbus.FieldReplySerial: dbus.MakeVariant(serial),
			dbus.FieldSender:      dbus.MakeVariant(":1.7"),
			dbus.FieldDestination: dbus.MakeVariant(":1.9"),
			dbus.FieldSignature:   dbus.MakeVariant(dbus.SignatureOf(body...)),
		},
		Body: body,
	}
	var buf bytes.Buffer
	if err := msg.EncodeTo(&buf, order); err != nil {
		t.Fatalf("encode: %v", err)
	}
	// A serial of its own, as on the wire (godbus numbers only its own).
	order.PutUint32(buf.Bytes()[8:12], 42)
	return buf.Bytes()
}

// TestParseSecretsMatchesGodbus decodes GetSecrets answers both ways, in
// both byte orders: the pipeline's parser must give what godbus gives.
func TestParseSecretsMatchesGodbus(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("6KB-token."), 600)
	cases := map[string]map[dbus.ObjectPath]ss.Secret{
		"none": {},
		"one":  {"/org/freedesktop/secrets/collection/login/7": {Session: "/s/1", Parameters: []byte{}, Value: []byte("tok"), ContentType: "text/plain"}},
		"chunks": {
			"/org/freedesktop/secrets/collection/login/1": {Session: "/s/1", Parameters: []byte{1, 2, 3}, Value: big, ContentType: "text/plain; charset=utf8"},
			"/org/freedesktop/secrets/collection/login/2": {Session: "/s/1", Parameters: nil, Value: []byte("h"), ContentType: ""},
			"/org/freedesktop/secrets/collection/login/3": {Session: "/s/1", Parameters: []byte{}, Value: []byte{}, ContentType: "x"},
		},
	}
	for name, secrets := range cases {
		for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			raw := encodeReply(t, order, 5, secrets)
			h, err := parseReply(raw)
			if err != nil {
				t.Fatalf("%s/%v: parseReply: %v", name, order, err)
			}
			if h.typ != typeMethodReturn || h.serial != 5 || h.signature != secretsSignature {
				t.Fatalf("%s/%v: header %+v", name, order, h)
			}
			got, err := parseSecrets(raw, h.body)
			if err != nil {
				t.Fatalf("%s/%v: parseSecrets: %v", name, order, err)
			}
			msg, err := dbus.DecodeMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("%s/%v: godbus: %v", name, order, err)
			}
			a, b := got, godbusValues(t, msg.Body)
			if !maps.Equal(a, b) || len(a) != len(secrets) {
				t.Errorf("%s/%v: parsed %d values, godbus %d, sent %d; differ: %v", name, order, len(a), len(b), len(secrets), !maps.Equal(a, b))
			}
		}
	}
}

// FuzzParseReplies feeds arbitrary messages to the pipeline's parsers:
// they never panic, and what both they and godbus decode as a GetSecrets
// answer decodes to the same values. (They may refuse more: godbus does not
// check a string's closing NUL, for one; TestParseSecretsMatchesGodbus
// checks they read what a bus writes.)
func FuzzParseReplies(f *testing.F) {
	f.Add(encodeReply(f, binary.LittleEndian, 5, map[dbus.ObjectPath]ss.Secret{"/a/1": {Session: "/s", Value: []byte("v"), ContentType: "t"}}))
	f.Add(encodeReply(f, binary.BigEndian, 9, map[dbus.ObjectPath]ss.Secret{}))
	f.Add(encodeReply(f, binary.LittleEndian, 3, []dbus.ObjectPath{"/a/1"}, []dbus.ObjectPath{}))
	f.Add(encodeReply(f, binary.BigEndian, 3, dbus.MakeVariant(""), dbus.ObjectPath("/s/1")))
	f.Add(encodeReply(f, binary.LittleEndian, 3, true))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) < 16 {
			return
		}
		p := &pipeline{r: bufio.NewReader(bytes.NewReader(raw)), authed: true}
		whole, err := p.readMessage()
		if err != nil {
			return
		}
		h, err := parseReply(whole)
		if err != nil || h.body > len(whole) {
			return
		}
		// The other answers' decoders must end in an error or values,
		// never a panic or a read past the message.
		c := h.bodyCursor(whole, "aoao")
		c.objectPaths()
		c.objectPaths()
		c.done()
		c = h.bodyCursor(whole, "vo")
		c.signature()
		c.string()
		c.string()
		c.done()
		if h.signature != secretsSignature {
			return
		}
		got, err := parseSecrets(whole, h.body)
		msg, gerr := dbus.DecodeMessage(bytes.NewReader(whole))
		if err != nil || gerr != nil || msg.Type != dbus.TypeMethodReply {
			return
		}
		a, b := got, godbusValues(t, msg.Body)
		if !maps.Equal(a, b) {
			t.Fatalf("parseSecrets %q, godbus %q", a, b)
		}
	})
}

// TestWireMatchesGodbus reads every call the pipeline writes back with
// godbus: the headers and values must be what the call means.
func TestWireMatchesGodbus(t *testing.T) {
	t.Parallel()
	p := &pipeline{}
	service := ServicePrefix + "wire-test:a feed"
	items := []dbus.ObjectPath{"/org/freedesktop/secrets/collection/login/1", "/org/freedesktop/secrets/collection/login/22"}
	cases := []struct {
		name   string
		queue  func() uint32
		flags  dbus.Flags
		dest   string
		member string
		body   []any
	}{
		{"Hello", func() uint32 { return p.callBus("Hello", "", nil) }, 0, "org.freedesktop.DBus", "Hello", nil},
		{"NameHasOwner", func() uint32 {
			return p.callBus("NameHasOwner", "s", func(w *wire) { w.str(secretsName) })
		}, 0, "org.freedesktop.DBus", "NameHasOwner", []any{secretsName}},
		{"SearchItems", func() uint32 {
			return p.search(flagNoAutoStart, [][2]string{{MarkerAttribute, MarkerValue}, {"service", service}})
		}, dbus.FlagNoAutoStart, secretsName, "SearchItems", []any{map[string]string{MarkerAttribute: MarkerValue, "service": service}}},
		{"OpenSession", func() uint32 {
			return p.callSecrets(0, "OpenSession", "sv", func(w *wire) {
				w.str("plain")
				w.sig("s")
				w.str("")
			})
		}, 0, secretsName, "OpenSession", []any{"plain", dbus.MakeVariant("")}},
		{"GetSecrets", func() uint32 {
			return p.callSecrets(0, "GetSecrets", "aoo", func(w *wire) {
				w.array(4, func() {
					for _, item := range items {
						w.str(string(item))
					}
				})
				w.str("/org/freedesktop/secrets/session/ss7")
			})
		}, 0, secretsName, "GetSecrets", []any{items, dbus.ObjectPath("/org/freedesktop/secrets/session/ss7")}},
	}
	for _, tc := range cases {
		p.out = p.out[:0]
		serial := tc.queue()
		msg, err := dbus.DecodeMessage(bytes.NewReader(p.out))
		if err != nil {
			t.Fatalf("%s: godbus cannot read it: %v", tc.name, err)
		}
		if msg.Type != dbus.TypeMethodCall || msg.Flags != tc.flags || msg.Serial() != serial {
			t.Errorf("%s: type %v, flags %v, serial %d; want a call, %v, %d", tc.name, msg.Type, msg.Flags, msg.Serial(), tc.flags, serial)
		}
		header := func(f dbus.HeaderField) any { return msg.Headers[f].Value() }
		if header(dbus.FieldDestination) != tc.dest || header(dbus.FieldMember) != tc.member {
			t.Errorf("%s: to %v, member %v", tc.name, header(dbus.FieldDestination), header(dbus.FieldMember))
		}
		if len(tc.body) > 0 && header(dbus.FieldSignature) != dbus.SignatureOf(tc.body...) {
			t.Errorf("%s: signature %v, want %v", tc.name, header(dbus.FieldSignature), dbus.SignatureOf(tc.body...))
		}
		if fmt.Sprint(msg.Body) != fmt.Sprint(tc.body) && !(len(msg.Body) == 0 && len(tc.body) == 0) {
			t.Errorf("%s: body %#v, want %#v", tc.name, msg.Body, tc.body)
		}
	}
}

// godbusValues is what godbus decodes from a GetSecrets answer's body:
// each item's value.
func godbusValues(t testing.TB, body []any) map[string]string {
	t.Helper()
	var secrets map[dbus.ObjectPath]ss.Secret
	if err := dbus.Store(body, &secrets); err != nil {
		t.Fatalf("godbus: %v", err)
	}
	out := make(map[string]string, len(secrets))
	for path, s := range secrets {
		out[string(path)] = string(s.Value)
	}
	return out
}

// putItem writes a marked item of service and user into the test's
// gnome-keyring, as feedkey's OS keychain does, and removes it after the
// test.
func putItem(t *testing.T, service, user, value string) {
	t.Helper()
	putItemAttrs(t, map[string]string{"service": service, "username": user, MarkerAttribute: MarkerValue}, value)
}

// putItemAttrs is putItem with the item's attributes given.
func putItemAttrs(t *testing.T, attrs map[string]string, value string) {
	t.Helper()
	svc, err := ss.NewSecretService()
	if err != nil {
		t.Fatal(err)
	}
	collection := svc.GetLoginCollection()
	if err := svc.Unlock(collection.Path()); err != nil {
		t.Fatal(err)
	}
	session, err := svc.OpenSession()
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close(session)
	if err := svc.CreateItem(collection, "test item", attrs, ss.NewSecret(session.Path(), value)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		items, err := svc.SearchItems(collection, attrs)
		if err != nil {
			return
		}
		for _, item := range items {
			svc.Delete(item)
		}
	})
}

// readerConn is a connection read through r.
type readerConn struct {
	net.Conn
	r *bufio.Reader
}

func (c readerConn) Read(p []byte) (int, error) { return c.r.Read(p) }
