package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/posit"
	"github.com/feedkey/feedkey/config"
)

// detect tells the kind of the feed at u (SPEC §2.1): from the host, from
// the config or PACKAGEMANAGER_ADDRESS, and last from an unauthenticated
// probe of Package Manager's status API. It returns the Package Manager
// address for posit feeds.
func detect(ctx context.Context, env *Env, cfg *config.Config, u *url.URL, address string) (feed.Kind, string, error) {
	if (feed.Feed{ID: "probe", Kind: feed.Azure, URL: u.String()}).Validate(cfg.Trust) == nil {
		return feed.Azure, "", nil
	}
	if address != "" {
		return feed.Posit, address, nil
	}
	for _, f := range cfg.Feeds {
		if f.Kind == feed.Posit && f.Covers(cfg.Trust, u.String()) {
			return feed.Posit, posit.Address(f), nil
		}
	}
	if addr := env.Getenv(posit.EnvAddress); addr != "" {
		if (feed.Feed{Kind: feed.Posit, URL: addr, Address: addr}).Covers(cfg.Trust, u.String()) {
			return feed.Posit, addr, nil
		}
	}
	origin := "https://" + u.Host
	if probePosit(ctx, origin) {
		return feed.Posit, origin, nil
	}
	return "", "", usagef("add: cannot tell what kind of feed %s is: pass --kind token (or --kind posit)", u)
}

// probePosit asks origin's Package Manager status API, which answers without
// authentication; nothing secret is sent.
func probePosit(ctx context.Context, origin string) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, origin+"/__api__/status", nil)
	if err != nil {
		return false
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		return false
	}
	var status struct {
		Version string `json:"version"`
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&status) == nil && status.Version != ""
}
