package repo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/compress"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/chunkstore/index"
)

// DefaultCompression is the level new repositories record. Fastest zstd
// keeps compression off the critical path of a 2-core agent (about 250 MB/s
// per core on text, and the incompressibility probe skips random data at
// memory speed) while still shrinking text-like data severalfold.
const DefaultCompression = compress.Fastest

// ErrNoRepository means the location holds no repository config.
var ErrNoRepository = errors.New("no repository at this location")

// ErrExists means Init found a repository already there.
var ErrExists = errors.New("a repository already exists at this location")

// ErrNotEmpty means Init found objects at a location without a config: the
// remains of a repository whose config was lost, or unrelated data. Writing
// a new config there would make the old keys and data unreadable, or mix a
// repository into someone else's files.
var ErrNotEmpty = errors.New("the location is not empty")

// Repository is an open repository. It is safe for concurrent use.
type Repository struct {
	store  blob.Store
	key    *crypto.Key
	master crypto.MasterKey
	keyID  core.ID
	cfg    Config
	comp   *compress.Compressor
	clock  Clock

	idxMu       sync.Mutex // guards the maps below
	idx         *index.Index
	loadedIndex map[core.ID]struct{}
	// supersededIndex holds listed index files left out because another
	// loaded file supersedes them: a prune or repair stopped before it
	// removed them.
	supersededIndex map[core.ID]struct{}
	excluded        map[core.ID]struct{} // packs marked for deletion
	// damagedIndex holds the index files skipped as damaged, and
	// headerPacks the packs indexed from their own headers instead, which
	// no index file in the store lists yet.
	damagedIndex map[core.ID]error
	headerPacks  map[core.ID][]index.Blob
	// present is the store's packs as VerifyPacks last listed them (nil
	// before), and missing the indexed packs the store lacks.
	present map[core.ID]struct{}
	missing map[core.ID]struct{}

	trees  *treeCache
	warner *warner
	// borrowed is set on a handle from Reopen: its store belongs to the
	// repository it was reopened from, and Close leaves it open.
	borrowed bool

	// cache is the local index cache, nil when the index is held in
	// memory; cacheManifest describes the segment in use. verified holds
	// the packs of the segment confirmed in the store, checked on first
	// use instead of listing the store at start (see VerifyPacks).
	cache         *indexCache
	cacheManifest *cacheManifest
	verified      map[core.ID]struct{}
}

// Options tune Init and Open.
type Options struct {
	// KDF sets the password hashing cost of keys this call creates; zero
	// means crypto.DefaultKDF.
	KDF crypto.KDFParams
	// Compression is the default level recorded by Init; nil means
	// DefaultCompression.
	Compression *compress.Level
	// Clock is used for sessions and timestamps; nil means the system clock.
	Clock Clock
	// Host and User are recorded in new key files.
	Host, User string
	// Warn receives damage the repository works around rather than fails
	// on: a corrupt key file skipped, an index file skipped and its packs
	// re-read, a pack the index lists but the store lacks. Each distinct
	// message is reported once. nil drops them.
	Warn func(error)
	// IndexCache is a local directory for the on-disk index cache
	// (FORMAT.md, "Index cache"); "" keeps the whole index in memory. The
	// cache of each repository is a subdirectory named by its ID.
	IndexCache string
	// MaxMemory is the budget, in bytes, the index cache builds within;
	// 0 means DefaultMaxMemory.
	MaxMemory int64
	// IndexMergeAt is how many entries of index files the cache does not
	// hold trigger a background merge; 0 means 1M.
	IndexMergeAt int
}

func (o Options) kdf() crypto.KDFParams {
	if o.KDF.Algorithm == "" {
		return crypto.DefaultKDF
	}
	return o.KDF
}

// Init creates a repository in an empty location and returns it open.
func Init(ctx context.Context, store blob.Store, password []byte, opts Options) (*Repository, error) {
	if err := checkEmpty(ctx, store); err != nil {
		return nil, err
	}
	level := DefaultCompression
	if opts.Compression != nil {
		level = *opts.Compression
	}
	cfg, err := newConfig(level)
	if err != nil {
		return nil, err
	}
	master := crypto.MasterKey{Encrypt: crypto.NewRandomKey()}
	r, err := newRepository(store, master, cfg, opts)
	if err != nil {
		return nil, err
	}
	// The key goes first: a config without a key would be an unopenable
	// repository, a key without a config is just an unfinished init.
	if r.keyID, err = r.AddKey(ctx, password, opts); err != nil {
		return nil, fmt.Errorf("init %s: %w", store.Location(), err)
	}
	if err := store.Put(ctx, configName, r.key.Seal(nil, mustJSON(cfg))); err != nil {
		return nil, fmt.Errorf("init %s: write config: %w", store.Location(), err)
	}
	return r, nil
}

