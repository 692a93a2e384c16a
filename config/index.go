package config

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/feedkey/feedkey/auth/feed"
)

// indexMagic starts the file and changes whenever Config or what it depends
// on changes shape.
const indexMagic = "feedkey config index 3\n"

// indexFile is the file LoadCached keeps: a config as LoadEnv validated it,
// and the Stamp of what it was loaded from.
type indexFile struct {
	Stamp  string
	Config *Config
}

// Stamp identifies the version of the config at path that LoadEnv would
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

// LoadCached is [LoadEnv] through an index file at indexPath: the helper
// runs on every pip call, and parsing and checking a config of a thousand
// feeds costs it 15 ms, decoding the index a fraction of a millisecond. The
// index is used only while the config's [Stamp] is the one it was made
// with; otherwise the config is loaded and checked again, and the index
// rewritten (0600). An index that cannot be read or written only costs the
// speed.
func LoadCached(path, indexPath string, lookupEnv func(string) (string, bool)) (*Config, error) {
	stamp := Stamp(path, lookupEnv)
	if data, err := os.ReadFile(indexPath); err == nil {
		if ix, err := decodeIndex(data); err == nil && ix.Stamp == stamp && ix.Config != nil {
			ix.Config.Path = path
			return ix.Config, nil
		}
	}
	cfg, err := LoadEnv(path, lookupEnv)
	if err != nil {
		return nil, err
	}
	// A file that changed while it was read would be indexed under its
	// new stamp with the old content: index only what held still.
	if Stamp(path, lookupEnv) == stamp {
		writeIndex(indexPath, indexFile{Stamp: stamp, Config: cfg})
	}
	return cfg, nil
}

// writeIndex replaces the index at path through a temporary file.
func writeIndex(path string, ix indexFile) {
	buf := encodeIndex(ix)
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

func encodeIndex(ix indexFile) *bytes.Buffer {
	var b bytes.Buffer
	b.WriteString(indexMagic)
	num := func(n int64) { b.Write(binary.AppendVarint(nil, n)) }
	str := func(s string) { num(int64(len(s))); b.WriteString(s) }
	strs := func(v []string) {
		num(int64(len(v)))
		for _, s := range v {
			str(s)
		}
	}
	str(ix.Stamp)
	c := ix.Config
	str(c.Store.Backend)
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

func decodeIndex(data []byte) (ix indexFile, err error) {
	rest, ok := bytes.CutPrefix(data, []byte(indexMagic))
	if !ok {
		return ix, errIndex
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
	ix.Stamp = str()
	c := &Config{}
	c.Store.Backend = str()
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
		return indexFile{}, errIndex
	}
	ix.Config = c
	return ix, nil
}
