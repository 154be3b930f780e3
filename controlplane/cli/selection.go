package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// selectionFlags are the Backup fields a person sets often; backup create
// and schedule create share them.
type selectionFlags struct {
	includeNS, excludeNS   []string
	includeRes, excludeRes []string
	clusterResources       bool
	selector               string
	ttl                    time.Duration
	location               string
	volumePolicy           string
}

// selectionFlagNames are the flags --from-schedule replaces.
var selectionFlagNames = []string{"include-namespaces", "exclude-namespaces", "include-resources", "exclude-resources",
	"include-cluster-resources", "selector", "ttl", "location", "default-volume-policy"}

func (f *selectionFlags) add(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringSliceVar(&f.includeNS, "include-namespaces", nil, "namespaces to back up, as globs (default all)")
	fs.StringSliceVar(&f.excludeNS, "exclude-namespaces", nil, "namespaces to leave out, as globs")
	fs.StringSliceVar(&f.includeRes, "include-resources", nil, "resources to back up, as resource or resource.group globs (default all)")
	fs.StringSliceVar(&f.excludeRes, "exclude-resources", nil, "resources to leave out")
	fs.BoolVar(&f.clusterResources, "include-cluster-resources", false, "include cluster-scoped resources (default: only when all namespaces are backed up)")
	fs.StringVarP(&f.selector, "selector", "l", "", "back up only objects matching this label selector, e.g. app=web,tier!=cache")
	fs.DurationVar(&f.ttl, "ttl", 0, "how long the backup is kept before it expires (default the controller's, 720h)")
	fs.StringVar(&f.location, "location", "", "backup location to write to (default \"default\")")
	fs.StringVar(&f.volumePolicy, "default-volume-policy", "", "data path of volumes no rule matches: snapshot-move, file-system or skip (default snapshot-move)")
}

// spec builds the BackupSpec; mistakes are usage errors.
func (f *selectionFlags) spec(cmd *cobra.Command) (v1alpha1.BackupSpec, error) {
	s := v1alpha1.BackupSpec{
		IncludedNamespaces: f.includeNS, ExcludedNamespaces: f.excludeNS,
		IncludedResources: f.includeRes, ExcludedResources: f.excludeRes,
		LocationName: f.location,
	}
	if cmd.Flags().Changed("include-cluster-resources") {
		v := f.clusterResources
		s.IncludeClusterResources = &v
	}
	if f.selector != "" {
		sel, err := metav1.ParseToLabelSelector(f.selector)
		if err != nil {
			return s, usageErrorf("--selector %q does not parse: %v; write it as kubectl does, e.g. app=web,tier in (a,b)", f.selector, err)
		}
		s.LabelSelector = sel
	}
	if f.ttl < 0 {
		return s, usageErrorf("--ttl %s is negative", f.ttl)
	}
	if f.ttl > 0 {
		s.TTL = &metav1.Duration{Duration: f.ttl}
	}
	switch p := v1alpha1.DataPath(f.volumePolicy); p {
	case "", v1alpha1.DataPathSnapshotMove, v1alpha1.DataPathFileSystem, v1alpha1.DataPathSkip:
		s.VolumePolicy.Default = p
	default:
		return s, usageErrorf("--default-volume-policy %q is not a data path; use snapshot-move, file-system or skip", f.volumePolicy)
	}
	return s, nil
}

// checkName rejects names the API server would, before it does, with the
// reason: cairn names become label values, so at most 63 characters.
func checkName(what, name string) error {
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return usageErrorf("%s name %q is not valid: %s", what, name, errs[0])
	}
	return nil
}

// stampName appends the time, as a Schedule names its Backups.
func stampName(prefix string, t time.Time) string {
	name := prefix + "-" + t.UTC().Format("20060102150405")
	if len(name) > validation.DNS1123LabelMaxLength {
		return fmt.Sprintf("%.48s-%s", prefix, t.UTC().Format("20060102150405"))
	}
	return name
}
