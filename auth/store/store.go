// Package store keeps feedkey credentials in the OS keychain, the only place
// secrets live. It is the contract between the tray, which writes, and the
// helper, which reads (SPEC §2.3).
//
// Each credential is a small versioned JSON record under the service name
// "feedkey:<id>" and the account [Account]. A record too large for the
// smallest keychain (Windows: 2,560 bytes) is split into chunk entries that
// are written under a new generation before the record is switched to it, so
// a reader sees the old value or the new one, never a mix.
//
// The stores here need nothing heavy to link: the kernel keyring, the file
// store, and on Linux a lean pipeline that reads feedkey's records from the
// Secret Service. The OS keychain's general path (godbus, go-keyring) is in
// package oskeychain, which [Choose] is given, so that the helper's quick
// path can leave it out.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/feedkey/feedkey/internal/jsonobj"
)

// Account is the keychain account of every credential's head record.
const Account = "credential"

// ServicePrefix starts every keychain service name feedkey owns.
const ServicePrefix = "feedkey:"

// chunkSize bounds each keychain value, under Windows' 2,560-byte limit and
// macOS's ~3,000 for service, account and value together.
const chunkSize = 2000

// version is the newest record format, which readers accept; newer ones
// they refuse. Format 2 tags each chunk with its generation and index
// (chunkTag), so that a store can read a whole record in one round
// ([ServiceReader]); records that fit inline are still written as format 1,
// which every feedkey reads.
const (
	version       = 2
	inlineVersion = 1
)

// readAttempts bounds how often Load re-reads a record whose chunks were
// replaced by a writer while it was reading.
const readAttempts = 8

// ErrCorrupt means a keychain entry under a feedkey name is not a record this
// version can read.
var ErrCorrupt = errors.New("not a feedkey credential record")

// ErrDamaged means a chunked record's parts are missing or do not match it:
// the credential is lost and must be obtained again.
var ErrDamaged = errors.New("damaged credential record")

// Credential is what feedkey stores for one credential id.
type Credential struct {
	Kind     string            // feed kind, as in the config
	Username string            // user name to present; empty means the feed's default
	Secret   string            // the password or token handed to clients
	Issued   time.Time         // when it was obtained; zero: unknown (older records)
	Expires  time.Time         // zero: does not expire
	Data     map[string]string // further secret material, such as refresh tokens
}

// How long a credential must still be valid (SPEC §6, §10): pip may take
// minutes to resolve and download, so a credential with less than FreshFor
// left is refreshed (beside its use), and one with less than UsableFor left
// is never handed out.
const (
	FreshFor  = 5 * time.Minute
	UsableFor = time.Minute
)

// ErrWrongKind means a record holds the credential of another kind of feed:
// it is never handed to this feed's host.
var ErrWrongKind = errors.New("wrong kind of credential")

// LoadKind is [Store.Load] for a feed of kind: a record of another kind is
// an error wrapping [ErrWrongKind].
func (s *Store) LoadKind(ctx context.Context, id, kind string) (Credential, error) {
	c, err := s.Load(ctx, id)
	if err == nil && c.Kind != "" && c.Kind != kind {
		return Credential{}, fmt.Errorf("keychain item %s holds a %s credential, not %s (%w): remove it with `feedkey logout`", Service(id), c.Kind, kind, ErrWrongKind)
	}
	return c, err
}

// Valid reports whether c has a secret that is still good for at least d.
func (c Credential) Valid(now time.Time, d time.Duration) bool {
	return c.Secret != "" && (c.Expires.IsZero() || c.Expires.Sub(now) >= d)
}

// Store reads and writes credentials in a [Keychain].
// It is safe for concurrent use; concurrent writers of one id are not
// coordinated, but readers always see one whole generation.
type Store struct {
	Keychain Keychain
}

// New returns a Store over k.
func New(k Keychain) *Store { return &Store{Keychain: k} }

// Service returns the keychain service name of credential id.
func Service(id string) string { return ServicePrefix + id }

type record struct {
	V        int               `json:"v"`
	Kind     string            `json:"kind"`
	Username string            `json:"username,omitempty"`
	Issued   string            `json:"issued,omitempty"`  // RFC 3339, UTC
	Expires  string            `json:"expires,omitempty"` // RFC 3339, UTC
	Gen      int64             `json:"gen"`
	Chunks   int               `json:"chunks"`
	Sum      string            `json:"sum,omitempty"` // SHA-256 of the joined chunks
	Secret   string            `json:"secret,omitempty"`
	Data     map[string]string `json:"data,omitempty"`
}

