//go:build linux

package main_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/feedkey/feedkey/internal/testbin"
	"github.com/feedkey/feedkey/internal/testbus"
	"github.com/feedkey/feedkey/simulator"
	"github.com/feedkey/feedkey/simulator/simtest"
	"github.com/feedkey/feedkey/tray/notify/notifytest"
	"github.com/feedkey/feedkey/tray/traytest"
)

// trayBrowser approves a Package Manager code or follows an Entra sign-in.
var trayBrowser = `#!/bin/sh
case "$1" in
*/__login__/device*) exec curl -sf --cacert "$SSL_CERT_FILE" "$1" >/dev/null ;;
http://127.0.0.1:*/add)
  # feedkey's own "Add a feed" page: fill in the form and submit it.
  page=$(curl -sf "$1") || exit 1
  csrf=$(printf '%s\n' "$page" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p')
  exec curl -sf -o /dev/null --data-urlencode "csrf=$csrf" --data-urlencode "url=$ADD_URL" "$1" ;;
esac
` + entraBrowserBody

var entraBrowserBody = strings.TrimPrefix(entraBrowser, "#!/bin/sh\n")

// TestTray runs the real tray on a private session bus with gnome-keyring
// and a notification daemon, and drives it through its menu as a panel
// would: sign in, refresh, sign out, sign-in on demand for real pip, an
// unknown Azure feed added from the menu, start at login, single instance,
// quit.
func TestTray(t *testing.T) {
	bin := testbin.Build(t)
	s := testbus.Start(t, testbus.Options{})
	notes := notifytest.Start(t, s.Address)

	ppm := &simulator.PPM{Interval: 1}
	if err := ppm.Add(simulator.Wheel{Name: "tray-demo", Version: "1.0", Files: map[string]string{"tray_demo/__init__.py": "VALUE = 1\n"}}); err != nil {
		t.Fatal(err)
	}
	az, err := simulator.StartAzure(&simulator.Entra{}, &simulator.DevOps{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(az.Close)
	az.Entra.AddTenant(azTenant, "contoso.example")
	az.Entra.AddUser(azTenant, azUser)
	az.DevOps.AddOrg("contoso", azTenant)
	az.DevOps.AddFeed("contoso", "", "py")
	az.DevOps.AddWheel("contoso", "py", simulator.Wheel{Name: "az-tray", Version: "1.0", Files: map[string]string{"az_tray/__init__.py": "VALUE = 2\n"}})
	// One CA for both simulators, so pip and feedkey trust them all.
	srv, err := simulator.NewServerWithCA(az.CA, ppm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	caFile, cfg := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "config.toml")
	az.CA.WriteFile(caFile)
	devops := hostOf(az.DevOpsURL)
	os.WriteFile(cfg, []byte(fmt.Sprintf("[trust]\nazure_feed_hosts = [%q]\nazure_authority_hosts = [%q]\nazure_token_hosts = [%q]\n", devops, hostOf(az.EntraURL), devops)), 0o600)
	browserDir := filepath.Join(dir, "browser")
	os.MkdirAll(browserDir, 0o755)
	os.WriteFile(filepath.Join(browserDir, "xdg-open"), []byte(trayBrowser), 0o755)
	env := append(s.Env(os.Environ()), simtest.PipEnv(caFile)...)
	env = append(env, "FEEDKEY_CONFIG="+cfg, "FEEDKEY_SYSTEM_CONFIG=", "DISPLAY=", "CI=", "FEEDKEY_NONINTERACTIVE=",
		"PACKAGEMANAGER_ADDRESS=", "PACKAGEMANAGER_IDENTITY_TOKEN_FILE=", "AZURE_DEVOPS_EXT_PAT=",
		"ADD_URL="+srv.URL+"/pypi-other/latest/simple/",
		"PATH="+browserDir+":"+bin.Dir+":/usr/bin:/bin")
	feedkey := func(args ...string) testbin.Result { return testbin.Run(t, env, "", bin.Feedkey, args...) }
	ppmURL := srv.URL + "/pypi-auth/latest/simple/"
	if r := feedkey("add", ppmURL, "--kind", "posit", "--name", "ppm"); r.Code != 0 {
		t.Fatalf("add: %s", r.Stderr)
	}

	// A panel to show it: without one, feedkey runs headless.
	host, err := traytest.NewHost(s.Address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { host.Close() })

	// Start the tray.
	var trayOut bytes.Buffer
	cmd := exec.Command(bin.Feedkey)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &trayOut, &trayOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("tray output:\n%s", trayOut.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	menu, err := traytest.Connect(ctx, s.Address, cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer menu.Close()
	has := func(prefix string) func(traytest.Item) bool {
		return func(it traytest.Item) bool { _, ok := it.Find(prefix); return ok }
	}
	wait := func(prefix string) traytest.Item {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		it, err := menu.WaitFor(wctx, has(prefix))
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	waitItem := func(what string, ok func(traytest.Item) bool) traytest.Item {
		t.Helper()
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		it, err := menu.WaitFor(wctx, ok)
		if err != nil {
			layout, _ := menu.Layout(ctx)
			t.Fatalf("menu never showed %s: %v\n%s", what, err, strings.Join(layout.Labels(), "\n"))
		}
		return it
	}
	click := func(line, action string) {
		t.Helper()
		it, err := menu.Layout(ctx)
		if err != nil {
			t.Fatal(err)
		}
		l, ok := it.Find(line)
		if !ok {
			t.Fatalf("no menu line %q in %q", line, it.Labels())
		}
		target := l
		if action != "" {
			if target, ok = l.Find(action); !ok {
				t.Fatalf("no %q under %q", action, l.Label)
			}
		}
		if err := menu.Click(ctx, target.ID); err != nil {
			t.Fatal(err)
		}
	}
	credService := positService(srv.URL)

	// Sign in from the menu: the browser approves the code.
	wait("ppm — sign in needed")
	click("ppm — ", "Sign in")
	wait("ppm — valid")
	token1 := feedkey("token", ppmURL).Stdout

	// Refresh now gets a new token.
	before := ppm.Exchanges()
	click("ppm — ", "Refresh now")
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	for ppm.Exchanges() == before && wctx.Err() == nil {
		menu.WaitFor(wctx, func(traytest.Item) bool { return ppm.Exchanges() > before })
	}
	wcancel()
	// The exchange is done; the tray stores its result a moment later.
	deadline := time.Now().Add(20 * time.Second)
	token2 := feedkey("token", ppmURL).Stdout
	for (token2 == token1 || token2 == "") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		token2 = feedkey("token", ppmURL).Stdout
	}
	if token2 == token1 || token2 == "" {
		t.Errorf("Refresh now did not give a new token")
	}

	// Sign out removes every keychain entry; nothing is left to refresh or
	// sign out of, and the menu says so.
	click("ppm — ", "Sign out")
	wait("ppm — sign in needed")
	for _, action := range []string{"Refresh now", "Sign out"} {
		waitItem(action+" greyed out", func(root traytest.Item) bool {
			l, ok := root.Find("ppm — sign in needed")
			if !ok {
				return false
			}
			it, ok := l.Find(action)
			return ok && !it.Enabled
		})
	}
	waitItem(`the header "feedkey: 1 needs sign-in"`, func(root traytest.Item) bool {
		return len(root.Children) > 0 && root.Children[0].Label == "feedkey: 1 needs sign-in"
	})
	if items, _ := s.Items(credService); len(items) != 0 {
		t.Errorf("keychain items after Sign out: %v", items)
	}

	// Sign-in on demand: pip asks the helper, the helper asks the tray, the
	// tray signs in through the browser.
	python, pip := simtest.Venv(t)
	pipInstall := func(index, pkg string) ([]byte, error) {
		c := exec.CommandContext(ctx, pip, "install", "--no-cache-dir", "--keyring-provider", "subprocess", "--index-url", index, pkg)
		c.Env = env
		return c.CombinedOutput()
	}
	if out, err := pipInstall(simtest.WithUser(ppmURL, "__token__"), "tray-demo"); err != nil {
		t.Fatalf("pip with sign-in on demand: %v\n%s", err, out)
	} else if !regexp.MustCompile(`feedkey-keyring: Sign in to feed ppm: open https://\S+ and enter the code \S+ \(\d+ m left\)`).Match(out) {
		// pip (< 26.2) passes the helper's stderr on: the person saw
		// what the tray asked of them.
		t.Errorf("pip's output does not show the tray's sign-in (feed, link, code, time left):\n%s", out)
	}
	wait("ppm — valid")
	if items := host.Items(); len(items) == 0 {
		t.Errorf("the tray never registered with the tray host")
	}

	// An unknown Azure feed: the tray offers it, the person accepts in the
	// menu, signs in, and pip gets its packages.
	type result struct {
		out []byte
		err error
	}
	pipDone := make(chan result, 1)
	go func() {
		out, err := pipInstall(simtest.WithUser(az.FeedURL("contoso", "", "py"), "VssSessionToken"), "az-tray")
		pipDone <- result{out, err}
	}()
	wait("Add contoso-py and sign in")
	click("Add contoso-py and sign in", "")
	if r := <-pipDone; r.err != nil {
		t.Fatalf("pip with a feed added from the menu: %v\n%s", r.err, r.out)
	}
	if out, err := exec.Command(python, "-c", "import az_tray, tray_demo").CombinedOutput(); err != nil {
		t.Fatalf("imports: %v %s", err, out)
	}
	wait("contoso — valid")
	if !notified(notes, "New feed requested by pip") {
		t.Errorf("notifications: %+v", notes.Notifications())
	}

	// The CLI tells the tray what it changed: the menu follows at once, not
	// at its next minute tick.
	if r := feedkey("logout", "ppm"); r.Code != 0 {
		t.Fatalf("logout: %s", r.Stderr)
	}
	quick, qcancel := context.WithTimeout(ctx, 10*time.Second)
	if _, err := menu.WaitFor(quick, has("ppm — sign in needed")); err != nil {
		t.Errorf("after feedkey logout: %v", err)
	}
	qcancel()

	// "Add feed…" opens feedkey's page; the form adds the feed (detected as
	// Package Manager by its status API).
	click("Add feed…", "")
	waitFor(t, func() bool {
		return strings.Contains(feedkey("status").Stdout, srv.URL+"/pypi-other/latest/simple/")
	})

	// Start at login follows the checkbox.
	autostartFile := filepath.Join(s.Env(nil)[indexOf(s.Env(nil), "XDG_CONFIG_HOME=")][len("XDG_CONFIG_HOME="):], "autostart", "feedkey.desktop")
	click("Start at login", "")
	waitFile(t, autostartFile, true)
	click("Start at login", "")
	waitFile(t, autostartFile, false)

	// A second start leaves the first running and exits 0.
	if r := testbin.Run(t, env, "", bin.Feedkey); r.Code != 0 {
		t.Errorf("second start: %d %s", r.Code, r.Stderr)
	}
	if _, err := menu.Layout(ctx); err != nil {
		t.Errorf("first tray gone after a second start: %v", err)
	}

	// Quit exits 0.
	click("Quit", "")
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("tray exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("tray did not quit")
	}
}

func indexOf(env []string, prefix string) int {
	for i, kv := range env {
		if strings.HasPrefix(kv, prefix) {
			return i
		}
	}
	return -1
}

// waitFile waits for path to exist (or not). The tray writes it in its own
// process, so there is nothing to wait on but the file system.
func waitFile(t *testing.T, path string, exists bool) {
	t.Helper()
	waitFor(t, func() bool {
		_, err := os.Stat(path)
		return (err == nil) == exists
	})
}

func notified(s *notifytest.Server, summary string) bool {
	for _, n := range s.Notifications() {
		if n.Summary == summary {
			return true
		}
	}
	return false
}
