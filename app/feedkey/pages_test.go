//go:build linux

package main_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/feedkey/feedkey/internal/testbin"
	"github.com/feedkey/feedkey/internal/testbus"
	"github.com/feedkey/feedkey/simulator"
	"github.com/feedkey/feedkey/simulator/simtest"
	"github.com/feedkey/feedkey/tray/traytest"
)

// browser starts headless Chromium (Debian's, which build/test.sh installs)
// and returns a context to drive it.
func browser(t *testing.T) context.Context {
	t.Helper()
	exe, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (build/test.sh installs it): the pages are not driven")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.WindowSize(900, 760), chromedp.UserDataDir(t.TempDir()))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	// The first run starts the browser, which lives as long as ctx: no
	// timeout here; each step gets its own (see do).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// shot saves a screenshot of the page into FEEDKEY_SCREENSHOTS when set
// (build/screenshot.sh sets it to assets/), else into the test's directory.
func shot(t *testing.T, b context.Context, name string) {
	t.Helper()
	dir := os.Getenv("FEEDKEY_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	png, err := chromedp.Run(b, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name), png, 0o644)
	}
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
	}
}

// do runs browser steps, failing the test with what was being done.
func do(t *testing.T, b context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		html, _ := chromedp.Run(b, chromedp.Evaluate[string]("document.location.href + '\\n' + document.body.innerHTML + '\\nfocus: ' + (document.activeElement && document.activeElement.id)"))
		t.Fatalf("%s: %v\npage:\n%s", what, err, html)
	}
}

// text returns the text of the first element sel matches.
func text(t *testing.T, b context.Context, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return v
}

