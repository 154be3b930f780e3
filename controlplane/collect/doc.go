// Package collect gathers the API objects a Backup selects (backup step 3)
// and stores them in the repository as a snapshot of JSON files (step 4);
// Load reads them back for a restore.
//
// # What Collect reads
//
// Every resource that discovery reports at its group's preferred version
// (a resource the preferred version lacks is read at the first version
// that serves it), if it supports list, get and create: what cannot be
// created cannot be restored. Groups whose discovery fails, typically an
// aggregated API whose service is down, are reported as warnings and the
// rest is collected. A resource cairn may not list (Forbidden), or that
// vanished mid-backup, is a warning too; any other API error fails Collect.
//
// # Filters (BackupSpec)
//
//   - includedNamespaces / excludedNamespaces are globs (path.Match; "*" is
//     every namespace). Empty includes mean all. Excludes win. A literal
//     name (no glob characters) that does not exist fails Collect with
//     ErrNamespaceNotFound, naming the namespace and the field to fix; a
//     glob that matches nothing is a warning.
//   - includedResources / excludedResources are globs matched against
//     "resource" and, outside the core group, "resource.group":
//     "deployments", "deployments.apps", "*.cairn.dev". A bare name matches
//     the resource in every group; add ".group" to pin one. Excludes win.
//   - includeClusterResources: true lists every cluster-scoped resource the
//     resource globs allow, false none, unset only when every namespace is
//     selected (no includes or "*", and no excludes).
//   - labelSelector, or orLabelSelectors (any one matches), select objects
//     by label. Setting both is an ErrInvalidFilter.
//
// Whatever includeClusterResources, includedResources and the selectors
// say, Collect adds the cluster-scoped objects restore needs to recreate
// what it collected: the Namespace object of each selected namespace (with
// a label selector or includedResources, of each namespace that holds a
// collected object), the PersistentVolume bound to each collected
// PersistentVolumeClaim, and the
// CustomResourceDefinition of each collected custom resource. Only
// excludedResources can leave them out.
//
// # Never backed up
//
// These are skipped whatever the filter says, because restoring them is
// wrong or useless (neverBackedUp in skip.go is the list in code):
//
//   - events, events.events.k8s.io: a record of the past, not state.
//   - leases.coordination.k8s.io: leader election and heartbeats of live
//     processes; a restored lease would hold off the real holder.
//   - nodes, csinodes.storage.k8s.io: each kubelet registers its own.
//   - componentstatuses: a view of control-plane health.
//   - controllerrevisions.apps: the StatefulSet and DaemonSet controllers
//     write them from the pod template; restored ones would carry owner
//     UIDs that no longer exist and be garbage-collected. Rollback history
//     of those two kinds starts afresh after a restore.
//   - volumeattachments.storage.k8s.io: attachment of volumes to nodes of
//     this cluster; the attach/detach controller recreates them.
//   - csistoragecapacities.storage.k8s.io: published by CSI provisioners.
//   - ipaddresses.networking.k8s.io: the allocator's record of Service IPs,
//     which restore clears so that Services get fresh ones.
//   - cairn's own backups, restores, volumebackups and volumerestores
//     (cairn.dev): a Backup's record is its repository snapshot, which the
//     sync controller imports; a restored Backup without status would run
//     again, and a restored Restore would restore again. Work items belong
//     to a run that is over. BackupLocations and Schedules are kept: they
//     are configuration (exclude "*.cairn.dev" to leave them out).
//
// Resources that cannot be listed or created (tokenreviews,
// subjectaccessreviews, selfsubjectreviews, bindings, metrics) never pass
// discovery's verb check. Some objects of kept resources are skipped as
// well, because a controller rebuilds them from objects that are backed up:
//
//   - Pods with a controller owner reference (from ReplicaSets, Jobs,
//     StatefulSets, DaemonSets, a Node for mirror pods): the restored owner
//     creates them again, and restoring them too would race it or run
//     twice. Pods without a controller are backed up.
//   - Endpoints of a Service that has a selector: the endpoints controller
//     owns them. Endpoints of selector-less Services are written by people
//     and are backed up.
//   - EndpointSlices labelled endpointslice.kubernetes.io/managed-by with
//     the endpoint slice controller or its mirroring controller. Slices
//     managed by anything else are backed up.
//
// # Tree layout
//
// Store writes one snapshot holding a single directory:
//
//	resources/<group>/<resource>/<namespace>/<name>.json
//
// <group> is the API group, or "core" for the core group; <resource> is
// the plural resource name; <namespace> is the object's namespace, or
// "_cluster" for cluster-scoped objects (no namespace can be called that);
// <name>.json holds the object exactly as read, as compact JSON with
// sorted keys, at the version it was read (its apiVersion says which).
// For example:
//
//	resources/apps/deployments/shop/web.json
//	resources/core/namespaces/_cluster/shop.json
//	resources/apiextensions.k8s.io/customresourcedefinitions/_cluster/widgets.example.com.json
//
// Every node of the tree has fixed metadata (mode 0644 or 0755, owner 0,
// mtime 0), so an unchanged object, directory or namespace yields the same
// blobs as in the previous backup and costs nothing to store again.
package collect
