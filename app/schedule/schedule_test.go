package schedule

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// fakeClock is a virtual clock. Timers run on a monotonic virtual time that
// only advance moves; jump moves the wall clock alone, like a suspended
// machine whose timers did not fire while it slept.
type fakeClock struct {
	mu        sync.Mutex
	start     time.Time
	mono      time.Duration // virtual monotonic time since start
	offset    time.Duration // wall-clock jumps so far
	timers    map[*fakeTimer]struct{}
	fired     int // timers fired so far (= scheduler wake-ups by timer)
	maxActive int // most timers pending at once
}

type fakeTimer struct {
	c  *fakeClock
	at time.Duration
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{
		start:  time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		timers: make(map[*fakeTimer]struct{}),
	}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.start.Add(c.mono + c.offset)
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.mono + d, ch: make(chan time.Time, 1)}
	if d <= 0 {
		c.fired++
		t.ch <- c.start.Add(c.mono + c.offset)
		return t
	}
	c.timers[t] = struct{}{}
	c.maxActive = max(c.maxActive, len(c.timers))
	return t
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	_, ok := t.c.timers[t]
	delete(t.c.timers, t)
	return ok
}

// elapsed is the virtual monotonic time since the clock was made.
func (c *fakeClock) elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mono
}

// fireNext moves virtual time to the earliest timer due at or before limit
// and fires it. With no such timer it moves time to limit and reports false.
func (c *fakeClock) fireNext(limit time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	var next *fakeTimer
	for t := range c.timers {
		if t.at <= limit && (next == nil || t.at < next.at) {
			next = t
		}
	}
	if next == nil {
		c.mono = max(c.mono, limit)
		return false
	}
	delete(c.timers, next)
	c.mono = max(c.mono, next.at)
	c.fired++
	next.ch <- c.start.Add(c.mono + c.offset)
	return true
}

// jump moves the wall clock by d; no timer fires.
func (c *fakeClock) jump(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// sim runs a Scheduler on a fake clock in lock step with the test: every
// step fires one timer (or pokes the scheduler) and then waits until every
// goroutine of the test's synctest bubble is blocked (Run idle, refreshes
// done), so virtual days pass in milliseconds without real sleeps or hooks
// in the Scheduler. Tests that use it run inside synctest.Test.
type sim struct {
	tb  testing.TB
	clk *fakeClock
	s   *Scheduler
}

// seeded is a deterministic jitter source.
func seeded() func() float64 { return rand.New(rand.NewPCG(1, 2)).Float64 }

// start runs s (whose Clock must be clk) until the test ends.
func start(tb testing.TB, s *Scheduler, clk *fakeClock) *sim {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m := &sim{tb: tb, clk: clk, s: s}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			tb.Errorf("Run = %v, want context.Canceled", err)
		}
	})
	m.waitIdle()
	return m
}

func (m *sim) waitIdle() { synctest.Wait() }

// advance moves virtual time forward by d, firing timers in order.
func (m *sim) advance(d time.Duration) {
	m.tb.Helper()
	limit := m.clk.elapsed() + d
	for m.clk.fireNext(limit) {
		m.waitIdle()
	}
}

// do runs f, which must wake the scheduler exactly once (Track, Forget,
// RefreshNow), and waits for it to settle.
func (m *sim) do(f func()) {
	m.tb.Helper()
	f()
	m.waitIdle()
}

// tokenStore stands in for the keychain: what the helper would read.
type tokenStore struct {
	mu      sync.Mutex
	clk     Clock
	expires map[string]time.Time
	calls   map[string][]time.Time // refresh calls, by id
}

func newTokenStore(clk Clock) *tokenStore {
	return &tokenStore{clk: clk, expires: map[string]time.Time{}, calls: map[string][]time.Time{}}
}

// issue stores a token for id valid for life from now.
func (ts *tokenStore) issue(id string, life time.Duration) time.Time {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	exp := ts.clk.Now().Add(life)
	ts.expires[id] = exp
	return exp
}

