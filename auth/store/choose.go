package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

// Backends a user can ask for (FEEDKEY_STORE, or [store] backend in the
// config).
const (
	BackendAuto          = "auto"
	BackendSecretService = "secret-service"
	BackendKeyctl        = "keyctl"
	BackendFile          = "file"
	// BackendWindows hands credentials to the Windows feedkey from inside
	// WSL (internal/wsl); no keychain is opened here.
	BackendWindows = "windows"
)

// Chosen is the keychain picked for this machine, on first use: the
// backend asked for, or with "auto" (or nothing) the OS store where it
// works (Secret Service on Linux when one is on the session bus, Keychain
// on macOS, Credential Manager on Windows), else the Linux kernel keyring.
// The file store is used only when asked for. Every backend keeps the same
// record format, so the helper's contract is the same on all.
type Chosen struct {
	// Backend returns the backend asked for; nil or "" means auto.
	Backend func() string
	// System is the OS keychain (package oskeychain). Without it, as in the
	// helper's quick path, the Secret Service is read through the pipeline
	// alone and everything else it would do is unsupported: the caller
	// hands that work to a program that has it.
	System Keychain

	once   sync.Once
	picked atomic.Bool // once has run
	k      Keychain
	name   string
	err    error
}

// Choose returns a Chosen over backend, with system as the OS keychain.
func Choose(backend func() string, system Keychain) *Chosen {
	return &Chosen{Backend: backend, System: system}
}

func (c *Chosen) pick() (Keychain, error) {
	c.once.Do(func() {
		c.k, c.name, c.err = c.open(c.asked())
		c.picked.Store(true)
	})
	return c.k, c.err
}

// asked is the backend asked for, auto when none is.
func (c *Chosen) asked() string {
	if c.Backend != nil {
		if b := c.Backend(); b != "" {
			return b
		}
	}
	return BackendAuto
}

// Name says which store is used ("secret-service", "keyctl", "file",
// "keychain", "credential-manager"), or why none can be.
func (c *Chosen) Name() string {
	if _, err := c.pick(); err != nil {
		return "none (" + err.Error() + ")"
	}
	return c.name
}

// Describe says, for status and doctor, what the chosen store keeps and for
// how long.
func (c *Chosen) Describe() string {
	if _, err := c.pick(); err != nil {
		return c.Name()
	}
	switch c.name {
	case BackendKeyctl:
		return "keyctl (the kernel's user keyring: nothing on disk; gone at reboot, then sign in again)"
	case BackendFile:
		f, _ := c.k.(File)
		return "file (" + f.Path + ", 0600: secrets on disk in the clear; chosen by FEEDKEY_STORE or [store] backend)"
	}
	return c.name
}

// system is the OS keychain: c.System, or on Linux without one the
// pipeline alone.
func (c *Chosen) system() (Keychain, error) {
	switch {
	case c.System != nil:
		return c.System, nil
	case runtime.GOOS == "linux":
		return pipelineOnly{}, nil
	}
	return nil, fmt.Errorf("%w: this program has no OS keychain", ErrUnavailable)
}

// systemNamed is open's answer for the OS keychain, named name.
func (c *Chosen) systemNamed(name string) (Keychain, string, error) {
	k, err := c.system()
	if err != nil {
		return nil, "", err
	}
	return k, name, nil
}

func (c *Chosen) open(backend string) (Keychain, string, error) {
	osName := map[string]string{"darwin": "keychain", "windows": "credential-manager"}[runtime.GOOS]
	switch backend {
	case BackendAuto:
		if osName != "" {
			return c.systemNamed(osName)
		}
		if secretServiceAvailable(c.System) {
			return c.systemNamed(BackendSecretService)
		}
		if keyctlAvailable() {
			return keyctlStore(), BackendKeyctl, nil
		}
		return nil, "", fmt.Errorf("%w: no Secret Service on a session bus, and the kernel keyring is blocked here; to keep credentials in a file (0600, in the clear) set FEEDKEY_STORE=file", ErrUnavailable)
	case BackendSecretService:
		if osName != "" {
			return nil, "", fmt.Errorf("%w: there is no Secret Service on %s", ErrUnavailable, runtime.GOOS)
		}
		return c.systemNamed(BackendSecretService)
	case "keychain", "credential-manager", "os":
		return c.systemNamed(osName)
	case BackendKeyctl:
		if !keyctlAvailable() {
			return nil, "", fmt.Errorf("%w: the kernel keyring cannot be used here (not Linux, or blocked by seccomp); to keep credentials in a file set FEEDKEY_STORE=file", ErrUnavailable)
		}
		return keyctlStore(), BackendKeyctl, nil
	case BackendWindows:
		return nil, "", fmt.Errorf("%w: the store \"windows\" is the Windows feedkey's: inside WSL, feedkey and its helper hand their work to it (this command cannot)", ErrUnavailable)
	case BackendFile:
		p, err := DefaultFilePath()
		if err != nil {
			return nil, "", err
		}
		return File{Path: p}, BackendFile, nil
	}
	return nil, "", fmt.Errorf("%w: unknown store %q (want auto, secret-service, keyctl, file or windows)", ErrUnavailable, backend)
}

// Get implements [Keychain].
func (c *Chosen) Get(ctx context.Context, service, user string) (string, error) {
	k, err := c.pick()
	if err != nil {
		return "", err
	}
	return k.Get(ctx, service, user)
}

// Set implements [Keychain].
func (c *Chosen) Set(ctx context.Context, service, user, secret string) error {
	k, err := c.pick()
	if err != nil {
		return err
	}
	return k.Set(ctx, service, user, secret)
}

