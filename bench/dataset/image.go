package dataset

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"golang.org/x/sync/errgroup"
)

// BlockSize is the extent size of an Image: the unit that is zero, text or
// random, and the unit the incremental variant rewrites.
const BlockSize = 1 << 20

// ImageFile is the name of the image inside the dataset directory.
const ImageFile = "disk.img"

// Image is one large file, shaped like a disk image or a database volume.
type Image struct {
	Root string // scratch directory holding the dataset directory
	Name string // dataset name, also its directory name
	Seed uint64
	Size int64 // bytes; rounded up to whole blocks
	// ZeroFrac and TextFrac are the shares of blocks that are all zero and
	// text-like; the rest is incompressible.
	ZeroFrac, TextFrac float64
	// ChangeFrac is the share of blocks the incremental variant rewrites.
	ChangeFrac float64

	once    sync.Once
	classes []blockClass
}

type blockClass uint8

const (
	classRandom blockClass = iota
	classZero
	classText
)

// imageParams is what the stamp records; any change regenerates.
type imageParams struct {
	Kind                           string
	Seed                           uint64
	Size                           int64
	ZeroFrac, TextFrac, ChangeFrac float64
}

func (im *Image) state() state { return state{root: im.Root, name: im.Name} }

// Dir is the directory the tools back up.
func (im *Image) Dir() string { return im.state().dir() }

// Path is the image file.
func (im *Image) Path() string { return filepath.Join(im.Dir(), ImageFile) }

func (im *Image) blocks() int { return int((im.Size + BlockSize - 1) / BlockSize) }

// Bytes is the logical size, the same in both states.
func (im *Image) Bytes() int64 { return int64(im.blocks()) * BlockSize }

// Files is the number of files the tools see.
func (im *Image) Files() int { return 1 }

func (im *Image) stamp() stamp {
	return stamp{Generator: generatorVersion, Bytes: im.Bytes(), Files: 1,
		Params: imageParams{"image", im.Seed, im.Bytes(), im.ZeroFrac, im.TextFrac, im.ChangeFrac}}
}

// Prepare generates the image if it is missing or stale, and reverts the
// incremental variant if a previous run left it applied.
func (im *Image) Prepare(ctx context.Context) error {
	return im.state().prepare(im.stamp(), func() error { return im.generate(ctx) }, im.Revert)
}

// baseClasses assigns classes to blocks by a seeded permutation, so that
// the shares are exact rather than expected.
func (im *Image) baseClasses() []blockClass {
	im.once.Do(func() {
		n := im.blocks()
		im.classes = make([]blockClass, n)
		perm := rand.New(newRand(im.Seed, im.Name+"/classes", 0, 0)).Perm(n)
		zeros := int(float64(n) * im.ZeroFrac)
		texts := int(float64(n) * im.TextFrac)
		for i, b := range perm {
			switch {
			case i < zeros:
				im.classes[b] = classZero
			case i < zeros+texts:
				im.classes[b] = classText
			}
		}
	})
	return im.classes
}

// fillBlock writes block idx of the given version into buf. Version 0 is
// the base image; version 1 is a block the incremental variant rewrote,
// whose class is drawn afresh with the same shares.
func (im *Image) fillBlock(idx, version int, buf []byte) {
	r := newRand(im.Seed, im.Name, idx, version)
	class := im.baseClasses()[idx]
	if version > 0 {
		f := rand.New(r).Float64()
		class = classRandom
		if f < im.ZeroFrac {
			class = classZero
		} else if f < im.ZeroFrac+im.TextFrac {
			class = classText
		}
	}
	switch class {
	case classZero:
		clear(buf)
	case classText:
		fillText(r, buf)
	default:
		fillRandom(r, buf)
	}
}

// generate writes all blocks, one worker per CPU, each with its own
// buffer: about 1 GB/s per core, bounded by the page cache.
func (im *Image) generate(ctx context.Context) error {
	f, err := os.Create(im.Path())
	if err != nil {
		return err
	}
	defer f.Close()
	idx := make([]int, im.blocks())
	for i := range idx {
		idx[i] = i
	}
	if err := im.writeBlocks(ctx, f, idx, 0); err != nil {
		return err
	}
	return f.Close()
}

// writeBlocks writes the given blocks in the given version, in parallel.
func (im *Image) writeBlocks(ctx context.Context, f *os.File, blocks []int, version int) error {
	g, ctx := errgroup.WithContext(ctx)
	workers := runtime.NumCPU()
	for w := range workers {
		g.Go(func() error {
			buf := make([]byte, BlockSize)
			for i := w; i < len(blocks); i += workers {
				if err := ctx.Err(); err != nil {
					return err
				}
				im.fillBlock(blocks[i], version, buf)
				if _, err := f.WriteAt(buf, int64(blocks[i])*BlockSize); err != nil {
					return fmt.Errorf("write block %d: %w", blocks[i], err)
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// changed lists the blocks the incremental variant rewrites.
func (im *Image) changed() []int {
	n := im.blocks()
	k := max(1, int(float64(n)*im.ChangeFrac))
	perm := rand.New(newRand(im.Seed, im.Name+"/changed", 0, 0)).Perm(n)
	return perm[:k]
}

// ChangedBlocks is the number of blocks the incremental variant rewrites.
func (im *Image) ChangedBlocks() int { return len(im.changed()) }

// Mutate applies the incremental variant: the changed blocks are rewritten
// in place, through the same file.
func (im *Image) Mutate() error { return im.rewrite(1, true) }

// Revert writes the base content of the changed blocks back.
func (im *Image) Revert() error { return im.rewrite(0, false) }

func (im *Image) rewrite(version int, mutated bool) error {
	s := im.state()
	if mutated {
		if err := s.setMutated(true); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(im.Path(), os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("dataset %s: %w", im.Name, err)
	}
	defer f.Close()
	if err := im.writeBlocks(context.Background(), f, im.changed(), version); err != nil {
		return fmt.Errorf("dataset %s: rewrite blocks: %w", im.Name, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if !mutated {
		return s.setMutated(false)
	}
	return nil
}
