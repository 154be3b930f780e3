package dashboard

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/collect"
	"github.com/cairnbackup/cairn/controlplane/manifest"
)

// Bounds of the details cache, each with its reason.
const (
	// maxDetails: a person looks at a few backups at a time; 64 entries of
	// at most a few hundred KiB each keep the controller's memory flat.
	maxDetails = 64
	// detailQueue: loads beyond this many waiting are refused and tried
	// again at the next view, so a burst of views cannot queue work.
	detailQueue = 8
	// detailTimeout bounds one load.
	detailTimeout = time.Minute
	// retryFailed: a failed load (a prune removed a pack mid-read, the
	// store was down) is tried again at a view after this.
	retryFailed = time.Minute
	// maxListed bounds the object names listed per backup; the counts per
	// resource stay complete.
	maxListed = 1000
	// maxLogLines bounds the log shown.
	maxLogLines = 2000
)

type detailState string

const (
	detailNone    detailState = "none"
	detailLoading detailState = "loading"
	detailReady   detailState = "ready"
	detailFailed  detailState = "failed"
)

// details are what a backup page reads from the repository: the log in
// its manifest and the names of the objects in its resources snapshot.
type details struct {
	State     detailState
	Err       string
	Log       []string
	Resources []resourceItems
	Objects   int
	Unlisted  int
	at        time.Time
}

// resourceItems are the objects of one resource ("deployments.apps").
type resourceItems struct {
	Resource string
	Count    int
	Names    []string
}

// detailKey names content that never changes: manifests and snapshots
// are content-addressed.
type detailKey struct{ location, manifest, resources string }

type detailJob struct {
	key detailKey
	loc *v1alpha1.BackupLocation
}

// detailCache loads details in the background, one at a time, and keeps
// the newest maxDetails.
type detailCache struct {
	opener Opener
	clock  Clock
	notify func()
	queue  chan detailJob

	mu      sync.Mutex
	entries map[detailKey]*details
	order   []detailKey // oldest first, for eviction
}

func newDetailCache(o Opener, clock Clock, notify func()) *detailCache {
	return &detailCache{opener: o, clock: clock, notify: notify, queue: make(chan detailJob, detailQueue), entries: map[detailKey]*details{}}
}

// get returns what is known of b's details, and starts loading them if
// they are not known (or failed a while ago).
func (c *detailCache) get(b *v1alpha1.Backup, loc *v1alpha1.BackupLocation) details {
	st := b.Status
	if st.ManifestID == "" && st.ResourcesSnapshotID == "" {
		return details{State: detailNone}
	}
	if loc.Status.Phase != v1alpha1.LocationAvailable {
		return details{State: detailNone, Err: "location " + loc.Name + " is not available"}
	}
	key := detailKey{location: locKey(loc), manifest: st.ManifestID, resources: st.ResourcesSnapshotID}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok && (e.State != detailFailed || c.clock.Now().Sub(e.at) < retryFailed) {
		return *e
	}
	select {
	case c.queue <- detailJob{key: key, loc: loc.DeepCopy()}:
		c.put(key, &details{State: detailLoading, at: c.clock.Now()})
	default:
	}
	return details{State: detailLoading}
}

// put stores an entry; the caller holds mu.
func (c *detailCache) put(key detailKey, d *details) {
	if _, ok := c.entries[key]; !ok {
		c.order = append(c.order, key)
	}
	c.entries[key] = d
	for len(c.order) > maxDetails {
		delete(c.entries, c.order[0])
		c.order = c.order[1:]
	}
}

func (c *detailCache) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case job := <-c.queue:
			d := c.load(ctx, job)
			if ctx.Err() != nil {
				return
			}
			c.mu.Lock()
			c.put(job.key, d)
			c.mu.Unlock()
			c.notify()
		}
	}
}

