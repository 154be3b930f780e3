package repo

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cairnbackup/cairn/chunkstore/compress"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/chunkstore/index"
	"github.com/cairnbackup/cairn/chunkstore/pack"
)

// Saver defaults.
const (
	// DefaultUploads is the number of packs in flight. Four 16 MiB PUTs keep
	// a 10 Gbit/s link busy at typical S3 latencies while bounding upload
	// buffers to 64 MiB.
	DefaultUploads = 4
	// LocalUploads is the number for a repository in a local directory,
	// where a write is CPU work, not waiting: more writers than cores would
	// only hold more 16 MiB buffers.
	LocalUploads = 2
	// indexEvery is how many packs go into one index file. Writing an index
	// file every 64 packs (about 1 GiB) bounds what a crash leaves
	// unindexed; those packs are adopted by the next writer anyway.
	indexEvery = 64
	// DefaultIndexRefresh is how often a writer reloads index files written
	// by other writers, so concurrent backups of shared data dedup against
	// each other. One LIST every 30 s is negligible next to pack uploads.
	DefaultIndexRefresh = 30 * time.Second
)

// SaverOptions tune a Saver.
type SaverOptions struct {
	Uploads     int
	Compression *compress.Level // nil: the repository default
	Purpose     string          // recorded in the session file
	// IndexRefresh is the period of index reloads; 0 means
	// DefaultIndexRefresh, negative disables them.
	IndexRefresh time.Duration
}

// SaveStats are counters a Saver keeps; safe to read while it runs.
type SaveStats struct {
	BlobsNew, BlobsDup    atomic.Int64
	BytesNew, BytesStored atomic.Int64
	PacksUploaded         atomic.Int64
	// Busy time per stage, summed over goroutines, for --stats.
	CompressNs, EncryptNs atomic.Int64
	PackNs, UploadNs      atomic.Int64
	// FirstNewNs is when the first new blob was sealed (Unix ns), 0 before.
	FirstNewNs atomic.Int64
}

// Saver writes blobs into packs and uploads them. Save is safe for
// concurrent use by many workers; Finish and Close are called once.
type Saver struct {
	r       *Repository
	comp    *compress.Compressor
	session *Session
	Stats   SaveStats

	ctx     context.Context
	group   *errgroup.Group
	uploads chan pack.Finished

	closeUploads sync.Once
	stopRefresh  chan struct{}
	refreshDone  chan struct{}

	mu      sync.Mutex
	writers [3]*openPack // by core.BlobType
	pending map[core.ID]struct{}

	idxMu   sync.Mutex
	idxFile index.File

	bufs  freeList // compression scratch
	packs freeList // pack buffers, reused once uploaded
	// packSlots holds one token per pack buffer in use: open, full,
	// waiting for an uploader or uploading. Its capacity bounds the
	// Saver's pack memory.
	packSlots chan struct{}
}

// openPack is a pack being filled. Blobs are sealed straight into it, each
// into room reserved under Saver.mu and filled outside it; sealing counts
// the blobs still being written, and the pack is sent once it is full and
// none are.
type openPack struct {
	w       *pack.Writer
	sealing int
	full    bool
}

// packHeaderRoom is the spare capacity of a pack buffer for the header
// appended when the pack is finished: enough for 16 Ki blobs, so packs of
// the usual 16 MiB never reallocate.
const packHeaderRoom = 640 << 10

// treePackSize caps the target size of tree packs. Trees are a small part
// of a backup, so a tree pack stays open for most of it: a smaller buffer
// saves memory for the whole run, and an incremental backup's tree cache
// reads less to reach the trees it needs.
const treePackSize = 4 << 20

// packTarget is the size at which a pack of type t is closed.
func (s *Saver) packTarget(t core.BlobType) int {
	if t == core.TreeBlob {
		return min(s.r.cfg.PackSize, treePackSize)
	}
	return s.r.cfg.PackSize
}

// packBuf returns an empty pack buffer with room for a pack of type t at
// its target size and its header, or for one blob of blobLen bytes if that
// is larger. Packs are closed before a blob would overflow them, so a
// buffer never grows while blobs are sealed into it.
func (s *Saver) packBuf(t core.BlobType, blobLen int) []byte {
	need := max(s.packTarget(t), blobLen) + packHeaderRoom
	if b := s.packs.get(need); b != nil {
		return b
	}
	return make([]byte, 0, need)
}