func (ts *tokenStore) get(id string) time.Time {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.expires[id]
}

func (ts *tokenStore) record(id string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.calls[id] = append(ts.calls[id], ts.clk.Now())
}

func (ts *tokenStore) callTimes(id string) []time.Time {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]time.Time(nil), ts.calls[id]...)
}

// refresher issues tokens with the given lifetimes, failing with fail(id)
// when that returns an error.
func (ts *tokenStore) refresher(life map[string]time.Duration, fail func(id string) error) RefreshFunc {
	return func(ctx context.Context, id string) (time.Time, error) {
		ts.record(id)
		if fail != nil {
			if err := fail(id); err != nil {
				return time.Time{}, err
			}
		}
		return ts.issue(id, life[id]), nil
	}
}

const week = 7 * 24 * time.Hour

// simulateWeek runs 7 virtual days with 1-hour tokens while a helper asks
// for the token every 1–5 minutes. It returns the refresh calls made and
// the least validity any ask saw.
func simulateWeek(tb testing.TB) (calls int, minLeft time.Duration, m *sim) {
	clk := newFakeClock()
	ts := newTokenStore(clk)
	s := &Scheduler{Clock: clk, Rand: seeded(), Refresh: ts.refresher(map[string]time.Duration{"contoso": time.Hour}, nil)}
	s.Track("contoso", clk.Now(), ts.issue("contoso", time.Hour))
	m = start(tb, s, clk)

	asks := rand.New(rand.NewPCG(3, 4))
	minLeft = time.Duration(1<<63 - 1)
	for clk.elapsed() < week {
		m.advance(time.Minute + time.Duration(asks.IntN(4*60))*time.Second)
		left := ts.get("contoso").Sub(clk.Now())
		if left < minLead {
			tb.Fatalf("at +%v the helper got a token with %v left, want ≥ %v", clk.elapsed(), left, minLead)
		}
		if st, _ := s.Status("contoso"); st.State != Valid || !st.Expires.Equal(ts.get("contoso")) {
			tb.Fatalf("at +%v status = %+v, want valid until %v", clk.elapsed(), st, ts.get("contoso"))
		}
		minLeft = min(minLeft, left)
	}
	return len(ts.callTimes("contoso")), minLeft, m
}

func TestWeekOfHourTokens(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls, minLeft, m := simulateWeek(t)
		// The 25 % rule refreshes a 1-hour token 15 minutes before expiry: at
		// best one refresh per 45 minutes.
		life := time.Hour
		lead := max(time.Duration(float64(life)*leadFraction), minLead)
		minimum := int(week / (life - lead))
		t.Logf("7 days of 1 h tokens: %d refresh calls (minimum %d, ratio %.3f), least validity seen %v, %d timer wake-ups",
			calls, minimum, float64(calls)/float64(minimum), minLeft, m.clk.fired)
		if float64(calls) > 1.1*float64(minimum) {
			t.Errorf("%d refresh calls, want ≤ 1.1 × %d", calls, minimum)
		}
		if calls < minimum-1 {
			t.Errorf("%d refresh calls, fewer than the %d the 25 %% rule needs", calls, minimum)
		}
	})
}

