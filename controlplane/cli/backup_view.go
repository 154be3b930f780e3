package cli

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// backupTable is the get table.
func backupTable(w io.Writer, now time.Time, bs []v1alpha1.Backup) error {
	t := newTable(w, "NAME", "PHASE", "ITEMS", "VOLUMES", "BYTES", "ERRORS", "WARNINGS", "LOCATION", "EXPIRES", "AGE")
	for _, b := range bs {
		st := b.Status
		t.row(b.Name, orNew(st.Phase), st.ItemsBackedUp, fmt.Sprintf("%d/%d", st.VolumesCompleted, st.VolumesTotal),
			size(st.Progress.BytesDone), len(st.Errors), len(st.Warnings), orDefault(b.Spec.LocationName),
			until(now, st.Expiration), age(now, b.CreationTimestamp))
	}
	return t.flush()
}

func describeBackupCmd(cmd *cobra.Command, e *env, obj client.Object) error {
	b := obj.(*v1alpha1.Backup)
	items, err := e.volumeBackups(cmd, b.Name)
	if err != nil {
		return err
	}
	return describeBackup(e.cfg.Out, e.cfg.Now(), b, items)
}

// volumeBackups lists a backup's work items.
func (e *env) volumeBackups(cmd *cobra.Command, backup string) ([]v1alpha1.VolumeBackup, error) {
	c, err := e.kube()
	if err != nil {
		return nil, err
	}
	var list v1alpha1.VolumeBackupList
	if err := c.List(ctxOf(cmd), &list, client.InNamespace(e.namespace), client.MatchingLabels{v1alpha1.LabelBackup: backup}); err != nil {
		return nil, fmt.Errorf("list the volumes of backup %s: %w", backup, err)
	}
	sort.Slice(list.Items, func(i, j int) bool {
		return pvcKey(list.Items[i].Spec.Volume.PVC) < pvcKey(list.Items[j].Spec.Volume.PVC)
	})
	return list.Items, nil
}

func pvcKey(r v1alpha1.ObjectRef) string { return r.Namespace + "/" + r.Name }

// describeBackup is the describe view: phase, selection, items, every
// volume, hooks, warnings and errors.
func describeBackup(w io.Writer, now time.Time, b *v1alpha1.Backup, items []v1alpha1.VolumeBackup) error {
	d := newDescriber(w)
	st := b.Status
	d.kv(0, "Name", "%s", b.Name)
	d.kv(0, "Namespace", "%s", b.Namespace)
	d.kv(0, "Labels", "%s", labels(b.Labels))
	d.kv(0, "Phase", "%s", orNew(st.Phase))
	if at := b.Annotations[v1alpha1.AnnotationCancel]; at != "" {
		d.kv(0, "Cancel requested", "%s", at)
	}
	conditions(d, st.Conditions)
	d.kv(0, "Location", "%s", orDefault(b.Spec.LocationName))
	d.kv(0, "Created", "%s", stamp(now, &b.CreationTimestamp))
	d.kv(0, "Started", "%s", stamp(now, st.StartTime))
	d.kv(0, "Completed", "%s", stamp(now, st.CompletionTime))
	if st.StartTime != nil && st.CompletionTime != nil {
		d.kv(0, "Duration", "%s", st.CompletionTime.Sub(st.StartTime.Time).Round(time.Second))
	}
	d.kv(0, "Expires", "%s", stamp(now, st.Expiration))
	selection(d, b.Spec)
	d.kv(0, "Items backed up", "%d (resources snapshot %s)", st.ItemsBackedUp, short(st.ResourcesSnapshotID))
	d.kv(0, "Manifest", "%s", short(st.ManifestID))
	d.kv(0, "Progress", "%s", progressText(st.Progress))
	d.line(0, "Volumes:\t%d total, %d completed, %d failed", st.VolumesTotal, st.VolumesCompleted, st.VolumesFailed)
	volumes(d, now, st.VolumeSnapshots, items)
	hooksRun(d, st.Conditions)
	d.items(0, "Warnings", st.Warnings)
	d.items(0, "Errors", st.Errors)
	return d.flush()
}

