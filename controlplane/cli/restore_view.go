package cli

import (
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

func restoreTable(w io.Writer, now time.Time, rs []v1alpha1.Restore) error {
	t := newTable(w, "NAME", "BACKUP", "PHASE", "CREATED", "UPDATED", "SKIPPED", "FAILED", "VOLUMES", "AGE")
	for _, r := range rs {
		c := r.Status.Counts
		t.row(r.Name, r.Spec.BackupName, orNew(r.Status.Phase), c.Created, c.Updated, c.Skipped, c.Failed,
			fmt.Sprintf("%d/%d", r.Status.VolumesCompleted, r.Status.VolumesTotal), age(now, r.CreationTimestamp))
	}
	return t.flush()
}

func describeRestoreCmd(cmd *cobra.Command, e *env, obj client.Object) error {
	rs := obj.(*v1alpha1.Restore)
	items, err := e.volumeRestores(cmd, rs.Name)
	if err != nil {
		return err
	}
	return describeRestore(e.cfg.Out, e.cfg.Now(), rs, items)
}

func (e *env) volumeRestores(cmd *cobra.Command, restore string) ([]v1alpha1.VolumeRestore, error) {
	c, err := e.kube()
	if err != nil {
		return nil, err
	}
	var list v1alpha1.VolumeRestoreList
	if err := c.List(ctxOf(cmd), &list, client.InNamespace(e.namespace), client.MatchingLabels{v1alpha1.LabelRestore: restore}); err != nil {
		return nil, fmt.Errorf("list the volumes of restore %s: %w", restore, err)
	}
	sort.Slice(list.Items, func(i, j int) bool {
		return pvcKey(list.Items[i].Spec.Target.PVC) < pvcKey(list.Items[j].Spec.Target.PVC)
	})
	return list.Items, nil
}

// maxDescribedItems bounds the object list in describe; logs has them all.
const maxDescribedItems = 20

func describeRestore(w io.Writer, now time.Time, rs *v1alpha1.Restore, vols []v1alpha1.VolumeRestore) error {
	d := newDescriber(w)
	s, st := rs.Spec, rs.Status
	d.kv(0, "Name", "%s", rs.Name)
	d.kv(0, "Namespace", "%s", rs.Namespace)
	d.kv(0, "Backup", "%s", s.BackupName)
	d.kv(0, "Phase", "%s", orNew(st.Phase))
	conditions(d, st.Conditions)
	d.kv(0, "Created", "%s", stamp(now, &rs.CreationTimestamp))
	d.kv(0, "Started", "%s", stamp(now, st.StartTime))
	d.kv(0, "Completed", "%s", stamp(now, st.CompletionTime))
	d.line(0, "Selection:")
	d.kv(1, "Namespaces", "%s (excluded: %s)", orAll(s.IncludedNamespaces), list(s.ExcludedNamespaces))
	d.kv(1, "Resources", "%s (excluded: %s)", orAll(s.IncludedResources), list(s.ExcludedResources))
	sel := "<none>"
	if s.LabelSelector != nil {
		sel = metav1.FormatLabelSelector(s.LabelSelector)
	}
	d.kv(1, "Label selector", "%s", sel)
	d.kv(0, "Namespace mappings", "%s", mapping(s.NamespaceMapping))
	d.kv(0, "Storage class mappings", "%s", mapping(s.StorageClassMapping))
	d.kv(0, "Existing objects", "%s", orText(string(s.ExistingResourcePolicy), string(v1alpha1.ExistingNone)))
	d.kv(0, "Restore status", "%t", s.RestoreStatus)
	c := st.Counts
	d.kv(0, "Objects", "%d created, %d updated, %d skipped, %d failed", c.Created, c.Updated, c.Skipped, c.Failed)
	restoreItems(d, st.Items)
	d.kv(0, "Progress", "%s", progressText(st.Progress))
	d.line(0, "Volumes:\t%d total, %d completed, %d failed", st.VolumesTotal, st.VolumesCompleted, st.VolumesFailed)
	for i := range vols {
		volumeRestoreBlock(d, &vols[i])
	}
	d.items(0, "Warnings", st.Warnings)
	d.items(0, "Errors", st.Errors)
	return d.flush()
}

func restoreItems(d *describer, items []v1alpha1.RestoreItem) {
	for i, it := range items {
		if i == maxDescribedItems {
			d.line(1, "... and %d more (cairn restore logs lists them all)", len(items)-i)
			return
		}
		name := it.Name
		if it.Namespace != "" {
			name = it.Namespace + "/" + it.Name
		}
		d.kv(1, string(it.Result), "%s %s%s", it.Resource, name, messageSuffix(it.Message))
	}
}

func volumeRestoreBlock(d *describer, vr *v1alpha1.VolumeRestore) {
	st := vr.Status
	d.line(1, "%s:", pvcKey(vr.Spec.Target.PVC))
	d.kv(2, "Node", "%s", vr.Spec.NodeName)
	d.kv(2, "Data path", "%s", vr.Spec.DataPath)
	d.kv(2, "Phase", "%s", orNone(string(st.Phase)))
	d.kv(2, "Progress", "%s", progressText(st.Progress))
	d.kv(2, "From snapshot", "%s", short(vr.Spec.SnapshotID))
	if st.Message != "" {
		d.kv(2, "Message", "%s", st.Message)
	}
	for _, w := range st.Warnings {
		d.kv(2, "Warning", "%s", w)
	}
}

func mapping(m map[string]string) string {
	if len(m) == 0 {
		return "<none>"
	}
	return list(pairs(m, " → "))
}
