package backupsync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/manifest"
)

// sync imports every backup of loc's repository that has no Backup here.
func (r *Reconciler) sync(ctx context.Context, loc *v1alpha1.BackupLocation) error {
	rp, err := r.cfg.Opener.Open(ctx, loc)
	if err != nil {
		return err
	}
	newest, err := r.manifests(ctx, loc, rp)
	if err != nil {
		return err
	}
	var list v1alpha1.BackupList
	if err := r.cfg.Client.List(ctx, &list, client.InNamespace(loc.Namespace)); err != nil {
		return fmt.Errorf("list Backups in %s: %w", loc.Namespace, err)
	}
	existing := map[string]*v1alpha1.Backup{}
	for i := range list.Items {
		existing[list.Items[i].Name] = &list.Items[i]
	}
	var imported []string
	var errs []error
	for _, name := range sortedKeys(newest) {
		s := newest[name]
		if b, ok := existing[name]; ok {
			errs = append(errs, r.reconcileExisting(ctx, loc, b, s))
			continue
		}
		done, err := r.importBackup(ctx, loc, rp, s)
		errs = append(errs, err)
		if done {
			imported = append(imported, name)
		}
	}
	if len(imported) > 0 {
		r.cfg.Recorder.Eventf(loc, nil, corev1.EventTypeNormal, "BackupsImported", "Sync",
			"imported %d Backups from the repository: %s", len(imported), strings.Join(imported, ", "))
	}
	return errors.Join(errs...)
}

// manifests returns the newest readable manifest per backup name, loading
// only manifests this process has not read before.
func (r *Reconciler) manifests(ctx context.Context, loc *v1alpha1.BackupLocation, rp *repo.Repository) (map[string]manifest.Stored, error) {
	key := loc.Namespace + "/" + loc.Name
	ids, err := manifest.IDs(ctx, rp)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	known := r.known[key]
	r.mu.Unlock()
	fresh := map[core.ID]*manifest.Manifest{}
	var missing []core.ID
	for _, id := range ids {
		if m, ok := known[id]; ok {
			fresh[id] = m
		} else {
			missing = append(missing, id)
		}
	}
	loaded, lerr := manifest.LoadAll(ctx, rp, missing)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	for _, id := range missing {
		fresh[id] = nil // unreadable unless loaded below
	}
	for _, s := range loaded {
		fresh[s.ID] = &s.Manifest
	}
	if lerr != nil {
		r.warnOnce(loc, "unreadable:"+lerr.Error(), "ManifestUnreadable",
			"some backups in the repository of BackupLocation %s/%s cannot be imported: %v", loc.Namespace, loc.Name, lerr)
	}
	r.mu.Lock()
	r.known[key] = fresh // drops manifests deleted from the repository
	r.mu.Unlock()
	var all []manifest.Stored
	for id, m := range fresh {
		if m != nil {
			all = append(all, manifest.Stored{ID: id, Manifest: *m})
		}
	}
	return manifest.Newest(all), nil
}