// tryPackBuf returns a pack buffer if a slot is free.
func (s *Saver) tryPackBuf(t core.BlobType, blobLen int) ([]byte, bool) {
	select {
	case s.packSlots <- struct{}{}:
		return s.packBuf(t, blobLen), true
	default:
		return nil, false
	}
}

// waitPackBuf waits for a free slot and returns a pack buffer. It must not
// be called with s.mu held: the slots come back from uploaders, and from
// sealers that need s.mu to finish.
func (s *Saver) waitPackBuf(t core.BlobType, blobLen int) ([]byte, error) {
	select {
	case s.packSlots <- struct{}{}:
		return s.packBuf(t, blobLen), nil
	case <-s.ctx.Done():
		return nil, fmt.Errorf("save blob: %w", context.Cause(s.ctx))
	}
}

// releasePackBuf returns a buffer no longer in use and its slot.
func (s *Saver) releasePackBuf(buf []byte) {
	buf = buf[:0]
	s.packs.put(buf)
	<-s.packSlots
}

// NewSaver starts a writer session and its uploaders. ctx bounds the
// uploaders' lifetime.
func (r *Repository) NewSaver(ctx context.Context, opts SaverOptions) (*Saver, error) {
	purpose := opts.Purpose
	if purpose == "" {
		purpose = "backup"
	}
	sess, err := r.StartSession(ctx, purpose)
	if err != nil {
		return nil, err
	}
	comp := r.comp
	if opts.Compression != nil {
		if comp, err = compress.New(*opts.Compression); err != nil {
			return nil, err
		}
	}
	n := opts.Uploads
	if n <= 0 {
		n = DefaultUploads
	}
	// Slots: one per uploader and two for the open data and tree packs.
	// Waiting for a slot never holds s.mu, and an open pack of each type
	// leaves at least one slot cycling through the uploaders, so the
	// workers cannot deadlock on them.
	s := &Saver{r: r, comp: comp, session: sess, uploads: make(chan pack.Finished),
		pending: map[core.ID]struct{}{}, packSlots: make(chan struct{}, n+2)}
	s.group, s.ctx = errgroup.WithContext(ctx)
	for range n {
		s.group.Go(s.uploadLoop)
	}
	s.startRefresh(opts.IndexRefresh)
	return s, nil
}

// startRefresh reloads the index periodically until the uploads stop. A
// failed reload only costs dedup, so it is not an error.
func (s *Saver) startRefresh(every time.Duration) {
	s.stopRefresh, s.refreshDone = make(chan struct{}), make(chan struct{})
	if every == 0 {
		every = DefaultIndexRefresh
	}
	if every < 0 {
		close(s.refreshDone)
		return
	}
	go func() {
		defer close(s.refreshDone)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stopRefresh:
				return
			case <-s.ctx.Done():
				return
			case <-t.C:
				_ = s.r.LoadIndex(s.ctx)
			}
		}
	}()
}

// Session returns the writer's session.
func (s *Saver) Session() *Session { return s.session }

// Has reports whether a blob is already stored or being stored.
func (s *Saver) Has(id core.ID) bool {
	if s.r.HasUsable(id) {
		return true
	}
	s.mu.Lock()
	_, ok := s.pending[id]
	s.mu.Unlock()
	return ok
}

// Save stores plain as a blob of type t with the given ID unless the
// repository already has it. It reports whether the blob was new.
func (s *Saver) Save(t core.BlobType, id core.ID, plain []byte) (bool, error) {
	if s.r.HasUsable(id) || !s.claim(id) {
		s.Stats.BlobsDup.Add(1)
		return false, nil
	}
	if len(plain) > index.MaxBlobSize-crypto.Overhead {
		return false, fmt.Errorf("save %s blob %s: %d bytes is over the blob limit", t, id.Short(), len(plain))
	}
	buf := s.getBuf(len(plain))
	t0 := time.Now()
	body, _ := s.comp.Compress(buf[:0], plain)
	t1 := time.Now()
	sealedLen := len(body) + crypto.Overhead
	op, room, done, err := s.reserve(t, id, sealedLen, len(plain))
	if err != nil {
		s.bufs.put(buf)
		return false, err
	}
	if done != nil {
		if err := s.send(done); err != nil {
			s.bufs.put(buf)
			return false, err
		}
	}
	t2 := time.Now()
	sealed := s.r.key.Seal(room, body)
	s.bufs.put(buf)
	t3 := time.Now()
	s.Stats.CompressNs.Add(int64(t1.Sub(t0)))
	s.Stats.PackNs.Add(int64(t2.Sub(t1)))
	s.Stats.EncryptNs.Add(int64(t3.Sub(t2)))
	if len(sealed) != sealedLen || &sealed[0] != &room[:1][0] {
		panic("saver: sealed blob did not fill its reserved room")
	}
	if err := s.sealed(op); err != nil {
		return false, err
	}
	s.Stats.FirstNewNs.CompareAndSwap(0, time.Now().UnixNano())
	s.Stats.BlobsNew.Add(1)
	s.Stats.BytesNew.Add(int64(len(plain)))
	s.Stats.BytesStored.Add(int64(sealedLen))
	return true, nil
}