func TestBackoffKeepsOldTokenAndRecovers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newFakeClock()
		ts := newTokenStore(clk)
		var failing atomic.Bool
		failing.Store(true)
		s := &Scheduler{Clock: clk, Rand: seeded(), Refresh: ts.refresher(map[string]time.Duration{"contoso": time.Hour}, func(string) error {
			if failing.Load() {
				return errors.New("token endpoint: 503 Service Unavailable")
			}
			return nil
		})}
		t0 := clk.Now()
		exp0 := t0.Add(time.Hour)
		s.Track("contoso", t0, exp0)
		m := start(t, s, clk)

		// Three hours of outage, looking at what the tray shows every minute.
		for range 180 {
			m.advance(time.Minute)
			now := clk.Now()
			st, _ := s.Status("contoso")
			want := Failing
			switch {
			case len(ts.callTimes("contoso")) == 0:
				want = Valid
			case !now.Before(exp0):
				want = Expired
			}
			if st.State != want || !st.Expires.Equal(exp0) {
				t.Fatalf("at +%v status = %v until %v, want %v until %v (the old token)", now.Sub(t0), st.State, st.Expires, want, exp0)
			}
			if want != Valid && (st.LastErr == nil || !st.NextAttempt.After(now)) {
				t.Fatalf("at +%v failing status = %+v, want an error and a retry time", now.Sub(t0), st)
			}
		}

		times := ts.callTimes("contoso")
		if first := times[0].Sub(t0); first < 45*time.Minute-90*time.Second || first > 45*time.Minute {
			t.Errorf("first refresh at +%v, want in [43m30s, 45m]", first)
		}
		gaps := make([]time.Duration, 0, len(times))
		for k := 1; k < len(times); k++ {
			gap := times[k].Sub(times[k-1])
			gaps = append(gaps, gap)
			bound := backoffMax
			if k <= 10 {
				bound = min(backoffMin<<(k-1), backoffMax)
			}
			if gap < bound*3/4 || gap > bound {
				t.Errorf("retry %d came %v after the previous, want in [%v, %v]", k, gap, bound*3/4, bound)
			}
		}
		if len(gaps) < 8 {
			t.Fatalf("only %d retries in 3 hours, want the backoff to reach its cap", len(gaps))
		}
		t.Logf("retry gaps: %v", gaps)

		// The network comes back: the next retry succeeds and the schedule
		// returns to normal.
		failing.Store(false)
		n := len(times)
		m.advance(backoffMax)
		times = ts.callTimes("contoso")
		if len(times) != n+1 {
			t.Fatalf("%d calls after recovery, want %d", len(times), n+1)
		}
		recovered := times[n]
		st, _ := s.Status("contoso")
		if st.State != Valid || st.LastErr != nil || !st.Expires.Equal(recovered.Add(time.Hour)) {
			t.Fatalf("after recovery status = %+v, want valid until %v", st, recovered.Add(time.Hour))
		}
		m.advance(time.Hour)
		times = ts.callTimes("contoso")
		if len(times) != n+2 {
			t.Fatalf("%d calls an hour after recovery, want %d", len(times), n+2)
		}
		if gap := times[n+1].Sub(recovered); gap < 45*time.Minute-90*time.Second || gap > 45*time.Minute {
			t.Errorf("first refresh after recovery %v later, want in [43m30s, 45m]", gap)
		}
	})
}

