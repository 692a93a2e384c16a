package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/config"
	"github.com/feedkey/feedkey/simulator"
	"github.com/feedkey/feedkey/tray"
	"github.com/spf13/cobra"
)

// demoTenant and demoUser are who signs in to the simulated Azure DevOps.
const (
	demoTenant = "11111111-2222-3333-4444-555555555555"
	demoUser   = "you@demo.example"
)

// runDemo starts the simulator — Microsoft Entra ID, Azure DevOps and Posit
// Package Manager on loopback — with two demo feeds in a config of its own,
// prints numbered steps to follow in another terminal, and runs the tray
// over them, labelled as the demo (without a tray host or with --headless:
// the same service without a menu). `feedkey demo env` gives that terminal
// the demo's settings. It never touches the person's own config, and
// removes its keychain entries at exit.
func newCmdDemo(env *Env) *cobra.Command {
	var opts demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Try feedkey against a simulated Azure DevOps and Package Manager",
		Long: "Starts a simulated Azure DevOps (with Microsoft Entra ID) and Posit Package Manager on this\n" +
			"machine, with one demo feed each, and prints the steps to install a package from each with pip.",
		Example: "  feedkey demo                    # then, in another terminal, follow the printed steps\n" +
			"  eval \"$(feedkey demo env)\"      # the demo's settings for this shell",
		Args: exactly(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Headless, "headless", false, "run without the tray menu (sign-ins show in the terminal that needs them)")
	cmd.AddCommand(&cobra.Command{
		Use:   "env",
		Short: "Print the running demo's settings as shell exports: eval \"$(feedkey demo env)\"",
		Args:  exactly(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemoEnv(env)
		},
	})
	return cmd
}

// demoOptions are the inputs of `feedkey demo`.
type demoOptions struct {
	Headless bool // no tray menu, even in a desktop session
}

// demoState is what a running demo tells `feedkey demo env`.
type demoState struct {
	PID  int         `json:"pid"`
	Vars [][2]string `json:"vars"` // in export order
	Path string      `json:"path"` // to put first on PATH
}

// demoStatePath is where a running demo leaves its state: one demo per user.
func demoStatePath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find the user cache directory: %w", err)
	}
	return filepath.Join(dir, "feedkey", "demo.json"), nil
}

