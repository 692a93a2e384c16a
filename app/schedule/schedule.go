// Package schedule keeps credentials fresh before anyone asks for them.
//
// A [Scheduler] is the tray's proactive refresh loop (SPEC §6). It knows
// nothing about providers or the tray UI: it is told which credentials exist
// and when they expire ([Scheduler.Track]), calls a [RefreshFunc] when one is
// due, and reports every state change through OnChange.
//
// The rules:
//
//   - A credential is refreshed when about 25 % of its lifetime remains and
//     at least 5 minutes before it expires, whichever comes first. A random
//     jitter of up to 10 % of that lead moves the refresh earlier (never
//     later), so credentials issued together drift apart and the 5-minute
//     margin is never eaten into.
//   - A failed refresh is retried with exponential backoff (30 s doubling to
//     15 min, jittered downwards). The scheduler never deletes anything: the
//     old token stays in the store and is served while it is still valid.
//   - An error wrapping [ErrNeedsPerson] stops automatic retries until the
//     credential is tracked again or refreshed by hand.
//   - At most one refresh per credential is in flight; concurrent
//     [Scheduler.RefreshNow] calls for one credential share a single run.
//     Different credentials refresh concurrently.
//   - When idle the loop sleeps on a single timer for the earliest due
//     credential plus a coarse one-minute ticker. The ticker compares the
//     wall clock with the time the timer took; if they disagree by more than
//     half a tick (sleep/resume, clock set), every credential is re-planned at
//     once: credentials that expired or entered their refresh window refresh
//     immediately and failing ones retry without waiting out their backoff.
//
// All times are compared as wall-clock times (expiry times come from
// servers), and all waiting goes through a [Clock] so tests can run days in
// milliseconds.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	leadFraction    = 0.25             // refresh when this fraction of the lifetime remains …
	minLead         = 5 * time.Minute  // … but at least this long before expiry
	assumedLifetime = time.Hour        // lifetime assumed when the issue time is unknown
	maxJitter       = 0.10             // refresh up to this fraction of the lead earlier
	backoffMin      = 30 * time.Second // first retry delay after a failure
	backoffMax      = 15 * time.Minute // retry delay cap
	tickEvery       = time.Minute      // coarse ticker for clock-jump detection
	jumpSlack       = tickEvery / 2    // tolerated disagreement between tick and wall clock
)

// ErrNeedsPerson is wrapped by a RefreshFunc error that no retry can fix: the
// refresh token was revoked, the user must sign in again. The scheduler then
// stops retrying the credential until [Scheduler.Track] or
// [Scheduler.RefreshNow] is called for it.
var ErrNeedsPerson = errors.New("schedule: a person must sign in")

// ErrNotTracked is returned by [Scheduler.RefreshNow] for an unknown id.
var ErrNotTracked = errors.New("schedule: credential not tracked")

// Clock is the source of time: [Real] in production, a fake in tests.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that sends on C once, after d.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer made by a [Clock].
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it was still
	// pending.
	Stop() bool
}

// Real returns the system clock.
func Real() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time                 { return time.Now() }
func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }
func (t realTimer) Stop() bool          { return t.t.Stop() }

// RefreshFunc obtains a new credential for id, stores it, and returns its
// expiry time. It must honour ctx and bound its own network calls.
type RefreshFunc func(ctx context.Context, id string) (expires time.Time, err error)

// State is what the tray shows for a credential.
type State int

const (
	// Unknown: the credential is not tracked (the zero value; also reported
	// to OnChange after Forget).
	Unknown State = iota
	// Valid: the credential is valid; the next refresh is at NextAttempt.
	Valid
	// Refreshing: a refresh is in flight; Expires is still the old token's.
	Refreshing
	// Failing: the last refresh failed but the old token is still valid.
	// NextAttempt is the next retry, or zero if LastErr wraps ErrNeedsPerson.
	Failing
	// Expired: there is no valid token. NextAttempt is the next retry, or
	// zero if nothing will happen until someone signs in (LastErr wraps
	// ErrNeedsPerson).
	Expired
)

func (s State) String() string {
	switch s {
	case Valid:
		return "valid"
	case Refreshing:
		return "refreshing"
	case Failing:
		return "failing"
	case Expired:
		return "expired"
	}
	return "unknown"
}

