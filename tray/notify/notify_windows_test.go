package notify

import (
	"context"
	"errors"
	"testing"
	"unsafe"
)

// TestNotifyIconDataLayout checks notifyIconData against NOTIFYICONDATAW
// as the Windows SDK lays it out: sizeof 976 on 64-bit Windows (checked
// against mingw-w64's offsetof), 956 on 32-bit.
// Shell_NotifyIconW reads fields by offset: a wrong one shows garbage or
// nothing.
func TestNotifyIconDataLayout(t *testing.T) {
	var nid notifyIconData
	tests := []struct {
		field  string
		got    uintptr
		want64 uintptr
		want32 uintptr
	}{
		{"sizeof", unsafe.Sizeof(nid), 976, 956},
		{"hWnd", unsafe.Offsetof(nid.Wnd), 8, 4},
		{"uID", unsafe.Offsetof(nid.ID), 16, 8},
		{"uFlags", unsafe.Offsetof(nid.Flags), 20, 12},
		{"uCallbackMessage", unsafe.Offsetof(nid.CallbackMessage), 24, 16},
		{"hIcon", unsafe.Offsetof(nid.Icon), 32, 20},
		{"szTip", unsafe.Offsetof(nid.Tip), 40, 24},
		{"dwState", unsafe.Offsetof(nid.State), 296, 280},
		{"dwStateMask", unsafe.Offsetof(nid.StateMask), 300, 284},
		{"szInfo", unsafe.Offsetof(nid.Info), 304, 288},
		{"uTimeout", unsafe.Offsetof(nid.TimeoutVersion), 816, 800},
		{"szInfoTitle", unsafe.Offsetof(nid.InfoTitle), 820, 804},
		{"dwInfoFlags", unsafe.Offsetof(nid.InfoFlags), 948, 932},
		{"guidItem", unsafe.Offsetof(nid.GUIDItem), 952, 936},
		{"hBalloonIcon", unsafe.Offsetof(nid.BalloonIcon), 968, 952},
	}
	for _, tt := range tests {
		want := tt.want64
		if unsafe.Sizeof(uintptr(0)) == 4 {
			want = tt.want32
		}
		if tt.got != want {
			t.Errorf("%s at %d, want %d", tt.field, tt.got, want)
		}
	}
	if len(nid.Info) != 256 || len(nid.InfoTitle) != 64 || len(nid.Tip) != 128 {
		t.Errorf("szInfo %d, szInfoTitle %d, szTip %d units; want 256, 64, 128", len(nid.Info), len(nid.InfoTitle), len(nid.Tip))
	}
}

// TestNotifyWithoutTray: with no systray window in the process (as in the
// headless agent, and in this test binary), Notify says so, as the Linux
// notifier does with no notification server.
func TestNotifyWithoutTray(t *testing.T) {
	err := New(nil).Notify(context.Background(), "Sign-in needed", "contoso needs you to sign in again.")
	if !errors.Is(err, ErrNoServer) {
		t.Errorf("Notify with no tray = %v, want an error wrapping ErrNoServer", err)
	}
}
