package pruner

import (
	"context"
	"fmt"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// cleanLeftovers removes what dead processes left behind, once it is older
// than the grace period: partial writes (a local directory's temporary
// files, S3's incomplete uploads), which take space and are read by no
// one, and stale session files, which only make check and prune reason
// about processes that are gone. Whatever the grace period, nothing younger
// than repo.StaleAfter goes: a live writer may be that long in one Put, and
// a session must be stale anyway.
func (p *pruner) cleanLeftovers(ctx context.Context) error {
	cutoff := p.r.Clock().Now().Add(-max(p.opts.Grace, repo.StaleAfter))
	var old []blob.Leftover
	err := blob.Leftovers(ctx, p.r.Store(), func(l blob.Leftover) error {
		if l.ModTime.Before(cutoff) {
			old = append(old, l)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	for _, l := range old {
		if err := blob.RemoveLeftover(ctx, p.r.Store(), l); err != nil {
			return fmt.Errorf("prune: remove partial write of %s: %w", l.Name, err)
		}
		p.res.LeftoversRemoved++
		p.res.LeftoverBytesRemoved += l.Size
	}
	return p.removeStaleSessions(ctx, cutoff)
}

func (p *pruner) removeStaleSessions(ctx context.Context, cutoff time.Time) error {
	sessions, err := p.r.Sessions(ctx)
	if err != nil {
		return err
	}
	for _, s := range sessions {
		if s.ID == p.sess.ID() || !s.Stale || !s.LastSeen().Before(cutoff) {
			continue
		}
		if err := p.r.RemoveSession(ctx, s.ID); err != nil {
			return fmt.Errorf("prune: remove stale session: %w", err)
		}
		p.res.SessionsRemoved++
	}
	return nil
}