func TestRecoversAfterSleep(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newFakeClock()
		ts := newTokenStore(clk)
		var offline atomic.Bool
		offline.Store(true)
		s := &Scheduler{Clock: clk, Rand: seeded(), Refresh: ts.refresher(
			map[string]time.Duration{"a": time.Hour, "b": 24 * time.Hour, "c": time.Hour},
			func(id string) error {
				if id == "c" && offline.Load() {
					return errors.New("dial tcp: network is unreachable")
				}
				return nil
			})}
		t0 := clk.Now()
		s.Track("a", t0, t0.Add(time.Hour))
		s.Track("b", t0, t0.Add(24*time.Hour))
		s.Track("c", t0.Add(-55*time.Minute), t0.Add(5*time.Minute)) // due at once, failing
		m := start(t, s, clk)
		m.advance(10 * time.Minute)
		cBefore := len(ts.callTimes("c"))
		if st, _ := s.Status("c"); st.State != Expired || st.NextAttempt.IsZero() {
			t.Fatalf("before sleep c = %+v, want expired and retrying", st)
		}

		// The lid closes for 8 hours: the wall clock moves, timers do not fire.
		clk.jump(8 * time.Hour)
		offline.Store(false)
		resume := clk.Now()
		if st, _ := s.Status("a"); st.State != Expired {
			t.Errorf("right after resume a = %v, want expired", st.State)
		}
		m.advance(tickEvery)

		a := ts.callTimes("a")
		if len(a) != 1 || a[0].Sub(resume) > tickEvery {
			t.Fatalf("a refreshed at %v, want once within %v of resume at %v", a, tickEvery, resume)
		}
		if st, _ := s.Status("a"); st.State != Valid || !st.Expires.Equal(a[0].Add(time.Hour)) {
			t.Errorf("after resume a = %+v, want valid for an hour", st)
		}
		if b := ts.callTimes("b"); len(b) != 0 {
			t.Errorf("b (24 h token, 16 h left) refreshed at %v, want not yet", b)
		}
		c := ts.callTimes("c")
		if len(c) != cBefore+1 || c[cBefore].Sub(resume) > tickEvery {
			t.Errorf("c retried at %v, want once right after resume", c[cBefore:])
		}
		if st, _ := s.Status("c"); st.State != Valid {
			t.Errorf("after resume c = %+v, want valid", st)
		}
		if got := jumps(s); got != 1 {
			t.Errorf("%d clock jumps detected, want 1", got)
		}

		// The clock is set back two hours: noticed, but nothing to refresh.
		calls := len(ts.callTimes("a")) + len(ts.callTimes("b")) + len(ts.callTimes("c"))
		clk.jump(-2 * time.Hour)
		m.advance(2 * tickEvery)
		if got := jumps(s); got != 2 {
			t.Errorf("%d clock jumps detected, want 2", got)
		}
		if now := len(ts.callTimes("a")) + len(ts.callTimes("b")) + len(ts.callTimes("c")); now != calls {
			t.Errorf("%d refreshes after the clock went back, want none", now-calls)
		}
	})
}

func jumps(s *Scheduler) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jumps
}

func TestConcurrentRefreshNowCoalesces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newFakeClock()
		release := make(chan struct{})
		var calls atomic.Int32
		s := &Scheduler{Clock: clk, Refresh: func(ctx context.Context, id string) (time.Time, error) {
			calls.Add(1)
			<-release
			return clk.Now().Add(time.Hour), nil
		}}
		s.Track("contoso", clk.Now(), clk.Now().Add(time.Hour))

		errs := make(chan error, 20)
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() { errs <- s.RefreshNow(context.Background(), "contoso") })
		}
		synctest.Wait() // the refresh cannot finish before release: all join it
		s.mu.Lock()
		most := s.flights["contoso"].waiters
		s.mu.Unlock()
		if st, _ := s.Status("contoso"); st.State != Refreshing {
			t.Errorf("during refresh state = %v, want refreshing", st.State)
		}
		close(release)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("RefreshNow = %v", err)
			}
		}
		if n := calls.Load(); n != 1 || most != 20 {
			t.Errorf("20 concurrent RefreshNow: %d refresh calls, %d waiters on one flight; want 1 and 20", n, most)
		}
		if st, _ := s.Status("contoso"); st.State != Valid || st.Refreshes != 1 {
			t.Errorf("after refresh status = %+v, want valid with 1 refresh", st)
		}
		if err := s.RefreshNow(context.Background(), "contoso"); err != nil || calls.Load() != 2 {
			t.Errorf("a later RefreshNow = %v with %d calls, want a second refresh", err, calls.Load())
		}
		if err := s.RefreshNow(context.Background(), "nope"); !errors.Is(err, ErrNotTracked) {
			t.Errorf("RefreshNow(unknown) = %v, want ErrNotTracked", err)
		}
	})
}

