package collect

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// neverBackedUp lists the resources Collect never lists, whatever the
// filter says, with the reason. The package documentation repeats it for
// users; keep the two in step. Resources that cannot be listed, read and
// created (tokenreviews, subjectaccessreviews, selfsubjectreviews,
// bindings, metrics.k8s.io, ...) are left out by discovery already.
var neverBackedUp = map[schema.GroupResource]string{
	{Group: "", Resource: "events"}:                             "a record of the past, not state",
	{Group: "events.k8s.io", Resource: "events"}:                "a record of the past, not state",
	{Group: "coordination.k8s.io", Resource: "leases"}:          "leader election and heartbeats of live processes",
	{Group: "", Resource: "nodes"}:                              "registered by each kubelet",
	{Group: "", Resource: "componentstatuses"}:                  "a view of the control plane's health",
	{Group: "apps", Resource: "controllerrevisions"}:            "written by StatefulSet and DaemonSet controllers, which write them again",
	{Group: "storage.k8s.io", Resource: "csinodes"}:             "registered by each kubelet",
	{Group: "storage.k8s.io", Resource: "volumeattachments"}:    "attachment state of volumes to nodes of this cluster",
	{Group: "storage.k8s.io", Resource: "csistoragecapacities"}: "published by CSI provisioners",
	{Group: "networking.k8s.io", Resource: "ipaddresses"}:       "the allocator's record of Service IPs, which restore does not keep",
	{Group: "cairn.dev", Resource: "backups"}:                   "the location is their record; sync imports them",
	{Group: "cairn.dev", Resource: "restores"}:                  "one-shot requests, not state",
	{Group: "cairn.dev", Resource: "volumebackups"}:             "work items of a running backup",
	{Group: "cairn.dev", Resource: "volumerestores"}:            "work items of a running restore",
}

// Labels and values that mark EndpointSlices written by Kubernetes'
// own controllers.
const (
	endpointSliceManagedBy  = "endpointslice.kubernetes.io/managed-by"
	endpointSliceController = "endpointslice-controller.k8s.io"
	endpointSliceMirroring  = "endpointslicemirroring-controller.k8s.io"
)

var (
	podsGR           = schema.GroupResource{Resource: "pods"}
	endpointsGR      = schema.GroupResource{Resource: "endpoints"}
	endpointSlicesGR = schema.GroupResource{Group: "discovery.k8s.io", Resource: "endpointslices"}
	servicesGR       = schema.GroupResource{Resource: "services"}
	namespacesGR     = schema.GroupResource{Resource: "namespaces"}
	pvcsGR           = schema.GroupResource{Resource: "persistentvolumeclaims"}
	pvsGR            = schema.GroupResource{Resource: "persistentvolumes"}
	crdsGR           = schema.GroupResource{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"}
)

// rebuiltByController reports objects of otherwise backed-up resources
// that a controller recreates from other objects, so restoring them would
// only race it. selectorServices holds the "namespace/name" of Services
// with a selector, whose Endpoints the endpoints controller writes.
func rebuiltByController(gr schema.GroupResource, obj *unstructured.Unstructured, selectorServices map[string]bool) bool {
	switch gr {
	case podsGR:
		return hasControllerOwner(obj)
	case endpointsGR:
		return selectorServices[obj.GetNamespace()+"/"+obj.GetName()]
	case endpointSlicesGR:
		m := obj.GetLabels()[endpointSliceManagedBy]
		return m == endpointSliceController || m == endpointSliceMirroring
	}
	return false
}

func hasControllerOwner(obj *unstructured.Unstructured) bool {
	for _, o := range obj.GetOwnerReferences() {
		if o.Controller != nil && *o.Controller {
			return true
		}
	}
	return false
}
