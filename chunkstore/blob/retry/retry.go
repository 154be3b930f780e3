package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/blob"
)

var _ blob.Store = (*Store)(nil)

// Policy says how hard to retry. Zero fields take the defaults below.
type Policy struct {
	// Attempts is the total number of tries for an ErrTransient failure.
	Attempts int
	// UnavailableAttempts is the total number of tries for ErrUnavailable.
	UnavailableAttempts int
	// Base is the backoff ceiling after the first failure; it doubles with
	// every further failure up to Max. The actual wait is uniform in
	// [0, ceiling] ("full jitter"), which spreads out many workers that
	// failed together instead of having them retry in lockstep.
	Base, Max time.Duration
	// Sleep waits for d or until ctx is done. Tests inject a fake.
	Sleep func(ctx context.Context, d time.Duration) error
}

const (
	// 8 attempts with these delays give up after about 25 s in the worst
	// case (ceilings 0.2+0.4+...+12.8 s): long enough to ride out S3
	// throttling bursts and a load balancer failover, short enough that a
	// real outage is reported while the user is still watching.
	defaultAttempts = 8
	// 3 attempts absorb a server restart but report a wrong endpoint or a
	// stopped server within about a second plus the dial timeouts.
	defaultUnavailableAttempts = 3
	defaultBase                = 200 * time.Millisecond
	defaultMax                 = 20 * time.Second
)

// DefaultPolicy returns the policy Wrap uses for zero fields.
func DefaultPolicy() Policy {
	return Policy{
		Attempts:            defaultAttempts,
		UnavailableAttempts: defaultUnavailableAttempts,
		Base:                defaultBase,
		Max:                 defaultMax,
		Sleep:               sleep,
	}
}

func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	if p.Attempts <= 0 {
		p.Attempts = d.Attempts
	}
	if p.UnavailableAttempts <= 0 {
		p.UnavailableAttempts = d.UnavailableAttempts
	}
	if p.Base <= 0 {
		p.Base = d.Base
	}
	if p.Max <= 0 {
		p.Max = d.Max
	}
	if p.Sleep == nil {
		p.Sleep = d.Sleep
	}
	return p
}

// Store retries the calls of the store it wraps.
type Store struct {
	inner  blob.Store
	policy Policy
}

// Wrap returns inner with retries according to p.
func Wrap(inner blob.Store, p Policy) *Store {
	return &Store{inner: inner, policy: p.withDefaults()}
}

// Do runs call with the retries p allows for the errors it returns, for
// work outside a Store's methods that meets the same failures, such as
// opening a store (which probes the server).
func Do(ctx context.Context, p Policy, call func() error) error {
	s := &Store{policy: p.withDefaults()}
	return s.do(ctx, func(int) error { return call() })
}

// Unwrap returns the wrapped store.
func (s *Store) Unwrap() blob.Store { return s.inner }

// Put retries: overwriting with the same bytes is harmless.
func (s *Store) Put(ctx context.Context, name string, data []byte) error {
	return s.do(ctx, func(int) error { return s.inner.Put(ctx, name, data) })
}

// Get retries.
func (s *Store) Get(ctx context.Context, name string, offset, length int64) ([]byte, error) {
	var data []byte
	err := s.do(ctx, func(int) (err error) {
		data, err = s.inner.Get(ctx, name, offset, length)
		return err
	})
	return data, err
}

// GetInto retries, reading into buf when the inner store can
// (blob.BufferGetter).
func (s *Store) GetInto(ctx context.Context, name string, offset, length int64, buf []byte) ([]byte, error) {
	var data []byte
	err := s.do(ctx, func(int) (err error) {
		data, err = blob.GetInto(ctx, s.inner, name, offset, length, buf)
		return err
	})
	return data, err
}