// field returns where jsonobj.Decode puts the value of key, nil for a key
// it skips (records are read that way, not unmarshalled into the struct:
// see internal/jsonobj).
func (r *record) field(key string) any {
	switch key {
	case "v":
		return &r.V
	case "kind":
		return &r.Kind
	case "username":
		return &r.Username
	case "issued":
		return &r.Issued
	case "expires":
		return &r.Expires
	case "gen":
		return &r.Gen
	case "chunks":
		return &r.Chunks
	case "sum":
		return &r.Sum
	case "secret":
		return &r.Secret
	case "data":
		return &r.Data
	}
	return nil
}

// payload is what chunks carry when the record is too large to inline.
type payload struct {
	Secret string            `json:"secret"`
	Data   map[string]string `json:"data,omitempty"`
}

// field is record.field's for a payload.
func (p *payload) field(key string) any {
	switch key {
	case "secret":
		return &p.Secret
	case "data":
		return &p.Data
	}
	return nil
}

func chunkAccount(gen int64, i int) string {
	return "chunk-" + strconv.FormatInt(gen, 10) + "-" + strconv.Itoa(i)
}

// maxTag bounds the length of a chunk tag: 19 digits of generation, 2 of
// index, and the separators.
const maxTag = 24

// chunkTag starts the value of chunk i of generation gen (format 2): the
// value says which part it is without its account name, which a Secret
// Service search does not return.
func chunkTag(gen int64, i int) string {
	return strconv.FormatInt(gen, 10) + "." + strconv.Itoa(i) + ":"
}

// ServiceReader is implemented by keychains that read every entry feedkey
// wrote under a service in one round (Secret Service: one search, one
// GetSecrets), values in no particular order. Any error sends Load to the
// entry-by-entry path, which explains it.
type ServiceReader interface {
	GetService(ctx context.Context, service string) ([]string, error)
}

// credential returns what rec holds, chunks aside.
func (rec record) credential(svc string) (Credential, error) {
	c := Credential{Kind: rec.Kind, Username: rec.Username, Secret: rec.Secret, Data: rec.Data}
	var err error
	if rec.Expires != "" {
		if c.Expires, err = time.Parse(time.RFC3339, rec.Expires); err != nil {
			return Credential{}, fmt.Errorf("%s: bad expiry: %w", svc, ErrCorrupt)
		}
	}
	if rec.Issued != "" {
		if c.Issued, err = time.Parse(time.RFC3339, rec.Issued); err != nil {
			return Credential{}, fmt.Errorf("%s: bad issue time: %w", svc, ErrCorrupt)
		}
	}
	return c, nil
}

// loadOneRound reads a record through a [ServiceReader]: the head is the one
// value that is JSON, the chunks the values tagged with its generation. It
// reports false whenever that is not clear-cut (no reader, an older
// record, a write under way, anything odd), and Load then reads entry by
// entry.
func (s *Store) loadOneRound(ctx context.Context, svc string) (Credential, bool) {
	sr, ok := s.Keychain.(ServiceReader)
	if !ok {
		return Credential{}, false
	}
	vals, err := sr.GetService(ctx, svc)
	if err != nil {
		return Credential{}, false
	}
	var head string
	heads := 0
	for _, v := range vals {
		if strings.HasPrefix(v, "{") {
			head, heads = v, heads+1
		}
	}
	if heads != 1 {
		return Credential{}, false
	}
	rec, err := parseRecord(svc, head)
	if err != nil {
		return Credential{}, false
	}
	c, err := rec.credential(svc)
	if err != nil {
		return Credential{}, false
	}
	if rec.Chunks == 0 {
		return c, true
	}
	if rec.V < 2 {
		return Credential{}, false
	}
	parts := make([]string, rec.Chunks)
	for i := range parts {
		tag := chunkTag(rec.Gen, i)
		for _, v := range vals {
			if strings.HasPrefix(v, tag) {
				parts[i] = v
				break
			}
		}
		if parts[i] == "" {
			return Credential{}, false
		}
	}
	p, err := joinChunks(svc, rec, parts)
	if err != nil {
		return Credential{}, false
	}
	c.Secret, c.Data = p.Secret, p.Data
	return c, true
}

