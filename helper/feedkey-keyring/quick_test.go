//go:build linux

package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/config"
	"github.com/feedkey/feedkey/config/index"
)

// TestQuick runs the quick path in process over the file store: what it
// answers, it answers as the whole helper would; everything else (a
// credential due for a refresh, another kind's, a stale index, WSL,
// anything but get) it leaves alone.
func TestQuick(t *testing.T) {
	home := t.TempDir()
	run := filepath.Join(home, "run") // the tray's socket directory: ours, 0700, no tray in it
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": "", "XDG_CACHE_HOME": "", "XDG_DATA_HOME": "",
		"FEEDKEY_CONFIG": filepath.Join(home, "config.toml"), "FEEDKEY_SYSTEM_CONFIG": "",
		"FEEDKEY_STORE": "file", "FEEDKEY_SOCKET": filepath.Join(run, "control.sock"),
		"PACKAGEMANAGER_ADDRESS": "", "WSL_DISTRO_NAME": "",
	} {
		t.Setenv(k, v)
	}
	cfgPath := os.Getenv("FEEDKEY_CONFIG")
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	keychain := store.Choose(func() string { return store.BackendFile }, nil)
	feeds := []struct {
		f       feed.Feed
		kind    string // of the stored record
		expires time.Duration
	}{
		{feed.Feed{ID: "tok", Kind: feed.Token, URL: "https://tok.example/simple/"}, "token", 3 * time.Minute},
		{feed.Feed{ID: "ppm", Kind: feed.Posit, URL: "https://ppm.example/repo/simple/", Address: "https://ppm.example"}, "posit", 10 * time.Minute},
		{feed.Feed{ID: "soon", Kind: feed.Posit, URL: "https://soon.example/repo/simple/", Address: "https://soon.example"}, "posit", 3 * time.Minute},
		{feed.Feed{ID: "gone", Kind: feed.Posit, URL: "https://gone.example/repo/simple/", Address: "https://gone.example"}, "posit", -time.Minute},
		{feed.Feed{ID: "other", Kind: feed.Posit, URL: "https://other.example/repo/simple/", Address: "https://other.example"}, "token", time.Hour},
	}
	for _, tc := range feeds {
		if err := config.AddFeed(cfgPath, tc.f); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.LoadCached(cfgPath, index.File(cfgPath), nil) // writes the index
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range feeds {
		f, _ := cfg.Feed(tc.f.ID)
		c := store.Credential{Kind: tc.kind, Secret: "secret-" + tc.f.ID, Expires: now.Add(tc.expires)}
		if err := store.New(keychain).Save(ctx, f.CredentialID(cfg.Trust), c); err != nil {
			t.Fatal(err)
		}
	}
	if err := keychain.Set(ctx, "https://plain.example/", "me", "plain-pw"); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		argv []string
		env  map[string]string
		want *answer // nil: left to the whole helper
	}{
		{"token", []string{"get", "https://tok.example/simple/", "__token__"}, nil, &answer{out: "secret-tok\n"}},
		{"creds json", []string{"--mode=creds", "--output=json", "get", "https://tok.example/simple/"}, nil, &answer{out: `{"username": "__token__", "password": "secret-tok"}` + "\n"}},
		{"package manager", []string{"get", "https://ppm.example/repo/simple/", "__token__"}, nil, &answer{out: "secret-ppm\n"}},
		{"package manager, another user", []string{"get", "https://ppm.example/repo/simple/", "me"}, nil, &answer{out: "secret-ppm\n", warning: `Posit Package Manager expects the user name __token__, not "me"`}},
		{"due for a refresh", []string{"get", "https://soon.example/repo/simple/", "__token__"}, nil, nil},
		{"expired", []string{"get", "https://gone.example/repo/simple/", "__token__"}, nil, nil},
		{"another kind's record", []string{"get", "https://other.example/repo/simple/", "__token__"}, nil, nil},
		{"plain entry", []string{"get", "https://plain.example/", "me"}, nil, &answer{out: "plain-pw\n"}},
		{"no entry", []string{"get", "https://plain.example/", "you"}, nil, &answer{code: 1}},
		{"no user name", []string{"--mode", "creds", "get", "https://plain.example/"}, nil, nil},
		{"feedkey's own name", []string{"get", "feedkey:tok", "credential"}, nil, nil},
		{"set", []string{"set", "https://plain.example/", "me"}, nil, nil},
		{"help", []string{"--help"}, nil, nil},
		{"bad usage", []string{"get"}, nil, nil},
		{"WSL", []string{"get", "https://tok.example/simple/", "__token__"}, map[string]string{"WSL_DISTRO_NAME": "Debian"}, nil},
		{"stale index", []string{"get", "https://tok.example/simple/", "__token__"}, map[string]string{"PACKAGEMANAGER_ADDRESS": "https://added.example"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lookupEnv := func(k string) (string, bool) {
				if v, ok := tc.env[k]; ok {
					return v, true
				}
				return os.LookupEnv(k)
			}
			got, ok := quick(ctx, tc.argv, lookupEnv, now)
			switch {
			case tc.want == nil && ok:
				t.Errorf("answered %+v; want it left to the whole helper", got)
			case tc.want != nil && !ok:
				t.Errorf("left to the whole helper; want %+v", *tc.want)
			case tc.want != nil && got != *tc.want:
				t.Errorf("answered %+v; want %+v", got, *tc.want)
			}
		})
	}
}