func (c *detailCache) load(ctx context.Context, job detailJob) *details {
	ctx, cancel := context.WithTimeout(ctx, detailTimeout)
	defer cancel()
	d := &details{State: detailReady, at: c.clock.Now()}
	r, err := c.opener.Open(ctx, job.loc)
	if err == nil && job.key.manifest != "" {
		err = loadLog(ctx, r, job.key.manifest, d)
	}
	if err == nil && job.key.resources != "" {
		err = loadNames(ctx, r, job.key.resources, d)
	}
	if err != nil {
		d.State, d.Err = detailFailed, err.Error()
	}
	return d
}

func loadLog(ctx context.Context, r *repo.Repository, id string, d *details) error {
	mid, err := core.ParseID(id)
	if err != nil {
		return fmt.Errorf("manifest ID %q: %w", id, err)
	}
	m, err := manifest.Load(ctx, r, mid)
	if err != nil {
		return err
	}
	d.Log = m.Log[:min(len(m.Log), maxLogLines)]
	return nil
}

// loadNames lists the objects of a resources snapshot from its trees'
// names alone (resources/<group>/<resource>/<namespace>/<name>.json): the
// objects themselves, Secrets among them, are never read.
func loadNames(ctx context.Context, r *repo.Repository, id string, d *details) error {
	if err := r.LoadIndex(ctx); err != nil {
		return fmt.Errorf("load index: %w", err)
	}
	st, err := snapshot.Find(ctx, r, id)
	if err != nil {
		return fmt.Errorf("resources snapshot %s: %w", shortID(id), err)
	}
	top, err := snapshot.LoadTree(ctx, r, st.Tree)
	if err != nil {
		return fmt.Errorf("resources snapshot %s: %w", shortID(id), err)
	}
	i := slices.IndexFunc(top, func(n *snapshot.Node) bool { return n.Name == collect.TreeRoot })
	if i < 0 {
		return fmt.Errorf("resources snapshot %s has no %s/ directory", shortID(id), collect.TreeRoot)
	}
	w := &nameWalker{r: r, d: d, byResource: map[string]*resourceItems{}}
	if err := w.walk(ctx, top[i].Subtree, nil); err != nil {
		return fmt.Errorf("resources snapshot %s: %w", shortID(id), err)
	}
	for _, ri := range w.byResource {
		d.Resources = append(d.Resources, *ri)
	}
	slices.SortFunc(d.Resources, func(a, b resourceItems) int { return compareStrings(a.Resource, b.Resource) })
	return nil
}

type nameWalker struct {
	r          *repo.Repository
	d          *details
	byResource map[string]*resourceItems
}

// walk descends group, resource and namespace directories; path holds
// the names above the current tree.
func (w *nameWalker) walk(ctx context.Context, tree []core.ID, path []string) error {
	nodes, err := snapshot.LoadTree(ctx, w.r, tree)
	if err != nil {
		return fmt.Errorf("read %s: %w", strings.Join(append([]string{collect.TreeRoot}, path...), "/"), err)
	}
	for _, n := range nodes {
		if len(path) < 3 {
			if n.Type == snapshot.TypeDir {
				if err := w.walk(ctx, n.Subtree, append(slices.Clip(path), n.Name)); err != nil {
					return err
				}
			}
			continue
		}
		w.add(path[0], path[1], path[2], strings.TrimSuffix(n.Name, collect.FileSuffix))
	}
	return nil
}

func (w *nameWalker) add(group, resource, ns, name string) {
	key := resource
	if group != collect.CoreGroupDir {
		key += "." + group
	}
	ri := w.byResource[key]
	if ri == nil {
		ri = &resourceItems{Resource: key}
		w.byResource[key] = ri
	}
	ri.Count++
	w.d.Objects++
	if w.d.Objects > maxListed {
		w.d.Unlisted++
		return
	}
	if ns != collect.ClusterScopeDir {
		name = ns + "/" + name
	}
	ri.Names = append(ri.Names, name)
}
