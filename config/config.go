// Package config reads and edits feedkey's TOML config file (SPEC §2.1).
//
// Edits are made on the file's text, not by re-encoding a decoded struct, so
// comments and keys this version does not know survive; every edit is parsed
// again before it replaces the file atomically.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/feedkey/feedkey/auth/feed"
	"github.com/feedkey/feedkey/config/index"
)

// Config is the merged view of the system and user config files.
type Config struct {
	Feeds []feed.Feed `toml:"feed"`
	Trust feed.Trust  `toml:"trust"`
	Store Store       `toml:"store"`

	// Path is the user config file this was read from.
	Path string `toml:"-"`
}

// Store chooses where credentials are kept; FEEDKEY_STORE wins over it.
type Store struct {
	// Backend is "auto" (or empty), "secret-service", "keyctl" or "file";
	// see store.Choose.
	Backend string `toml:"backend,omitempty"`
}

// ParseError is a config file that is not valid TOML or not a valid config.
type ParseError struct {
	File string
	Line int // 0 when the problem has no single line
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("config %s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("config %s: %s", e.File, e.Msg)
}

// Path returns the user config file: $FEEDKEY_CONFIG, or config.toml in a
// feedkey folder of the OS config directory.
func Path() (string, error) { return index.ConfigPath() }

// SystemPath returns the system-wide file that may pre-seed feeds for a
// fleet: $FEEDKEY_SYSTEM_CONFIG, or the per-OS location.
func SystemPath() string { return index.SystemPath(os.LookupEnv) }

// Load reads the system file (if any) and the user file at path (if any);
// user feeds replace system feeds with the same id. A file that does not
// exist is an empty config. Feeds are checked against the merged [trust],
// so hosts a fleet trusts in the system file work in the user's feeds.
func Load(path string) (*Config, error) { return LoadEnv(path, os.LookupEnv) }

// LoadEnv is [Load] with the environment given: lookupEnv supplies
// FEEDKEY_SYSTEM_CONFIG and PACKAGEMANAGER_ADDRESS (a map in tests); nil
// means os.LookupEnv.
func LoadEnv(path string, lookupEnv func(string) (string, bool)) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	uc, err := loadFile(path)
	if err != nil {
		return nil, err
	}
	return complete(path, uc, lookupEnv)
}

// complete merges the system file under uc, adds the feed of
// PACKAGEMANAGER_ADDRESS, and validates the result.
func complete(path string, uc *Config, lookupEnv func(string) (string, bool)) (*Config, error) {
	c := &Config{Path: path}
	if sys := index.SystemPath(lookupEnv); sys != "" {
		sc, err := loadFile(sys)
		if err != nil {
			return nil, err
		}
		c.Feeds, c.Trust, c.Store = sc.Feeds, sc.Trust, sc.Store
	}
	// A map, not a search per feed: the helper loads this on every call,
	// and a config may hold a thousand feeds.
	at := make(map[string]int, len(c.Feeds)+len(uc.Feeds))
	for i, f := range c.Feeds {
		at[f.ID] = i
	}
	for _, f := range uc.Feeds {
		if i, ok := at[f.ID]; ok {
			c.Feeds[i] = f
		} else {
			at[f.ID] = len(c.Feeds)
			c.Feeds = append(c.Feeds, f)
		}
	}
	c.Trust.AzureFeedHosts = append(c.Trust.AzureFeedHosts, uc.Trust.AzureFeedHosts...)
	c.Trust.AzureAuthorityHosts = append(c.Trust.AzureAuthorityHosts, uc.Trust.AzureAuthorityHosts...)
	c.Trust.AzureTokenHosts = append(c.Trust.AzureTokenHosts, uc.Trust.AzureTokenHosts...)
	if uc.Store.Backend != "" {
		c.Store = uc.Store
	}
	switch c.Store.Backend {
	case "", "auto", "secret-service", "keyctl", "file":
	default:
		return nil, &ParseError{File: path, Msg: fmt.Sprintf("[store] backend = %q: want auto, secret-service, keyctl or file", c.Store.Backend)}
	}
	addr, _ := lookupEnv("PACKAGEMANAGER_ADDRESS")
	if err := c.addEnvFeed(addr); err != nil {
		return nil, err
	}
	for _, f := range c.Feeds {
		if err := f.Validate(c.Trust); err != nil {
			return nil, &ParseError{File: path, Msg: err.Error()}
		}
	}
	if err := feed.Overlap(c.Feeds, c.Trust); err != nil {
		return nil, &ParseError{File: path, Msg: err.Error()}
	}
	return c, nil
}

// EnvFeedID is the id of the feed that PACKAGEMANAGER_ADDRESS configures.
const EnvFeedID = "packagemanager"

// addEnvFeed adds the Posit Package Manager named by PACKAGEMANAGER_ADDRESS
// (the variable posit-keyring reads) unless a configured feed already
// covers that server.
func (c *Config) addEnvFeed(addr string) error {
	addr = strings.TrimRight(addr, "/")
	if addr == "" {
		return nil
	}
	f := feed.Feed{ID: EnvFeedID, Kind: feed.Posit, URL: addr + "/", Address: addr}
	if err := f.Validate(c.Trust); err != nil {
		return fmt.Errorf("PACKAGEMANAGER_ADDRESS=%s: %w", feed.Redact(addr), err)
	}
	for _, g := range c.Feeds {
		if g.Kind == feed.Posit && g.CredentialID(c.Trust) == f.CredentialID(c.Trust) {
			return nil
		}
	}
	if _, taken := c.Feed(f.ID); taken {
		return fmt.Errorf("PACKAGEMANAGER_ADDRESS=%s: feed id %q is taken by another feed", feed.Redact(addr), f.ID)
	}
	c.Feeds = append(c.Feeds, f)
	return nil
}