// ReadRange retries, without a copy when the inner store can
// (blob.RangeReader).
func (s *Store) ReadRange(ctx context.Context, name string, offset, length int64, buf []byte) ([]byte, func(), error) {
	var data []byte
	var release func()
	err := s.do(ctx, func(int) (err error) {
		data, release, err = blob.ReadRange(ctx, s.inner, name, offset, length, buf)
		return err
	})
	return data, release, err
}

// Stat retries.
func (s *Store) Stat(ctx context.Context, name string) (blob.Info, error) {
	var info blob.Info
	err := s.do(ctx, func(int) (err error) {
		info, err = s.inner.Stat(ctx, name)
		return err
	})
	return info, err
}

// List retries only failures that happen before the first entry.
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	return s.do(ctx, func(int) error {
		delivered := false
		err := s.inner.List(ctx, prefix, func(info blob.Info) error {
			delivered = true
			return fn(info)
		})
		if err != nil && delivered {
			return finalError{err}
		}
		return err
	})
}

// finalError marks a failure that must not be retried whatever it wraps.
type finalError struct{ err error }

func (e finalError) Error() string { return e.err.Error() }
func (e finalError) Unwrap() error { return e.err }

// Delete retries, treating a NotFound after a failed attempt as success.
func (s *Store) Delete(ctx context.Context, name string) error {
	return s.do(ctx, func(attempt int) error {
		err := s.inner.Delete(ctx, name)
		if attempt > 1 && errors.Is(err, blob.ErrNotFound) {
			return nil
		}
		return err
	})
}

// Leftovers lists the inner store's partial writes (blob.LeftoverCleaner),
// retrying only failures before the first one, as List does.
func (s *Store) Leftovers(ctx context.Context, fn func(blob.Leftover) error) error {
	return s.do(ctx, func(int) error {
		delivered := false
		err := blob.Leftovers(ctx, s.inner, func(l blob.Leftover) error {
			delivered = true
			return fn(l)
		})
		if err != nil && delivered {
			return finalError{err}
		}
		return err
	})
}

// RemoveLeftover retries: removing one twice is harmless.
func (s *Store) RemoveLeftover(ctx context.Context, l blob.Leftover) error {
	return s.do(ctx, func(int) error { return blob.RemoveLeftover(ctx, s.inner, l) })
}

// Location is the wrapped store's.
func (s *Store) Location() string { return s.inner.Location() }

// Close closes the wrapped store.
func (s *Store) Close() error { return s.inner.Close() }

// do runs call until it succeeds, fails for good, or runs out of attempts.
func (s *Store) do(ctx context.Context, call func(attempt int) error) error {
	for attempt := 1; ; attempt++ {
		err := call(attempt)
		if err == nil {
			return nil
		}
		if f, ok := errors.AsType[finalError](err); ok {
			return s.giveUp(attempt, f.err)
		}
		if attempt >= s.limit(err) {
			return s.giveUp(attempt, err)
		}
		if serr := s.policy.Sleep(ctx, s.backoff(attempt)); serr != nil {
			return fmt.Errorf("%w while waiting to retry, after %d attempts: %w", serr, attempt, err)
		}
	}
}

func (s *Store) giveUp(attempts int, err error) error {
	if attempts <= 1 {
		return err
	}
	return fmt.Errorf("gave up after %d attempts: %w", attempts, err)
}

// limit is the total number of attempts err allows.
func (s *Store) limit(err error) int {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return 1
	case errors.Is(err, blob.ErrTransient):
		return s.policy.Attempts
	case errors.Is(err, blob.ErrUnavailable):
		return s.policy.UnavailableAttempts
	}
	return 1
}

// backoff returns the full-jitter wait after the given failed attempt.
func (s *Store) backoff(attempt int) time.Duration {
	ceiling := s.policy.Max
	// Compare against Max shifted down so a large Base cannot overflow.
	if shift := attempt - 1; shift < 63 && s.policy.Base <= s.policy.Max>>shift {
		ceiling = s.policy.Base << shift
	}
	return rand.N(ceiling + 1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
