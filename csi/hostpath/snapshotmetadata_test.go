package hostpath_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"

	"github.com/cairnbackup/cairn/csi/hostpath"
)

const (
	kib = 1 << 10
	blk = 64 * kib // the default block size
)

// ranges renders metadata as "off+size" strings for comparison.
func ranges(bm []*csi.BlockMetadata) string {
	var b bytes.Buffer
	for _, m := range bm {
		fmt.Fprintf(&b, "[%d+%d]", m.GetByteOffset(), m.GetSizeBytes())
	}
	return b.String()
}

func span(off, size int64) string { return fmt.Sprintf("[%d+%d]", off, size) }

func TestSnapshotMetadataAllocatedAndDelta(t *testing.T) {
	d, c := startDriver(t, hostpath.Config{})
	const size = 8 << 20 // 128 blocks
	vol := c.createVolume("vol", blockCap(rw), size, nil)
	image := filepath.Join(d.Root, "volumes", vol.GetVolumeId()+".img")
	empty := c.snapshot("empty", vol.GetVolumeId())

	got, capacity, _ := c.allocated(empty.GetSnapshotId(), 0, 0)
	if len(got) != 0 || capacity != size {
		t.Fatalf("empty volume: allocated %s, capacity %d", ranges(got), capacity)
	}

	writeAt(t, image, 100, []byte("ten bytes!"))             // block 0, partly
	writeAt(t, image, 2*blk, bytes.Repeat([]byte{1}, 3*blk)) // blocks 2-4
	writeAt(t, image, 10*blk, make([]byte, blk))             // block 10: written, but zeros
	writeAt(t, image, size-1, []byte{0xff})                  // block 127, its last byte
	snap1 := c.snapshot("one", vol.GetVolumeId())
	wantAlloc := span(0, blk) + span(2*blk, 3*blk) + span(size-blk, blk)
	if got, capacity, _ := c.allocated(snap1.GetSnapshotId(), 0, 0); ranges(got) != wantAlloc || capacity != size {
		t.Fatalf("allocated %s (capacity %d), want %s", ranges(got), capacity, wantAlloc)
	}

	t.Run("paging", func(t *testing.T) {
		got, _, largest := c.allocated(snap1.GetSnapshotId(), 0, 1)
		if ranges(got) != wantAlloc || largest != 1 {
			t.Fatalf("max_results 1: %s in messages of up to %d", ranges(got), largest)
		}
		// Resuming inside a range starts exactly at the offset.
		got, _, _ = c.allocated(snap1.GetSnapshotId(), 3*blk+17, 0)
		if want := span(3*blk+17, 2*blk-17) + span(size-blk, blk); ranges(got) != want {
			t.Fatalf("from %d: %s, want %s", 3*blk+17, ranges(got), want)
		}
		// Resuming right after a range skips it.
		got, _, _ = c.allocated(snap1.GetSnapshotId(), 5*blk, 0)
		if want := span(size-blk, blk); ranges(got) != want {
			t.Fatalf("from %d: %s, want %s", 5*blk, ranges(got), want)
		}
		got, capacity, _ := c.allocated(snap1.GetSnapshotId(), size, 0)
		if len(got) != 0 || capacity != size {
			t.Fatalf("from the end: %s, capacity %d", ranges(got), capacity)
		}
		for _, off := range []int64{-1, size + 1} {
			s, err := c.meta.GetMetadataAllocated(ctx(t), &csi.GetMetadataAllocatedRequest{SnapshotId: snap1.GetSnapshotId(), StartingOffset: off})
			if err == nil {
				_, err = s.Recv()
			}
			wantCode(t, err, codes.OutOfRange, fmt.Sprintf("starting offset %d", off))
		}
	})

	writeAt(t, image, 0, make([]byte, blk))                 // block 0 now all zeros
	writeAt(t, image, 3*blk+5, []byte("changed"))           // block 3 rewritten
	writeAt(t, image, 50*blk, bytes.Repeat([]byte{2}, blk)) // block 50 new
	writeAt(t, image, 2*blk, bytes.Repeat([]byte{1}, 1000)) // block 2: same bytes again
	snap2 := c.snapshot("two", vol.GetVolumeId())

	wantDelta := span(0, blk) + span(3*blk, blk) + span(50*blk, blk)
	if got, capacity, _ := c.delta(snap1.GetSnapshotId(), snap2.GetSnapshotId(), 0, 0); ranges(got) != wantDelta || capacity != size {
		t.Fatalf("delta one..two %s (capacity %d), want %s", ranges(got), capacity, wantDelta)
	}
	if got, _, largest := c.delta(snap1.GetSnapshotId(), snap2.GetSnapshotId(), blk/2, 2); ranges(got) != span(blk/2, blk/2)+span(3*blk, blk)+span(50*blk, blk) || largest > 2 {
		t.Fatalf("delta from %d, max 2: %s in messages of up to %d", blk/2, ranges(got), largest)
	}
	if got, _, _ := c.delta(snap2.GetSnapshotId(), snap2.GetSnapshotId(), 0, 0); len(got) != 0 {
		t.Fatalf("delta of a snapshot with itself: %s", ranges(got))
	}
	// From nothing, the delta is what the later snapshot holds.
	if got, _, _ := c.delta(empty.GetSnapshotId(), snap2.GetSnapshotId(), 0, 0); ranges(got) != span(2*blk, 3*blk)+span(50*blk, blk)+span(size-blk, blk) {
		t.Fatalf("delta empty..two: %s", ranges(got))
	}
	if _, err := os.Stat(filepath.Join(d.Root, "snapshots", snap2.GetSnapshotId()+".blockmap")); err != nil {
		t.Fatalf("block map not stored next to the snapshot: %v", err)
	}
}

