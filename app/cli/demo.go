package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
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
// prints the pip commands to try, and runs the tray over them (or, with
// --headless or without a desktop session, waits for Ctrl-C). It never
// touches the person's own config, and removes its keychain entries at exit.
func newCmdDemo(env *Env) *cobra.Command {
	var opts demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Try feedkey against a simulated Azure DevOps and Package Manager",
		Args:  exactly(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), env, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Headless, "headless", false, "run the simulator without the tray")
	return cmd
}

// demoOptions are the inputs of `feedkey demo`.
type demoOptions struct {
	Headless bool // no tray, even in a desktop session
}

func runDemo(ctx context.Context, env *Env, opts demoOptions) error {
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
	socket := filepath.Join(dir, "run", "control.sock")
	for k, v := range map[string]string{"FEEDKEY_CONFIG": cfgPath, "FEEDKEY_SOCKET": socket} {
		os.Setenv(k, v) // for the feedkey processes the helper starts
	}
	demoEnv := fmt.Sprintf("FEEDKEY_CONFIG=%s FEEDKEY_SOCKET=%s SSL_CERT_FILE=%s REQUESTS_CA_BUNDLE=%s PIP_CERT=%s PIP_FIND_LINKS=",
		cfgPath, socket, caFile, caFile, caFile)
	fmt.Fprintf(env.Out, "feedkey demo: Azure DevOps at %s, Package Manager at %s (simulated, on this machine).\n", az.DevOpsURL, ppmSrv.URL)
	fmt.Fprintf(env.Out, "Try, in another terminal (with feedkey's helper first on PATH as `keyring`):\n\n")
	fmt.Fprintf(env.Out, "  env %s pip install --keyring-provider subprocess --index-url %s feedkey-demo-azure\n\n", demoEnv,
		strings.Replace(azFeed.URL, "https://", "https://"+feed.AzureUsername+"@", 1))
	fmt.Fprintf(env.Out, "  env %s pip install --keyring-provider subprocess --index-url %s feedkey-demo-ppm\n\n", demoEnv,
		strings.Replace(ppmFeed.URL, "https://", "https://"+feed.PositUsername+"@", 1))
	fmt.Fprintf(env.Out, "Sign-ins open your browser on the simulator's pages, which approve at once.\n")

	defer func() {
		cfg, err := config.Load(cfgPath)
		if err != nil {
			return
		}
		for _, f := range cfg.Feeds {
			_ = store.New(env.Keychain).Delete(context.WithoutCancel(ctx), f.CredentialID(cfg.Trust))
		}
	}()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	if opts.Headless || tray.Available() != nil {
		fmt.Fprintf(env.Out, "No tray (headless): sign in with `env %s feedkey login demo-ppm`. Ctrl-C stops the demo.\n", demoEnv)
		<-ctx.Done()
		return nil
	}
	fmt.Fprintf(env.Out, "The tray shows both feeds. Quit it (or Ctrl-C) to stop the demo.\n")
	demo := *env
	demo.ConfigPath = cfgPath
	return runTray(ctx, &demo)
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
