package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/spf13/cobra"

	"github.com/feedkey/feedkey/app/daemon"
	"github.com/feedkey/feedkey/control"
	"github.com/feedkey/feedkey/tray"
	"github.com/feedkey/feedkey/tray/autostart"
	"github.com/feedkey/feedkey/tray/notify"
)

// runTray starts the tray app (`feedkey` with no arguments, or `feedkey tray`).
func newCmdTray(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "tray",
		Short: "Run the tray app (also: feedkey with no arguments)",
		Args:  exactly(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTray(cmd.Context(), env)
		},
	}
}

// runTray runs the tray, or, where no tray icon would be seen (no tray
// host), the same background service without a menu: it keeps credentials
// fresh and answers the helper, whose terminal shows any sign-in.
func runTray(ctx context.Context, env *Env) error {
	if gui := guiTray(env.Executable); gui != "" {
		return startGUITray(ctx, env, gui)
	}
	return runTrayTitled(ctx, env, "feedkey", false)
}

// guiTray returns, for the console feedkey.exe on Windows, the GUI-subsystem
// feedkey-tray.exe beside it, which the tray runs as: a tray started from
// a console would die with the console window. Elsewhere, and for
// feedkey-tray.exe itself, "".
func guiTray(exe string) string {
	if runtime.GOOS != "windows" || exe == "" || strings.EqualFold(filepath.Base(exe), "feedkey-tray.exe") {
		return ""
	}
	return trayExecutable(exe)
}

// startGUITray starts gui as the tray, unless a tray already runs, and
// returns: the console is free again and the tray stays.
func startGUITray(ctx context.Context, env *Env, gui string) error {
	if gui == env.Executable {
		return runTrayTitled(ctx, env, "feedkey", false) // no feedkey-tray.exe beside it
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, err := (&control.Client{}).Ping(pctx)
	cancel()
	if err == nil {
		fmt.Fprintln(env.Out, "The feedkey tray is already running.")
		return nil
	}
	cmd := exec.Command(gui, "tray")
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the tray %s: %w", gui, err)
	}
	cmd.Process.Release()
	fmt.Fprintf(env.Out, "Started the feedkey tray (%s); it runs on after this window closes.\n", gui)
	return nil
}

// runTrayTitled runs the tray under title (the demo's is labelled), or
// without a menu when noMenu (the caller said why) or when no tray host
// would show it.
func runTrayTitled(ctx context.Context, env *Env, title string, noMenu bool) error {
	var runUI func(context.Context, tray.Icons, tray.Actions, <-chan tray.View)
	if noMenu {
		runUI = headless
	} else if err := tray.Available(); err != nil {
		fmt.Fprintf(env.Err, "feedkey: %v. Running without a menu; sign-ins show in the terminal that needs one (pip's). Ctrl-C stops.\n", err)
		runUI = headless
	}
	// Headless, nobody sees a desktop notification either.
	var n notify.Notifier = notify.Nop{}
	switch {
	case runUI != nil:
	case runtime.GOOS == "windows":
		n = notify.New(nil) // balloons on the tray's own icon: no bus
	default:
		if conn, err := dbus.SessionBus(); err == nil {
			n = notify.New(conn)
		}
	}
	return daemon.Run(ctx, daemon.Options{
		Title:       title,
		RunUI:       runUI,
		ConfigPath:  env.ConfigPath,
		Keychain:    env.Keychain,
		NewProvider: env.NewProvider,
		OpenURL:     env.OpenURL,
		Notify:      n.Notify,
		Executable:  trayExecutable(env.Executable),
		Copy:        copyToClipboard,
		Autostart:   osAutostart{},
		Logf: func(format string, a ...any) {
			fmt.Fprintf(env.Err, "feedkey: "+format+"\n", a...)
		},
	})
}

// trayExecutable is the program start at login runs: on Windows the
// GUI-subsystem feedkey-tray.exe beside feedkey.exe when it is there (the
// release ships both), so no console window opens at login.
func trayExecutable(exe string) string {
	if runtime.GOOS != "windows" || exe == "" {
		return exe
	}
	gui := filepath.Join(filepath.Dir(exe), "feedkey-tray.exe")
	if _, err := os.Stat(gui); err == nil {
		return gui
	}
	return exe
}

// headless stands in for the menu where none can be shown: it runs until
// ctx ends, taking the views nobody will see.
func headless(ctx context.Context, _ tray.Icons, _ tray.Actions, views <-chan tray.View) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-views:
		}
	}
}

// osAutostart is tray/autostart as daemon.Autostart.
type osAutostart struct{}

func (osAutostart) Enabled() (bool, error)                  { return autostart.Enabled() }
func (osAutostart) Enable(exe string, args ...string) error { return autostart.Enable(exe, args...) }
func (osAutostart) Disable() error                          { return autostart.Disable() }

// copyToClipboard puts text on the desktop clipboard with the first tool
// found: wl-copy (Wayland), xclip or xsel (X11), pbcopy (macOS), clip
// (Windows). Without one, the tray shows the text in a notification.
func copyToClipboard(text string) error {
	for _, c := range [][]string{{"wl-copy"}, {"xclip", "-selection", "clipboard"}, {"xsel", "--clipboard", "--input"}, {"pbcopy"}, {"clip"}} {
		path, err := exec.LookPath(c[0])
		if err != nil {
			continue
		}
		cmd := exec.Command(path, c[1:]...)
		cmd.Stdin = strings.NewReader(text)
		return cmd.Run()
	}
	return errors.New("no clipboard tool (wl-copy, xclip, xsel)")
}