func TestSnapshotMetadataBlockSize(t *testing.T) {
	d, c := startDriver(t, hostpath.Config{BlockSize: 4 * kib})
	vol := c.createVolume("vol", blockCap(rw), 1<<20, nil)
	writeAt(t, filepath.Join(d.Root, "volumes", vol.GetVolumeId()+".img"), 9*kib, []byte("x"))
	snap := c.snapshot("s", vol.GetVolumeId())
	if got, _, _ := c.allocated(snap.GetSnapshotId(), 0, 0); ranges(got) != span(8*kib, 4*kib) {
		t.Fatalf("4 KiB blocks: allocated %s", ranges(got))
	}
}

func TestSnapshotMetadataErrors(t *testing.T) {
	_, c := startDriver(t, hostpath.Config{})
	a := c.createVolume("a", blockCap(rw), 1<<20, nil)
	b := c.createVolume("b", blockCap(rw), 1<<20, nil)
	fsVol := c.createVolume("fs", mountCap(rw), 1<<20, nil)
	sa, sb, sfs := c.snapshot("sa", a.GetVolumeId()), c.snapshot("sb", b.GetVolumeId()), c.snapshot("sfs", fsVol.GetVolumeId())

	allocErr := func(req *csi.GetMetadataAllocatedRequest) error {
		s, err := c.meta.GetMetadataAllocated(ctx(t), req)
		if err == nil {
			_, err = s.Recv()
		}
		return err
	}
	deltaErr := func(req *csi.GetMetadataDeltaRequest) error {
		s, err := c.meta.GetMetadataDelta(ctx(t), req)
		if err == nil {
			_, err = s.Recv()
		}
		return err
	}
	wantCode(t, allocErr(&csi.GetMetadataAllocatedRequest{}), codes.InvalidArgument, "no snapshot ID")
	wantCode(t, allocErr(&csi.GetMetadataAllocatedRequest{SnapshotId: "snap-0000000000000000"}), codes.NotFound, "unknown snapshot")
	wantCode(t, allocErr(&csi.GetMetadataAllocatedRequest{SnapshotId: sfs.GetSnapshotId()}), codes.InvalidArgument, "filesystem snapshot")
	wantCode(t, allocErr(&csi.GetMetadataAllocatedRequest{SnapshotId: sa.GetSnapshotId(), MaxResults: -1}), codes.InvalidArgument, "negative max results")
	wantCode(t, deltaErr(&csi.GetMetadataDeltaRequest{BaseSnapshotId: sa.GetSnapshotId()}), codes.InvalidArgument, "no target")
	wantCode(t, deltaErr(&csi.GetMetadataDeltaRequest{BaseSnapshotId: sa.GetSnapshotId(), TargetSnapshotId: sb.GetSnapshotId()}), codes.InvalidArgument, "snapshots of two volumes")
	wantCode(t, deltaErr(&csi.GetMetadataDeltaRequest{BaseSnapshotId: "snap-0000000000000000", TargetSnapshotId: sb.GetSnapshotId()}), codes.NotFound, "unknown base")

	// A block snapshot cut while the service was off has no map, which
	// shows once the service is back.
	d2, c2 := startDriver(t, hostpath.Config{Disabled: []hostpath.Feature{hostpath.FeatureSnapshotMetadata}})
	v := c2.createVolume("v", blockCap(rw), 1<<20, nil)
	unmapped := c2.snapshot("s", v.GetVolumeId())
	s, err := c2.meta.GetMetadataAllocated(ctx(t), &csi.GetMetadataAllocatedRequest{SnapshotId: unmapped.GetSnapshotId()})
	if err == nil {
		_, err = s.Recv()
	}
	wantCode(t, err, codes.Unimplemented, "disabled SnapshotMetadata service")
	d2.RestartWith(t, func(cfg *hostpath.Config) { cfg.Disabled = nil })
	c2 = newClient(t, d2.Conn(t), d2.Work)
	s, err = c2.meta.GetMetadataAllocated(ctx(t), &csi.GetMetadataAllocatedRequest{SnapshotId: unmapped.GetSnapshotId()})
	if err == nil {
		_, err = s.Recv()
	}
	wantCode(t, err, codes.FailedPrecondition, "snapshot cut without a block map")
}
