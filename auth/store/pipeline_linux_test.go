//go:build linux

package store

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
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
			resetPipeline()
			t.Cleanup(resetPipeline)
			sock := filepath.Join(t.TempDir(), "bus")
			l, err := net.Listen("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			done := make(chan struct{})
			defer close(done)
			go func() {
				c, err := l.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				// Read the client's opening before answering, as a bus does.
				bufio.NewReader(c).ReadString('\n')
				tc.answer(c, done)
			}()
			t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+sock)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err = pipelinedService(ctx, ServicePrefix+"pipeline-test:hostile")
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

// TestGetServiceNoAnswer checks that a Secret Service that never answers
// costs one timeout and one clear line, not one per path.
func TestGetServiceNoAnswer(t *testing.T) {
	resetPipeline()
	t.Cleanup(resetPipeline)
	sock := filepath.Join(t.TempDir(), "bus")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		<-done
	}()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+sock)
	start := time.Now()
	_, err = OS{Timeout: 300 * time.Millisecond}.GetService(context.Background(), ServicePrefix+"pipeline-test:silent")
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("GetService took %s with a 300ms timeout", took)
	}
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no answer within 300ms") {
		t.Errorf("err = %v, want ErrUnavailable saying no answer within 300ms", err)
	}
}