// Delete implements [Keychain].
func (c *Chosen) Delete(ctx context.Context, service, user string) error {
	k, err := c.pick()
	if err != nil {
		return err
	}
	return k.Delete(ctx, service, user)
}

// DeleteAll implements [Keychain].
func (c *Chosen) DeleteAll(ctx context.Context, service string) error {
	k, err := c.pick()
	if err != nil {
		return err
	}
	return k.DeleteAll(ctx, service)
}

// GetMany implements [MultiGetter], one by one where the store has no batch.
func (c *Chosen) GetMany(ctx context.Context, service string, users []string) ([]string, error) {
	k, err := c.pick()
	if err != nil {
		return nil, err
	}
	if mg, ok := k.(MultiGetter); ok {
		return mg.GetMany(ctx, service, users)
	}
	out := make([]string, len(users))
	for i, u := range users {
		if out[i], err = k.Get(ctx, service, u); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GetService implements [ServiceReader] where the chosen store can. The
// Secret Service is read over the pipeline first (SPEC §10: the helper's
// read is this call), and through the system keychain when that cannot
// answer.
func (c *Chosen) GetService(ctx context.Context, service string) ([]string, error) {
	if vals, ok, err := c.getServiceAuto(ctx, service); ok {
		return vals, err
	}
	k, err := c.pick()
	if err != nil {
		return nil, err
	}
	if c.name == BackendSecretService {
		pctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
		vals, err := pipelinedService(pctx, service)
		cancel()
		return afterPipeline(ctx, k, service, vals, err)
	}
	if sr, ok := k.(ServiceReader); ok {
		return sr.GetService(ctx, service)
	}
	return nil, errors.ErrUnsupported
}

// getServiceAuto is GetService's first read when the store is still to be
// chosen and auto may choose the Secret Service: whether one runs is asked
// in the same round as the search. ok is false when that leaves the choice
// to pick.
func (c *Chosen) getServiceAuto(ctx context.Context, service string) (vals []string, ok bool, err error) {
	if runtime.GOOS != "linux" || c.picked.Load() || c.asked() != BackendAuto {
		return nil, false, nil
	}
	pctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	vals, running, err := pipelinedAutoService(pctx, service)
	cancel()
	if !running {
		return nil, false, nil
	}
	c.once.Do(func() {
		c.k, c.err = c.system()
		c.name = BackendSecretService
		c.picked.Store(true)
	})
	if c.name != BackendSecretService || c.err != nil {
		return nil, false, nil // chosen otherwise by a call meanwhile
	}
	vals, err = afterPipeline(ctx, c.k, service, vals, err)
	return vals, true, err
}

// afterPipeline answers a Secret Service read from the pipeline's outcome:
// its values, else k's (the system keychain's general path, which says
// why), else the pipeline's error.
func afterPipeline(ctx context.Context, k Keychain, service string, vals []string, err error) ([]string, error) {
	switch {
	case err == nil:
		return vals, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The general path would wait as long again.
		return nil, fmt.Errorf("read %s: %w: no answer in time (is an unlock prompt waiting?)", service, ErrUnavailable)
	}
	if sr, ok := k.(ServiceReader); ok {
		return sr.GetService(ctx, service)
	}
	return nil, err
}

// pipelineOnly is the Secret Service in a program without the OS keychain
// (Chosen.System nil): Chosen.GetService reads feedkey's records and Get
// other programs' entries, over the pipeline, and only where that answers
// outright (an entry found unlocked, or none at all); everything else is
// unsupported.
type pipelineOnly struct{}

var errNoSystem = fmt.Errorf("%w: without the OS keychain, the Secret Service is only read, through the pipeline", errors.ErrUnsupported)

func (pipelineOnly) Get(ctx context.Context, service, user string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	secret, found, err := pipelinedPlain(ctx, service, user)
	switch {
	case err != nil:
		return "", fmt.Errorf("%w (%w)", errNoSystem, err)
	case !found:
		return "", fmt.Errorf("%s: %w", service, ErrNotFound)
	}
	return secret, nil
}

func (pipelineOnly) Set(context.Context, string, string, string) error { return errNoSystem }
func (pipelineOnly) Delete(context.Context, string, string) error      { return errNoSystem }
func (pipelineOnly) DeleteAll(context.Context, string) error           { return errNoSystem }

// Accounts implements [Lister] where the chosen store can list.
func (c *Chosen) Accounts(ctx context.Context, service string) ([]string, error) {
	k, err := c.pick()
	if err != nil {
		return nil, err
	}
	if l, ok := k.(Lister); ok {
		return l.Accounts(ctx, service)
	}
	return nil, fmt.Errorf("list %s: %w", service, errors.ErrUnsupported)
}

// Find returns an entry of service whatever its user, where the chosen
// store can search; elsewhere ErrNotFound.
func (c *Chosen) Find(ctx context.Context, service string) (string, string, error) {
	k, err := c.pick()
	if err != nil {
		return "", "", err
	}
	if f, ok := k.(interface {
		Find(context.Context, string) (string, string, error)
	}); ok {
		return f.Find(ctx, service)
	}
	return "", "", fmt.Errorf("%s: %w", service, ErrNotFound)
}

// Foreign counts items another program wrote under service, where the
// chosen store can tell; elsewhere none.
func (c *Chosen) Foreign(ctx context.Context, service string) (int, error) {
	k, err := c.pick()
	if err != nil {
		return 0, err
	}
	if f, ok := k.(interface {
		Foreign(context.Context, string) (int, error)
	}); ok {
		return f.Foreign(ctx, service)
	}
	return 0, nil
}
