package backup

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// locationName returns the location a backup writes to.
func locationName(spec v1alpha1.BackupSpec) string {
	if spec.LocationName == "" {
		return "default"
	}
	return spec.LocationName
}

// start validates a new backup and moves it to InProgress.
func (r *Reconciler) start(ctx context.Context, b *v1alpha1.Backup) (ctrl.Result, error) {
	if err := validate(b.Spec); err != nil {
		return r.fail(ctx, b, "InvalidSpec", "backup %s/%s: %v", b.Namespace, b.Name, err)
	}
	loc, err := r.location(ctx, b)
	if err != nil {
		return r.fail(ctx, b, "LocationNotUsable", "%v", err)
	}
	now := metav1.NewTime(r.Clock.Now())
	ttl := r.cfg.DefaultTTL
	if b.Spec.TTL != nil {
		ttl = b.Spec.TTL.Duration
	}
	exp := metav1.NewTime(now.Add(ttl))
	b.Status.Phase = v1alpha1.BackupInProgress
	b.Status.StartTime, b.Status.Expiration = &now, &exp
	meta.SetStatusCondition(&b.Status.Conditions, metav1.Condition{Type: v1alpha1.ConditionReady,
		Status: metav1.ConditionFalse, Reason: "InProgress", ObservedGeneration: b.Generation,
		Message: fmt.Sprintf("backing up to location %s", loc.Name)})
	if b.Labels[v1alpha1.LabelLocation] != loc.Name {
		if b.Labels == nil {
			b.Labels = map[string]string{}
		}
		b.Labels[v1alpha1.LabelLocation] = loc.Name
		if err := r.Client.Update(ctx, b); err != nil {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, r.Client.Status().Update(ctx, b)
}

func validate(spec v1alpha1.BackupSpec) error {
	if spec.LabelSelector != nil && len(spec.OrLabelSelectors) > 0 {
		return fmt.Errorf("labelSelector and orLabelSelectors are exclusive; use one")
	}
	for _, s := range append([]*metav1.LabelSelector{spec.LabelSelector}, spec.OrLabelSelectors...) {
		if s == nil {
			continue
		}
		if _, err := metav1.LabelSelectorAsSelector(s); err != nil {
			return fmt.Errorf("label selector: %w", err)
		}
	}
	for _, d := range spec.VolumePolicy.StorageClasses {
		if !validPath(d) {
			return fmt.Errorf("volume policy: unknown data path %q", d)
		}
	}
	return nil
}

func validPath(d v1alpha1.DataPath) bool {
	return d == v1alpha1.DataPathSnapshotMove || d == v1alpha1.DataPathFileSystem || d == v1alpha1.DataPathSkip
}

// location fetches the backup's location and checks it can be written.
func (r *Reconciler) location(ctx context.Context, b *v1alpha1.Backup) (*v1alpha1.BackupLocation, error) {
	name := locationName(b.Spec)
	var loc v1alpha1.BackupLocation
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: b.Namespace, Name: name}, &loc)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("backup location %q does not exist in namespace %s; create it or set spec.locationName", name, b.Namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("read backup location %q: %w", name, err)
	}
	if loc.Spec.AccessMode == v1alpha1.AccessReadOnly {
		return nil, fmt.Errorf("backup location %q is ReadOnly; back up to a ReadWrite location", name)
	}
	return &loc, nil
}
