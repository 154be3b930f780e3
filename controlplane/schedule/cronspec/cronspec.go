package cronspec

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// MinPeriod is the shortest interval between slots Parse accepts; five-field
// cron cannot express less, and an "@every 1s" Schedule would flood the
// cluster with Backups.
const MinPeriod = time.Minute

// Spec is a parsed expression.
type Spec struct {
	expr  string
	sched cron.Schedule
}

// anchoredEvery fires at every multiple of d since the Unix epoch.
type anchoredEvery struct{ d time.Duration }

func (a anchoredEvery) Next(t time.Time) time.Time {
	next := t.Truncate(a.d).Add(a.d) // Truncate works on absolute time, so slots are zone independent
	return next.In(t.Location())
}

// Parse parses expr. The error says what is wrong but not which object
// holds the expression; callers add that.
func Parse(expr string) (spec Spec, err error) {
	defer func() {
		if r := recover(); r != nil { // robfig/cron panics on some malformed zone prefixes
			spec, err = Spec{}, fmt.Errorf("malformed expression (%v)", r)
		}
	}()
	expr = strings.TrimSpace(expr)
	s, err := cron.ParseStandard(expr)
	if err != nil {
		return Spec{}, err
	}
	if every, ok := s.(cron.ConstantDelaySchedule); ok {
		if every.Delay < MinPeriod {
			return Spec{}, fmt.Errorf("fires every %s; the shortest period is %s", every.Delay, MinPeriod)
		}
		s = anchoredEvery{every.Delay}
	}
	spec = Spec{expr: expr, sched: s}
	if spec.Next(time.Now()).IsZero() {
		return Spec{}, fmt.Errorf("never fires (a date such as 30 February does not exist)")
	}
	return spec, nil
}

// String returns the expression.
func (s Spec) String() string { return s.expr }

// Next returns the first slot strictly after t, in UTC, or the zero time if
// there is none within five years.
func (s Spec) Next(t time.Time) time.Time {
	n := s.sched.Next(t.UTC())
	if n.IsZero() {
		return n
	}
	return n.UTC()
}

// Due returns the newest slot in (after, now], if there is one.
func (s Spec) Due(after, now time.Time) (time.Time, bool) {
	if !now.After(after) || !s.firesIn(after, now) {
		return time.Time{}, false
	}
	// Find lo with a slot in (lo, now] and hi with none, closing in from a
	// window that doubles back from now: a few dozen Next calls, however
	// long ago after is, instead of one per missed slot.
	lo, hi := after, now
	for w := MinPeriod; now.Add(-w).After(after); w *= 2 {
		if s.firesIn(now.Add(-w), now) {
			lo = now.Add(-w)
			break
		}
		hi = now.Add(-w)
	}
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2)
		if s.firesIn(mid, now) {
			lo = mid
		} else {
			hi = mid
		}
	}
	slot := s.Next(lo)
	for n := s.Next(slot); !n.IsZero() && !n.After(now); n = s.Next(n) {
		slot = n
	}
	return slot, true
}

// Missed reports whether a slot in (after, due) was skipped.
func (s Spec) Missed(after, due time.Time) bool {
	n := s.Next(after)
	return !n.IsZero() && n.Before(due)
}

// firesIn reports whether a slot lies in (from, to].
func (s Spec) firesIn(from, to time.Time) bool {
	n := s.Next(from)
	return !n.IsZero() && !n.After(to)
}
