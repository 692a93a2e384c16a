package store

import (
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// sock is a unix stream socket read and written with blocking system
// calls. The pipeline waits for one answer at a time and has nothing else
// to do meanwhile: blocking in read lets the kernel wake this very thread
// when the bus answers, where the runtime's poller wakes one thread to
// hand the answer to another (and on a machine of two cores, the bus and
// the Secret Service need both). Deadlines are the socket's own timeouts.
type sock struct {
	fd int
	dl time.Time // the deadline, for timeouts restarted after a signal
}

// dialSock connects to the unix socket name ("@name" for an abstract one)
// within the deadline dl (none when zero).
func dialSock(name string, dl time.Time) (*sock, error) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	s := &sock{fd: fd}
	if err := s.SetDeadline(dl); err != nil {
		s.Close()
		return nil, err
	}
	for {
		err = syscall.Connect(fd, &syscall.SockaddrUnix{Name: name})
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("connect %s: %w", name, timedOut(err))
	}
	return s, nil
}

// timedOut reports a timeout as os.ErrDeadlineExceeded, as net.Conn does.
func timedOut(err error) error {
	if err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINPROGRESS {
		return os.ErrDeadlineExceeded
	}
	return err
}

func (s *sock) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(s.fd, p)
		switch {
		case err == syscall.EINTR:
			// A signal ends a wait with a timeout early, whatever
			// SA_RESTART says (signal(7)): wait out only what is left.
			if err := s.SetDeadline(s.dl); err != nil {
				return 0, err
			}
			continue
		case err != nil:
			return 0, timedOut(err)
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (s *sock) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		n, err := syscall.Write(s.fd, p[written:])
		switch {
		case err == syscall.EINTR:
			if err := s.SetDeadline(s.dl); err != nil {
				return written, err
			}
			continue
		case err != nil:
			return written, timedOut(err)
		}
		written += n
	}
	return written, nil
}

func (s *sock) Close() error { return syscall.Close(s.fd) }

// SetDeadline bounds every later read and write (and a connect) to end by
// dl; the zero time removes the bound.
func (s *sock) SetDeadline(dl time.Time) error {
	s.dl = dl
	var tv syscall.Timeval
	if !dl.IsZero() {
		d := time.Until(dl)
		if d < time.Microsecond {
			d = time.Microsecond // zero would mean no timeout
		}
		tv = syscall.NsecToTimeval(d.Nanoseconds())
	}
	for _, opt := range []int{syscall.SO_RCVTIMEO, syscall.SO_SNDTIMEO} {
		if err := syscall.SetsockoptTimeval(s.fd, syscall.SOL_SOCKET, opt, &tv); err != nil {
			return os.NewSyscallError("setsockopt", err)
		}
	}
	return nil
}