func runDemo(ctx context.Context, env *Env, opts demoOptions) error {
	statePath, err := demoStatePath()
	if err != nil {
		return err
	}
	if st, err := readDemoState(statePath); err == nil {
		return fmt.Errorf("a feedkey demo already runs (process %d): stop it first, or use it: eval \"$(feedkey demo env)\"", st.PID)
	}
	helper, err := demoHelper(env)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "feedkey-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	az, ppmSrv, err := startDemoServices()
	if err != nil {
		return fmt.Errorf("start the simulator: %w", err)
	}
	defer az.Close()
	defer ppmSrv.Close()
	caFile := filepath.Join(dir, "ca.pem")
	if err := az.CA.WriteFile(caFile); err != nil {
		return err
	}
	// This process talks to the simulator too (discovery, sign-in, token
	// exchange): trust its CA before the first TLS handshake loads roots.
	os.Setenv("SSL_CERT_FILE", caFile)

	devops := strings.TrimPrefix(az.DevOpsURL, "https://")
	cfgPath := filepath.Join(dir, "config.toml")
	trust := fmt.Sprintf("# feedkey demo: trusts the local simulator\n[trust]\nazure_feed_hosts = [%q]\nazure_authority_hosts = [%q]\nazure_token_hosts = [%q]\n",
		devops, strings.TrimPrefix(az.EntraURL, "https://"), devops)
	if err := os.WriteFile(cfgPath, []byte(trust), 0o600); err != nil {
		return err
	}
	azFeed := feed.Feed{ID: "demo-azure", Kind: feed.Azure, URL: az.FeedURL("demo", "", "py")}
	ppmFeed := feed.Feed{ID: "demo-ppm", Kind: feed.Posit, URL: ppmSrv.URL + simulator.PPMIndexPath, Address: ppmSrv.URL}
	for _, f := range []feed.Feed{azFeed, ppmFeed} {
		if err := config.AddFeed(cfgPath, f); err != nil {
			return err
		}
	}
	// The demo's own bin directory: its `keyring` is feedkey's helper and
	// its `feedkey` this program, whatever is installed.
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o700); err != nil {
		return err
	}
	for name, target := range map[string]string{"keyring": helper, "feedkey": env.Executable} {
		if runtime.GOOS == "windows" {
			name += ".exe"
		}
		if err := os.Symlink(target, filepath.Join(bin, name)); err != nil {
			return fmt.Errorf("prepare the demo's bin directory: %w", err)
		}
	}
	socket := filepath.Join(dir, "run", "control.sock")
	for k, v := range map[string]string{"FEEDKEY_CONFIG": cfgPath, "FEEDKEY_SOCKET": socket} {
		os.Setenv(k, v) // for the feedkey processes the helper starts
	}
	st := demoState{PID: os.Getpid(), Path: bin, Vars: [][2]string{
		{"FEEDKEY_CONFIG", cfgPath}, {"FEEDKEY_SOCKET", socket},
		{"SSL_CERT_FILE", caFile}, {"REQUESTS_CA_BUNDLE", caFile}, {"PIP_CERT", caFile},
		{"PIP_KEYRING_PROVIDER", "subprocess"}, {"UV_KEYRING_PROVIDER", "subprocess"},
		{"FEEDKEY_DEMO_AZURE", indexURL(azFeed)},
		{"FEEDKEY_DEMO_PPM", indexURL(ppmFeed)},
	}}
	if err := writeDemoState(statePath, st); err != nil {
		return err
	}
	defer os.Remove(statePath)
	defer func() {
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return
		}
		for _, f := range cfg.Feeds {
			_ = store.New(env.Keychain).Delete(context.WithoutCancel(ctx), f.CredentialID(cfg.Trust))
		}
	}()

	noTray := error(nil)
	if !opts.Headless {
		noTray = tray.Available()
	}
	fmt.Fprintf(env.Out, "feedkey demo: simulated services run on this machine only:\n  Azure DevOps (with Microsoft Entra ID)  %s\n  Posit Package Manager                   %s\n", az.DevOpsURL, ppmSrv.URL)
	fmt.Fprintf(env.Out, "Your own config and keychain entries are not touched. Ctrl-C stops the demo and removes what it stored.\n\n")
	switch {
	case opts.Headless:
		fmt.Fprintf(env.Out, "No tray menu (--headless): sign-ins show in the terminal that needs them.\n\n")
	case noTray != nil:
		msg := noTray.Error()
		fmt.Fprintf(env.Out, "%s%s.\nSo no tray menu: sign-ins show in the terminal that needs them.\n\n", strings.ToUpper(msg[:1]), msg[1:])
	default:
		fmt.Fprintf(env.Out, "The tray shows the two demo feeds under \"feedkey demo\".\n\n")
	}
	venv := filepath.Join(dir, "venv")
	fmt.Fprintf(env.Out, "In another terminal, paste these steps in order:\n\n")
	fmt.Fprintf(env.Out, "  1. A virtual environment for the demo packages (pip 23.1 or later; removed with the demo):\n       python3 -m venv %s && . %s/bin/activate\n\n", venv, venv)
	fmt.Fprintf(env.Out, "  2. Point this terminal at the demo (its config and certificate; feedkey's helper first on PATH):\n       eval \"$(%s demo env)\"\n\n", shellQuote(env.Executable))
	fmt.Fprintf(env.Out, "  3. Install from the Azure DevOps feed. The sign-in opens in your browser, where the\n     simulated Microsoft page approves it at once (no browser: pip shows a link and a code):\n       pip install --index-url \"$FEEDKEY_DEMO_AZURE\" feedkey-demo-azure\n\n")
	fmt.Fprintf(env.Out, "  4. Install from the Package Manager feed. Its sign-in is a device code: the page opens with\n     the code filled in and approves it (or open the link feedkey prints):\n       pip install --index-url \"$FEEDKEY_DEMO_PPM\" feedkey-demo-ppm\n\n")
	fmt.Fprintf(env.Out, "  5. Both feeds are signed in, and stay so while the demo runs:\n       feedkey status\n\n")

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	demo := *env
	demo.ConfigPath = cfgPath
	return runTrayTitled(ctx, &demo, "feedkey demo", opts.Headless || noTray != nil)
}

