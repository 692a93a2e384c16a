package notify

import (
	"context"
	"fmt"
	"unsafe"

	"github.com/godbus/dbus/v5"
	"golang.org/x/sys/windows"
)

// New returns a Notifier that shows each notification as a balloon on the
// notification-area icon of this process's tray, which Windows 10 and 11
// show as a toast. (A toast of feedkey's own would need an AppUserModelID
// and a Start menu shortcut carrying it; a balloon needs only the icon.)
// conn is ignored and may be nil.
func New(conn *dbus.Conn) Notifier {
	return balloonNotifier{}
}

// The tray's window and icon, as fyne.io/systray v1.12.2 creates them on
// Windows (systray_windows.go, initInstance): one hidden top-level window
// of this class, and one icon with this ID. Shell_NotifyIconW finds an
// icon by window and ID, so a balloon needs both. Should a systray upgrade
// change them, build/wine-test.sh's tray stage sees no balloon and fails.
const (
	trayWindowClass = "SystrayClass"
	trayIconID      = 100
)

// Shell_NotifyIconW and NOTIFYICONDATAW
// (https://learn.microsoft.com/windows/win32/api/shellapi/ns-shellapi-notifyicondataw).
const (
	nimModify              = 0x1
	nifInfo                = 0x10
	niifInfo               = 0x1 // the "information" icon
	balloonTitleUnits      = 64
	balloonTextUnits       = 256
	notifyIconDataTipUnits = 128
)

// notifyIconData is NOTIFYICONDATAW with every field up to hBalloonIcon
// (the Vista and later layout, which systray uses too). Go's alignment of
// these fields matches the C compiler's on 32- and 64-bit Windows:
// notify_windows_test.go checks the size and offsets.
type notifyIconData struct {
	Size            uint32
	Wnd             windows.HWND
	ID              uint32
	Flags           uint32
	CallbackMessage uint32
	Icon            windows.Handle
	Tip             [notifyIconDataTipUnits]uint16
	State           uint32
	StateMask       uint32
	Info            [balloonTextUnits]uint16
	TimeoutVersion  uint32 // uTimeout / uVersion
	InfoTitle       [balloonTitleUnits]uint16
	InfoFlags       uint32
	GUIDItem        windows.GUID
	BalloonIcon     windows.Handle
}

var (
	user32            = windows.NewLazySystemDLL("user32.dll")
	shell32           = windows.NewLazySystemDLL("shell32.dll")
	procFindWindowExW = user32.NewProc("FindWindowExW")
	procShellNotify   = shell32.NewProc("Shell_NotifyIconW")
)

type balloonNotifier struct{}

// Notify shows title and body in a balloon from the tray icon. Text longer
// than the balloon's fields (63 and 255 UTF-16 units) is cut and ends with
// "…". The error wraps [ErrNoServer] when this process shows no tray icon.
func (balloonNotifier) Notify(ctx context.Context, title, body string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	wnd, err := trayWindow()
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if body == "" {
		// An empty text removes the balloon instead of showing one.
		title, body = "", title
	}
	nid := notifyIconData{
		Wnd:   wnd,
		ID:    trayIconID,
		Flags: nifInfo,
		// Not NIIF_RESPECT_QUIET_TIME: on a new machine's first hour, when
		// feeds are set up, a sign-in's code must still show.
		InfoFlags: niifInfo,
	}
	nid.Size = uint32(unsafe.Sizeof(nid))
	putUTF16(nid.InfoTitle[:], title)
	putUTF16(nid.Info[:], body)
	// NIM_MODIFY with only NIF_INFO changes nothing but the balloon: the
	// icon, tooltip and menu stay systray's.
	if ok, _, err := procShellNotify.Call(nimModify, uintptr(unsafe.Pointer(&nid))); ok == 0 {
		return fmt.Errorf("notify: Shell_NotifyIconW: %w", err)
	}
	return nil
}

// trayWindow finds systray's window in this process. (Every fyne.io/systray
// program registers the same class name, so the process is checked.)
func trayWindow() (windows.HWND, error) {
	class, err := windows.UTF16PtrFromString(trayWindowClass)
	if err != nil {
		return 0, err
	}
	self := windows.GetCurrentProcessId()
	var after windows.HWND
	for {
		r, _, _ := procFindWindowExW.Call(0, uintptr(after), uintptr(unsafe.Pointer(class)), 0)
		if r == 0 {
			return 0, errNoTray
		}
		after = windows.HWND(r)
		var pid uint32
		if _, err := windows.GetWindowThreadProcessId(after, &pid); err == nil && pid == self {
			return after, nil
		}
	}
}

// errNoTray is Notify's error when no tray is up: the headless agent, or a
// notification before systray has made its window.
var errNoTray = fmt.Errorf("%w: this process shows no tray icon", ErrNoServer)