// Feed returns the feed with id.
func (c *Config) Feed(id string) (feed.Feed, bool) {
	if i := feedPosition(c.Feeds, id); i >= 0 {
		return c.Feeds[i], true
	}
	return feed.Feed{}, false
}

// Resolve returns the feed whose credential covers service; see [feed.Resolve].
func (c *Config) Resolve(service string) (feed.Feed, error) {
	return feed.Resolve(c.Feeds, c.Trust, service)
}

// MaxSize bounds a config file. Thousands of feeds fit in far less; every
// helper call parses the file, so a runaway one would slow every pip run.
const MaxSize = 1 << 20

// ErrTooLarge is wrapped by the error for a config file over MaxSize.
var ErrTooLarge = fmt.Errorf("config file larger than %d KiB", MaxSize>>10)

// readFile reads a config file of at most MaxSize bytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s: %w: is it the right file?", path, ErrTooLarge)
	}
	return data, nil
}

func loadFile(path string) (*Config, error) {
	data, err := readFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Config{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return parse(path, data)
}

func parse(path string, data []byte) (*Config, error) {
	var c Config
	if _, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&c); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &ParseError{File: path, Line: pe.Position.Line, Msg: pe.Message}
		}
		return nil, &ParseError{File: path, Msg: err.Error()}
	}
	seen := map[string]bool{}
	for _, f := range c.Feeds {
		if seen[f.ID] {
			return nil, &ParseError{File: path, Msg: fmt.Sprintf("feed id %q appears twice", f.ID)}
		}
		seen[f.ID] = true
	}
	return &c, nil
}

func feedPosition(feeds []feed.Feed, id string) int {
	for i, f := range feeds {
		if f.ID == id {
			return i
		}
	}
	return -1
}

// AddFeed appends f to the user config file at path, creating it if needed.
// The file is left untouched if it does not parse, if the id is taken, or if
// the result would not be valid.
func AddFeed(path string, f feed.Feed) error {
	old, cur, err := read(path)
	if err != nil {
		return err
	}
	if _, ok := cur.Feed(f.ID); ok {
		return fmt.Errorf("feed %q already exists in %s", f.ID, path)
	}
	var block bytes.Buffer
	enc := toml.NewEncoder(&block)
	enc.Indent = ""
	if err := enc.Encode(struct {
		Feed []feed.Feed `toml:"feed"`
	}{[]feed.Feed{f}}); err != nil {
		return fmt.Errorf("encode feed %s: %w", f.ID, err)
	}
	var next bytes.Buffer
	next.Write(old)
	if len(old) > 0 {
		if !bytes.HasSuffix(old, []byte("\n")) {
			next.WriteByte('\n')
		}
		next.WriteByte('\n')
	}
	next.Write(block.Bytes())
	nc, err := parse(path, next.Bytes())
	if err != nil {
		return err
	}
	if _, err := complete(path, nc, os.LookupEnv); err != nil {
		return fmt.Errorf("add feed %s: %w", f.ID, err)
	}
	return writeAtomic(path, next.Bytes())
}

// RemoveFeed removes the [[feed]] table with id from the user config file.
func RemoveFeed(path, id string) error {
	old, cur, err := read(path)
	if err != nil {
		return err
	}
	if _, ok := cur.Feed(id); !ok {
		return fmt.Errorf("no feed %q in %s", id, path)
	}
	lines := strings.SplitAfter(string(old), "\n")
	start, end := -1, len(lines)
	for i := 0; i < len(lines); i++ {
		if !isHeader(lines[i]) {
			continue
		}
		if start >= 0 {
			end = i
			break
		}
		if strings.HasPrefix(strings.ReplaceAll(strings.TrimSpace(lines[i]), " ", ""), "[[feed]]") {
			j := i + 1
			for j < len(lines) && !isHeader(lines[j]) {
				j++
			}
			var one struct {
				Feed []feed.Feed `toml:"feed"`
			}
			if _, err := toml.Decode(strings.Join(lines[i:j], ""), &one); err == nil && len(one.Feed) == 1 && one.Feed[0].ID == id {
				start = i
			}
		}
	}
	if start < 0 {
		return fmt.Errorf("feed %q is not a [[feed]] table of its own in %s: remove it by hand", id, path)
	}
	// Comments right above the next table belong to it: keep them.
	for end < len(lines) && end > start+1 && strings.HasPrefix(strings.TrimSpace(lines[end-1]), "#") {
		end--
	}
	next := strings.Join(lines[:start], "") + strings.Join(lines[end:], "")
	nc, err := parse(path, []byte(next))
	if err == nil {
		_, err = complete(path, nc, os.LookupEnv)
	}
	if err != nil || len(nc.Feeds) != len(cur.Feeds)-1 {
		return fmt.Errorf("cannot remove feed %q from %s automatically: remove it by hand", id, path)
	}
	return writeAtomic(path, []byte(next))
}

func isHeader(line string) bool {
	return strings.HasPrefix(strings.TrimSpace(line), "[")
}

// read returns the user file's bytes and its parsed content (without the
// system file, which feedkey never edits).
func read(path string) ([]byte, *Config, error) {
	data, err := readFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &Config{}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	c, err := parse(path, data)
	if err != nil {
		return nil, nil, err
	}
	return data, c, nil
}

// writeAtomic replaces path with data through a temporary file and a rename,
// so a crash leaves the old file or the new one, never half of one.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(dir, ".config-*.toml")
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}
