package nodeagent

import (
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// Item kinds, as journal records and metrics name them.
const (
	kindBackup  = "backup"
	kindRestore = "restore"
	kindBase    = "base"
)

// statusOf returns a work item's status.
func statusOf(obj client.Object) *v1alpha1.WorkStatus {
	switch o := obj.(type) {
	case *v1alpha1.VolumeBackup:
		return &o.Status
	case *v1alpha1.VolumeRestore:
		return &o.Status
	}
	panic("nodeagent: not a work item") // only the two kinds ever reach here
}

// newItem returns an empty object of the same kind as obj.
func newItem(kind string) client.Object {
	if kind == kindBackup {
		return &v1alpha1.VolumeBackup{}
	}
	return &v1alpha1.VolumeRestore{}
}

func kindOf(obj client.Object) string {
	if _, ok := obj.(*v1alpha1.VolumeBackup); ok {
		return kindBackup
	}
	return kindRestore
}

// itemKey identifies a running item.
type itemKey struct {
	kind string
	uid  types.UID
}
