// Package kubeletreg registers a CSI driver with the kubelet through the
// kubelet's plugin registration API (k8s.io/kubelet pluginregistration v1),
// the job node-driver-registrar does in most clusters.
//
// The kubelet watches its plugins_registry directory. When a socket appears
// there it dials it, asks GetInfo for the plugin's type, name, endpoint and
// supported CSI versions, then calls the driver's NodeGetInfo on that
// endpoint itself, writes the driver into the node's CSINode object, and
// reports the result back through NotifyRegistrationStatus. Removing the
// socket unregisters the driver, so Serve removes it when it returns.
//
// The endpoint handed to the kubelet is a path on the node as the kubelet
// sees it, which is not the path inside the driver's container when the
// driver runs in a pod; Config keeps the two apart.
//
// This lives outside package csi because csi imports no Kubernetes module.
package kubeletreg