func selection(d *describer, s v1alpha1.BackupSpec) {
	d.line(0, "Selection:")
	d.kv(1, "Namespaces", "%s (excluded: %s)", orAll(s.IncludedNamespaces), list(s.ExcludedNamespaces))
	d.kv(1, "Resources", "%s (excluded: %s)", orAll(s.IncludedResources), list(s.ExcludedResources))
	cluster := "auto (only when all namespaces are selected)"
	if s.IncludeClusterResources != nil {
		cluster = fmt.Sprint(*s.IncludeClusterResources)
	}
	d.kv(1, "Cluster resources", "%s", cluster)
	sel := "<none>"
	if s.LabelSelector != nil {
		sel = metav1.FormatLabelSelector(s.LabelSelector)
	}
	d.kv(1, "Label selector", "%s", sel)
	ttl := "<controller default>"
	if s.TTL != nil {
		ttl = s.TTL.Duration.String()
	}
	d.kv(1, "TTL", "%s", ttl)
	def := s.VolumePolicy.Default
	if def == "" {
		def = v1alpha1.DataPathSnapshotMove
	}
	d.kv(1, "Volume policy", "default %s, %d storage-class and %d driver rules", def, len(s.VolumePolicy.StorageClasses), len(s.VolumePolicy.Drivers))
	d.kv(1, "Hooks", "%d rules (pod annotations add more)", len(s.Hooks))
}

func orAll(s []string) string {
	if len(s) == 0 {
		return "*"
	}
	return list(s)
}

func progressText(p v1alpha1.Progress) string {
	s := size(p.BytesDone)
	if p.BytesTotal > 0 {
		s += fmt.Sprintf(" of %s (%d%%)", size(p.BytesTotal), min(100, p.BytesDone*100/p.BytesTotal))
	}
	if p.BytesPerSecond > 0 {
		s += fmt.Sprintf(", %s, ETA %s", rate(p.BytesPerSecond), eta(p.BytesDone, p.BytesTotal, p.BytesPerSecond))
	}
	return s
}

// volumes writes one block per volume: the work item when there is one,
// else what the backup recorded (volumes skipped or failed in planning).
func volumes(d *describer, now time.Time, recs []v1alpha1.VolumeSnapshotRecord, items []v1alpha1.VolumeBackup) {
	byPVC := map[string]*v1alpha1.VolumeBackup{}
	for i := range items {
		byPVC[pvcKey(items[i].Spec.Volume.PVC)] = &items[i]
	}
	seen := map[string]bool{}
	for _, r := range recs {
		seen[pvcKey(r.PVC)] = true
		if vb := byPVC[pvcKey(r.PVC)]; vb != nil {
			volumeBlock(d, now, vb)
			continue
		}
		d.line(1, "%s:", pvcKey(r.PVC))
		d.kv(2, "Data path", "%s", orNone(string(r.DataPath)))
		d.kv(2, "Phase", "%s", orNone(string(r.Phase)))
		d.kv(2, "Snapshot", "%s", short(r.SnapshotID))
	}
	for i := range items {
		if !seen[pvcKey(items[i].Spec.Volume.PVC)] {
			volumeBlock(d, now, &items[i])
		}
	}
}

func volumeBlock(d *describer, now time.Time, vb *v1alpha1.VolumeBackup) {
	st := vb.Status
	d.line(1, "%s:", pvcKey(vb.Spec.Volume.PVC))
	d.kv(2, "Node", "%s", vb.Spec.NodeName)
	path := string(vb.Spec.DataPath)
	if st.Stats.ReadMode != "" {
		path += " (read " + string(st.Stats.ReadMode) + ")"
	}
	d.kv(2, "Data path", "%s", path)
	d.kv(2, "Phase", "%s", orNone(string(st.Phase)))
	d.kv(2, "Progress", "%s", progressText(st.Progress))
	if s := st.Stats; s.BytesRead > 0 || s.BytesStored > 0 {
		d.kv(2, "Data", "read %s, new after dedup %s, stored %s%s", size(s.BytesRead), size(s.BytesAdded), size(s.BytesStored), filesText(s.Files))
	}
	d.kv(2, "Snapshot", "%s", short(st.SnapshotID))
	if st.StartTime != nil && st.CompletionTime != nil {
		d.kv(2, "Duration", "%s", st.CompletionTime.Sub(st.StartTime.Time).Round(time.Second))
	}
	if st.Message != "" {
		d.kv(2, "Message", "%s", st.Message)
	}
	for _, w := range st.Warnings {
		d.kv(2, "Warning", "%s", w)
	}
}

func filesText(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d files", n)
}

// conditions writes each condition on one line under the phase.
func conditions(d *describer, cs []metav1.Condition) {
	for _, c := range cs {
		if c.Type == v1alpha1.ConditionHooksRun {
			continue // shown with the hooks
		}
		d.kv(1, c.Type, "%s (%s) %s", c.Status, c.Reason, c.Message)
	}
}

func hooksRun(d *describer, cs []metav1.Condition) {
	c := meta.FindStatusCondition(cs, v1alpha1.ConditionHooksRun)
	if c == nil {
		d.kv(0, "Hooks", "not run yet")
		return
	}
	d.kv(0, "Hooks", "%s (%s) %s", c.Status, c.Reason, c.Message)
}