func (s *Saver) claim(id core.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pending[id]; ok {
		return false
	}
	s.pending[id] = struct{}{}
	return true
}

// getBuf returns a scratch buffer for the compressed form of an n-byte
// blob. Compression keeps its output only when it is smaller than the
// input, so n bytes are enough. Sizes are powers of two from 64 KiB, so
// that a backup of small files does not keep chunk-sized scratch for its
// few larger ones (make zeroes, so a buffer is resident in full however
// far the data compresses). When no free buffer is large enough, one that
// is too small is dropped for the new one, so the pool never holds more
// buffers than were in use at once.
func (s *Saver) getBuf(n int) []byte {
	if b := s.bufs.getOrDrop(n); b != nil {
		return b
	}
	size := smallBuf
	for size < n {
		size *= 2
	}
	return make([]byte, 0, size)
}

const smallBuf = 64 << 10

// reserve finds room for a sealed blob in the open pack of its type,
// closing that pack first if the blob would take it past the target size,
// and counts the blob as being sealed. It returns the closed pack as done
// when no blob is being sealed into it: the caller sends it. When a new
// pack needs a buffer and none is free, it waits with s.mu released.
func (s *Saver) reserve(t core.BlobType, id core.ID, sealedLen, rawLen int) (op *openPack, room []byte, done *pack.Writer, err error) {
	var spare []byte // a buffer obtained while waiting, not yet used
	for {
		s.mu.Lock()
		op = s.writers[t]
		if op != nil && op.w.Count() > 0 && op.w.Size()+sealedLen > s.packTarget(t) {
			if s.closeLocked(t) {
				done = op.w
			}
			op = nil
		}
		if op == nil {
			buf, ok := spare, spare != nil
			if !ok {
				buf, ok = s.tryPackBuf(t, sealedLen)
			}
			if !ok {
				s.mu.Unlock()
				if spare, err = s.waitForBuffer(done, t, sealedLen); err != nil {
					return nil, nil, nil, err
				}
				done = nil // sent
				continue
			}
			spare = nil
			op = &openPack{w: pack.NewWriter(buf)}
			s.writers[t] = op
		}
		room = op.w.Reserve(t, id, sealedLen, rawLen)
		if room == nil {
			panic("saver: pack buffer smaller than its target size") // packBuf guarantees room
		}
		op.sealing++
		if op.w.Size() >= s.packTarget(t) {
			s.closeLocked(t) // op.sealing > 0: the sealer sends it
		}
		s.mu.Unlock()
		if spare != nil {
			s.releasePackBuf(spare) // another worker opened a pack meanwhile
		}
		return op, room, done, nil
	}
}

// waitForBuffer sends done, if any, so that it can free a buffer, then
// waits for one.
func (s *Saver) waitForBuffer(done *pack.Writer, t core.BlobType, blobLen int) ([]byte, error) {
	if done != nil {
		if err := s.send(done); err != nil {
			return nil, err
		}
	}
	return s.waitPackBuf(t, blobLen)
}

// closeLocked takes the open pack of type t out of use. It reports whether
// the pack is ready to send; otherwise whoever finishes sealing into it
// last sends it.
func (s *Saver) closeLocked(t core.BlobType) bool {
	op := s.writers[t]
	op.full = true
	s.writers[t] = nil
	return op.sealing == 0
}

// sealed records that one blob of op is sealed and sends op if it is full
// and was the last one being written. op.w is touched by nobody else then.
func (s *Saver) sealed(op *openPack) error {
	s.mu.Lock()
	op.sealing--
	ready := op.full && op.sealing == 0
	s.mu.Unlock()
	if !ready {
		return nil
	}
	return s.send(op.w)
}

