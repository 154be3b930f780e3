package dashboard

import (
	"context"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// volumeRow is one volume of a backup or restore, as its work item (or,
// once the item is gone, the backup's record) reports it.
type volumeRow struct {
	PVC, Node, DataPath, ReadMode, Phase string
	Agent, Message, SnapshotID           string
	Progress                             v1alpha1.Progress
	// ETA is the time left at the current rate; negative when unknown.
	ETA time.Duration
	// Duration is the data movement's, so far while it runs; negative
	// when it has not started.
	Duration time.Duration
	Stats    v1alpha1.WorkStats
	// Dedup is the share of the bytes read that the repository already
	// held; meaningful when HasStats.
	Dedup    float64
	HasStats bool
	Warnings []string
}

// Running reports a volume whose bytes are moving.
func (v volumeRow) Running() bool { return v.Phase == string(v1alpha1.WorkInProgress) }

// Percent is the share done, for <progress>, in 0..100.
func (v volumeRow) Percent() int64 {
	if v.Progress.BytesTotal <= 0 {
		return 0
	}
	return min(100, v.Progress.BytesDone*100/v.Progress.BytesTotal)
}

func workRow(now time.Time, node string, pvc v1alpha1.ObjectRef, path v1alpha1.DataPath, st *v1alpha1.WorkStatus) volumeRow {
	phase := string(st.Phase)
	if phase == "" {
		phase = string(v1alpha1.WorkPending)
	}
	row := volumeRow{PVC: pvc.Namespace + "/" + pvc.Name, Node: node, DataPath: string(path), ReadMode: string(st.Stats.ReadMode),
		Phase: phase, Agent: st.Agent, Message: st.Message, SnapshotID: st.SnapshotID, Progress: st.Progress,
		Stats: st.Stats, Warnings: st.Warnings, ETA: -1, Duration: -1}
	row.ETA = eta(st.Progress)
	if st.Phase.Done() {
		row.ETA = -1
	}
	if st.Stats.DurationMilliseconds > 0 {
		row.Duration = time.Duration(st.Stats.DurationMilliseconds) * time.Millisecond
	} else if st.StartTime != nil {
		end := now
		if st.CompletionTime != nil {
			end = st.CompletionTime.Time
		}
		row.Duration = end.Sub(st.StartTime.Time)
	}
	if s := st.Stats; s.BytesRead > 0 {
		row.HasStats = true
		row.Dedup = 1 - float64(min(s.BytesAdded, s.BytesRead))/float64(s.BytesRead)
	}
	return row
}

func eta(p v1alpha1.Progress) time.Duration {
	left := p.BytesTotal - p.BytesDone
	if p.BytesPerSecond <= 0 || left <= 0 {
		return -1
	}
	return time.Duration(float64(left) / float64(p.BytesPerSecond) * float64(time.Second))
}

// total sums the rows' progress into one row: bytes, rate and the ETA of
// what is left at the combined rate.
func total(rows []volumeRow) volumeRow {
	var t volumeRow
	for _, r := range rows {
		t.Progress.BytesDone += r.Progress.BytesDone
		t.Progress.BytesTotal += r.Progress.BytesTotal
		if r.Running() {
			t.Progress.BytesPerSecond += r.Progress.BytesPerSecond
		}
	}
	t.ETA = eta(t.Progress)
	return t
}

func backupVolumes(now time.Time, items []v1alpha1.VolumeBackup, records []v1alpha1.VolumeSnapshotRecord) []volumeRow {
	var rows []volumeRow
	seen := map[v1alpha1.ObjectRef]bool{}
	for i := range items {
		vb := &items[i]
		seen[vb.Spec.Volume.PVC] = true
		rows = append(rows, workRow(now, vb.Spec.NodeName, vb.Spec.Volume.PVC, vb.Spec.DataPath, &vb.Status))
	}
	for _, rec := range records {
		if seen[rec.PVC] {
			continue
		}
		st := v1alpha1.WorkStatus{Phase: rec.Phase, SnapshotID: rec.SnapshotID, Progress: v1alpha1.Progress{BytesDone: rec.Bytes, BytesTotal: rec.Bytes}}
		rows = append(rows, workRow(now, "", rec.PVC, rec.DataPath, &st))
	}
	slices.SortFunc(rows, func(a, b volumeRow) int { return compareStrings(a.PVC, b.PVC) })
	return rows
}

func restoreVolumes(now time.Time, items []v1alpha1.VolumeRestore) []volumeRow {
	rows := make([]volumeRow, 0, len(items))
	for i := range items {
		vr := &items[i]
		rows = append(rows, workRow(now, vr.Spec.NodeName, vr.Spec.Target.PVC, vr.Spec.DataPath, &vr.Status))
	}
	slices.SortFunc(rows, func(a, b volumeRow) int { return compareStrings(a.PVC, b.PVC) })
	return rows
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// list reads from the cache, within the dashboard's namespace if it has one.
func (s *Server) list(ctx context.Context, l client.ObjectList, opts ...client.ListOption) error {
	if s.cfg.Namespace != "" {
		opts = append(opts, client.InNamespace(s.cfg.Namespace))
	}
	return s.deps.Cache.List(ctx, l, opts...)
}

// get reads one object from the cache; outside the dashboard's namespace
// nothing exists.
func (s *Server) get(ctx context.Context, ns, name string, obj client.Object) error {
	if s.cfg.Namespace != "" && ns != s.cfg.Namespace {
		return apierrors.NewNotFound(schema.GroupResource{Group: v1alpha1.GroupVersion.Group}, name)
	}
	return s.deps.Cache.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj)
}

func (s *Server) backupItems(ctx context.Context, b *v1alpha1.Backup) []v1alpha1.VolumeBackup {
	var l v1alpha1.VolumeBackupList
	if err := s.list(ctx, &l, client.InNamespace(b.Namespace), client.MatchingLabels{v1alpha1.LabelBackup: b.Name}); err != nil {
		return nil
	}
	return l.Items
}

func (s *Server) restoreItems(ctx context.Context, rs *v1alpha1.Restore) []v1alpha1.VolumeRestore {
	var l v1alpha1.VolumeRestoreList
	if err := s.list(ctx, &l, client.InNamespace(rs.Namespace), client.MatchingLabels{v1alpha1.LabelRestore: rs.Name}); err != nil {
		return nil
	}
	return l.Items
}

// reason is the one line that says why something ended as it did: its
// first error, else its Ready condition's message.
func reason(errs []string, conds []metav1.Condition) string {
	if len(errs) > 0 {
		return errs[0]
	}
	if c := meta.FindStatusCondition(conds, v1alpha1.ConditionReady); c != nil {
		return c.Message
	}
	return ""
}

func elapsed(now time.Time, start, end *metav1.Time) time.Duration {
	if start == nil {
		return -1
	}
	if end != nil {
		return end.Sub(start.Time)
	}
	return now.Sub(start.Time)
}

func locationName(b *v1alpha1.Backup) string {
	if b.Spec.LocationName != "" {
		return b.Spec.LocationName
	}
	return "default"
}

// backupBytes is a finished backup's size: the bytes its volumes read.
func backupBytes(b *v1alpha1.Backup) int64 {
	var sum int64
	for _, v := range b.Status.VolumeSnapshots {
		sum += v.Bytes
	}
	return max(sum, b.Status.Progress.BytesDone)
}
