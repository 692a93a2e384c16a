package config

import (
	"github.com/feedkey/feedkey/config/index"
)

// Stamp identifies the version of the config at path that LoadEnv would
// read (see [index.Stamp]). Equal stamps, same config; callers that keep a
// loaded config compare them to know when to reload.
func Stamp(path string, lookupEnv func(string) (string, bool)) string {
	return index.Stamp(path, lookupEnv)
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
	if d, ok := index.Read(indexPath, stamp); ok {
		c := &Config{Feeds: d.Feeds, Trust: d.Trust, Path: path}
		c.Store.Backend = d.Backend
		return c, nil
	}
	cfg, err := LoadEnv(path, lookupEnv)
	if err != nil {
		return nil, err
	}
	// A file that changed while it was read would be indexed under its
	// new stamp with the old content: index only what held still.
	if Stamp(path, lookupEnv) == stamp {
		index.Write(indexPath, stamp, index.Data{Backend: cfg.Store.Backend, Trust: cfg.Trust, Feeds: cfg.Feeds})
	}
	return cfg, nil
}