// Open unlocks the repository in store with password. The index is not
// loaded; call LoadIndex before reading or writing blobs.
func Open(ctx context.Context, store blob.Store, password []byte, opts Options) (*Repository, error) {
	sealedCfg, err := store.Get(ctx, configName, 0, -1)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, fmt.Errorf("open %s: %w; create one with 'cairn repo init'", store.Location(), ErrNoRepository)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: read config: %w", store.Location(), err)
	}
	w := newWarner(opts.Warn)
	master, keyID, err := unlock(ctx, store, password, w.warn)
	if err != nil {
		return nil, err
	}
	plain, err := master.Encrypt.Open(nil, sealedCfg)
	if err != nil {
		return nil, fmt.Errorf("open %s: decrypt config: %w: %w", store.Location(), ErrCorrupt, err)
	}
	cfg, err := ParseConfig(plain)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", store.Location(), err)
	}
	r, err := newRepository(store, master, cfg, opts)
	if err != nil {
		return nil, err
	}
	r.keyID = keyID
	r.warner = w
	return r, nil
}

func newRepository(store blob.Store, master crypto.MasterKey, cfg Config, opts Options) (*Repository, error) {
	level, err := compress.ParseLevel(cfg.Compression)
	if err != nil {
		return nil, err
	}
	comp, err := compress.New(level)
	if err != nil {
		return nil, err
	}
	clock := opts.Clock
	if clock == nil {
		clock = systemClock{}
	}
	r := &Repository{store: store, master: master, cfg: cfg, comp: comp, clock: clock,
		idx: index.New(), loadedIndex: map[core.ID]struct{}{}, supersededIndex: map[core.ID]struct{}{}, excluded: map[core.ID]struct{}{},
		damagedIndex: map[core.ID]error{}, headerPacks: map[core.ID][]index.Blob{}, missing: map[core.ID]struct{}{},
		trees: newTreeCache(), warner: newWarner(opts.Warn),
		cache: newIndexCache(opts.IndexCache, cfg.ID, opts), verified: map[core.ID]struct{}{}}
	r.key = &r.master.Encrypt
	return r, nil
}

// Config returns the repository config.
func (r *Repository) Config() Config { return r.cfg }

// Store returns the underlying blob store.
func (r *Repository) Store() blob.Store { return r.store }

// Index returns the in-memory index.
func (r *Repository) Index() *index.Index { return r.idx }

// SetIndex replaces the in-memory index with ix, as repair does once it has
// rebuilt one from the packs themselves: blobs are then loaded, and
// deduplicated against, by what ix says. It must not be called while
// anything else uses the repository.
func (r *Repository) SetIndex(ix *index.Index) {
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	r.idx = ix
	r.headerPacks = map[core.ID][]index.Blob{}
	r.missing = map[core.ID]struct{}{}
	r.present = nil
}

// Clock returns the repository's clock.
func (r *Repository) Clock() Clock { return r.clock }

// Key returns the master encryption key, for packages that seal or open
// repository bytes themselves (pack parsing in check and prune).
func (r *Repository) Key() *crypto.Key { return r.key }

// Location describes the store for messages.
func (r *Repository) Location() string { return r.store.Location() }

// Close waits for background index merges and releases the index cache
// and the store.
func (r *Repository) Close() error {
	if r.cache != nil {
		r.cache.stop()
	}
	_ = r.WaitIndexCache() // a stopped or failed merge costs only a later one
	r.idxMu.Lock()
	idx := r.idx
	r.idxMu.Unlock()
	_ = idx.Close()
	if r.borrowed {
		return nil
	}
	return r.store.Close()
}

// Reopen returns a new handle on the repository, already unlocked, with an
// index of its own read through opts' index cache and memory budget (and
// opts' Warn and Clock; the key and the store are r's). A process
// that lives long, such as a node agent, opens the repository once (one
// password hash) and a handle per job, so what a job's index holds is
// released with it. Closing the handle leaves r and its store open.
func (r *Repository) Reopen(opts Options) (*Repository, error) {
	h, err := newRepository(r.store, r.master, r.cfg, opts)
	if err != nil {
		return nil, err
	}
	h.keyID, h.borrowed = r.keyID, true
	return h, nil
}

// MaxMemory returns the memory budget the repository was opened with.
func (r *Repository) MaxMemory() int64 {
	if r.cache != nil {
		return r.cache.memory
	}
	return DefaultMaxMemory
}
