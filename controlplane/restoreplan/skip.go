package restoreplan

// rootCAConfigMap is the config map the root CA publisher writes into
// every namespace.
const rootCAConfigMap = "kube-root-ca.crt"

// neverRestored says why an object the filters selected is left out, or
// "" when it is restored. The package documentation lists the rules.
func neverRestored(d *decoded) string {
	ns, name := d.u.GetNamespace(), d.u.GetName()
	switch {
	case d.gr == grConfigMaps && name == rootCAConfigMap:
		return "published in every namespace by the cluster's root CA publisher, with the target cluster's CA"
	case ns == "default" && name == "kubernetes" &&
		(d.gr == grServices || d.gr == grEndpoints || d.gr == grEndpointSlices):
		return "maintained by the API server itself"
	}
	return ""
}
