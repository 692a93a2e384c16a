package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/auth/store/oskeychain"
	"github.com/feedkey/feedkey/auth/store/storetest"
	"github.com/feedkey/feedkey/internal/testbus"
)

// session is this package's private Secret Service (Linux). godbus keeps one
// session connection per process, so every in-process test shares it.
var session *testbus.Session

func TestMain(m *testing.M) {
	if runtime.GOOS == "linux" {
		s, stop, err := testbus.StartMain(testbus.Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, "start Secret Service:", err)
			os.Exit(1)
		}
		s.Setenv()
		session = s
		code := m.Run()
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// moreKeychains are the backends of this OS beyond the OS keychain.
var moreKeychains = map[string]func() store.Keychain{}

// keychains runs the contract on an in-memory keychain, the OS one and the
// others this OS has.
func keychains(t *testing.T) map[string]func() store.Keychain {
	all := map[string]func() store.Keychain{
		"memory": func() store.Keychain { return &storetest.Memory{} },
		"os":     func() store.Keychain { return oskeychain.Keychain{} },
	}
	for k, v := range moreKeychains {
		all[k] = v
	}
	dir := tempDir(t)
	all["file"] = func() store.Keychain { return store.File{Path: filepath.Join(dir, "feedkey", "credentials.json")} }
	return all
}

func TestContract(t *testing.T) {
	ctx := context.Background()
	big := strings.Repeat("é0123456789abcdef", 700) // ~12 KB, multi-byte runes across chunk edges
	for name, mk := range keychains(t) {
		t.Run(name, func(t *testing.T) {
			st := store.New(mk())
			id := fmt.Sprintf("contract-%s-%d", name, os.Getpid()) // the kernel keyring is shared by every process
			t.Cleanup(func() { st.Delete(ctx, id) })

			if _, err := st.Load(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("Load(missing) = %v, want ErrNotFound", err)
			}
			exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			tests := []store.Credential{
				{Kind: "token", Username: "__token__", Secret: "small"},
				{Kind: "azure", Secret: big, Expires: exp, Data: map[string]string{"refresh": big[:3000]}},
				{Kind: "posit", Secret: "small again", Expires: exp},
			}
			for i, want := range tests {
				if err := st.Save(ctx, id, want); err != nil {
					t.Fatalf("Save #%d: %v", i, err)
				}
				got, err := st.Load(ctx, id)
				if err != nil {
					t.Fatalf("Load #%d: %v", i, err)
				}
				if got.Secret != want.Secret || got.Kind != want.Kind || got.Username != want.Username ||
					!got.Expires.Equal(want.Expires) || len(got.Data) != len(want.Data) || got.Data["refresh"] != want.Data["refresh"] {
					t.Fatalf("Load #%d = %+.60v, want %+.60v", i, got, want)
				}
			}
			if err := st.Save(ctx, id, store.Credential{Kind: "token"}); err == nil {
				t.Error("Save with an empty secret succeeded")
			}
			if err := st.Delete(ctx, id); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Load(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("Load after Delete = %v, want ErrNotFound", err)
			}
		})
	}
}

// TestChunksOnSecretService checks what really lands in gnome-keyring: the
// head record, chunks of at most 2,000 bytes, and nothing left of older
// generations or after Delete.
func TestChunksOnSecretService(t *testing.T) {
	if session == nil {
		t.Skip("Secret Service checks run on Linux; other OSes have their own store")
	}
	ctx := context.Background()
	st := store.New(oskeychain.Keychain{})
	const id = "chunked"
	svc := store.Service(id)
	for i := range 3 {
		secret := strings.Repeat(fmt.Sprint(i), 5000)
		if err := st.Save(ctx, id, store.Credential{Kind: "token", Secret: secret}); err != nil {
			t.Fatal(err)
		}
		items, err := session.Items(svc)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1+3 { // head + 3 chunks of ≤ 2,000 bytes
			t.Fatalf("after save %d: %d items, want 4: %v", i, len(items), items)
		}
		for _, it := range items {
			v, ok, err := session.Lookup(svc, it["username"])
			if err != nil || !ok || len(v) > 2000 {
				t.Fatalf("item %v: %d bytes, %v, %v", it, len(v), ok, err)
			}
		}
		// One search and one GetSecrets return the head and its tagged
		// chunks: what Load reads in one round.
		if vals, err := (oskeychain.Keychain{}).GetService(ctx, svc); err != nil || len(vals) != 4 {
			t.Fatalf("GetService after save %d: %d values, %v", i, len(vals), err)
		}
		if c, err := st.Load(ctx, id); err != nil || c.Secret != secret {
			t.Fatalf("Load after save %d: %d bytes, %v", i, len(c.Secret), err)
		}
	}
	// A batch with a part missing says "not found", as one by one would.
	if _, err := (oskeychain.Keychain{}).GetMany(ctx, svc, []string{store.Account, "chunk-0-0", "no-such-part"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetMany with a missing part: %v, want ErrNotFound", err)
	}
	if err := st.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if items, _ := session.Items(svc); len(items) != 0 {
		t.Fatalf("after Delete: %v left", items)
	}
}

func TestCorruptRecords(t *testing.T) {
	ctx := context.Background()
	tests := map[string]string{
		"not json":     "hunter2",
		"foreign json": `{"password":"x"}`,
		"newer":        `{"v":99,"secret":"x"}`,
		"bad chunks":   `{"v":1,"chunks":3}`,
		"bad expiry":   `{"v":1,"secret":"x","expires":"tomorrow"}`,
	}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			kc := &storetest.Memory{}
			kc.Set(ctx, store.Service("x"), store.Account, raw)
			_, err := store.New(kc).Load(ctx, "x")
			if !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("Load = %v, want ErrCorrupt", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error shows the stored value: %v", err)
			}
			// A corrupt record can be replaced.
			if err := store.New(kc).Save(ctx, "x", store.Credential{Kind: "token", Secret: "ok"}); err != nil {
				t.Fatalf("Save over corrupt record: %v", err)
			}
		})
	}
}

