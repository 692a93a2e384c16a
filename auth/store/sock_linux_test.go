package store

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSock talks over a blocking socket to a path and an abstract name:
// what is written arrives, silence past the deadline is
// os.ErrDeadlineExceeded (as net.Conn says it), and a closed peer is EOF.
func TestSock(t *testing.T) {
	t.Parallel()
	for _, name := range []string{filepath.Join(t.TempDir(), "s"), fmt.Sprintf("@feedkey-sock-test-%d", os.Getpid())} {
		t.Run(name, func(t *testing.T) {
			l, err := net.Listen("unix", name)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			peer := make(chan net.Conn, 1)
			go func() {
				c, err := l.Accept()
				if err == nil {
					peer <- c
				}
				close(peer)
			}()
			s, err := dialSock(name, time.Now().Add(5*time.Second))
			if err != nil {
				t.Fatalf("dialSock: %v", err)
			}
			defer s.Close()
			c := <-peer
			if c == nil {
				t.Fatal("no connection accepted")
			}
			if _, err := s.Write([]byte("ping")); err != nil {
				t.Fatalf("Write: %v", err)
			}
			buf := make([]byte, 4)
			if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
				t.Fatalf("the peer read %q, %v", buf, err)
			}
			s.SetDeadline(time.Now().Add(50 * time.Millisecond))
			start := time.Now()
			if _, err := s.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("a silent peer: %v, want os.ErrDeadlineExceeded", err)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("a 50 ms deadline took %s", took)
			}
			s.SetDeadline(time.Time{})
			c.Close()
			if _, err := s.Read(buf); err != io.EOF {
				t.Errorf("a closed peer: %v, want EOF", err)
			}
		})
	}
}