// Load returns credential id, or an error wrapping [ErrNotFound],
// [ErrCorrupt] or [ErrUnavailable].
func (s *Store) Load(ctx context.Context, id string) (Credential, error) {
	svc := Service(id)
	if c, ok := s.loadOneRound(ctx, svc); ok {
		return c, nil
	}
	var lastErr error
	for range readAttempts {
		rec, err := s.head(ctx, svc)
		if errors.Is(err, ErrVanished) {
			lastErr = err
			continue
		}
		if err != nil {
			return Credential{}, err
		}
		c, err := rec.credential(svc)
		if err != nil {
			return Credential{}, err
		}
		if rec.Chunks == 0 {
			return c, nil
		}
		p, err := s.readChunks(ctx, svc, rec)
		if err == nil {
			c.Secret, c.Data = p.Secret, p.Data
			return c, nil
		}
		// A chunk that vanished or does not match the sum means a writer
		// switched generations under us: read the head again. If the head
		// has not moved, the record itself is damaged (a chunk was removed
		// by hand, or a writer was killed before a crash-safe design
		// existed).
		if !errors.Is(err, ErrNotFound) && !errors.Is(err, errSum) {
			return Credential{}, err
		}
		if again, herr := s.head(ctx, svc); herr == nil && again.Gen == rec.Gen {
			return Credential{}, fmt.Errorf("keychain item %s is damaged (a part of it is missing or altered): %w", svc, ErrDamaged)
		}
		lastErr = err
	}
	return Credential{}, fmt.Errorf("%s kept changing while being read: %w", svc, lastErr)
}

var errSum = errors.New("chunks do not match the record")

func (s *Store) head(ctx context.Context, svc string) (record, error) {
	raw, err := s.Keychain.Get(ctx, svc, Account)
	if err != nil {
		return record{}, err
	}
	return parseRecord(svc, raw)
}

// parseRecord parses and checks a head record.
func parseRecord(svc, raw string) (record, error) {
	var rec record
	if err := jsonobj.Decode([]byte(raw), rec.field); err != nil || rec.V == 0 {
		return record{}, fmt.Errorf("keychain item %s: %w (remove it with `feedkey logout`)", svc, ErrCorrupt)
	}
	if rec.V > version {
		return record{}, fmt.Errorf("keychain item %s was written by a newer feedkey (format %d): %w", svc, rec.V, ErrCorrupt)
	}
	if rec.Chunks < 0 || rec.Chunks > 64 || (rec.Chunks > 0 && rec.Sum == "") {
		return record{}, fmt.Errorf("keychain item %s: bad chunk count: %w", svc, ErrCorrupt)
	}
	return rec, nil
}

// MultiGetter is implemented by keychains that read several entries of one
// service at once, faster than one by one (Secret Service).
type MultiGetter interface {
	GetMany(ctx context.Context, service string, users []string) ([]string, error)
}

func (s *Store) readChunks(ctx context.Context, svc string, rec record) (payload, error) {
	accounts := make([]string, rec.Chunks)
	for i := range accounts {
		accounts[i] = chunkAccount(rec.Gen, i)
	}
	var parts []string
	var err error
	if mg, ok := s.Keychain.(MultiGetter); ok {
		parts, err = mg.GetMany(ctx, svc, accounts)
	} else {
		parts = make([]string, len(accounts))
		for i, a := range accounts {
			if parts[i], err = s.Keychain.Get(ctx, svc, a); err != nil {
				break
			}
		}
	}
	if err != nil {
		return payload{}, err
	}
	return joinChunks(svc, rec, parts)
}

// joinChunks checks and strips the chunks' tags (format 2), and checks the
// joined payload against the record's sum.
func joinChunks(svc string, rec record, parts []string) (payload, error) {
	if rec.V >= 2 {
		for i, p := range parts {
			tag := chunkTag(rec.Gen, i)
			if !strings.HasPrefix(p, tag) {
				return payload{}, errSum // another generation's part: a writer got in
			}
			parts[i] = p[len(tag):]
		}
	}
	joined := strings.Join(parts, "")
	if sum := sha256.Sum256([]byte(joined)); hex.EncodeToString(sum[:]) != rec.Sum {
		return payload{}, errSum
	}
	var p payload
	if err := jsonobj.Decode([]byte(joined), p.field); err != nil {
		return payload{}, fmt.Errorf("keychain item %s: chunks: %w", svc, ErrCorrupt)
	}
	return p, nil
}