// indexURL is f's URL with the user name pip needs to ask the helper.
func indexURL(f feed.Feed) string {
	return strings.Replace(f.URL, "https://", "https://"+f.DefaultUsername()+"@", 1)
}

// demoHelper finds the helper the demo's `keyring` runs: feedkey-keyring
// beside feedkey or on PATH, or an installed `keyring` beside feedkey.
func demoHelper(env *Env) (string, error) {
	p, err := findHelper(env)
	if err == nil {
		return p, nil
	}
	name := "keyring"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if installed := filepath.Join(filepath.Dir(env.Executable), name); isHelper(context.Background(), installed) {
		return installed, nil
	}
	return "", err
}

func writeDemoState(path string, st demoState) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// readDemoState reads the state of the running demo; a file left by a demo
// that died counts as none.
func readDemoState(path string) (demoState, error) {
	var st demoState
	b, err := os.ReadFile(path)
	if err != nil {
		return st, errNoDemo
	}
	if err := json.Unmarshal(b, &st); err != nil || st.PID <= 0 || !processAlive(st.PID) {
		return st, errNoDemo
	}
	return st, nil
}

var errNoDemo = errors.New("no feedkey demo is running: start one with `feedkey demo` in another terminal")

// runDemoEnv prints the running demo's settings as POSIX shell exports.
func runDemoEnv(env *Env) error {
	path, err := demoStatePath()
	if err != nil {
		return err
	}
	st, err := readDemoState(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Out, "# feedkey demo (process %d): eval \"$(feedkey demo env)\"\n", st.PID)
	for _, kv := range st.Vars {
		fmt.Fprintf(env.Out, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	fmt.Fprintf(env.Out, "export PATH=%s\"${PATH:+:$PATH}\"\n", shellQuote(st.Path))
	return nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-:@=+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// startDemoServices starts Entra ID and Azure DevOps, and Package Manager
// sharing their CA, each with a demo package.
func startDemoServices() (*simulator.Azure, *simulator.Server, error) {
	az, err := simulator.NewAzure()
	if err != nil {
		return nil, nil, err
	}
	az.Entra.AddTenant(demoTenant, "demo.example")
	az.Entra.AddUser(demoTenant, demoUser)
	az.DevOps.AddOrg("demo", demoTenant)
	az.DevOps.AddFeed("demo", "", "py")
	ppm := &simulator.PPM{Interval: 1}
	errs := []error{
		az.DevOps.AddWheel("demo", "py", simulator.Wheel{Name: "feedkey-demo-azure", Version: "1.0",
			Files: map[string]string{"feedkey_demo_azure/__init__.py": "MESSAGE = 'installed from Azure DevOps through feedkey'\n"}}),
		ppm.Add(simulator.Wheel{Name: "feedkey-demo-ppm", Version: "1.0",
			Files: map[string]string{"feedkey_demo_ppm/__init__.py": "MESSAGE = 'installed from Posit Package Manager through feedkey'\n"}}),
	}
	if err := errors.Join(errs...); err != nil {
		az.Close()
		return nil, nil, err
	}
	srv, err := simulator.NewServerWithCA(az.CA, ppm)
	if err != nil {
		az.Close()
		return nil, nil, err
	}
	return az, srv, nil
}