func TestDifferentCredentialsRefreshConcurrently(t *testing.T) {
	clk := newFakeClock()
	started := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
	s := &Scheduler{Clock: clk, Refresh: func(ctx context.Context, id string) (time.Time, error) {
		close(started[id])
		other := map[string]string{"a": "b", "b": "a"}[id]
		select {
		case <-started[other]:
		case <-time.After(10 * time.Second): // only on failure
			return time.Time{}, fmt.Errorf("%s never saw %s start", id, other)
		}
		return clk.Now().Add(time.Hour), nil
	}}
	s.Track("a", time.Time{}, clk.Now().Add(time.Hour))
	s.Track("b", time.Time{}, clk.Now().Add(time.Hour))
	var wg sync.WaitGroup
	for _, id := range []string{"a", "b"} {
		wg.Go(func() {
			if err := s.RefreshNow(context.Background(), id); err != nil {
				t.Errorf("RefreshNow(%s) = %v", id, err)
			}
		})
	}
	wg.Wait()
}

func TestNeedsPersonStopsRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newFakeClock()
		ts := newTokenStore(clk)
		var revoked atomic.Bool
		revoked.Store(true)
		var mu sync.Mutex
		seen := map[State]int{}
		s := &Scheduler{
			Clock: clk,
			Rand:  seeded(),
			Refresh: ts.refresher(map[string]time.Duration{"contoso": time.Hour}, func(string) error {
				if revoked.Load() {
					return fmt.Errorf("entra: invalid_grant: %w", ErrNeedsPerson)
				}
				return nil
			}),
			OnChange: func(st Status) {
				mu.Lock()
				defer mu.Unlock()
				seen[st.State]++
			},
		}
		t0 := clk.Now()
		s.Track("contoso", t0, t0.Add(time.Hour))
		m := start(t, s, clk)

		m.advance(50 * time.Minute)
		st, _ := s.Status("contoso")
		if st.State != Failing || !errors.Is(st.LastErr, ErrNeedsPerson) || !st.NextAttempt.IsZero() {
			t.Errorf("with the old token still valid status = %+v, want failing, needs a person, no retry", st)
		}
		m.advance(24 * time.Hour)
		st, _ = s.Status("contoso")
		if st.State != Expired || !errors.Is(st.LastErr, ErrNeedsPerson) || !st.NextAttempt.IsZero() {
			t.Errorf("after expiry status = %+v, want expired, needs a person, no retry", st)
		}
		if n := len(ts.callTimes("contoso")); n != 1 {
			t.Errorf("%d refresh calls in a day after ErrNeedsPerson, want 1", n)
		}
		mu.Lock()
		if seen[Failing] == 0 || seen[Expired] == 0 {
			t.Errorf("OnChange saw %v, want failing and expired", seen)
		}
		mu.Unlock()

		// "Refresh now" from the menu tries once more, and only once.
		var err error
		m.do(func() { err = s.RefreshNow(context.Background(), "contoso") })
		if !errors.Is(err, ErrNeedsPerson) {
			t.Errorf("RefreshNow = %v, want ErrNeedsPerson", err)
		}
		m.advance(24 * time.Hour)
		if n := len(ts.callTimes("contoso")); n != 2 {
			t.Errorf("%d refresh calls, want 2", n)
		}

		// After a sign-in the app tracks the new token; the schedule resumes.
		revoked.Store(false)
		m.do(func() { s.Track("contoso", clk.Now(), ts.issue("contoso", time.Hour)) })
		m.advance(time.Hour)
		st, _ = s.Status("contoso")
		if n := len(ts.callTimes("contoso")); n != 3 || st.State != Valid || st.LastErr != nil {
			t.Errorf("after sign-in: %d calls, status %+v; want 3 and valid", n, st)
		}
	})
}

