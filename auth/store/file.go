package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"

	"github.com/feedkey/feedkey/internal/filelock"
)

// File keeps entries in a JSON file readable only by the user (0600, in a
// 0700 directory): for containers and CI images where neither Secret Service
// nor the kernel keyring can be used. The secrets are on disk in the clear,
// as with Git Credential Manager's plaintext store or gh's insecure storage:
// it is chosen only when asked for (FEEDKEY_STORE=file, or [store] backend
// = "file"), never automatically.
type File struct {
	Path string
}

// DefaultFilePath is the file store's place: feedkey/credentials.json in
// the user's data directory ($XDG_DATA_HOME or ~/.local/share; %APPDATA%).
func DefaultFilePath() (string, error) {
	dir := os.Getenv("XDG_DATA_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find the data directory: %w", err)
		}
		dir = filepath.Join(home, ".local", "share")
		if appdata := os.Getenv("APPDATA"); appdata != "" && filepath.Separator == '\\' {
			dir = appdata
		}
	}
	return filepath.Join(dir, "feedkey", "credentials.json"), nil
}

// entriesFile is the file's content: service → user → secret.
type entriesFile map[string]map[string]string

func (f File) read() (entriesFile, error) {
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return entriesFile{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	// Windows has no file modes (Go reports 0666 for every writable file):
	// there the ACL of the user's profile directory guards the file.
	if fi, err := os.Stat(f.Path); err == nil && runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s is readable by others (mode %v): make it 0600", ErrUnavailable, f.Path, fi.Mode().Perm())
	}
	e := entriesFile{}
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, ErrCorrupt)
	}
	return e, nil
}

// readShared reads the entries beside writers. On Unix a reader needs no
// lock: a write renames a new file over the old one, and the reader keeps
// whichever it opened. On Windows a rename over a file another process has
// open fails, so readers there take the writers' lock for the moment of the
// read.
func (f File) readShared(ctx context.Context) (entriesFile, error) {
	if runtime.GOOS != "windows" {
		return f.read()
	}
	if _, err := os.Stat(f.Path); errors.Is(err, fs.ErrNotExist) {
		return entriesFile{}, nil // nothing to read, no lock file to create
	}
	unlock, err := filelock.Lock(ctx, f.Path+".lock", nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer unlock()
	return f.read()
}

// change applies fn to the entries under the file's lock and writes them
// back through a temporary file: a reader sees the old or the new file.
func (f File) change(ctx context.Context, fn func(entriesFile) error) error {
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	unlock, err := filelock.Lock(ctx, f.Path+".lock", nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer unlock()
	e, err := f.read()
	if err != nil {
		return err
	}
	if err := fn(e); err != nil {
		return err
	}
	data, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), ".credentials-*")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("%w: write %s: %v", ErrUnavailable, f.Path, errors.Join(werr, cerr))
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// Get implements [Keychain].
func (f File) Get(ctx context.Context, service, user string) (string, error) {
	e, err := f.readShared(ctx)
	if err != nil {
		return "", err
	}
	s, ok := e[service][user]
	if !ok {
		return "", fmt.Errorf("%s: %w", service, ErrNotFound)
	}
	return s, nil
}

// Set implements [Keychain].
func (f File) Set(ctx context.Context, service, user, secret string) error {
	return f.change(ctx, func(e entriesFile) error {
		if e[service] == nil {
			e[service] = map[string]string{}
		}
		e[service][user] = secret
		return nil
	})
}

// Delete implements [Keychain].
func (f File) Delete(ctx context.Context, service, user string) error {
	return f.change(ctx, func(e entriesFile) error {
		if _, ok := e[service][user]; !ok {
			return fmt.Errorf("%s: %w", service, ErrNotFound)
		}
		delete(e[service], user)
		if len(e[service]) == 0 {
			delete(e, service)
		}
		return nil
	})
}

// DeleteAll implements [Keychain].
func (f File) DeleteAll(ctx context.Context, service string) error {
	return f.change(ctx, func(e entriesFile) error {
		delete(e, service)
		return nil
	})
}

// Accounts implements [Lister].
func (f File) Accounts(ctx context.Context, service string) ([]string, error) {
	e, err := f.readShared(ctx)
	if err != nil {
		return nil, err
	}
	var users []string
	for u := range e[service] {
		users = append(users, u)
	}
	sort.Strings(users)
	return users, nil
}

// Find returns an entry of service, as Python keyring's get_credential does.
func (f File) Find(ctx context.Context, service string) (string, string, error) {
	users, err := f.Accounts(ctx, service)
	if err != nil {
		return "", "", err
	}
	if len(users) == 0 {
		return "", "", fmt.Errorf("%s: %w", service, ErrNotFound)
	}
	s, err := f.Get(ctx, service, users[0])
	return users[0], s, err
}
