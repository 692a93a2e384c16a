//go:build !windows && !darwin

package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

const (
	busName    = "org.freedesktop.Notifications"
	objectPath = dbus.ObjectPath("/org/freedesktop/Notifications")
	iface      = "org.freedesktop.Notifications"

	// AppName is the app_name sent with every notification.
	AppName = "feedkey"

	// callTimeout bounds each D-Bus call when ctx has no earlier deadline,
	// so a wedged notification server cannot hold up the caller.
	callTimeout = 5 * time.Second
)

// New returns a Notifier that sends notifications over conn (normally the
// session bus) to org.freedesktop.Notifications. It does not own conn.
func New(conn *dbus.Conn) Notifier {
	return &dbusNotifier{conn: conn}
}

type dbusNotifier struct {
	conn *dbus.Conn
}

// Notify calls org.freedesktop.Notifications.Notify with app_name
// "feedkey", replaces_id 0, no icon, title as summary, body, no actions,
// hint urgency=1 (normal) and expire_timeout -1 (server default). If the
// server interprets body markup, &, < and > in body are escaped so that
// they show as written. The error wraps ErrNoServer when no notification
// server is available.
func (n *dbusNotifier) Notify(ctx context.Context, title, body string) error {
	if n.conn == nil {
		return errors.New("notify: no D-Bus connection")
	}
	markup, err := n.bodyMarkup(ctx)
	if err != nil {
		return err
	}
	if markup {
		body = escapeMarkup(body)
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	hints := map[string]dbus.Variant{"urgency": dbus.MakeVariant(byte(1))}
	call := n.conn.Object(busName, objectPath).CallWithContext(ctx, iface+".Notify", 0,
		AppName, uint32(0), "", title, body, []string{}, hints, int32(-1))
	if call.Err != nil {
		return wrapErr("Notify", call.Err)
	}
	return nil
}

// bodyMarkup asks the server whether it interprets markup in the body.
// (Asked for every notification: they are rare, and the server may have
// been replaced since the last one.)
func (n *dbusNotifier) bodyMarkup(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var caps []string
	err := n.conn.Object(busName, objectPath).CallWithContext(ctx, iface+".GetCapabilities", 0).Store(&caps)
	if err != nil {
		if isNoServer(err) || ctx.Err() != nil {
			return false, wrapErr("GetCapabilities", err)
		}
		// A server that answers but not this call: send plain text.
		return false, nil
	}
	return slices.Contains(caps, "body-markup"), nil
}

func wrapErr(method string, err error) error {
	if isNoServer(err) {
		return fmt.Errorf("notify: %s: %w: %v", method, ErrNoServer, err)
	}
	return fmt.Errorf("notify: %s: %w", method, err)
}

func isNoServer(err error) bool {
	var name string
	var e dbus.Error
	var pe *dbus.Error
	switch {
	case errors.As(err, &e):
		name = e.Name
	case errors.As(err, &pe):
		name = pe.Name
	default:
		return false
	}
	return name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
		name == "org.freedesktop.DBus.Error.NameHasNoOwner"
}

var markupEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escapeMarkup(s string) string { return markupEscaper.Replace(s) }
