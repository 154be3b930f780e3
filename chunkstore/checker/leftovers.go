package checker

import (
	"context"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// checkLeftovers reports what dead processes left behind. None of it is
// damage (nothing reads it), so these are notes; prune removes it once it
// is older than its grace period.
func (c *checker) checkLeftovers(ctx context.Context) error {
	var oldest time.Time
	err := blob.Leftovers(ctx, c.r.Store(), func(l blob.Leftover) error {
		c.rep.Leftovers++
		c.rep.LeftoverBytes += l.Size
		if oldest.IsZero() || l.ModTime.Before(oldest) {
			oldest = l.ModTime
		}
		return nil
	})
	if err != nil {
		return err
	}
	if c.rep.Leftovers > 0 {
		c.rep.note("%d partial writes of interrupted backups or prunes hold %d bytes (temporary files or incomplete uploads, the oldest from %s); "+
			"prune removes those older than its grace period", c.rep.Leftovers, c.rep.LeftoverBytes, oldest.UTC().Format(time.RFC3339))
	}
	sessions, err := c.r.Sessions(ctx)
	if err != nil {
		return err
	}
	for _, s := range sessions {
		name := repo.KindSession + "/" + s.ID.Short()
		switch {
		case s.Err != nil:
			c.rep.note("session %s cannot be read (%v); it counts as live until it is %s old, and prune then removes it", name, s.Err, repo.StaleAfter)
		case s.Gone:
			c.rep.StaleSessions++
			c.rep.note("session %s (%s on %s, pid %d): its process has exited without ending it; prune removes it once it is older than its grace period",
				name, s.Info.Purpose, s.Info.Host, s.Info.PID)
		case s.Stale:
			c.rep.StaleSessions++
			c.rep.note("session %s (%s on %s, pid %d) has not been refreshed since %s: its process is presumed dead; "+
				"prune removes it once that is longer ago than its grace period", name, s.Info.Purpose, s.Info.Host, s.Info.PID,
				s.LastSeen().UTC().Format(time.RFC3339))
		}
	}
	return nil
}
