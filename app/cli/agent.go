package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/spf13/cobra"
)

func newCmdAgent(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "agent",
		Short: "Keep credentials fresh and answer the helper, without a tray menu (SSH boxes, servers)",
		Long: "The tray without its menu: refreshes credentials before they expire and answers the helper,\n" +
			"whose terminal shows any sign-in. `feedkey install --service` runs it as a systemd user service.",
		Args: exactly(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(env.Err, "feedkey agent: keeping credentials fresh without a menu (store: %s). Ctrl-C stops.\n", storeDescription(env.Keychain))
			return runTrayTitled(cmd.Context(), env, "feedkey", true)
		},
	}
}

// unitName is the systemd user unit `feedkey install --service` writes.
const unitName = "feedkey-agent.service"

// installService writes a systemd user unit that runs `feedkey agent` from
// exe, and enables and starts it when systemd runs here. On an SSH box the
// user's services stop at logout unless lingering is on: say so.
func installService(ctx context.Context, env *Env, exe string) error {
	if runtime.GOOS != "linux" {
		return errors.New("--service writes a systemd user unit: Linux only (on Windows and macOS, the tray's Start at login)")
	}
	config := env.Getenv("XDG_CONFIG_HOME")
	if config == "" {
		home := env.Getenv("HOME")
		if home == "" {
			return errors.New("HOME is not set: cannot find ~/.config/systemd/user")
		}
		config = filepath.Join(home, ".config")
	}
	dir := filepath.Join(config, "systemd", "user")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("install the service: %w", err)
	}
	unit := fmt.Sprintf(`[Unit]
Description=feedkey agent: keeps Python package feed credentials fresh
Documentation=https://github.com/feedkey/feedkey

[Service]
ExecStart=%s agent
Restart=on-failure
RestartSec=5

[Install]
WantedBy=default.target
`, systemdQuote(exe))
	path := filepath.Join(dir, unitName)
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		return fmt.Errorf("install the service: %w", err)
	}
	fmt.Fprintf(env.Out, "Wrote %s.\n", path)
	systemctl, err := env.LookPath("systemctl")
	if err == nil {
		err = exec.CommandContext(ctx, systemctl, "--user", "daemon-reload").Run()
	}
	if err == nil {
		err = exec.CommandContext(ctx, systemctl, "--user", "enable", "--now", unitName).Run()
	}
	if err != nil {
		fmt.Fprintf(env.Out, "systemd does not run for this user here; start the agent with `systemctl --user enable --now %s` where it does, or run `feedkey agent`.\n", unitName)
		return nil
	}
	fmt.Fprintf(env.Out, "Started %s. On an SSH box, keep it running after you log out with: loginctl enable-linger %s\n", unitName, env.Getenv("USER"))
	return nil
}

// systemdQuote quotes a path for an ExecStart line.
func systemdQuote(s string) string {
	for _, r := range s {
		if r == ' ' || r == '"' || r == '\\' || r == '%' || r == '$' {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}