// Save writes c as credential id. If it fails part way, the previous value
// stays readable.
func (s *Store) Save(ctx context.Context, id string, c Credential) error {
	if c.Secret == "" {
		return errors.New("refusing to store an empty secret")
	}
	svc := Service(id)
	old, err := s.head(ctx, svc)
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrCorrupt) {
		return err
	}
	rec := record{
		V:        inlineVersion,
		Kind:     c.Kind,
		Username: c.Username,
		Issued:   rfc3339(c.Issued),
		// A time-based generation stays unique even when two processes
		// write at once, so their chunks never mix.
		Gen:    max(old.Gen+1, time.Now().UnixNano()),
		Secret: c.Secret,
		Data:   c.Data,
	}
	rec.Expires = rfc3339(c.Expires)
	inline, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if len(inline) > chunkSize {
		p, err := json.Marshal(payload{Secret: c.Secret, Data: c.Data})
		if err != nil {
			return err
		}
		// Each value, tag included, stays within chunkSize.
		parts := split(string(p), chunkSize-maxTag)
		for i, part := range parts {
			if err := s.Keychain.Set(ctx, svc, chunkAccount(rec.Gen, i), chunkTag(rec.Gen, i)+part); err != nil {
				return err
			}
		}
		sum := sha256.Sum256(p)
		rec.V, rec.Secret, rec.Data, rec.Chunks, rec.Sum = version, "", nil, len(parts), hex.EncodeToString(sum[:])
		if inline, err = json.Marshal(rec); err != nil {
			return err
		}
	}
	if err := s.Keychain.Set(ctx, svc, Account, string(inline)); err != nil {
		return err
	}
	// The old generation is unreachable now; a failure here leaves garbage
	// that the next write collects, never a broken credential.
	for i := range old.Chunks {
		_ = s.Keychain.Delete(ctx, svc, chunkAccount(old.Gen, i))
	}
	_, _ = s.Compact(ctx, id, compactGrace)
	return nil
}

// rfc3339 formats t as the record stores times: UTC, whole seconds, "" for
// zero. Callers that compare times with stored ones truncate to the second.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// compactGrace is how old a generation that is not the head's must be before
// a writer that does not hold the credential's lock removes its chunks: a
// concurrent writer writes its chunks and switches the head within seconds.
const compactGrace = 2 * time.Minute

// Lister is implemented by keychains that can list the accounts under a
// service (Secret Service): what chunk garbage collection needs.
type Lister interface {
	Accounts(ctx context.Context, service string) ([]string, error)
}

// Compact removes the chunks of credential id that belong to no live
// generation: those of killed writers and of writers that lost a race. A
// generation other than the head's is removed once it is older than grace;
// a caller that holds the credential's refresh lock (so no other feedkey
// writer runs) passes 0. It returns how many items it removed. On a keychain
// that cannot list accounts it does nothing.
func (s *Store) Compact(ctx context.Context, id string, grace time.Duration) (int, error) {
	orphans, err := s.orphans(ctx, id, grace)
	removed := 0
	for _, acct := range orphans {
		if s.Keychain.Delete(ctx, Service(id), acct) == nil {
			removed++
		}
	}
	return removed, err
}

// Orphans counts the chunk items of credential id that no live generation
// uses (for `feedkey doctor`).
func (s *Store) Orphans(ctx context.Context, id string) (int, error) {
	orphans, err := s.orphans(ctx, id, 0)
	return len(orphans), err
}

func (s *Store) orphans(ctx context.Context, id string, grace time.Duration) ([]string, error) {
	l, ok := s.Keychain.(Lister)
	if !ok {
		return nil, nil
	}
	svc := Service(id)
	accounts, err := l.Accounts(ctx, svc)
	if errors.Is(err, errors.ErrUnsupported) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	head, err := s.head(ctx, svc)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	chunked := err == nil && head.Chunks > 0 // else every chunk is an orphan
	cutoff := time.Now().Add(-grace).UnixNano()
	var orphans []string
	for _, acct := range accounts {
		gen, ok := chunkGen(acct)
		if !ok || (chunked && gen == head.Gen) {
			continue
		}
		if grace > 0 && gen > cutoff {
			continue // perhaps a writer at work
		}
		orphans = append(orphans, acct)
	}
	return orphans, nil
}

// chunkGen returns the generation of a chunk account "chunk-<gen>-<i>".
func chunkGen(acct string) (int64, bool) {
	rest, ok := strings.CutPrefix(acct, "chunk-")
	if !ok {
		return 0, false
	}
	g, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	gen, err := strconv.ParseInt(g, 10, 64)
	return gen, err == nil
}

// Delete removes credential id and every chunk it has or had.
func (s *Store) Delete(ctx context.Context, id string) error {
	return s.Keychain.DeleteAll(ctx, Service(id))
}

// split cuts s into parts of at most n bytes without splitting a UTF-8
// sequence.
func split(s string, n int) []string {
	var parts []string
	for len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		parts = append(parts, s[:cut])
		s = s[cut:]
	}
	return append(parts, s)
}
