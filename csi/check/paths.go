package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/cairnbackup/cairn/csi"
)

// pattern is the known content the checks write and read back.
func pattern(seed uint64, n int) []byte {
	b := make([]byte, n)
	rng := rand.New(rand.NewPCG(seed, 99))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

const patternFile = "cairn-check.bin"

// filesystemMount writes a file through a read-write publish and reads it
// through a read-only one, which must refuse writes. It returns the
// volume, holding the pattern, for the snapshot checks.
func (p *probe) filesystemMount(ctx context.Context) string {
	if !p.caps.CreateDeleteVolume {
		p.unsupported(CheckFilesystemMount, "the driver does not create volumes (no CREATE_DELETE_VOLUME)")
		return ""
	}
	v, err := p.newVolume(ctx, csi.Mount, "")
	if err == nil {
		err = p.writeFileVolume(ctx, v)
	}
	if err == nil {
		err = p.readFileVolume(ctx, v, true)
	}
	if !p.add(CheckFilesystemMount, err, "wrote 1 MiB read-write, read it back read-only") {
		return ""
	}
	return v.ID
}

func (p *probe) writeFileVolume(ctx context.Context, v csi.Volume) error {
	dir, release, err := p.mount(ctx, v, csi.Mount, false)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, patternFile), pattern(1, 1<<20), 0o600); err != nil {
		return fmt.Errorf("write through the read-write publish: %w", err)
	}
	return release()
}

// readFileVolume checks the pattern through a read-only publish; with
// probeWrite, that a write is refused there.
func (p *probe) readFileVolume(ctx context.Context, v csi.Volume, probeWrite bool) error {
	dir, release, err := p.mount(ctx, v, csi.Mount, true)
	if err != nil {
		return err
	}
	got, err := os.ReadFile(filepath.Join(dir, patternFile))
	if err != nil {
		return fmt.Errorf("read back through the read-only publish: %w", err)
	}
	if !bytes.Equal(got, pattern(1, 1<<20)) {
		return errors.New("the bytes read back differ from those written")
	}
	if probeWrite {
		if err := os.WriteFile(filepath.Join(dir, "must-fail"), []byte("x"), 0o600); err == nil {
			return errors.New("the read-only publish accepted a write")
		}
	}
	return release()
}

// blockMount writes blocks through a raw block publish and reads them back.
func (p *probe) blockMount(ctx context.Context) {
	if !p.caps.CreateDeleteVolume {
		p.unsupported(CheckBlockMount, "the driver does not create volumes (no CREATE_DELETE_VOLUME)")
		return
	}
	v, err := p.newVolume(ctx, csi.Block, "")
	if unsupportedErr(err) {
		p.unsupported(CheckBlockMount, "the driver refuses block volumes: "+err.Error())
		return
	}
	offs := []int64{0, p.cfg.SizeBytes / 2, p.cfg.SizeBytes - patternBlock}
	if err == nil {
		err = p.writeBlocks(ctx, v, offs, 2)
	}
	if err == nil {
		err = p.readBlocks(ctx, v, offs, 2)
	}
	p.add(CheckBlockMount, err, fmt.Sprintf("wrote and read back %d blocks of 64 KiB", len(offs)))
}

// writeBlocks writes a pattern block at each offset of a block volume.
func (p *probe) writeBlocks(ctx context.Context, v csi.Volume, offs []int64, seed uint64) error {
	dev, release, err := p.mount(ctx, v, csi.Block, false)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(dev, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open the published device: %w", err)
	}
	for i, off := range offs {
		if _, err := f.WriteAt(pattern(seed+uint64(i), patternBlock), off); err != nil {
			f.Close()
			return fmt.Errorf("write the device at %d: %w", off, err)
		}
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("flush the device: %w", err)
	}
	return release()
}

// readBlocks checks the pattern blocks through a read-only publish.
func (p *probe) readBlocks(ctx context.Context, v csi.Volume, offs []int64, seed uint64) error {
	dev, release, err := p.mount(ctx, v, csi.Block, true)
	if err != nil {
		return err
	}
	f, err := os.Open(dev)
	if err != nil {
		return fmt.Errorf("open the published device: %w", err)
	}
	defer f.Close()
	buf := make([]byte, patternBlock)
	for i, off := range offs {
		if _, err := f.ReadAt(buf, off); err != nil {
			return fmt.Errorf("read the device at %d: %w", off, err)
		}
		if !bytes.Equal(buf, pattern(seed+uint64(i), patternBlock)) {
			return fmt.Errorf("the block at %d reads back different", off)
		}
	}
	f.Close()
	return release()
}