// TestConcurrentReaders rewrites a chunked credential while readers load it:
// every read returns one whole generation.
func TestConcurrentReaders(t *testing.T) {
	ctx := context.Background()
	for name, mk := range keychains(t) {
		t.Run(name, func(t *testing.T) {
			st := store.New(mk())
			const id = "concurrent"
			t.Cleanup(func() { st.Delete(ctx, id) })
			value := func(gen int) string { return strings.Repeat(fmt.Sprintf("%04d", gen), 1500) }
			if err := st.Save(ctx, id, store.Credential{Kind: "token", Secret: value(0)}); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			done := make(chan struct{})
			errs := make(chan error, 100)
			for range 4 {
				wg.Go(func() {
					for {
						select {
						case <-done:
							return
						default:
						}
						c, err := st.Load(ctx, id)
						if err != nil {
							errs <- err
							return
						}
						if c.Secret != value(atoiPrefix(c.Secret)) {
							errs <- fmt.Errorf("mixed value starting %.12q", c.Secret)
							return
						}
					}
				})
			}
			for gen := 1; gen <= 20; gen++ {
				if err := st.Save(ctx, id, store.Credential{Kind: "token", Secret: value(gen)}); err != nil {
					t.Fatal(err)
				}
			}
			close(done)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

func atoiPrefix(s string) int {
	var n int
	fmt.Sscanf(s[:4], "%04d", &n)
	return n
}

func TestUnavailable(t *testing.T) {
	kc := &storetest.Memory{Err: fmt.Errorf("%w: test", store.ErrUnavailable)}
	_, err := store.New(kc).Load(context.Background(), "x")
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Load = %v, want ErrUnavailable", err)
	}
}

func TestFindByService(t *testing.T) {
	if session == nil {
		t.Skip("searching by service alone is a Secret Service feature (Linux)")
	}
	ctx := context.Background()
	if err := (oskeychain.Keychain{}).Set(ctx, "find-me", "carol", "pw1"); err != nil {
		t.Fatal(err)
	}
	user, secret, err := oskeychain.Keychain{}.Find(ctx, "find-me")
	if err != nil || user != "carol" || secret != "pw1" {
		t.Fatalf("Find = %q, %q, %v", user, secret, err)
	}
	if _, _, err := (oskeychain.Keychain{}).Find(ctx, "find-nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Find(missing) = %v, want ErrNotFound", err)
	}
}

// oneRound is a Memory keychain that also reads a whole service at once,
// and counts the entry-by-entry reads Load falls back to.
type oneRound struct {
	storetest.Memory
	gets int
}

func (o *oneRound) Get(ctx context.Context, service, user string) (string, error) {
	o.gets++
	return o.Memory.Get(ctx, service, user)
}

func (o *oneRound) GetService(ctx context.Context, service string) ([]string, error) {
	accts, err := o.Memory.Accounts(ctx, service)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, a := range accts {
		v, _ := o.Memory.Get(ctx, service, a)
		out = append(out, v)
	}
	return out, nil
}

// TestOneRoundRead: a store that reads a whole service at once serves a
// chunked record (format 2) without reading entry by entry, whatever
// garbage lies beside it, and anything unclear goes the old way: records
// in format 1 (written by older feedkeys) included.
func TestOneRoundRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	big := strings.Repeat("x", 7000)
	svc := store.Service("r")
	for _, tc := range []struct {
		name      string
		plant     func(kc *oneRound)
		wantGets  bool // the entry-by-entry path ran
		wantValue string
	}{
		{"chunked", nil, false, big},
		{"a stale chunk of another generation beside it", func(kc *oneRound) {
			kc.Memory.Set(ctx, svc, "chunk-1-0", "1.0:{\"secret\":\"stale")
		}, false, big},
		{"a second head (a foreign value)", func(kc *oneRound) {
			kc.Memory.Set(ctx, svc, "odd", `{"v":1,"secret":"planted"}`)
		}, true, big},
		{"format 1 (untagged chunks)", func(kc *oneRound) {
			payload := `{"secret":"` + big + `"}`
			sum := sha256.Sum256([]byte(payload))
			for _, a := range mustAccounts(t, &kc.Memory, svc) {
				kc.Memory.Delete(ctx, svc, a)
			}
			kc.Memory.Set(ctx, svc, "chunk-7-0", payload[:3000])
			kc.Memory.Set(ctx, svc, "chunk-7-1", payload[3000:])
			kc.Memory.Set(ctx, svc, store.Account, fmt.Sprintf(`{"v":1,"kind":"token","gen":7,"chunks":2,"sum":"%x"}`, sum))
		}, true, big},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kc := &oneRound{}
			if err := store.New(kc).Save(ctx, "r", store.Credential{Kind: "token", Secret: big}); err != nil {
				t.Fatal(err)
			}
			if tc.plant != nil {
				tc.plant(kc)
			}
			kc.gets = 0
			c, err := store.New(kc).Load(ctx, "r")
			if err != nil || c.Secret != tc.wantValue {
				t.Fatalf("Load = %d bytes, %v", len(c.Secret), err)
			}
			if (kc.gets > 0) != tc.wantGets {
				t.Errorf("%d entry-by-entry reads; want them: %v", kc.gets, tc.wantGets)
			}
		})
	}
}

func mustAccounts(t *testing.T, m *storetest.Memory, svc string) []string {
	t.Helper()
	a, err := m.Accounts(context.Background(), svc)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