// importBackup creates the Backup of one manifest, reporting whether it did.
func (r *Reconciler) importBackup(ctx context.Context, loc *v1alpha1.BackupLocation, rp *repo.Repository, s manifest.Stored) (bool, error) {
	if problems := validation.IsDNS1123Subdomain(s.BackupName); len(problems) > 0 {
		r.warnOnce(loc, "name:"+s.ID.String(), "ManifestSkipped", "manifest %s names Backup %q, which is not a valid name (%s); not imported",
			s.ID.Short(), s.BackupName, strings.Join(problems, "; "))
		return false, nil
	}
	if exp := s.Status.Expiration; exp != nil && !exp.After(r.cfg.Clock.Now()) {
		return false, nil
	}
	var probe v1alpha1.Backup
	err := r.cfg.APIReader.Get(ctx, client.ObjectKey{Namespace: loc.Namespace, Name: s.BackupName}, &probe)
	if err == nil {
		return false, nil // created since the cache was filled
	}
	if !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("check for Backup %s/%s: %w", loc.Namespace, s.BackupName, err)
	}
	// Only now, with the object known to be absent, check that the backup's
	// deletion has not removed its manifest (see doc.go).
	if _, err := manifest.Load(ctx, rp, s.ID); err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	b := newBackup(loc, s)
	if err := r.cfg.Client.Create(ctx, b); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return false, nil
		}
		if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
			r.warnOnce(loc, "invalid:"+s.ID.String(), "ManifestSkipped", "manifest %s: the API server rejected "+
				"Backup %s: %v; not imported (is this cluster's cairn older than the one that made it?)", s.ID.Short(), b.Name, err)
			return false, nil
		}
		return false, fmt.Errorf("import Backup %s/%s: %w", b.Namespace, b.Name, err)
	}
	return true, r.writeStatus(ctx, b, s)
}

func newBackup(loc *v1alpha1.BackupLocation, s manifest.Stored) *v1alpha1.Backup {
	spec := *s.Spec.DeepCopy()
	spec.LocationName = loc.Name
	return &v1alpha1.Backup{
		ObjectMeta: metav1.ObjectMeta{
			Name:        s.BackupName,
			Namespace:   loc.Namespace,
			Labels:      map[string]string{v1alpha1.LabelLocation: loc.Name},
			Annotations: map[string]string{v1alpha1.AnnotationSynced: loc.Name},
		},
		Spec: spec,
	}
}

// writeStatus gives an imported Backup the manifest's final status.
func (r *Reconciler) writeStatus(ctx context.Context, b *v1alpha1.Backup, s manifest.Stored) error {
	b.Status = *s.Status.DeepCopy()
	b.Status.ManifestID = s.ID.String()
	if !b.Status.Phase.Done() {
		b.Status.Phase = v1alpha1.BackupCompleted
	}
	if err := r.cfg.Client.Status().Update(ctx, b); err != nil {
		return fmt.Errorf("write status of imported Backup %s/%s: %w", b.Namespace, b.Name, err)
	}
	return nil
}

// reconcileExisting finishes an import interrupted before its status was
// written, and warns when a manifest's name is taken by another backup.
func (r *Reconciler) reconcileExisting(ctx context.Context, loc *v1alpha1.BackupLocation, b *v1alpha1.Backup, s manifest.Stored) error {
	if b.Annotations[v1alpha1.AnnotationSynced] == loc.Name && b.Status.Phase == "" {
		return r.writeStatus(ctx, b.DeepCopy(), s)
	}
	if id := b.Status.ManifestID; id != "" && !r.sameBackup(loc, id, s.BackupName) {
		r.warnOnce(loc, "clash:"+s.ID.String(), "NameClash", "manifest %s names Backup %s, but a different backup of that "+
			"name exists here (manifest %.8s); not imported. Give Schedules distinct names in clusters that share a location",
			s.ID.Short(), s.BackupName, id)
	}
	return nil
}

// sameBackup reports whether manifest id is one of those naming backup.
func (r *Reconciler) sameBackup(loc *v1alpha1.BackupLocation, id, backup string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for mid, m := range r.known[loc.Namespace+"/"+loc.Name] {
		if mid.String() == id && m != nil && m.BackupName == backup {
			return true
		}
	}
	return false
}

func (r *Reconciler) warnOnce(loc *v1alpha1.BackupLocation, key, reason, format string, args ...any) {
	r.mu.Lock()
	k := loc.Namespace + "/" + loc.Name + "/" + key
	seen := r.warned[k]
	r.warned[k] = true
	r.mu.Unlock()
	if !seen {
		r.cfg.Recorder.Eventf(loc, nil, corev1.EventTypeWarning, reason, "Sync", format, args...)
	}
}

func sortedKeys(m map[string]manifest.Stored) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