func (s *Saver) send(w *pack.Writer) error {
	f := w.Finish(s.r.key)
	if s.r.cfg.Version < 2 {
		f.ID = pack.ID(f.Data) // version 1 names packs by all their bytes
	}
	select {
	case s.uploads <- f:
		return nil
	case <-s.ctx.Done():
		return fmt.Errorf("upload pack: %w", context.Cause(s.ctx))
	}
}

func (s *Saver) uploadLoop() error {
	for f := range s.uploads {
		t0 := time.Now()
		if err := s.r.store.Put(s.ctx, PackName(f.ID), f.Data); err != nil {
			return fmt.Errorf("upload pack %s: %w", f.ID.Short(), err)
		}
		s.Stats.UploadNs.Add(int64(time.Since(t0)))
		// Put has returned, so the store holds its own copy of the bytes.
		s.releasePackBuf(f.Data)
		if err := s.indexPack(f); err != nil {
			return err
		}
	}
	return nil
}

// indexPack makes an uploaded pack's blobs visible to dedup and queues them
// for the next index file.
func (s *Saver) indexPack(f pack.Finished) error {
	if err := s.r.idx.AddPack(f.ID, f.Blobs); err != nil {
		return fmt.Errorf("index pack %s: %w", f.ID.Short(), err)
	}
	s.mu.Lock()
	for _, b := range f.Blobs {
		delete(s.pending, b.ID)
	}
	s.mu.Unlock()
	s.Stats.PacksUploaded.Add(1)
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	s.idxFile.Packs = append(s.idxFile.Packs, index.PackEntry{ID: f.ID, Blobs: f.Blobs})
	if len(s.idxFile.Packs) >= indexEvery {
		return s.flushIndexLocked(s.ctx)
	}
	return nil
}

func (s *Saver) flushIndexLocked(ctx context.Context) error {
	if len(s.idxFile.Packs) == 0 {
		return nil
	}
	if _, err := s.r.SaveIndexFile(ctx, &s.idxFile); err != nil {
		return err
	}
	s.idxFile = index.File{}
	return nil
}

// Flush uploads the open packs, waits for every upload, and writes the
// index file, so that everything saved so far is durable and findable. The
// Saver cannot be used afterwards.
func (s *Saver) Flush(ctx context.Context) error {
	var err error
	s.mu.Lock()
	open := s.writers
	s.writers = [3]*openPack{}
	s.mu.Unlock()
	for _, op := range open {
		// Flush runs after the last Save returned, so nothing is sealing.
		if op != nil && op.w.Count() > 0 && err == nil {
			err = s.send(op.w)
		}
	}
	if gerr := s.stopUploads(); gerr != nil {
		return gerr
	}
	if err != nil {
		return err
	}
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	return s.flushIndexLocked(ctx)
}

func (s *Saver) stopUploads() error {
	s.closeUploads.Do(func() {
		close(s.stopRefresh)
		<-s.refreshDone
		close(s.uploads)
	})
	return s.group.Wait()
}

// Close stops the uploaders and ends the session. Call it after the
// snapshot is written, or on failure: what was not flushed is abandoned, and
// packs already uploaded are adopted by the next writer.
func (s *Saver) Close(ctx context.Context) error {
	_ = s.stopUploads() // the error was reported by Flush or Save
	return s.session.Close(ctx)
}

// freeList keeps large buffers for reuse. Unlike a sync.Pool it does not
// drop them at every collection: a dropped 16 MiB pack buffer is remade
// from fresh pages while the old ones wait for the runtime to return them,
// which grows the process for nothing. The saver's slots and workers bound
// how many buffers exist; freeListMax bounds what is kept.
type freeList struct {
	mu   sync.Mutex
	bufs [][]byte
}

const freeListMax = 8

// get returns an empty buffer with room for n bytes, or nil.
func (l *freeList) get(n int) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.takeLocked(n)
}

// getOrDrop is get, but when no buffer has room for n bytes it discards
// one that has not, for the caller to replace with a larger one.
func (l *freeList) getOrDrop(n int) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.takeLocked(n); b != nil {
		return b
	}
	if len(l.bufs) > 0 {
		l.bufs = l.bufs[:len(l.bufs)-1]
	}
	return nil
}

func (l *freeList) takeLocked(n int) []byte {
	for i, b := range l.bufs {
		if cap(b) >= n {
			l.bufs = append(l.bufs[:i], l.bufs[i+1:]...)
			return b[:0]
		}
	}
	return nil
}

// put keeps b for reuse.
func (l *freeList) put(b []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.bufs) < freeListMax {
		l.bufs = append(l.bufs, b[:0])
	}
}
