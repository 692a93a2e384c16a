//go:build linux

package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
	ss "github.com/zalando/go-keyring/secret_service"
)

const (
	secretsName     = "org.freedesktop.secrets"
	loginCollection = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	defaultAlias    = dbus.ObjectPath("/org/freedesktop/secrets/aliases/default")
)

// preflight answers what it can with one D-Bus call before go-keyring's
// seven: whether the session bus and a Secret Service exist, whether a read
// will find anything, and whether the item is locked with nobody at a screen
// to unlock it (go-keyring would wait for that prompt forever).
//
// It uses the Service's SearchItems method rather than reading collection
// properties: gnome-keyring 42 aborts on an assertion when many clients read
// object properties at once, which is exactly what 50 parallel helpers do.
func preflight(ctx context.Context, op, service, user string) error {
	if err := sessionBusAddress(); err != nil {
		return err
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		return fmt.Errorf("%w: cannot connect to the D-Bus session bus: %v", ErrUnavailable, err)
	}
	if op == opWrite {
		// Writes are rare, so reading the Locked property is safe here
		// (see above); a locked collection would otherwise prompt.
		if locked, err := collectionLocked(ctx, conn); err == nil && locked && !interactive() {
			return lockedError()
		}
		return nil
	}
	if op != opRead {
		return nil
	}
	attrs := map[string]string{"service": service}
	if user != "" {
		attrs["username"] = user
	}
	var unlocked, locked []dbus.ObjectPath
	err = conn.Object(secretsName, "/org/freedesktop/secrets").CallWithContext(ctx,
		"org.freedesktop.Secret.Service.SearchItems", 0, attrs).Store(&unlocked, &locked)
	switch {
	case err != nil:
		return fmt.Errorf("%w: %w", ErrUnavailable, explain(err))
	case len(unlocked) == 0 && len(locked) == 0:
		return keyring.ErrNotFound
	case len(unlocked) == 0 && !interactive():
		return lockedError()
	}
	return nil
}

// diagnose is called when a call timed out and names the likely cause.
func diagnose() error {
	conn, err := dbus.SessionBus()
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout/4)
	defer cancel()
	if locked, err := collectionLocked(ctx, conn); err == nil && locked {
		return lockedError()
	}
	return nil
}

func lockedError() error {
	return fmt.Errorf("%w: %w: unlock it (sign in to the desktop session, or run `gnome-keyring-daemon --unlock`)", ErrUnavailable, ErrLocked)
}

// collectionLocked reads the Locked property of the collection go-keyring
// uses: "login" when it exists, else the default alias.
func collectionLocked(ctx context.Context, conn *dbus.Conn) (bool, error) {
	var v dbus.Variant
	var err error
	for _, path := range []dbus.ObjectPath{loginCollection, defaultAlias} {
		err = conn.Object(secretsName, path).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0,
			"org.freedesktop.Secret.Collection", "Locked").Store(&v)
		if err == nil {
			locked, ok := v.Value().(bool)
			if !ok {
				return false, errors.New("Locked is not a boolean")
			}
			return locked, nil
		}
	}
	return false, err
}

// sessionBusAddress makes sure a session bus address is known without letting
// godbus fall back to `dbus-launch`, which would start a stray bus (and an
// empty keychain) that outlives the process.
func sessionBusAddress() error {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" && a != "autolaunch:" {
		return nil
	}
	dirs := []string{os.Getenv("XDG_RUNTIME_DIR"), fmt.Sprintf("/run/user/%d", os.Getuid())}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		p := filepath.Join(d, "bus")
		if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
			os.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+p)
			return nil
		}
	}
	return fmt.Errorf("%w: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set): run inside a desktop session or `dbus-run-session`", ErrUnavailable)
}

// interactive reports whether a person could answer an unlock prompt.
func interactive() bool {
	if os.Getenv("CI") == "true" || os.Getenv("FEEDKEY_NONINTERACTIVE") == "1" {
		return false
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// vanished reports whether err says that an item found a moment ago no
// longer exists.
func vanished(err error) bool {
	var de dbus.Error
	if !errors.As(err, &de) {
		return false
	}
	switch de.Name {
	case "org.freedesktop.DBus.Error.UnknownObject", "org.freedesktop.DBus.Error.UnknownMethod",
		"org.freedesktop.DBus.Error.UnknownInterface", "org.freedesktop.Secret.Error.NoSuchObject":
		return true
	}
	return false
}

// explain shortens the D-Bus errors go-keyring passes through.
func explain(err error) error {
	var de dbus.Error
	if errors.As(err, &de) {
		switch {
		case strings.HasSuffix(de.Name, "ServiceUnknown"), strings.HasSuffix(de.Name, "NameHasNoOwner"):
			return errors.New("no Secret Service on the D-Bus session bus: install and start gnome-keyring (or KeePassXC with its Secret Service integration)")
		case strings.HasSuffix(de.Name, "IsLocked"):
			return errors.New("the keyring is locked: unlock it")
		}
	}
	return err
}

// find looks up the first item whose service attribute is service, in the
// collection go-keyring uses.
func find(service string) (user, secret string, err error) {
	svc, err := ss.NewSecretService()
	if err != nil {
		return "", "", err
	}
	coll := svc.GetLoginCollection()
	if err := svc.Unlock(coll.Path()); err != nil {
		return "", "", err
	}
	items, err := svc.SearchItems(coll, map[string]string{"service": service})
	if err != nil {
		return "", "", err
	}
	if len(items) == 0 {
		return "", "", keyring.ErrNotFound
	}
	v, err := svc.Object(secretsName, items[0]).GetProperty("org.freedesktop.Secret.Item.Attributes")
	if err != nil {
		return "", "", err
	}
	attrs, _ := v.Value().(map[string]string)
	session, err := svc.OpenSession()
	if err != nil {
		return "", "", err
	}
	defer svc.Close(session)
	s, err := svc.GetSecret(items[0], session.Path())
	if err != nil {
		return "", "", err
	}
	return attrs["username"], string(s.Value), nil
}

// dedupe leaves exactly one item for service and user: the one just written
// with secret. Secret Service keeps other writers' items beside ours when
// their attribute sets differ (Python keyring adds "application"), and
// go-keyring then reads whichever comes first (SPEC §2.3).
func dedupe(service, user, secret string) error {
	svc, err := ss.NewSecretService()
	if err != nil {
		return err
	}
	items, err := svc.SearchItems(svc.GetLoginCollection(), map[string]string{"service": service, "username": user})
	if err != nil || len(items) < 2 {
		return err
	}
	session, err := svc.OpenSession()
	if err != nil {
		return err
	}
	defer svc.Close(session)
	kept := false
	for _, item := range items {
		if !kept {
			if s, err := svc.GetSecret(item, session.Path()); err == nil && string(s.Value) == secret {
				kept = true
				continue
			}
		}
		if err := svc.Delete(item); err != nil {
			return err
		}
	}
	return nil
}