// Status is a snapshot of one credential.
type Status struct {
	ID          string
	State       State
	Expires     time.Time // expiry of the token currently served; zero if unknown
	LastErr     error     // error of the last refresh; nil after a success
	NextAttempt time.Time // next automatic refresh or retry; zero if none
	Refreshes   int       // successful refreshes since the credential was first tracked
}

// Scheduler refreshes tracked credentials ahead of expiry. Set the exported
// fields before the first method call and do not change them afterwards.
// The zero value with Refresh set is ready to use; call Run to start the
// automatic refreshes (Track, Status and RefreshNow also work without it).
type Scheduler struct {
	// Clock is the time source; nil means Real().
	Clock Clock
	// Refresh renews one credential. Required.
	Refresh RefreshFunc
	// Rand returns a number in [0, 1) for jitter; nil means math/rand/v2.
	// It is called with the scheduler's lock held, so it need not be safe
	// for concurrent use but must not call back into the Scheduler.
	Rand func() float64
	// OnChange, if set, is called after every state change of a credential
	// (for the tray to redraw) with the credential's status at the time of
	// the call. It is never called with a lock held, so it may call Status
	// and All, but calls can come from several goroutines at once.
	OnChange func(Status)

	mu       sync.Mutex
	creds    map[string]*entry
	flights  map[string]*flight
	wake     chan struct{} // pokes Run after a change; buffered, drained under mu
	gen      uint64        // Track counter, to ignore results for replaced credentials
	running  bool
	base     context.Context // Run's context while running
	flightWG sync.WaitGroup

	// Counters (guarded by mu), for the wake-up figures tests report.
	wakeups int // times Run woke up
	jumps   int // clock jumps detected
}

type entry struct {
	gen       uint64
	issued    time.Time // zero: unknown
	expires   time.Time // zero: unknown
	state     State     // Valid, Failing or Expired; Refreshing is derived from flights
	lastErr   error
	next      time.Time // next automatic attempt; zero: none
	failures  int       // consecutive failures
	refreshes int
}

type flight struct {
	gen     uint64 // entry generation the result applies to
	waiters int
	done    chan struct{}
	err     error // set before done is closed
}

// initLocked makes the maps; s.mu must be held.
func (s *Scheduler) initLocked() {
	if s.creds == nil {
		s.creds = make(map[string]*entry)
		s.flights = make(map[string]*flight)
		s.wake = make(chan struct{}, 1)
	}
}

func (s *Scheduler) clock() Clock {
	if s.Clock == nil {
		return Real()
	}
	return s.Clock
}

// now is the wall-clock time without a monotonic reading, so every
// comparison with server-issued expiry times uses the wall clock.
func (s *Scheduler) now() time.Time { return s.clock().Now().Round(0) }

func (s *Scheduler) rand() float64 {
	if s.Rand == nil {
		return rand.Float64()
	}
	return s.Rand()
}

// pokeLocked wakes Run; s.mu must be held.
func (s *Scheduler) pokeLocked() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// refreshAtLocked returns when a credential should next be refreshed.
func (s *Scheduler) refreshAtLocked(now, issued, expires time.Time) time.Time {
	if expires.IsZero() {
		return now
	}
	life := assumedLifetime
	if !issued.IsZero() && expires.After(issued) {
		life = expires.Sub(issued)
	}
	lead := max(time.Duration(float64(life)*leadFraction), minLead)
	// Very short-lived tokens cannot keep a 5-minute margin; refresh them
	// halfway (at most 30 s before the minimum gap) rather than in a loop.
	if gap := min(backoffMin, life/2); life-lead < gap {
		lead = life - gap
	}
	lead += time.Duration(float64(lead) * maxJitter * s.rand())
	return expires.Add(-lead)
}

// backoffLocked returns the delay before retry number n (n ≥ 1).
func (s *Scheduler) backoffLocked(n int) time.Duration {
	d := backoffMax
	if n <= 10 {
		d = min(backoffMin<<(n-1), backoffMax)
	}
	// Jitter downwards only: retries still grow and never exceed the cap.
	return d - time.Duration(float64(d)*0.25*s.rand())
}

