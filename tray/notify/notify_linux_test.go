//go:build linux

package notify_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/feedkey/feedkey/internal/testbus"
	"github.com/feedkey/feedkey/tray/notify"
	"github.com/feedkey/feedkey/tray/notify/notifytest"
)

func connect(t *testing.T, address string) *dbus.Conn {
	t.Helper()
	conn, err := dbus.Connect(address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestNotify(t *testing.T) {
	bus := testbus.Start(t, testbus.Options{NoSecretService: true})
	srv := notifytest.Start(t, bus.Address)
	n := notify.New(connect(t, bus.Address))

	if err := n.Notify(ctxT(t), "contoso: sign in needed", "Open feedkey to sign in <again> & go"); err != nil {
		t.Fatal(err)
	}
	got := srv.Notifications()
	if len(got) != 1 {
		t.Fatalf("server recorded %d notifications, want 1", len(got))
	}
	g := got[0]
	if g.Summary != "contoso: sign in needed" || g.Body != "Open feedkey to sign in <again> & go" {
		t.Errorf("summary %q body %q", g.Summary, g.Body)
	}
	if g.AppName != "feedkey" || g.ReplacesID != 0 || g.AppIcon != "" || len(g.Actions) != 0 || g.ExpireTimeout != -1 {
		t.Errorf("app %q replaces %d icon %q actions %q expire %d; want feedkey, 0, \"\", [], -1",
			g.AppName, g.ReplacesID, g.AppIcon, g.Actions, g.ExpireTimeout)
	}
	if u, ok := g.Hints["urgency"]; !ok || u.Signature().String() != "y" || u.Value() != byte(1) {
		t.Errorf("hints %v, want urgency byte 1", g.Hints)
	}
	if len(g.Hints) != 1 {
		t.Errorf("hints %v, want only urgency", g.Hints)
	}

	if err := n.Notify(ctxT(t), "second", ""); err != nil {
		t.Fatal(err)
	}
	all, err := srv.Wait(ctxT(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	if all[1].Summary != "second" || all[1].ID != 2 {
		t.Errorf("second notification %+v", all[1])
	}
}

func TestNotifyEscapesBodyForMarkupServers(t *testing.T) {
	bus := testbus.Start(t, testbus.Options{NoSecretService: true})
	srv := notifytest.Start(t, bus.Address)
	srv.SetCapabilities("body", "body-markup")
	n := notify.New(connect(t, bus.Address))
	if err := n.Notify(ctxT(t), "a & <b>", "x < y && <i>z</i>"); err != nil {
		t.Fatal(err)
	}
	g := srv.Notifications()[0]
	if g.Summary != "a & <b>" {
		t.Errorf("summary %q: the summary is plain text and must not be escaped", g.Summary)
	}
	if want := "x &lt; y &amp;&amp; &lt;i&gt;z&lt;/i&gt;"; g.Body != want {
		t.Errorf("body %q, want %q", g.Body, want)
	}
}

func TestNotifyWithoutServer(t *testing.T) {
	bus := testbus.Start(t, testbus.Options{NoSecretService: true})
	n := notify.New(connect(t, bus.Address))
	err := n.Notify(ctxT(t), "t", "b")
	if !errors.Is(err, notify.ErrNoServer) {
		t.Fatalf("Notify with no server: %v, want ErrNoServer", err)
	}

	// A server that goes away.
	srv := notifytest.Start(t, bus.Address)
	if err := n.Notify(ctxT(t), "t", "b"); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if err := n.Notify(ctxT(t), "t", "b"); !errors.Is(err, notify.ErrNoServer) {
		t.Fatalf("Notify after the server left: %v, want ErrNoServer", err)
	}
}

func TestNotifyCancelled(t *testing.T) {
	bus := testbus.Start(t, testbus.Options{NoSecretService: true})
	notifytest.Start(t, bus.Address)
	n := notify.New(connect(t, bus.Address))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Notify(ctx, "t", "b"); err == nil {
		t.Fatal("Notify with a cancelled context succeeded")
	}
}

func TestNotifyNilConn(t *testing.T) {
	if err := notify.New(nil).Notify(context.Background(), "t", "b"); err == nil {
		t.Fatal("Notify on a nil connection succeeded")
	}
}

func TestWaitTimesOut(t *testing.T) {
	bus := testbus.Start(t, testbus.Options{NoSecretService: true})
	srv := notifytest.Start(t, bus.Address)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if got, err := srv.Wait(ctx, 1); !errors.Is(err, context.DeadlineExceeded) || len(got) != 0 {
		t.Fatalf("Wait = %v, %v; want none, deadline exceeded", got, err)
	}
}
