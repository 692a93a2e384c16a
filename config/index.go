package config

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"

	"github.com/feedkey/feedkey/auth/feed"
)

// indexMagic starts the file and changes whenever Config or what it depends
// on changes shape.
const indexMagic = "feedkey config index 2\n"

// indexFile is the file LoadCached keeps: a config as LoadEnv validated it, and
// what it was loaded from.
type indexFile struct {
	Sources []string
	Stamps  []stamp
	Env     string // PACKAGEMANAGER_ADDRESS, which adds a feed
	Config  *Config
}

// stamp identifies one version of a file; Missing for no file.
type stamp struct {
	Size    int64
	ModNano int64
	Missing bool
}

func stampsOf(paths []string) []stamp {
	out := make([]stamp, len(paths))
	for i, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			out[i] = stamp{Missing: true}
			continue
		}
		out[i] = stamp{Size: fi.Size(), ModNano: fi.ModTime().UnixNano()}
	}
	return out
}

// LoadCached is [LoadEnv] through an index file at indexPath: the helper
// runs on every pip call, and parsing and checking a config of a thousand
// feeds costs it 15 ms, decoding the index a fraction of a millisecond. The
// index is used only while every file the config was read from has the size
// and modification time it had, and the environment is the same; otherwise
// the config is loaded and checked again, and the index rewritten (0600).
// An index that cannot be read or written only costs the speed.
func LoadCached(path, indexPath string, lookupEnv func(string) (string, bool)) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	sources := Sources(path, lookupEnv)
	stamps := stampsOf(sources)
	env, _ := lookupEnv("PACKAGEMANAGER_ADDRESS")
	if data, err := os.ReadFile(indexPath); err == nil {
		if ix, err := decodeIndex(data); err == nil &&
			slices.Equal(ix.Sources, sources) && slices.Equal(ix.Stamps, stamps) && ix.Env == env && ix.Config != nil {
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
	if slices.Equal(stampsOf(sources), stamps) {
		writeIndex(indexPath, indexFile{Sources: sources, Stamps: stamps, Env: env, Config: cfg})
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
	strs(ix.Sources)
	num(int64(len(ix.Stamps)))
	for _, st := range ix.Stamps {
		num(st.Size)
		num(st.ModNano)
		if st.Missing {
			num(1)
		} else {
			num(0)
		}
	}
	str(ix.Env)
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
	ix.Sources = strs()
	ix.Stamps = make([]stamp, count())
	for i := range ix.Stamps {
		ix.Stamps[i] = stamp{Size: num(), ModNano: num(), Missing: num() == 1}
	}
	ix.Env = str()
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
