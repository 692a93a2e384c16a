package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/config"
	"github.com/feedkey/feedkey/tray"
)

// actions wires the menu's clicks.
func (a *App) actions() tray.Actions {
	return tray.Actions{
		SignIn:          a.clickSignIn,
		Refresh:         a.clickRefresh,
		SignOut:         a.clickSignOut,
		CopySetup:       a.clickCopySetup,
		OpenFeed:        a.clickOpenFeed,
		Accept:          a.accept,
		SetStartAtLogin: a.setStartAtLogin,
		AddFeed:         a.openAddPage,
		OpenPage:        a.openPage,
		Quit:            a.quit,
	}
}

func (a *App) clickSignIn(id string) {
	cfg, err := a.config()
	if err != nil {
		a.opts.Logf("%v", err)
		return
	}
	f, ok := feedOf(cfg, id)
	if !ok {
		return
	}
	if _, err := a.signIn(context.Background(), cfg, f, nil); err != nil {
		a.opts.Logf("sign in to %s: %v", f.ID, err)
	}
}

func (a *App) clickRefresh(id string) {
	ctx := context.Background()
	if _, tracked := a.sched.Status(id); tracked {
		if err := a.sched.RefreshNow(ctx, id); err != nil {
			a.opts.Logf("refresh %s: %v", id, err)
		}
		return
	}
	expires, err := a.refresh(ctx, id)
	if err != nil {
		a.opts.Logf("refresh %s: %v", id, err)
	} else if !expires.IsZero() {
		a.sched.Track(id, a.mgr.Now(), expires)
	}
	a.publish()
}

// clickSignOut removes every keychain entry of the credential.
func (a *App) clickSignOut(id string) {
	a.sched.Forget(id)
	if err := store.New(a.opts.Keychain).Delete(context.Background(), id); err != nil {
		a.opts.Logf("sign out of %s: %v", id, err)
	}
	a.forget(id)
	a.publish()
}

func (a *App) clickCopySetup(id string) {
	cfg, err := a.config()
	if err != nil {
		return
	}
	f, ok := feedOf(cfg, id)
	if !ok {
		return
	}
	text := pipSetup(f)
	if a.opts.Copy != nil && a.opts.Copy(text) == nil {
		a.notify(context.Background(), "Copied pip setup", text)
		return
	}
	a.notify(context.Background(), "pip setup for "+f.ID, text)
}

// pipSetup is the pip command line for f.
func pipSetup(f feed.Feed) string {
	user := f.DefaultUsername()
	u := strings.Replace(f.URL, "https://", "https://"+user+"@", 1)
	return fmt.Sprintf("pip install --keyring-provider subprocess --index-url %s PACKAGE", u)
}

func (a *App) setStartAtLogin(on bool) {
	if a.opts.Autostart == nil {
		return
	}
	var err error
	if on {
		err = a.opts.Autostart.Enable(a.opts.Executable)
	} else {
		err = a.opts.Autostart.Disable()
	}
	if err != nil {
		a.opts.Logf("start at login: %v", err)
	}
	a.publish()
}

func (a *App) autostartEnabled() (bool, error) {
	if a.opts.Autostart == nil {
		return false, nil
	}
	return a.opts.Autostart.Enabled()
}

// openPage opens the page of a sign-in in progress, which shows its code;
// with none, the overview of the feeds (with the Add form).
func (a *App) openPage() {
	p := ""
	a.mu.Lock()
	for _, fl := range a.signins {
		fl.mu.Lock()
		if fl.page != "" {
			p = fl.page
		}
		fl.mu.Unlock()
	}
	a.mu.Unlock()
	if p == "" {
		p = a.page.AddURL()
	}
	if p == "" || a.opts.OpenURL == nil {
		return
	}
	if err := a.opts.OpenURL(p); err != nil {
		a.opts.Logf("open page: %v", err)
	}
}