func TestIdleDayFewWakeups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newFakeClock()
		ts := newTokenStore(clk)
		life := map[string]time.Duration{"contoso": time.Hour, "fabrikam": 8 * time.Hour, "ppm": 24 * time.Hour}
		s := &Scheduler{Clock: clk, Rand: seeded(), Refresh: ts.refresher(life, nil)}
		for id, l := range life {
			s.Track(id, clk.Now(), ts.issue(id, l))
		}
		m := start(t, s, clk)
		m.advance(24 * time.Hour)

		refreshes := 0
		for id := range life {
			refreshes += len(ts.callTimes(id))
		}
		s.mu.Lock()
		wakeups := s.wakeups
		s.mu.Unlock()
		ticks := int(24 * time.Hour / tickEvery)
		t.Logf("idle day, 3 credentials: %d refreshes, %d timer fires, %d wake-ups (ticks alone: %d; a 1 s poller: 86400), at most %d timers pending",
			refreshes, clk.fired, wakeups, ticks, clk.maxActive)
		// One wake per tick, one per refresh timer, one per refresh result.
		if limit := ticks + 2*refreshes + 5; wakeups > limit {
			t.Errorf("%d wake-ups in an idle day, want ≤ %d", wakeups, limit)
		}
		if clk.maxActive > 2 {
			t.Errorf("%d timers pending at once, want ≤ 2 (next due + ticker)", clk.maxActive)
		}
		if refreshes > 32+4+1+1 {
			t.Errorf("%d refreshes, want about 37", refreshes)
		}
	})
}

func TestForgetAndBadResults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newFakeClock()
		ts := newTokenStore(clk)
		s := &Scheduler{Clock: clk, Rand: seeded(), Refresh: func(ctx context.Context, id string) (time.Time, error) {
			ts.record(id)
			switch id {
			case "stale":
				return clk.Now().Add(-time.Minute), nil
			case "panics":
				panic("provider bug")
			}
			return clk.Now().Add(time.Hour), nil
		}}
		var mu sync.Mutex
		var last Status
		s.OnChange = func(st Status) {
			mu.Lock()
			defer mu.Unlock()
			last = st
		}
		m := start(t, s, clk)

		// An already-expired result and a panic are failures with backoff.
		for _, id := range []string{"stale", "panics"} {
			m.do(func() { s.Track(id, time.Time{}, time.Time{}) })
			m.advance(10 * time.Minute)
			st, _ := s.Status(id)
			if n := len(ts.callTimes(id)); st.State != Expired || st.LastErr == nil || st.NextAttempt.IsZero() || n < 4 || n > 6 {
				t.Errorf("%s: status %+v after %d calls, want expired, retrying with backoff (4–6 calls)", id, st, n)
			}
			m.do(func() { s.Forget(id) })
			mu.Lock()
			if last.ID != id || last.State != Unknown {
				t.Errorf("after Forget(%s) OnChange got %+v, want unknown", id, last)
			}
			mu.Unlock()
			n := len(ts.callTimes(id))
			m.advance(time.Hour)
			if got := len(ts.callTimes(id)); got != n {
				t.Errorf("%s: %d refreshes after Forget", id, got-n)
			}
			if _, ok := s.Status(id); ok {
				t.Errorf("%s still tracked after Forget", id)
			}
		}
		if all := s.All(); len(all) != 0 {
			t.Errorf("All = %v, want none", all)
		}
	})
}

func TestRealClock(t *testing.T) {
	changes := make(chan Status, 10)
	s := &Scheduler{
		Refresh:  func(ctx context.Context, id string) (time.Time, error) { return time.Now().Add(time.Hour), nil },
		OnChange: func(st Status) { changes <- st },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	s.Track("contoso", time.Time{}, time.Now().Add(-time.Minute)) // expired: refresh at once
	for st := range changes {
		if st.State == Valid {
			if left := time.Until(st.Expires); left < 59*time.Minute {
				t.Errorf("refreshed token has %v left", left)
			}
			break
		}
	}
	// The refresh was started by Run, so Run is running: a second is refused.
	if err := s.Run(context.Background()); err == nil {
		t.Error("a second concurrent Run was accepted")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v", err)
	}
}