// TestPages drives the tray's local pages in headless Chromium, keyboard
// only: "Open feedkey page" with nothing in progress shows the overview and
// the Add form; a token given for a Package Manager URL is an error (an
// alert, the field marked invalid), not dropped; the add names the feed it
// added and starts its sign-in; the sign-in page shows the code and turns
// to "done" by itself when the person approves.
func TestPages(t *testing.T) {
	bin := testbin.Build(t)
	s := testbus.Start(t, testbus.Options{})
	host, err := traytest.NewHost(s.Address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { host.Close() })

	ppm := &simulator.PPM{Interval: 1}
	srv, err := simulator.NewServer(ppm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	caFile, opened := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "opened")
	srv.CA.WriteFile(caFile)
	// The tray's browser only notes what it was asked to open: the test
	// opens the pages in Chromium itself.
	browserDir := filepath.Join(dir, "browser")
	os.MkdirAll(browserDir, 0o755)
	os.WriteFile(filepath.Join(browserDir, "xdg-open"), []byte("#!/bin/sh\necho \"$1\" >> "+opened+"\n"), 0o755)
	env := append(s.Env(os.Environ()), simtest.PipEnv(caFile)...)
	env = append(env, "FEEDKEY_CONFIG="+filepath.Join(dir, "config.toml"), "FEEDKEY_SYSTEM_CONFIG=", "DISPLAY=",
		"PACKAGEMANAGER_ADDRESS=", "PACKAGEMANAGER_IDENTITY_TOKEN_FILE=", "PATH="+browserDir+":"+bin.Dir+":/usr/bin:/bin")

	tray := exec.Command(bin.Feedkey)
	var trayOut bytes.Buffer
	tray.Env, tray.Stdout, tray.Stderr = env, &trayOut, &trayOut
	if err := tray.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		tray.Process.Kill()
		tray.Wait()
		if t.Failed() {
			t.Logf("tray output:\n%s", trayOut.String())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	menu, err := traytest.Connect(ctx, s.Address, tray.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer menu.Close()
	// openPage clicks "Open feedkey page" and returns the URL the tray opened.
	openPage := func() string {
		t.Helper()
		before, _ := os.ReadFile(opened)
		root, err := menu.WaitFor(ctx, func(it traytest.Item) bool { _, ok := it.Find("Open feedkey page"); return ok })
		if err != nil {
			t.Fatal(err)
		}
		item, _ := root.Find("Open feedkey page")
		if err := menu.Click(ctx, item.ID); err != nil {
			t.Fatal(err)
		}
		var after []byte
		waitFor(t, func() bool { after, _ = os.ReadFile(opened); return len(after) > len(before) })
		return strings.TrimSpace(string(after[len(before):]))
	}

	b := browser(t)
	overview := openPage()
	if !strings.HasPrefix(overview, "http://127.0.0.1:") {
		t.Fatalf("Open feedkey page opened %q", overview)
	}
	ppmURL := srv.URL + "/pypi-auth/latest/simple/"
	do(t, b, "open the add page", chromedp.Navigate(overview), chromedp.WaitVisible(chromedp.CSS("#url")))
	if feeds := text(t, b, "#feeds-title + *"); !strings.Contains(feeds, "No feeds yet") {
		t.Errorf("overview with no feeds says %q", feeds)
	}
	// Keyboard only: the URL field has the focus; Tab goes to the token.
	do(t, b, "add with a token",
		chromedp.KeyEvent(ppmURL),
		chromedp.KeyEvent(kb.Tab),
		chromedp.KeyEvent("not-for-posit"),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)))
	alert := text(t, b, `[role=alert]`)
	invalid, err := chromedp.Run(b, chromedp.AttributeValue(chromedp.CSS("#url"), "aria-invalid"))
	if err != nil {
		t.Fatal(err)
	}
	shot(t, b, "screenshot-add-error.png")
	if !strings.Contains(alert, "needs no token") || invalid.Value != "true" {
		t.Errorf("a token for a Package Manager feed: alert %q, aria-invalid %q; want an error on the field", alert, invalid.Value)
	}
	if r := testbin.Run(t, env, "", bin.Feedkey, "status"); strings.Contains(r.Stdout, "posit") {
		t.Errorf("a refused add changed the config:\n%s", r.Stdout)
	}
	// The URL is kept; tab to the token, remove it, and submit.
	do(t, b, "add without the token",
		chromedp.Focus(chromedp.CSS("#url")),
		chromedp.KeyEvent(kb.Tab),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent(kb.Backspace),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`.outcome.done`)))
	status := text(t, b, ".outcome.done")
	r := testbin.Run(t, env, "", bin.Feedkey, "status", "--json")
	id := ""
	if i := strings.Index(r.Stdout, `"id": "`); i >= 0 {
		id = strings.SplitN(r.Stdout[i+7:], `"`, 2)[0]
	}
	if id == "" || !strings.Contains(status, "Added "+id) || !strings.Contains(status, "sign in") {
		t.Fatalf("after adding: page says %q, status %s", status, r.Stdout)
	}

	// The sign-in is under way: the page shows the code, and turns to
	// done by itself once the person approves it at the server.
	signin := ""
	waitFor(t, func() bool {
		signin = openPage()
		return strings.Contains(signin, "/signin/")
	})
	do(t, b, "open the sign-in page", chromedp.Navigate(signin), chromedp.WaitVisible(chromedp.CSS("#user-code")))
	code := text(t, b, "#user-code")
	shot(t, b, "screenshot-signin.png")
	if err := ppm.Approve(strings.TrimSpace(code)); err != nil {
		t.Fatalf("approve %q: %v", code, err)
	}
	do(t, b, "wait for the page to say done", chromedp.WaitVisible(chromedp.CSS(`main[data-state=done] #outcome`)))
	title, outcome := text(t, b, "#title"), text(t, b, "#outcome")
	shot(t, b, "screenshot-signin-done.png")
	if !strings.Contains(title, "Signed in to "+id) || !strings.Contains(outcome, "You can close this tab") {
		t.Errorf("after approval the page says %q / %q", title, outcome)
	}

	// With nothing in progress, the overview shows the feed signed in.
	do(t, b, "open the overview", chromedp.Navigate(openPage()), chromedp.WaitVisible(chromedp.CSS(".feeds")))
	shot(t, b, "screenshot-overview.png")
	if feeds := text(t, b, ".feeds"); !strings.Contains(feeds, id+" — valid") {
		t.Errorf("overview after sign-in: %q", feeds)
	}
}
