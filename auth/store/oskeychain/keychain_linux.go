//go:build linux

package oskeychain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/feedkey/feedkey/auth/store"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"
	ss "github.com/zalando/go-keyring/secret_service"

	"github.com/feedkey/feedkey/internal/sessionbus"
)

const (
	secretsName     = "org.freedesktop.secrets"
	loginCollection = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	defaultAlias    = dbus.ObjectPath("/org/freedesktop/secrets/aliases/default")
)

// preflight turns the usual "cannot work here" situations into one clear
// error before any real call: no session bus, or a write into a locked
// collection with nobody at a screen to unlock it (go-keyring would wait for
// that prompt forever).
func preflight(ctx context.Context, op, service, user string) error {
	if !sessionbus.Available() {
		return fmt.Errorf("%w: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set): run inside a desktop session or `dbus-run-session`", store.ErrUnavailable)
	}
	conn, err := sessionBus()
	if err != nil {
		return fmt.Errorf("%w: cannot connect to the D-Bus session bus: %v", store.ErrUnavailable, err)
	}
	if op == opWrite {
		// Reading collection properties is safe here because writes are
		// rare; see get for why reads avoid it.
		if locked, err := collectionLocked(ctx, conn); err == nil && locked && !interactive() {
			return lockedError()
		}
	}
	return nil
}

// get reads one secret in three D-Bus round trips where go-keyring's Get
// makes seven in a row (SPEC §10 gives the helper 5 ms). It finds items by
// the same attributes go-keyring and Python keyring use, so the stored
// layout is unchanged. It calls only Service methods: gnome-keyring 42
// aborts on an assertion when many clients read object properties at once,
// which is what 50 parallel helpers do.
func get(ctx context.Context, service, user string) (string, error) {
	_, secret, err := lookup(ctx, attributes(service, user), false)
	return secret, err
}

// getMany reads several users' items of one service: the searches are sent
// at once and answered in one round, then one GetSecrets reads them all. An
// item that is missing or locked sends the caller to get, one by one, which
// says why.
func getMany(ctx context.Context, service string, users []string) ([]string, error) {
	conn, err := sessionBus()
	if err != nil {
		return nil, err
	}
	obj := conn.Object(secretsName, "/org/freedesktop/secrets")
	calls := make([]*dbus.Call, len(users))
	for i, u := range users {
		calls[i] = obj.GoWithContext(ctx, "org.freedesktop.Secret.Service.SearchItems", 0, make(chan *dbus.Call, 1), attributes(service, u))
	}
	items := make([]dbus.ObjectPath, len(users))
	oneByOne := false
	for i, c := range calls {
		<-c.Done
		var unlocked, locked []dbus.ObjectPath
		if err := c.Store(&unlocked, &locked); err != nil || len(unlocked) == 0 {
			oneByOne = true
			continue
		}
		items[i] = unlocked[0]
	}
	if oneByOne {
		return getEach(ctx, service, users)
	}
	session, err := plainSession(ctx, conn)
	if err != nil {
		return nil, err
	}
	secrets, err := getSecrets(ctx, obj, items, session)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(items))
	for i, item := range items {
		s, ok := secrets[item]
		if !ok {
			return nil, fmt.Errorf("%w: item vanished", keyring.ErrNotFound)
		}
		out[i] = s
	}
	return out, nil
}

// getService reads every item feedkey wrote under one of its service names:
// one SearchItems (with the marker, so no other program's item comes back)
// and one GetSecrets. A locked item, or none, is left to the entry-by-entry
// path, which says why.
func getService(ctx context.Context, service string) ([]string, error) {
	if !store.Owned(service) {
		return nil, errors.ErrUnsupported
	}
	conn, err := sessionBus()
	if err != nil {
		return nil, err
	}
	obj := conn.Object(secretsName, "/org/freedesktop/secrets")
	var unlocked, locked []dbus.ObjectPath
	if err := obj.CallWithContext(ctx, "org.freedesktop.Secret.Service.SearchItems", 0,
		map[string]string{"service": service, store.MarkerAttribute: store.MarkerValue}).Store(&unlocked, &locked); err != nil {
		return nil, err
	}
	if len(unlocked) == 0 || len(locked) > 0 || len(unlocked) > store.MaxRecordEntries {
		return nil, keyring.ErrNotFound
	}
	session, err := plainSession(ctx, conn)
	if err != nil {
		return nil, err
	}
	secrets, err := getSecrets(ctx, obj, unlocked, session)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(secrets))
	for _, s := range secrets {
		out = append(out, s)
	}
	return out, nil
}

