//go:build linux

package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
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
		if err := set(svc, kv[0], kv[1]); err != nil {
			t.Fatalf("set %s: %v", kv[0], err)
		}
	}
	t.Cleanup(func() {
		del(svc, "head")
		del(svc, "chunk-1")
	})

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
		bufio.NewReader(c).ReadString('\n')
		answer(c, done)
	}()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+sock)
}

// TestGetServiceNoAnswer checks that a Secret Service that never answers
// costs one timeout and one clear line, not one per path.
func TestGetServiceNoAnswer(t *testing.T) {
	fakeBus(t, func(_ net.Conn, done <-chan struct{}) { <-done })
	start := time.Now()
	_, err := OS{Timeout: 300 * time.Millisecond}.GetService(context.Background(), ServicePrefix+"pipeline-test:silent")
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("GetService took %s with a 300ms timeout", took)
	}
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no answer within 300ms") {
		t.Errorf("err = %v, want ErrUnavailable saying no answer within 300ms", err)
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
			if h.typ != dbus.TypeMethodReply || h.serial != 5 || h.signature != secretsSignature {
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
			a, _ := secretValues(got)
			b, _ := secretValues(msg.Body)
			if !maps.Equal(a, b) || len(a) != len(secrets) {
				t.Errorf("%s/%v: parsed %d values, godbus %d, sent %d; differ: %v", name, order, len(a), len(b), len(secrets), !maps.Equal(a, b))
			}
		}
	}
}

// FuzzParseSecrets feeds arbitrary messages to the pipeline's parsers: they
// never panic, and what both they and godbus decode as a GetSecrets answer
// decodes to the same values. (They may refuse more: godbus does not check
// a string's closing NUL, for one; TestParseSecretsMatchesGodbus checks they
// read what a bus writes.)
func FuzzParseSecrets(f *testing.F) {
	f.Add(encodeReply(f, binary.LittleEndian, 5, map[dbus.ObjectPath]ss.Secret{"/a/1": {Session: "/s", Value: []byte("v"), ContentType: "t"}}))
	f.Add(encodeReply(f, binary.BigEndian, 9, map[dbus.ObjectPath]ss.Secret{}))
	f.Add(encodeReply(f, binary.LittleEndian, 3, []dbus.ObjectPath{"/a/1"}, []dbus.ObjectPath{}))
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
		if err != nil || h.signature != secretsSignature || h.body > len(whole) {
			return
		}
		got, err := parseSecrets(whole, h.body)
		msg, gerr := dbus.DecodeMessage(bytes.NewReader(whole))
		if err != nil || gerr != nil || msg.Type != dbus.TypeMethodReply {
			return
		}
		a, _ := secretValues(got)
		b, _ := secretValues(msg.Body)
		if !maps.Equal(a, b) {
			t.Fatalf("parseSecrets %q, godbus %q", a, b)
		}
	})
}

// TestGetServiceUnsupportedNotRetried checks that GetService's "unsupported"
// (a service feedkey does not own) comes back at once: do retries other
// errors until its timeout, and the caller then falls back to reading entry
// by entry, so a retried "unsupported" would cost every read seconds.
func TestGetServiceUnsupportedNotRetried(t *testing.T) {
	start := time.Now()
	_, err := OS{Timeout: 2 * time.Second}.GetService(context.Background(), "not-feedkeys-service")
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("err = %v, want ErrUnsupported", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("GetService took %s: ErrUnsupported was retried", took)
	}
}
