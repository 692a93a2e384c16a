// Package index is feedkey's config as the helper reads it on every pip
// run: where the files are, a stamp of their versions, and their validated
// form (the index), which package config writes after a full load and the
// helper reads back without parsing TOML. Parsing and checking a config of
// a thousand feeds costs 15 ms; decoding its index a fraction of one, and
// linking a TOML parser at all costs every run a tenth of one.
package index

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/feedkey/feedkey/auth/feed"
)

// magic starts the file and changes whenever Data or what it depends on
// changes shape.
const magic = "feedkey config index 3\n"

// Data is a config as a full load validated it: what the helper needs.
type Data struct {
	Backend string // [store] backend
	Trust   feed.Trust
	Feeds   []feed.Feed
}

// ConfigPath returns the user config file: $FEEDKEY_CONFIG, or config.toml in a
// feedkey folder of the OS config directory.
func ConfigPath() (string, error) {
	if p := os.Getenv("FEEDKEY_CONFIG"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find config directory: %w (set FEEDKEY_CONFIG)", err)
	}
	return filepath.Join(dir, "feedkey", "config.toml"), nil
}

// SystemPath returns the system-wide file that may pre-seed feeds for a
// fleet: FEEDKEY_SYSTEM_CONFIG (from lookupEnv), or the per-OS location.
func SystemPath(lookupEnv func(string) (string, bool)) string {
	if p, ok := lookupEnv("FEEDKEY_SYSTEM_CONFIG"); ok {
		return p
	}
	switch runtime.GOOS {
	case "windows":
		return filepath.Join(os.Getenv("ProgramData"), "feedkey", "config.toml")
	case "darwin":
		return "/Library/Application Support/feedkey/config.toml"
	}
	return "/etc/feedkey/config.toml"
}

// sources returns the files a config is loaded from for the user file at
// path: the system file, if one is configured, and path.
func sources(path string, lookupEnv func(string) (string, bool)) []string {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	if sys := SystemPath(lookupEnv); sys != "" {
		return []string{sys, path}
	}
	return []string{path}
}

// Stamp identifies the version of the config at path that a load would
// read: the size and modification time of each of its files (or their
// absence) and the environment it depends on. Equal stamps, same config;
// callers that keep a loaded config compare them to know when to reload.
func Stamp(path string, lookupEnv func(string) (string, bool)) string {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	var b strings.Builder
	for _, p := range sources(path, lookupEnv) {
		b.WriteString(p)
		if fi, err := os.Stat(p); err == nil {
			fmt.Fprintf(&b, "\x00%d\x00%d\n", fi.Size(), fi.ModTime().UnixNano())
		} else {
			b.WriteString("\x00absent\n")
		}
	}
	env, _ := lookupEnv("PACKAGEMANAGER_ADDRESS") // adds a feed
	b.WriteString(env)
	return b.String()
}

// File returns where the index of the config at configPath is kept: in the
// user cache directory, one file per config. Empty when there is no cache
// directory.
func File(configPath string) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(configPath))
	return filepath.Join(dir, "feedkey", "config-"+hex.EncodeToString(sum[:6])+".index")
}

// Read returns the config indexed at path if it was made from the version
// stamp names; ok is false for any other index, or none.
func Read(path, stamp string) (d Data, ok bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Data{}, false
	}
	s, d, err := decode(data)
	if err != nil || s != stamp {
		return Data{}, false
	}
	return d, true
}

// Write replaces the index at path with d, made from the version stamp,
// through a temporary file (0600). An index that cannot be written only
// costs the next run its speed.
func Write(path, stamp string, d Data) {
	buf := encode(stamp, d)
	if os.MkdirAll(filepath.Dir(path), 0o700) != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-index-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(buf.Bytes())
	if cerr := tmp.Close(); werr != nil || cerr != nil || os.Rename(tmp.Name(), path) != nil {
		os.Remove(tmp.Name())
	}
}

// The index is a flat run of length-prefixed strings and varints: the
// helper decodes it on every call, and encoding/gob's start-up alone costs
// it a fifth of a millisecond.

func encode(stamp string, d Data) *bytes.Buffer {
	var b bytes.Buffer
	b.WriteString(magic)
	num := func(n int64) { b.Write(binary.AppendVarint(nil, n)) }
	str := func(s string) { num(int64(len(s))); b.WriteString(s) }
	strs := func(v []string) {
		num(int64(len(v)))
		for _, s := range v {
			str(s)
		}
	}
	str(stamp)
	c := d
	str(c.Backend)
	strs(c.Trust.AzureFeedHosts)
	strs(c.Trust.AzureAuthorityHosts)
	strs(c.Trust.AzureTokenHosts)
	num(int64(len(c.Feeds)))
	for _, f := range c.Feeds {
		for _, s := range feedFields(&f) {
			str(*s)
		}
	}
	return &b
}

// feedFields lists the fields of f the index keeps, in order.
func feedFields(f *feed.Feed) []*string {
	kind := (*string)(&f.Kind)
	return []*string{&f.ID, kind, &f.URL, &f.Username, &f.Address, &f.Token, &f.SignIn, &f.ClientID, &f.IdentityTokenFile}
}

var errIndex = errors.New("not a config index")

func decode(data []byte) (stamp string, d Data, err error) {
	rest, ok := bytes.CutPrefix(data, []byte(magic))
	if !ok {
		return "", Data{}, errIndex
	}
	num := func() int64 {
		n, k := binary.Varint(rest)
		if k <= 0 {
			err = errIndex
			return 0
		}
		rest = rest[k:]
		return n
	}
	str := func() string {
		n := num()
		if err != nil || n < 0 || n > int64(len(rest)) {
			err = errIndex
			return ""
		}
		s := string(rest[:n])
		rest = rest[n:]
		return s
	}
	count := func() int {
		n := num()
		if n < 0 || n > int64(len(rest)) {
			err = errIndex
			return 0
		}
		return int(n)
	}
	strs := func() []string {
		var v []string
		for range count() {
			v = append(v, str())
		}
		return v
	}
	stamp = str()
	c := &d
	c.Backend = str()
	c.Trust.AzureFeedHosts = strs()
	c.Trust.AzureAuthorityHosts = strs()
	c.Trust.AzureTokenHosts = strs()
	c.Feeds = make([]feed.Feed, count())
	for i := range c.Feeds {
		for _, s := range feedFields(&c.Feeds[i]) {
			*s = str()
		}
	}
	if err != nil || len(rest) != 0 {
		return "", Data{}, errIndex
	}
	return stamp, d, nil
}