// getSecrets calls GetSecrets and returns each item's value.
func getSecrets(ctx context.Context, obj dbus.BusObject, items []dbus.ObjectPath, session dbus.ObjectPath) (map[dbus.ObjectPath]string, error) {
	call := obj.CallWithContext(ctx, "org.freedesktop.Secret.Service.GetSecrets", 0, items, session)
	if call.Err != nil {
		resetSession()
		return nil, call.Err
	}
	return secretValues(call.Body)
}

// secretValues reads GetSecrets' answer, a{o(oayays)}, as it is ([]byte
// values): godbus's Store into a struct would copy every byte of every
// secret through reflection, a third of the time a 6 KB credential takes
// to read.
func secretValues(body []any) (map[dbus.ObjectPath]string, error) {
	if len(body) == 1 {
		if m, ok := body[0].(map[dbus.ObjectPath][]any); ok {
			out := make(map[dbus.ObjectPath]string, len(m))
			for path, fields := range m {
				// (oayays): session, parameters, value, content type.
				if len(fields) != 4 {
					break
				}
				v, ok := fields[2].([]byte)
				if !ok {
					break
				}
				out[path] = string(v)
			}
			if len(out) == len(m) {
				return out, nil
			}
		}
	}
	var secrets map[dbus.ObjectPath]ss.Secret // an unexpected shape: the slow, general way
	if err := dbus.Store(body, &secrets); err != nil {
		return nil, err
	}
	out := make(map[dbus.ObjectPath]string, len(secrets))
	for path, s := range secrets {
		out[path] = string(s.Value)
	}
	return out, nil
}

// attributes are what an item of service and user carries: go-keyring's
// and Python keyring's pair, plus the marker on feedkey's own items.
func attributes(service, user string) map[string]string {
	a := map[string]string{"service": service, "username": user}
	if store.Owned(service) {
		a[store.MarkerAttribute] = store.MarkerValue
	}
	return a
}

// set writes an item. feedkey's own items are written with the marker;
// go-keyring cannot add an attribute, so they are created here the way it
// creates items (same collection, label and unlock), replacing the marked
// item of the same name.
func set(service, user, secret string) error {
	if !store.Owned(service) {
		return keyring.Set(service, user, secret)
	}
	svc, err := ss.NewSecretService()
	if err != nil {
		return err
	}
	// Unlock before OpenSession: OpenSession must not be the connection's
	// first call (see session).
	collection := svc.GetLoginCollection()
	if err := svc.Unlock(collection.Path()); err != nil {
		return err
	}
	session, err := svc.OpenSession()
	if err != nil {
		return err
	}
	defer svc.Close(session)
	return svc.CreateItem(collection, fmt.Sprintf("Password for '%s' on '%s'", user, service),
		attributes(service, user), ss.NewSecret(session.Path(), secret))
}

// del removes the item of service and user; for feedkey's own items, the
// marked one (and any unmarked imposter beside it).
func del(service, user string) error {
	if !store.Owned(service) {
		return keyring.Delete(service, user)
	}
	svc, err := ss.NewSecretService()
	if err != nil {
		return err
	}
	items, err := svc.SearchItems(svc.GetLoginCollection(), map[string]string{"service": service, "username": user})
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return keyring.ErrNotFound
	}
	for _, item := range items {
		if err := svc.Delete(item); err != nil {
			return err
		}
	}
	return nil
}

// list returns the username attribute of every item of service. It reads
// item properties, which the hot path avoids (see get): it runs only when a
// credential is written and in `feedkey doctor`.
func list(ctx context.Context, service string) ([]string, error) {
	conn, err := sessionBus()
	if err != nil {
		return nil, err
	}
	var unlocked, locked []dbus.ObjectPath
	if err := conn.Object(secretsName, "/org/freedesktop/secrets").CallWithContext(ctx,
		"org.freedesktop.Secret.Service.SearchItems", 0, map[string]string{"service": service}).Store(&unlocked, &locked); err != nil {
		return nil, fmt.Errorf("%w: %w", store.ErrUnavailable, explain(err))
	}
	var accounts []string
	for _, item := range append(unlocked, locked...) {
		var v dbus.Variant
		if err := conn.Object(secretsName, item).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0,
			"org.freedesktop.Secret.Item", "Attributes").Store(&v); err != nil {
			if vanished(err) {
				continue
			}
			return nil, err
		}
		if a, ok := v.Value().(map[string]string); ok {
			accounts = append(accounts, a["username"])
		}
	}
	return accounts, nil
}

