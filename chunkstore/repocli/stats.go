package repocli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/index"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

func newStatsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "stats",
		Short: "Show how much the repository stores and how well it deduplicates",
		Long: `Show the number of snapshots, the packs and their bytes, the blobs in the
index, the unique bytes they hold before and after compression, and the dedup
ratio: the bytes all snapshots describe divided by the unique bytes stored.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withIndex(cmd, func(ctx context.Context, r *repo.Repository) error {
				st, err := collectStats(ctx, r)
				if err != nil {
					return err
				}
				if g.json {
					return writeJSON(cmd.OutOrStdout(), st)
				}
				printStats(cmd.OutOrStdout(), r.Location(), st)
				return nil
			})
		},
	}
}

type statsJSON struct {
	Snapshots int   `json:"snapshots"`
	Packs     int   `json:"packs"`
	PackBytes int64 `json:"pack_bytes"`
	Blobs     int64 `json:"blobs"`
	// UniqueBytes is the plaintext size of the distinct blobs;
	// StoredBytes their compressed and encrypted size inside packs.
	UniqueBytes int64 `json:"unique_bytes"`
	StoredBytes int64 `json:"stored_bytes"`
	// SnapshotBytes sums the file sizes every snapshot describes.
	SnapshotBytes    int64   `json:"snapshot_bytes"`
	DedupRatio       float64 `json:"dedup_ratio"`
	CompressionRatio float64 `json:"compression_ratio"`
}

func collectStats(ctx context.Context, r *repo.Repository) (statsJSON, error) {
	var st statsJSON
	snaps, err := snapshot.List(ctx, r)
	if err != nil {
		return st, err
	}
	for _, d := range snaps.Damaged {
		r.Warn(d)
	}
	st.Snapshots = len(snaps.Snapshots)
	for _, s := range snaps.Snapshots {
		st.SnapshotBytes += s.Stats.Bytes
	}
	packs, err := r.ListPacks(ctx)
	if err != nil {
		return st, err
	}
	st.Packs = len(packs)
	for _, p := range packs {
		st.PackBytes += p.Size
	}
	// Each visits copies of a blob next to each other; count each ID once.
	var prev core.ID
	first := true
	r.Index().Each(func(id core.ID, loc index.Location) bool {
		if first || id != prev {
			st.Blobs++
			st.UniqueBytes += int64(loc.RawLength)
			st.StoredBytes += int64(loc.Length)
		}
		prev, first = id, false
		return true
	})
	if st.UniqueBytes > 0 {
		st.DedupRatio = float64(st.SnapshotBytes) / float64(st.UniqueBytes)
	}
	if st.StoredBytes > 0 {
		st.CompressionRatio = float64(st.UniqueBytes) / float64(st.StoredBytes)
	}
	return st, nil
}

func printStats(w io.Writer, loc string, st statsJSON) {
	fmt.Fprintf(w, "repository     %s\n", loc)
	fmt.Fprintf(w, "snapshots      %d, describing %s\n", st.Snapshots, formatBytes(st.SnapshotBytes))
	fmt.Fprintf(w, "packs          %d, %s\n", st.Packs, formatBytes(st.PackBytes))
	fmt.Fprintf(w, "blobs          %d unique, %s (%s stored)\n", st.Blobs, formatBytes(st.UniqueBytes), formatBytes(st.StoredBytes))
	fmt.Fprintf(w, "dedup ratio    %.2f×\n", st.DedupRatio)
	fmt.Fprintf(w, "compression    %.2f×\n", st.CompressionRatio)
}
