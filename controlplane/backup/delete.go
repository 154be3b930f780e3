package backup

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/manifest"
)

// delete cancels the backup's unfinished work, forgets its snapshots and manifest in its repository and
// releases the finalizer. Prune frees the data later. When the location is
// gone or read-only the data is left in place and an event says so.
func (r *Reconciler) delete(ctx context.Context, b *v1alpha1.Backup) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(b, Finalizer) {
		return ctrl.Result{}, nil
	}
	// Agents stop a running backup's items (and clean up after them) when
	// told so; garbage collection of the items comes later, if at all.
	if !b.Status.Phase.Done() {
		_, _ = r.stopWork(ctx, b, "the backup was deleted")
	}
	if err := r.forget(ctx, b); err != nil {
		r.event(b, "Warning", "ForgetFailed", fmt.Sprintf("backup %s deleted, but its repository data was kept: %v", b.Name, err))
	}
	controllerutil.RemoveFinalizer(b, Finalizer)
	return ctrl.Result{}, r.Client.Update(ctx, b)
}

func (r *Reconciler) forget(ctx context.Context, b *v1alpha1.Backup) error {
	loc, err := r.location(ctx, b)
	if err != nil {
		return err
	}
	rp, err := r.Opener.Open(ctx, loc)
	if err != nil {
		return err
	}
	ids := []string{b.Status.ResourcesSnapshotID}
	for _, v := range b.Status.VolumeSnapshots {
		ids = append(ids, v.SnapshotID)
	}
	for _, s := range ids {
		if err := deleteFile(ctx, rp, repo.KindSnapshot, s); err != nil {
			return err
		}
	}
	// Every manifest naming the backup goes, so the sync controller of
	// another cluster never brings it back.
	return manifest.DeleteBackup(ctx, rp, b.Name)
}

func deleteFile(ctx context.Context, rp *repo.Repository, kind, hexID string) error {
	if hexID == "" {
		return nil
	}
	id, err := core.ParseID(hexID)
	if err != nil {
		return fmt.Errorf("%s %q: %w", kind, hexID, err)
	}
	return rp.DeleteFile(ctx, kind, id)
}
