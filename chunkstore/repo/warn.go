package repo

import "sync"

// warner passes each distinct warning on once: the index is reloaded every
// 30 seconds during a backup, and the same damaged file must not be
// reported every time.
type warner struct {
	fn   func(error)
	mu   sync.Mutex
	seen map[string]bool
}

func newWarner(fn func(error)) *warner {
	return &warner{fn: fn, seen: map[string]bool{}}
}

func (w *warner) warn(err error) {
	if w.fn == nil {
		return
	}
	// fn runs under the lock, so that callers need not make it safe for
	// concurrent use (the CLI writes to stderr).
	w.mu.Lock()
	defer w.mu.Unlock()
	if msg := err.Error(); !w.seen[msg] {
		w.seen[msg] = true
		w.fn(err)
	}
}

// Warn reports damage the repository works around (see Options.Warn).
func (r *Repository) Warn(err error) { r.warner.warn(err) }
