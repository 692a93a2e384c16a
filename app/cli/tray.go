package cli

import (
	"context"
	"fmt"

	"github.com/godbus/dbus/v5"

	"github.com/feedkey/feedkey/app/daemon"
	"github.com/feedkey/feedkey/tray"
	"github.com/feedkey/feedkey/tray/autostart"
	"github.com/feedkey/feedkey/tray/notify"
)

// runTray starts the tray app (`feedkey` with no arguments, or `feedkey tray`).
func runTray(ctx context.Context, env *Env, args []string) error {
	if err := exactArgs("tray", args); err != nil {
		return err
	}
	if err := tray.Available(); err != nil {
		return err
	}
	var n notify.Notifier = notify.Nop{}
	if conn, err := dbus.SessionBus(); err == nil {
		n = notify.New(conn)
	}
	return daemon.Run(ctx, daemon.Options{
		ConfigPath:  env.ConfigPath,
		Keychain:    env.Keychain,
		NewProvider: env.NewProvider,
		OpenURL:     env.OpenURL,
		Notify:      n.Notify,
		Executable:  env.Executable,
		Autostart:   osAutostart{},
		Logf: func(format string, a ...any) {
			fmt.Fprintf(env.Err, "feedkey: "+format+"\n", a...)
		},
	})
}

// osAutostart is tray/autostart as daemon.Autostart.
type osAutostart struct{}

func (osAutostart) Enabled() (bool, error)                  { return autostart.Enabled() }
func (osAutostart) Enable(exe string, args ...string) error { return autostart.Enable(exe, args...) }
func (osAutostart) Disable() error                          { return autostart.Disable() }
