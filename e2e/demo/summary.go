package demo

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/dustin/go-humanize"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// BackupFigures are one backup's totals over its volumes.
type BackupFigures struct {
	Objects     int
	Volumes     int
	VolumeBytes int64 // the volumes' size (files or image)
	BytesRead   int64 // read from the volumes
	BytesAdded  int64 // new after deduplication
	BytesStored int64 // what the new data took in the repository
	Wall        time.Duration
	// DataTime is the longest volume's data movement.
	DataTime time.Duration
}

// Summary is the demo's outcome.
type Summary struct {
	First, Second   BackupFigures
	RestoredBytes   int64
	RestoreTime     time.Duration
	RestoreDataTime time.Duration
	Total           time.Duration
}

// backupFigures reads a finished backup's figures from its work items.
func (d *demo) backupFigures(ctx context.Context, name string, f *BackupFigures) error {
	var b v1alpha1.Backup
	if err := d.c.Client.Get(ctx, client.ObjectKey{Namespace: d.c.Namespace, Name: name}, &b); err != nil {
		return err
	}
	if b.Status.Phase != v1alpha1.BackupCompleted {
		return fmt.Errorf("backup %s ended %s: %v", name, b.Status.Phase, b.Status.Errors)
	}
	f.Objects, f.Volumes = b.Status.ItemsBackedUp, b.Status.VolumesCompleted
	if b.Status.StartTime != nil && b.Status.CompletionTime != nil {
		f.Wall = b.Status.CompletionTime.Sub(b.Status.StartTime.Time)
	}
	var items v1alpha1.VolumeBackupList
	if err := d.c.Client.List(ctx, &items, client.InNamespace(d.c.Namespace), client.MatchingLabels{v1alpha1.LabelBackup: name}); err != nil {
		return err
	}
	for _, vb := range items.Items {
		s := vb.Status.Stats
		f.VolumeBytes += s.VolumeBytes
		f.BytesRead += s.BytesRead
		f.BytesAdded += s.BytesAdded
		f.BytesStored += s.BytesStored
		f.DataTime = max(f.DataTime, time.Duration(s.DurationMilliseconds)*time.Millisecond)
	}
	return nil
}

func (s *Summary) print(w io.Writer) {
	fmt.Fprintf(w, "\nSummary\n")
	fmt.Fprintf(w, "  objects backed up     %d, volumes %d\n", s.Second.Objects, s.Second.Volumes)
	row := func(name string, f BackupFigures) {
		fmt.Fprintf(w, "  %-8s  %s of volumes, read %s, stored %s new (%s after compression) in %s",
			name, human(f.VolumeBytes), human(f.BytesRead), human(f.BytesAdded), human(f.BytesStored), f.Wall.Round(100*time.Millisecond))
		if f.Wall > 0 {
			fmt.Fprintf(w, ", %s/s read", human(int64(float64(f.BytesRead)/f.Wall.Seconds())))
		}
		fmt.Fprintln(w)
	}
	row("monday", s.First)
	row("tuesday", s.Second)
	fmt.Fprintf(w, "  dedup                 tuesday stored %s new for %s of volumes: %.0fx less than a full copy\n",
		human(s.Second.BytesAdded), human(s.Second.VolumeBytes), ratio(s.Second.VolumeBytes, s.Second.BytesAdded))
	fmt.Fprintf(w, "  compression           %.2fx (new data %s -> %s stored, both backups)\n",
		ratio(s.First.BytesAdded+s.Second.BytesAdded, s.First.BytesStored+s.Second.BytesStored),
		human(s.First.BytesAdded+s.Second.BytesAdded), human(s.First.BytesStored+s.Second.BytesStored))
	fmt.Fprintf(w, "  restore               %s written in %s", human(s.RestoredBytes), s.RestoreTime.Round(100*time.Millisecond))
	if s.RestoreTime > 0 {
		fmt.Fprintf(w, ", %s/s", human(int64(float64(s.RestoredBytes)/s.RestoreTime.Seconds())))
	}
	fmt.Fprintf(w, "\n  total                 %s, everything verified\n", s.Total.Round(100*time.Millisecond))
}

func ratio(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// human formats a byte count in binary units.
func human(n int64) string { return humanize.IBytes(uint64(max(n, 0))) }