// Track adds the credential id, or replaces what is known about it (after a
// sign-in, say): it is valid from issued (zero if unknown; a lifetime of 1 h
// is then assumed for the 25 % rule) until expires (zero if unknown: refresh
// at once). Tracking clears any failure and re-enables automatic refreshes.
func (s *Scheduler) Track(id string, issued, expires time.Time) {
	issued, expires = issued.Round(0), expires.Round(0)
	now := s.now()
	s.mu.Lock()
	s.initLocked()
	s.gen++
	e := &entry{gen: s.gen, issued: issued, expires: expires, state: Valid}
	if old := s.creds[id]; old != nil {
		e.refreshes = old.refreshes
	}
	if !now.Before(expires) {
		e.state = Expired
	}
	e.next = s.refreshAtLocked(now, issued, expires)
	s.creds[id] = e
	s.pokeLocked()
	s.mu.Unlock()
	s.notify(id)
}

// Forget stops tracking id. A refresh in flight finishes but its result is
// ignored. OnChange sees the credential as Unknown.
func (s *Scheduler) Forget(id string) {
	s.mu.Lock()
	s.initLocked()
	_, ok := s.creds[id]
	delete(s.creds, id)
	s.pokeLocked()
	s.mu.Unlock()
	if ok {
		s.notify(id)
	}
}

// RefreshNow refreshes id now, or joins the refresh already in flight for
// it, and waits for the result. It returns ErrNotTracked for an unknown id
// and ctx.Err() if ctx ends first (the refresh itself carries on). The
// refresh runs under Run's context, or context.Background() without Run.
func (s *Scheduler) RefreshNow(ctx context.Context, id string) error {
	s.mu.Lock()
	s.initLocked()
	e := s.creds[id]
	if e == nil {
		s.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrNotTracked, id)
	}
	f := s.flights[id]
	started := f == nil
	if started {
		f = s.startLocked(id, e)
	}
	f.waiters++
	s.mu.Unlock()
	if started {
		s.notify(id)
	}
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// startLocked launches a refresh of e; s.mu must be held and no flight may
// be running for id.
func (s *Scheduler) startLocked(id string, e *entry) *flight {
	f := &flight{gen: e.gen, done: make(chan struct{})}
	s.flights[id] = f
	ctx := s.base
	if ctx == nil {
		ctx = context.Background()
	}
	s.flightWG.Add(1)
	go s.run(ctx, id, f)
	return f
}

func (s *Scheduler) run(ctx context.Context, id string, f *flight) {
	defer s.flightWG.Done()
	expires, err := s.call(ctx, id)
	now := s.now()
	expires = expires.Round(0)
	if err == nil && !expires.After(now) {
		err = fmt.Errorf("schedule: refresh of %q returned a credential expiring at %s, not after now (%s)",
			id, expires.Format(time.RFC3339), now.Format(time.RFC3339))
	}

	s.mu.Lock()
	delete(s.flights, id)
	e := s.creds[id]
	switch {
	case e == nil || e.gen != f.gen:
		// Forgotten or re-tracked meanwhile: the newer information wins.
	case err == nil:
		e.issued, e.expires, e.state = now, expires, Valid
		e.lastErr, e.failures = nil, 0
		e.refreshes++
		e.next = s.refreshAtLocked(now, now, expires)
	case ctx.Err() != nil:
		// Shutting down: not the credential's fault; leave it as it was.
	default:
		e.lastErr = err
		e.state = Failing
		if !now.Before(e.expires) {
			e.state = Expired
		}
		if errors.Is(err, ErrNeedsPerson) {
			e.next = time.Time{}
		} else {
			e.failures++
			e.next = now.Add(s.backoffLocked(e.failures))
		}
	}
	s.mu.Unlock()

	f.err = err
	close(f.done)
	s.notify(id)

	// Wake Run to plan the next refresh, after the result was announced.
	s.mu.Lock()
	s.pokeLocked()
	s.mu.Unlock()
}

// call runs s.Refresh, turning a panic into an error: a broken provider
// must not take the tray down.
func (s *Scheduler) call(ctx context.Context, id string) (expires time.Time, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("schedule: refresh of %q panicked: %v", id, r)
		}
	}()
	if s.Refresh == nil {
		return time.Time{}, errors.New("schedule: Scheduler.Refresh is nil")
	}
	return s.Refresh(ctx, id)
}