// openAddPage opens the local "Add a feed" form.
func (a *App) openAddPage() {
	if u := a.page.AddURL(); u != "" && a.opts.OpenURL != nil {
		if err := a.opts.OpenURL(u); err != nil {
			a.opts.Logf("open the add-feed page: %v", err)
		}
	}
}

// addFeed handles the add-feed form: it runs `feedkey add` (the same
// detection and checks as on the command line), then starts the sign-in of
// a feed that needs one.
func (a *App) addFeed(ctx context.Context, rawURL, token string) (string, error) {
	if a.opts.Executable == "" {
		return "", errors.New("cannot find the feedkey program")
	}
	// A password in the URL would be visible in the process list as an
	// argument: it travels on stdin, as the token, instead.
	if u, err := url.Parse(rawURL); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			if token == "" {
				token = pw
			}
			u.User = url.User(u.User.Username())
			rawURL = u.String()
		}
	}
	before, err := a.config()
	if err != nil {
		return "", err
	}
	args := []string{"add", rawURL}
	if token != "" {
		args = append(args, "--token-given")
	}
	cmd := exec.CommandContext(ctx, a.opts.Executable, args...)
	cmd.Env = append(os.Environ(), "FEEDKEY_CONFIG="+a.opts.ConfigPath)
	cmd.Stdin = strings.NewReader(token)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimPrefix(strings.TrimSpace(strings.SplitN(stderr.String(), "\n", 2)[0]), "feedkey: ")
		if msg == "" {
			msg = err.Error()
		}
		return "", errors.New(msg)
	}
	a.forget()
	a.publish()
	cfg, err := a.config()
	if err != nil {
		return "", err
	}
	// The feed add made, or the one it found already set up.
	f, ok := addedFeed(before, cfg)
	if !ok {
		if f, err = cfg.Resolve(rawURL); err != nil {
			return strings.TrimSpace(strings.SplitN(stdout.String(), "\n", 2)[0]), nil
		}
	}
	verb := "Added"
	if !ok {
		verb = "Already set up:"
	}
	if f.Kind == feed.Token {
		return fmt.Sprintf("%s %s, with its token.", verb, f.ID), nil
	}
	// A credential that another feed already signed in is left alone.
	id := f.CredentialID(cfg.Trust)
	if c, err := store.New(a.opts.Keychain).LoadKind(ctx, id, string(f.Kind)); err == nil && c.Valid(a.mgr.Now(), store.UsableFor) {
		return fmt.Sprintf("%s %s. It uses a credential you are already signed in with.", verb, f.ID), nil
	}
	go a.signIn(context.WithoutCancel(ctx), cfg, f, nil)
	return fmt.Sprintf("%s %s: sign in in the browser window that opens.", verb, f.ID), nil
}

// addedFeed returns the feed that is in after but not in before.
func addedFeed(before, after *config.Config) (feed.Feed, bool) {
	for _, f := range after.Feeds {
		if _, had := before.Feed(f.ID); !had {
			return f, true
		}
	}
	return feed.Feed{}, false
}

// clickOpenFeed opens the feed's web page: the Azure Artifacts feed, the
// Package Manager server, or the index itself.
func (a *App) clickOpenFeed(id string) {
	cfg, err := a.config()
	if err != nil || a.opts.OpenURL == nil {
		return
	}
	f, ok := feedOf(cfg, id)
	if !ok {
		return
	}
	if err := a.opts.OpenURL(feedPage(f, cfg.Trust)); err != nil {
		a.opts.Logf("open the feed page: %v", err)
	}
}

func feedPage(f feed.Feed, t feed.Trust) string {
	switch f.Kind {
	case feed.Azure:
		if org := f.Org(t); org != "" && strings.Contains(f.URL, "pkgs.dev.azure.com") {
			return "https://dev.azure.com/" + org + "/_artifacts"
		}
	case feed.Posit:
		if f.Address != "" {
			return f.Address
		}
	}
	return f.URL
}
