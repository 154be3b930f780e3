package dashboard

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/index"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// figureTimeout bounds one location's refresh, so a hung store delays the
// others by at most this.
const figureTimeout = 2 * time.Minute

// figures describe a repository, as `cairn repo stats` computes them.
type figures struct {
	At        time.Time
	Err       string
	Snapshots int
	Damaged   int
	Packs     int
	// PackBytes is the repository's size: the bytes of its packs.
	PackBytes int64
	// UniqueBytes is the plaintext of the distinct blobs; StoredBytes
	// their compressed and encrypted size.
	UniqueBytes, StoredBytes int64
	// SnapshotBytes sums what every snapshot describes.
	SnapshotBytes    int64
	DedupRatio       float64
	CompressionRatio float64
}

type figureDeps struct {
	reader    client.Reader
	opener    Opener
	clock     Clock
	namespace string
	interval  time.Duration
	notify    func()
	log       logr.Logger
}

// figureCache computes each available location's figures in the
// background, one location at a time, and keeps the last ones.
type figureCache struct {
	d    figureDeps
	wake chan struct{}

	mu    sync.Mutex
	byLoc map[string]figures
	// snapBytes remembers the size of each snapshot record read, by
	// repository: records never change, so a refresh reads only new ones.
	snapBytes map[string]map[core.ID]int64
}

func newFigureCache(d figureDeps) *figureCache {
	return &figureCache{d: d, wake: make(chan struct{}, 1), byLoc: map[string]figures{}, snapBytes: map[string]map[core.ID]int64{}}
}

func locKey(l *v1alpha1.BackupLocation) string { return l.Namespace + "/" + l.Name }

// get returns a location's last figures.
func (c *figureCache) get(l *v1alpha1.BackupLocation) (figures, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.byLoc[locKey(l)]
	return f, ok
}

// notice wakes the refresher for an available location without figures,
// so a new location's figures come within seconds, not an interval.
func (c *figureCache) notice(l *v1alpha1.BackupLocation) {
	if l.Status.Phase != v1alpha1.LocationAvailable {
		return
	}
	if _, ok := c.get(l); ok {
		return
	}
	select {
	case c.wake <- struct{}{}:
	default: // a refresh is pending already
	}
}

func (c *figureCache) run(ctx context.Context) {
	t := time.NewTicker(c.d.interval)
	defer t.Stop()
	for {
		c.refreshAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.wake:
		}
	}
}

func (c *figureCache) refreshAll(ctx context.Context) {
	var locs v1alpha1.BackupLocationList
	var opts []client.ListOption
	if c.d.namespace != "" {
		opts = append(opts, client.InNamespace(c.d.namespace))
	}
	if err := c.d.reader.List(ctx, &locs, opts...); err != nil {
		return // the cache is shutting down
	}
	live := map[string]bool{}
	for i := range locs.Items {
		l := &locs.Items[i]
		live[locKey(l)] = true
		// Only an available location is opened: opening a writable
		// location without a repository would create one.
		if l.Status.Phase != v1alpha1.LocationAvailable || ctx.Err() != nil {
			continue
		}
		f := c.compute(ctx, l)
		if ctx.Err() != nil {
			return
		}
		c.mu.Lock()
		c.byLoc[locKey(l)] = f
		c.mu.Unlock()
		c.d.notify()
	}
	c.mu.Lock()
	for k := range c.byLoc {
		if !live[k] {
			delete(c.byLoc, k)
		}
	}
	c.mu.Unlock()
}

func (c *figureCache) compute(ctx context.Context, l *v1alpha1.BackupLocation) figures {
	ctx, cancel := context.WithTimeout(ctx, figureTimeout)
	defer cancel()
	f := figures{At: c.d.clock.Now()}
	r, err := c.d.opener.Open(ctx, l)
	if err == nil {
		err = c.measure(ctx, r, &f)
	}
	if err != nil {
		f.Err = err.Error()
		c.d.log.V(1).Info("repository figures", "location", locKey(l), "error", err)
	}
	return f
}

// measure fills f from the repository: snapshot records (new ones only),
// the pack listing and the index.
func (c *figureCache) measure(ctx context.Context, r *repo.Repository, f *figures) error {
	if err := c.snapshots(ctx, r, f); err != nil {
		return err
	}
	packs, err := r.ListPacks(ctx)
	if err != nil {
		return err
	}
	f.Packs = len(packs)
	for _, p := range packs {
		f.PackBytes += p.Size
	}
	if err := r.LoadIndex(ctx); err != nil {
		return fmt.Errorf("load index: %w", err)
	}
	// Each visits the copies of a blob one after another; count each once.
	var prev core.ID
	first := true
	r.Index().Each(func(id core.ID, loc index.Location) bool {
		if first || id != prev {
			f.UniqueBytes += int64(loc.RawLength)
			f.StoredBytes += int64(loc.Length)
		}
		prev, first = id, false
		return true
	})
	if f.UniqueBytes > 0 {
		f.DedupRatio = float64(f.SnapshotBytes) / float64(f.UniqueBytes)
	}
	if f.StoredBytes > 0 {
		f.CompressionRatio = float64(f.UniqueBytes) / float64(f.StoredBytes)
	}
	return nil
}

func (c *figureCache) snapshots(ctx context.Context, r *repo.Repository, f *figures) error {
	ids, err := r.ListFiles(ctx, repo.KindSnapshot)
	if err != nil {
		return fmt.Errorf("list snapshots: %w", err)
	}
	key := r.Config().ID.String()
	c.mu.Lock()
	known := c.snapBytes[key]
	c.mu.Unlock()
	next := make(map[core.ID]int64, len(ids))
	for _, id := range ids {
		n, ok := known[id]
		if !ok {
			s, err := snapshot.Load(ctx, r, id)
			switch {
			case errors.Is(err, blob.ErrNotFound):
				continue // forgotten since the listing
			case errors.Is(err, core.ErrCorrupt):
				f.Damaged++
				continue
			case err != nil:
				return fmt.Errorf("read snapshot %s: %w", id.Short(), err)
			}
			n = s.Stats.Bytes
		}
		next[id] = n
		f.Snapshots++
		f.SnapshotBytes += n
	}
	c.mu.Lock()
	c.snapBytes[key] = next
	c.mu.Unlock()
	return nil
}
