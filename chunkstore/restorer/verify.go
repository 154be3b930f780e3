package restorer

import (
	"context"
	"fmt"
	"io"
	"os"

	"golang.org/x/sync/errgroup"

	"github.com/cairnbackup/cairn/chunkstore/chunker"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

// verifyAll reads every restored file back, several at once, and records a
// file whose bytes differ from the snapshot as damaged. Files already
// damaged are skipped: their damage is known.
func (rs *restore) verifyAll(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(rs.opts.Workers)
	for _, fo := range rs.files {
		if fo.damaged.Load() {
			continue
		}
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			v := verifier{hash: rs.r.NewHasher()}
			if err := v.file(fo); err != nil {
				rs.damage.add(Damage{Path: fo.path, Blob: v.bad, Offset: v.badOff, Err: fmt.Errorf("verify: %w", err)})
				fo.markDamaged()
				return nil
			}
			rs.verified.Add(1)
			return nil
		})
	}
	err := g.Wait()
	rs.result.Verified = rs.verified.Load()
	return err
}

// verifier checks one file; bad and badOff name the first chunk that
// differs (or a hole that is not zero, with a zero ID).
type verifier struct {
	hash   *chunker.Hasher
	buf    []byte
	bad    [32]byte
	badOff int64
}

func (v *verifier) file(fo *fileOut) error {
	f, err := os.Open(fo.path)
	if err != nil {
		return err
	}
	defer f.Close()
	if !fo.device {
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if fi.Size() != fo.node.Size {
			v.badOff = -1
			return fmt.Errorf("size %d, the snapshot says %d", fi.Size(), fo.node.Size)
		}
	}
	at := int64(0)
	for _, c := range fo.chunks {
		if err := v.zeros(f, at, c.off); err != nil {
			return err
		}
		if err := v.read(f, c.off, int64(c.n)); err != nil {
			return err
		}
		if v.hash.Sum(v.buf) != c.id {
			v.bad, v.badOff = c.id, c.off
			return fmt.Errorf("chunk %s at offset %d differs from the snapshot", c.id.Short(), c.off)
		}
		at = c.off + int64(c.n)
	}
	return v.zeros(f, at, fo.node.Size)
}

// zeros checks that [from, to) is all zero, as the snapshot's holes are.
func (v *verifier) zeros(f *os.File, from, to int64) error {
	for from < to {
		n := min(to-from, int64(snapshot.MaxPartSize))
		if err := v.read(f, from, n); err != nil {
			return err
		}
		for i, b := range v.buf {
			if b != 0 {
				v.badOff = from + int64(i)
				return fmt.Errorf("byte %d should be zero (a hole in the snapshot)", from+int64(i))
			}
		}
		from += n
	}
	return nil
}

func (v *verifier) read(f *os.File, off, n int64) error {
	if int64(cap(v.buf)) < n {
		v.buf = make([]byte, n)
	}
	v.buf = v.buf[:n]
	if _, err := f.ReadAt(v.buf, off); err != nil && err != io.EOF {
		return err
	} else if err == io.EOF {
		return fmt.Errorf("file ends before offset %d", off+n)
	}
	return nil
}
