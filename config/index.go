package config

import (
	"bytes"
	"encoding/gob"
	"os"
	"path/filepath"
	"slices"
)

// indexVersion changes whenever Config or what it depends on changes shape.
const indexVersion = 1

// indexFile is the file LoadCached keeps: a config as LoadEnv validated it, and
// what it was loaded from.
type indexFile struct {
	V       int
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
		var ix indexFile
		if gob.NewDecoder(bytes.NewReader(data)).Decode(&ix) == nil && ix.V == indexVersion &&
			slices.Equal(ix.Sources, sources) && slices.Equal(ix.Stamps, stamps) && ix.Env == env && ix.Config != nil {
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
		writeIndex(indexPath, indexFile{V: indexVersion, Sources: sources, Stamps: stamps, Env: env, Config: cfg})
	}
	return cfg, nil
}

// writeIndex replaces the index at path through a temporary file.
func writeIndex(path string, ix indexFile) {
	var buf bytes.Buffer
	if gob.NewEncoder(&buf).Encode(ix) != nil {
		return
	}
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
