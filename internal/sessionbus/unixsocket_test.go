//go:build linux

package sessionbus

import "testing"

func TestUnixSocket(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr, want string
		ok         bool
	}{
		{"unix:path=/run/user/1000/bus", "/run/user/1000/bus", true},
		{"unix:abstract=/tmp/dbus-abc,guid=0123", "@/tmp/dbus-abc", true},
		{"unix:guid=0123,path=/tmp/with%20space", "/tmp/with space", true},
		{"tcp:host=127.0.0.1,port=1234;unix:path=/x", "/x", true},
		{"tcp:host=127.0.0.1,port=1234", "", false},
		{"unix:tmpdir=/tmp", "", false},
		{"autolaunch:", "", false},
	} {
		got, ok := UnixSocket(tc.addr, "")
		if got != tc.want || ok != tc.ok {
			t.Errorf("UnixSocket(%q) = %q, %v; want %q, %v", tc.addr, got, ok, tc.want, tc.ok)
		}
	}
}