// foreignOr tells why a marked item was not found: another program's item
// sits under the name (it is never served), or there is none.
func foreignOr(ctx context.Context, service dbus.BusObject, attrs map[string]string) error {
	var unlocked, locked []dbus.ObjectPath
	err := service.CallWithContext(ctx, "org.freedesktop.Secret.Service.SearchItems", 0,
		map[string]string{"service": attrs["service"], "username": attrs["username"]}).Store(&unlocked, &locked)
	if err != nil || len(unlocked)+len(locked) == 0 {
		return keyring.ErrNotFound
	}
	return fmt.Errorf("its %q item was written by another program, so feedkey never serves it: %w (store the credential again with feedkey, or remove it with `feedkey logout`)",
		attrs["username"], store.ErrCorrupt)
}

// foreign counts the items under service that lack feedkey's marker: left
// by another program, they are never served.
func foreign(ctx context.Context, service string) (int, error) {
	conn, err := sessionBus()
	if err != nil {
		return 0, err
	}
	var all, marked, locked []dbus.ObjectPath
	obj := conn.Object(secretsName, "/org/freedesktop/secrets")
	if err := obj.CallWithContext(ctx, "org.freedesktop.Secret.Service.SearchItems", 0, map[string]string{"service": service}).Store(&all, &locked); err != nil {
		return 0, fmt.Errorf("%w: %w", store.ErrUnavailable, explain(err))
	}
	all = append(all, locked...)
	locked = nil
	if err := obj.CallWithContext(ctx, "org.freedesktop.Secret.Service.SearchItems", 0, map[string]string{"service": service, store.MarkerAttribute: store.MarkerValue}).Store(&marked, &locked); err != nil {
		return 0, fmt.Errorf("%w: %w", store.ErrUnavailable, explain(err))
	}
	return len(all) - len(marked) - len(locked), nil
}

// find is get without a user name; it also returns the user name attribute.
func find(ctx context.Context, service string) (user, secret string, err error) {
	return lookup(ctx, map[string]string{"service": service}, true)
}

func lookup(ctx context.Context, attrs map[string]string, wantUser bool) (user, secret string, err error) {
	conn, err := sessionBus()
	if err != nil {
		return "", "", err
	}
	service := conn.Object(secretsName, "/org/freedesktop/secrets")
	var unlocked, locked []dbus.ObjectPath
	if err := service.CallWithContext(ctx, "org.freedesktop.Secret.Service.SearchItems", 0, attrs).Store(&unlocked, &locked); err != nil {
		return "", "", fmt.Errorf("%w: %w", store.ErrUnavailable, explain(err))
	}
	switch {
	case len(unlocked) == 0 && len(locked) == 0 && store.Owned(attrs["service"]):
		return "", "", foreignOr(ctx, service, attrs)
	case len(unlocked) == 0 && len(locked) == 0:
		return "", "", keyring.ErrNotFound
	case len(unlocked) == 0 && (wantUser || !interactive()):
		return "", "", lockedError()
	case len(unlocked) == 0 && store.Owned(attrs["service"]):
		// Someone can answer the unlock prompt; then search again, with
		// the marker (go-keyring's Get would take any item).
		svc, err := ss.NewSecretService()
		if err != nil {
			return "", "", err
		}
		if err := svc.Unlock(svc.GetLoginCollection().Path()); err != nil {
			return "", "", err
		}
		if err := service.CallWithContext(ctx, "org.freedesktop.Secret.Service.SearchItems", 0, attrs).Store(&unlocked, &locked); err != nil {
			return "", "", fmt.Errorf("%w: %w", store.ErrUnavailable, explain(err))
		}
		if len(unlocked) == 0 {
			return "", "", lockedError()
		}
	case len(unlocked) == 0:
		// Someone can answer the unlock prompt that go-keyring raises.
		s, err := keyring.Get(attrs["service"], attrs["username"])
		return attrs["username"], s, err
	}
	item := unlocked[0]
	if wantUser {
		var v dbus.Variant
		if err := conn.Object(secretsName, item).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0,
			"org.freedesktop.Secret.Item", "Attributes").Store(&v); err != nil {
			return "", "", err
		}
		a, _ := v.Value().(map[string]string)
		user = a["username"]
	}
	session, err := plainSession(ctx, conn)
	if err != nil {
		return "", "", err
	}
	secrets, err := getSecrets(ctx, service, []dbus.ObjectPath{item}, session)
	if err != nil {
		return "", "", err
	}
	s, ok := secrets[item]
	if !ok {
		return "", "", fmt.Errorf("%w: item vanished", keyring.ErrNotFound)
	}
	return user, s, nil
}

