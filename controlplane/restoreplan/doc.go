// Package restoreplan turns backed-up API objects into a restore: Plan
// selects, cleans, maps and orders them (restore steps 2 to 4), and Apply
// creates one of them in the cluster under the existing-resource policy
// (step 5). It does not read the repository, restore volume data or run
// exec hooks: the restore controller does, between the stages of a plan.
//
// # Selection (RestoreSpec filters)
//
// Filters look at objects as they were backed up, before any mapping:
//
//   - includedNamespaces / excludedNamespaces are globs (path.Match) on
//     the source namespace; a Namespace object is matched by its name.
//     Empty includes mean all; excludes win.
//   - includedResources / excludedResources are globs on "resource" and,
//     outside the core group, "resource.group" ("deployments",
//     "deployments.apps", "*.example.com"). Excludes win.
//   - labelSelector selects by the object's labels.
//   - Cluster-scoped objects other than Namespaces are restored when every
//     namespace is selected, or when includedResources is set and matches
//     them ("clusterroles", or "*" for all). A restore of some namespaces
//     does not bring back the whole cluster's RBAC or classes by accident.
//   - Whatever the filters say, an object restored for its own sake
//     brings its dependencies along: its Namespace, the CRD of a custom
//     resource, and the PersistentVolume its claim is bound to. Only
//     excludedResources leaves them out.
//
// A few objects that the filters select are never restored, and are listed
// as Skipped with the reason: the kube-root-ca.crt ConfigMap of every
// namespace (the root CA publisher writes the target cluster's CA into
// each namespace) and the default/kubernetes Service, Endpoints and
// EndpointSlice (the API server maintains them). The backup never holds
// what collect never backs up (events, leases, nodes, pods owned by a
// controller, ...).
//
// # Order and stages
//
// Items are sorted so that whatever an object refers to exists before it:
//
//  1. CustomResourceDefinitions (Apply waits until each is Established)
//  2. Namespaces
//  3. StorageClasses
//  4. ServiceAccounts
//  5. ClusterRoles, 6. ClusterRoleBindings, 7. Roles, 8. RoleBindings
//  9. Secrets
//  10. ConfigMaps
//  11. PersistentVolumes
//  12. PersistentVolumeClaims
//  13. everything else (Services, Ingresses, NetworkPolicies, custom
//     resources, ...)
//  14. workloads: Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs,
//     CronJobs, Pods
//  15. admission webhooks and policies (Mutating- and
//     ValidatingWebhookConfigurations, ValidatingAdmissionPolicies and
//     their bindings): restored earlier, a webhook whose server is one of
//     the restored workloads would reject everything after it.
//
// Objects of the same resource keep their input order. The order falls
// into three stages (Item.Stage): Prelude (1–10), Volumes (11–12) and
// Workloads (13–15). Between Volumes and Workloads the controller restores
// the volumes' data and waits for it, so that no workload sees an empty
// volume; custom resources wait too, because operators start pods.
//
// # Stripping
//
// Strip removes what must not be copied into a cluster. Every object
// loses:
//
//   - metadata.uid, resourceVersion, generation, creationTimestamp,
//     deletionTimestamp, deletionGracePeriodSeconds, selfLink: the API
//     server assigns them; a resourceVersion or uid on create is refused,
//     and a deletionTimestamp would describe a deletion that is not
//     happening here.
//   - metadata.managedFields: server-side apply ownership of the source
//     cluster's field managers; the create starts a fresh record.
//   - owner references to objects that are not restored: the garbage
//     collector deletes an object whose owner does not exist. References
//     to restored owners are kept and rewritten: the owner's UID changes,
//     so Apply sets the new UID when the owner is already restored, and
//     Owners.Finish adds the references whose owners came later. Without
//     an Owners, Apply drops every reference and controllers re-adopt the
//     objects their selectors match (a Deployment its ReplicaSets).
//   - status, unless spec.restoreStatus is set and the object is outside
//     Kubernetes' own API groups ("", apps, batch, autoscaling, policy,
//     *.k8s.io). Controllers rebuild the status of built-in objects from
//     the cluster as it is; a copied status would be wrong until then.
//     Custom resources' status is restored through the status subresource.
//
// And by resource:
//
//   - Service: spec.clusterIP and clusterIPs, except "None" (a headless
//     Service stays headless): the IP was allocated from the source
//     cluster's range and may be taken or out of range here.
//     spec.healthCheckNodePort: allocated, like the IPs. Node ports
//     (spec.ports[].nodePort) are kept when the Service's namespace is not
//     mapped (a restore in place or into another cluster, where clients
//     may use the port) and stripped when it is (a copy next to the
//     original, whose ports are still allocated). If kept ports turn out
//     to be taken, Apply creates the Service with new ones and says so.
//   - Pod: spec.nodeName (the scheduler places the pod; the node may not
//     exist), spec.priority (admission computes it from
//     priorityClassName and refuses a pod that carries a different one),
//     spec.ephemeralContainers (refused on create), and the projected
//     service account token volumes kube-api-access-* with their mounts
//     (the ServiceAccount admission plugin injects fresh ones).
//   - PersistentVolume: spec.claimRef.uid and resourceVersion, which name
//     the source cluster's claim; the claimRef keeps the claim's
//     namespace (mapped) and name, so the volume is pre-bound to the
//     restored claim. The pv.kubernetes.io/bound-by-controller annotation,
//     so the controller treats that binding as the user's and never
//     undoes it.
//   - PersistentVolumeClaim: spec.volumeName and the annotations the PV
//     controller and scheduler write (pv.kubernetes.io/bind-completed,
//     pv.kubernetes.io/bound-by-controller,
//     volume.kubernetes.io/selected-node,
//     volume(.beta).kubernetes.io/storage-provisioner): the claim is bound
//     afresh, to the restored volume, on a node of this cluster, by the
//     provisioner of its (possibly mapped) class. spec.dataSource and
//     dataSourceRef: the data comes from the backup, and a snapshot or
//     claim named as source may not exist here, which would block
//     provisioning.
//   - Secret of type kubernetes.io/service-account-token: the token,
//     ca.crt and namespace keys and the kubernetes.io/service-account.uid
//     annotation. The token was signed by the source cluster and names the
//     old ServiceAccount UID; the token controller fills the secret again
//     for the restored ServiceAccount.
//   - ServiceAccount: entries of secrets named <name>-token-*, the token
//     secrets generated for it in the source cluster.
//   - Job (without spec.manualSelector): spec.selector and the
//     controller-uid and batch.kubernetes.io/controller-uid labels of the
//     Job and its template; the API server derives them from the new UID
//     and refuses a selector that does not match it.
//
// Finalizers are kept: they belong to controllers that may need to clean
// up what the object stands for.
//
// # Mappings
//
// spec.namespaceMapping (old → new) applies to every object's namespace, a
// Namespace's name (and its kubernetes.io/metadata.name label), the
// ServiceAccount subjects of RoleBindings and ClusterRoleBindings (and the
// system:serviceaccount:<ns>:<name> users and system:serviceaccounts:<ns>
// groups), a PV's claimRef, and NetworkPolicy namespaceSelectors that
// match kubernetes.io/metadata.name. spec.storageClassMapping applies to
// spec.storageClassName and the volume.beta.kubernetes.io/storage-class
// annotation of PVCs, PVs, StatefulSet volumeClaimTemplates, and the
// generic ephemeral volumes of pods and pod templates. A claim with no
// class is left to the default class. Mappings are validated: both sides
// must be valid names.
//
// # Hooks
//
// The initContainers of each RestoreResourceHook go to the front of the
// init containers of the Pods, and of the pod templates of Deployments,
// StatefulSets, DaemonSets, ReplicaSets, Jobs and CronJobs, that the hook
// selects: by the restored (mapped) namespace, as the postRestore exec
// hooks do, and by the pods' labels (the template's labels for a
// workload). Hooks inject in spec order. An init container already there
// under an injected name is replaced, so restoring a restored object does
// not inject twice.
//
// # Existing objects (Apply)
//
// Create comes first; when the object exists, policy none leaves it as it
// is (Skipped) and policy update replaces, on the live object, its labels,
// its annotations (keeping the live ones that controllers write, such as
// pv.kubernetes.io/*) and its content: every top-level field but
// apiVersion, kind, metadata and status (spec, data, rules, subjects...).
// Fields the API server refuses to change are kept from the live object:
// the specs of PVs, PVCs, Pods, Jobs and Namespaces (these get labels and
// annotations only), the selectors of Deployments, ReplicaSets, DaemonSets
// and StatefulSets, and a StatefulSet's serviceName, podManagementPolicy
// and volumeClaimTemplates. A Service keeps its live cluster IP and node
// ports: the API server carries allocated values over when an update
// leaves them out. A Namespace that is being deleted fails with
// ErrNamespaceTerminating, and so does every object created into one; an
// object whose namespace does not exist fails with ErrNamespaceMissing,
// and one whose resource the cluster does not serve with ErrNotServed.
// Every message names the object ("deployments.apps shop/web") and the
// fix.
//
// Apply needs no RESTMapper: the backup records each object's resource and
// scope, which is all the dynamic client needs, and a discovery cache
// would be stale right after the restore creates a CRD. Apply may be
// called concurrently for the items of one stage. One Owners per restore,
// passed to every Apply and finished with Owners.Finish after the last
// item, keeps owner references (see Stripping).
package restoreplan