// Status returns the status of id, and false if it is not tracked.
func (s *Scheduler) Status(id string) (Status, bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.creds[id]
	if e == nil {
		return Status{ID: id}, false
	}
	return s.statusLocked(now, id, e), true
}

// All returns the status of every tracked credential, sorted by id.
func (s *Scheduler) All() []Status {
	now := s.now()
	s.mu.Lock()
	out := make([]Status, 0, len(s.creds))
	for id, e := range s.creds {
		out = append(out, s.statusLocked(now, id, e))
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Status) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (s *Scheduler) statusLocked(now time.Time, id string, e *entry) Status {
	st := Status{ID: id, State: e.state, Expires: e.expires, LastErr: e.lastErr,
		NextAttempt: e.next, Refreshes: e.refreshes}
	switch {
	case s.flights[id] != nil:
		st.State, st.NextAttempt = Refreshing, time.Time{}
	case st.State != Expired && !now.Before(e.expires):
		st.State = Expired // Run may not have noticed yet
	}
	return st
}

// notify calls OnChange for each id with its current status.
func (s *Scheduler) notify(ids ...string) {
	if s.OnChange == nil {
		return
	}
	for _, id := range ids {
		st, _ := s.Status(id)
		s.OnChange(st)
	}
}

// Run refreshes credentials as they become due until ctx ends, then waits
// for refreshes in flight (which see ctx cancelled) and returns ctx.Err().
// Only one Run may be active at a time.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.Refresh == nil {
		return errors.New("schedule: Scheduler.Refresh is nil")
	}
	s.mu.Lock()
	s.initLocked()
	if s.running {
		s.mu.Unlock()
		return errors.New("schedule: Run is already running")
	}
	s.running, s.base = true, ctx
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running, s.base = false, nil
		s.mu.Unlock()
		s.flightWG.Wait()
	}()

	clock := s.clock()
	tick := clock.NewTimer(tickEvery)
	tickArmed := s.now()
	defer func() { tick.Stop() }()

	replan := false
	for {
		now, wake, changed := s.pass(replan)
		replan = false
		s.notify(changed...)

		var due Timer
		var dueC <-chan time.Time
		if !wake.IsZero() {
			due = clock.NewTimer(wake.Sub(now))
			dueC = due.C()
		}
		select {
		case <-ctx.Done():
			if due != nil {
				due.Stop()
			}
			return ctx.Err()
		case <-dueC:
		case <-s.wake:
		case <-tick.C():
			t := s.now()
			drift := t.Sub(tickArmed) - tickEvery
			replan = drift > jumpSlack || drift < -jumpSlack
			tick, tickArmed = clock.NewTimer(tickEvery), t
		}
		if due != nil {
			due.Stop()
		}
		s.mu.Lock()
		s.wakeups++
		if replan {
			s.jumps++
		}
		s.mu.Unlock()
	}
}

// pass starts every due refresh, marks credentials that ran out, and
// returns the time of the next thing to do (zero: nothing) and the ids whose
// state changed. With replan (after a clock jump), failing credentials retry
// at once.
func (s *Scheduler) pass(replan bool) (now, wake time.Time, changed []string) {
	now = s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	// Every poke so far is covered by this pass, which reads the state
	// under the same lock the pokes were sent under.
	select {
	case <-s.wake:
	default:
	}
	for id, e := range s.creds {
		if s.flights[id] != nil {
			continue
		}
		ranOut := e.state != Expired && !now.Before(e.expires)
		if ranOut {
			e.state = Expired
		}
		if replan && e.failures > 0 && !e.next.IsZero() {
			e.next = now
		}
		if !e.next.IsZero() && !now.Before(e.next) {
			s.startLocked(id, e)
			changed = append(changed, id)
			continue
		}
		if ranOut {
			changed = append(changed, id)
		}
		for _, t := range []time.Time{e.next, e.expires} {
			if !t.IsZero() && t.After(now) && (wake.IsZero() || t.Before(wake)) {
				wake = t
			}
		}
	}
	return now, wake, changed
}