// session is the "plain" (unencrypted; the bus is a local socket) session
// for reading secrets. It is opened once per process; the daemon closes it
// when the process disconnects. It is opened only after a search has been
// answered, never as a connection's first call to the Secret Service:
// gnome-keyring can abort on that ("gkd_secret_service_get_pkcs11_session:
// assertion 'client' failed"; here about once in 800 runs of the helper when
// OpenSession went out first, and others report it for short-lived clients).
var session struct {
	sync.Mutex
	path dbus.ObjectPath
}

func plainSession(ctx context.Context, conn *dbus.Conn) (dbus.ObjectPath, error) {
	session.Lock()
	defer session.Unlock()
	if session.path != "" {
		return session.path, nil
	}
	var out dbus.Variant
	var path dbus.ObjectPath
	if err := conn.Object(secretsName, "/org/freedesktop/secrets").CallWithContext(ctx,
		"org.freedesktop.Secret.Service.OpenSession", 0, "plain", dbus.MakeVariant("")).Store(&out, &path); err != nil {
		return "", err
	}
	session.path = path
	return path, nil
}

func resetSession() {
	session.Lock()
	session.path = ""
	session.Unlock()
}

// diagnose is called when a call timed out and names the likely cause.
func diagnose() error {
	conn, err := sessionBus()
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), store.DefaultTimeout/4)
	defer cancel()
	if locked, err := collectionLocked(ctx, conn); err == nil && locked {
		return lockedError()
	}
	return nil
}

func lockedError() error {
	return fmt.Errorf("%w: %w: unlock it (sign in to the desktop session, or run `gnome-keyring-daemon --unlock`)", store.ErrUnavailable, store.ErrLocked)
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
			return errors.New("the login keyring is locked: unlock it in Passwords and Keys (seahorse), or log in to the desktop; on a box without one, run `gnome-keyring-daemon --unlock` and type the password")
		}
	}
	return err
}

// dedupe leaves exactly one item for service and user: the one just written
// with secret. Secret Service keeps other writers' items beside ours when
// their attribute sets differ (Python keyring adds "application"), and
// go-keyring then reads whichever comes first (SPEC §2.3).
//
// Under feedkey's own names, the items of other writers (no marker) are
// removed outright.
func dedupe(service, user, secret string) error {
	svc, err := ss.NewSecretService()
	if err != nil {
		return err
	}
	items, err := svc.SearchItems(svc.GetLoginCollection(), map[string]string{"service": service, "username": user})
	if err != nil || len(items) < 2 {
		return err
	}
	if store.Owned(service) {
		marked, err := svc.SearchItems(svc.GetLoginCollection(), attributes(service, user))
		if err != nil {
			return err
		}
		for _, item := range items {
			if !slices.Contains(marked, item) {
				if err := svc.Delete(item); err != nil {
					return err
				}
			}
		}
		if items = marked; len(items) < 2 {
			return nil
		}
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

// Available reports whether a Secret Service runs on the session bus or
// can be started by it (gnome-keyring is started on first use): one round
// trip, two when nothing runs yet. [store.Chosen] asks over its pipeline
// first; this answers where that cannot (a bus address that is not a unix
// socket).
func (Keychain) Available(ctx context.Context) bool {
	if !sessionbus.Available() {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, store.DefaultTimeout)
	defer cancel()
	conn, err := sessionBus()
	if err != nil {
		return false
	}
	bus := conn.BusObject()
	var owned bool
	if bus.CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, secretsName).Store(&owned) == nil && owned {
		return true
	}
	var names []string
	if bus.CallWithContext(ctx, "org.freedesktop.DBus.ListActivatableNames", 0).Store(&names) != nil {
		return false
	}
	return slices.Contains(names, secretsName)
}
