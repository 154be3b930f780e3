package repocli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairnbackup/cairn/chunkstore/archiver"
)

// backupJSON is the --json result of a backup; the demo and the bench
// harness parse it.
type backupJSON struct {
	SnapshotID      string     `json:"snapshot_id"`
	Parent          string     `json:"parent,omitempty"`
	Kind            string     `json:"kind"`
	Paths           []string   `json:"paths"`
	Files           int64      `json:"files"`
	Dirs            int64      `json:"dirs"`
	Bytes           int64      `json:"bytes"`
	BytesRead       int64      `json:"bytes_read"`
	BytesAdded      int64      `json:"bytes_added"`
	BytesStored     int64      `json:"bytes_stored"`
	BlobsNew        int64      `json:"blobs_new"`
	DurationSeconds float64    `json:"duration_seconds"`
	Warnings        []string   `json:"warnings"`
	Stages          stagesJSON `json:"stages"`
}

// stageJSON is one stage's busy time and its share of the capacity the
// stage had: wall time × the goroutines that run it.
type stageJSON struct {
	BusySeconds float64 `json:"busy_seconds"`
	Share       float64 `json:"share"`
}

type stagesJSON struct {
	WallSeconds float64 `json:"wall_seconds"`
	// FirstNewBlobSeconds is from the start of the backup to the first
	// new blob stored: what loading the index costs a writer.
	FirstNewBlobSeconds float64   `json:"first_new_blob_seconds"`
	Workers             int       `json:"workers"`
	Uploads             int       `json:"uploads"`
	Read                stageJSON `json:"read"`
	Chunk               stageJSON `json:"chunk"`
	Hash                stageJSON `json:"hash"`
	Compress            stageJSON `json:"compress"`
	Encrypt             stageJSON `json:"encrypt"`
	Pack                stageJSON `json:"pack"`
	// Save is the workers' whole time inside the saver: compress, encrypt
	// and pack, plus waiting for an upload slot (back-pressure).
	Save   stageJSON `json:"save"`
	Upload stageJSON `json:"upload"`
}

func newStagesJSON(st archiver.StageStats, workers, uploads int) stagesJSON {
	share := func(busy time.Duration, n int) stageJSON {
		s := stageJSON{BusySeconds: busy.Seconds()}
		if st.Wall > 0 && n > 0 {
			s.Share = busy.Seconds() / (st.Wall.Seconds() * float64(n))
		}
		return s
	}
	w := workers
	return stagesJSON{WallSeconds: st.Wall.Seconds(), Workers: workers, Uploads: uploads,
		Read: share(st.Read, w), Chunk: share(st.Chunk, w), Hash: share(st.Hash, w),
		Compress: share(st.Compress, w), Encrypt: share(st.Encrypt, w), Pack: share(st.Pack, w),
		Save: share(st.Save, w), Upload: share(st.Upload, uploads)}
}

func (g *globals) reportBackup(cmd *cobra.Command, res *archiver.Result, stats bool, opts archiver.Options) error {
	out := backupResult(res, opts)
	w := cmd.OutOrStdout()
	if g.json {
		if err := writeJSON(w, out); err != nil {
			return err
		}
	} else {
		printBackupSummary(w, res, out)
		if stats {
			printStages(w, out.Stages)
		}
	}
	for _, msg := range out.Warnings {
		fmt.Fprintf(cmd.ErrOrStderr(), "cairn: warning: %s\n", msg)
	}
	if n := len(out.Warnings); n > 0 {
		return warningsError("snapshot %s was saved, but %s could not be read and %s missing from it (listed above); make %s readable and back up again",
			res.ID.Short(), plural(n, "source entry", "source entries"), plural2(n, "is", "are"), plural2(n, "it", "them"))
	}
	return nil
}

func backupResult(res *archiver.Result, opts archiver.Options) backupJSON {
	s := res.Snapshot
	out := backupJSON{SnapshotID: res.ID.String(), Kind: s.Kind, Paths: s.Paths,
		Files: s.Stats.Files, Dirs: s.Stats.Dirs, Bytes: s.Stats.Bytes, BytesRead: s.Stats.BytesRead,
		BytesAdded: s.Stats.BytesAdded, BytesStored: s.Stats.BytesStored, BlobsNew: s.Stats.BlobsNew,
		DurationSeconds: s.Stats.DurationSeconds, Warnings: []string{},
		Stages: newStagesJSON(res.Stages, opts.Workers, opts.Uploads)}
	out.Stages.FirstNewBlobSeconds = res.FirstNewBlob.Seconds()
	if s.Parent != nil {
		out.Parent = s.Parent.String()
	}
	for _, w := range res.Warnings {
		out.Warnings = append(out.Warnings, w.Error())
	}
	return out
}

func printBackupSummary(w io.Writer, res *archiver.Result, out backupJSON) {
	d := time.Duration(out.DurationSeconds * float64(time.Second))
	fmt.Fprintf(w, "snapshot %s saved: %d files, %d dirs, %s; read %s, added %s (%s stored) in %s, %s\n",
		res.ID.Short(), out.Files, out.Dirs, formatBytes(out.Bytes), formatBytes(out.BytesRead),
		formatBytes(out.BytesAdded), formatBytes(out.BytesStored), formatDuration(d), formatRate(out.BytesRead, d))
}

func printStages(w io.Writer, st stagesJSON) {
	fmt.Fprintf(w, "%-9s %9s %7s\n", "stage", "busy", "share")
	rows := []struct {
		name string
		s    stageJSON
	}{{"read", st.Read}, {"chunk", st.Chunk}, {"hash", st.Hash}, {"compress", st.Compress},
		{"encrypt", st.Encrypt}, {"pack", st.Pack}, {"save", st.Save}, {"upload", st.Upload}}
	for _, r := range rows {
		fmt.Fprintf(w, "%-9s %8.3fs %6.1f%%\n", r.name, r.s.BusySeconds, 100*r.s.Share)
	}
	fmt.Fprintf(w, "wall %.3fs, %d workers, %d uploaders; share = busy / (wall × goroutines of the stage); save includes compress, encrypt, pack and waiting for uploads\n",
		st.WallSeconds, st.Workers, st.Uploads)
}
