package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

var restoreView = view{kind: restoreKind,
	newObj: func() client.Object { return &v1alpha1.Restore{} },
	table: func(e *env, objs []client.Object) error {
		return restoreTable(e.cfg.Out, e.cfg.Now(), items[v1alpha1.Restore](objs))
	},
	describe: describeRestoreCmd,
}

func newRestoreCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "restore", Aliases: []string{"restores"}, Short: "Restore backups into this cluster; follow, inspect and delete restores"}
	cmd.AddCommand(newRestoreCreateCmd(e), newGetCmd(e, restoreView), newDescribeCmd(e, restoreView),
		newRestoreLogsCmd(e), newRestoreDeleteCmd(e))
	return cmd
}

type restoreFlags struct {
	fromBackup                   string
	nsMappings, classMappings    string
	includeNS, excludeNS         []string
	includeRes, excludeRes       []string
	selector                     string
	existing                     string
	restoreStatus, restoreVolume bool
	wait                         bool
}

func newRestoreCreateCmd(e *env) *cobra.Command {
	f := &restoreFlags{}
	cmd := &cobra.Command{
		Use:   "create [NAME] --from-backup BACKUP",
		Short: "Restore a backup",
		Long: `Create a Restore of a finished backup. Objects are restored in dependency
order; each PVC's data is restored by a node agent before any workload that
mounts it starts. Without NAME, the restore is named <backup>-<timestamp>.
With --wait, follow it to the end with live progress.`,
		Example: `  cairn restore create --from-backup shop-1 --namespace-mappings shop:shop-restored --wait
  cairn restore create shop-dr --from-backup shop-1 --storage-class-mappings fast:standard`,
		Args: rangeArgs(0, 1, "at most one NAME"),
		RunE: func(cmd *cobra.Command, args []string) error { return e.runRestoreCreate(cmd, f, args) },
	}
	fs := cmd.Flags()
	fs.StringVar(&f.fromBackup, "from-backup", "", "backup to restore (required)")
	fs.StringVar(&f.nsMappings, "namespace-mappings", "", "rename namespaces, as old1:new1,old2:new2")
	fs.StringVar(&f.classMappings, "storage-class-mappings", "", "rename storage classes, as old1:new1,old2:new2")
	fs.StringSliceVar(&f.includeNS, "include-namespaces", nil, "namespaces of the backup to restore, as globs (default all)")
	fs.StringSliceVar(&f.excludeNS, "exclude-namespaces", nil, "namespaces to leave out")
	fs.StringSliceVar(&f.includeRes, "include-resources", nil, "resources to restore (default all)")
	fs.StringSliceVar(&f.excludeRes, "exclude-resources", nil, "resources to leave out")
	fs.StringVarP(&f.selector, "selector", "l", "", "restore only objects matching this label selector")
	fs.StringVar(&f.existing, "existing-resource-policy", "none", "objects that already exist: none (leave them) or update (overwrite spec and labels)")
	fs.BoolVar(&f.restoreStatus, "restore-status", false, "restore the status of objects no controller rebuilds")
	fs.BoolVar(&f.restoreVolume, "restore-volumes", true, "restore volume data")
	fs.BoolVarP(&f.wait, "wait", "w", false, "follow the restore until it ends, with live progress")
	_ = cmd.RegisterFlagCompletionFunc("from-backup", e.completeNames(backupKind))
	return cmd
}

func (e *env) runRestoreCreate(cmd *cobra.Command, f *restoreFlags, args []string) error {
	rs, err := e.restoreFromFlags(cmd, f, args)
	if err != nil {
		return err
	}
	ctx := ctxOf(cmd)
	var b v1alpha1.Backup
	if err := e.get(ctx, backupKind, f.fromBackup, &b); err != nil {
		return err
	}
	if b.Status.Phase != v1alpha1.BackupCompleted && b.Status.Phase != v1alpha1.BackupPartiallyFailed {
		return fmt.Errorf("backup %q is %s; restore from a Completed or PartiallyFailed backup (wait for it with `cairn backup describe %s`)",
			b.Name, orNew(b.Status.Phase), b.Name)
	}
	c, err := e.kube()
	if err != nil {
		return err
	}
	if err := c.Create(ctx, rs); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("restore %q already exists in namespace %s; pick another name, or delete it with `cairn restore delete %s`", rs.Name, e.namespace, rs.Name)
		}
		return fmt.Errorf("create restore %s/%s: %w", e.namespace, rs.Name, err)
	}
	printf(e.cfg.Out, "Restore %q of backup %q created in namespace %s.\n", rs.Name, b.Name, e.namespace)
	if !f.wait {
		printf(e.cfg.Out, "Follow it with `cairn restore describe %s`, or create with --wait to watch its progress.\n", rs.Name)
		return nil
	}
	return e.waitRestore(cmd, rs.Name)
}

func (e *env) restoreFromFlags(cmd *cobra.Command, f *restoreFlags, args []string) (*v1alpha1.Restore, error) {
	if f.fromBackup == "" {
		return nil, usageErrorf("restore create needs --from-backup BACKUP; list backups with `cairn backup get`")
	}
	rs := &v1alpha1.Restore{ObjectMeta: metav1.ObjectMeta{Namespace: e.namespace, Name: stampName(f.fromBackup, e.cfg.Now())}}
	if len(args) == 1 {
		rs.Name = args[0]
	}
	if err := checkName("restore", rs.Name); err != nil {
		return nil, err
	}
	nsMap, err := parseMappings("namespace-mappings", f.nsMappings, namespaceName)
	if err != nil {
		return nil, err
	}
	classMap, err := parseMappings("storage-class-mappings", f.classMappings, storageClassName)
	if err != nil {
		return nil, err
	}
	policy := v1alpha1.ExistingPolicy(f.existing)
	if policy != v1alpha1.ExistingNone && policy != v1alpha1.ExistingUpdate {
		return nil, usageErrorf("--existing-resource-policy %q is neither none nor update", f.existing)
	}
	rs.Spec = v1alpha1.RestoreSpec{BackupName: f.fromBackup, IncludedNamespaces: f.includeNS, ExcludedNamespaces: f.excludeNS,
		IncludedResources: f.includeRes, ExcludedResources: f.excludeRes, NamespaceMapping: nsMap, StorageClassMapping: classMap,
		ExistingResourcePolicy: policy, RestoreStatus: f.restoreStatus}
	if cmd.Flags().Changed("restore-volumes") {
		v := f.restoreVolume
		rs.Spec.RestoreVolumes = &v
	}
	if f.selector != "" {
		sel, err := metav1.ParseToLabelSelector(f.selector)
		if err != nil {
			return nil, usageErrorf("--selector %q does not parse: %v; write it as kubectl does, e.g. app=web", f.selector, err)
		}
		rs.Spec.LabelSelector = sel
	}
	return rs, nil
}

func newRestoreDeleteCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:               "delete NAME...",
		Short:             "Delete restores (the restored objects stay)",
		Args:              rangeArgs(1, -1, "one or more restore names"),
		ValidArgsFunction: e.completeNames(restoreKind),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.deleteObjects(cmd, restoreKind, args, false, func() client.Object { return &v1alpha1.Restore{} },
				"the objects it restored stay")
		},
	}
}

func newRestoreLogsCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "logs NAME",
		Short: "Print what a restore did, object by object",
		Long: `Print a restore's result for each object (failures first, up to 500, as the
controller records them), each volume, and its warnings and errors.`,
		Args:              exactArgs(1, "one restore NAME"),
		ValidArgsFunction: e.completeNames(restoreKind),
		RunE: func(cmd *cobra.Command, args []string) error {
			var rs v1alpha1.Restore
			if err := e.get(ctxOf(cmd), restoreKind, args[0], &rs); err != nil {
				return err
			}
			items, err := e.volumeRestores(cmd, rs.Name)
			if err != nil {
				return err
			}
			for _, l := range restoreLog(&rs, items) {
				printf(e.cfg.Out, "%s\n", l)
			}
			return nil
		},
	}
}

// restoreLog renders a restore's outcome one line per entry.
func restoreLog(rs *v1alpha1.Restore, vols []v1alpha1.VolumeRestore) []string {
	c := rs.Status.Counts
	out := []string{fmt.Sprintf("restore %s/%s of backup %s: %s; %d created, %d updated, %d skipped, %d failed",
		rs.Namespace, rs.Name, rs.Spec.BackupName, orNew(rs.Status.Phase), c.Created, c.Updated, c.Skipped, c.Failed)}
	for _, it := range rs.Status.Items {
		name := it.Name
		if it.Namespace != "" {
			name = it.Namespace + "/" + it.Name
		}
		line := fmt.Sprintf("%s %s: %s", it.Resource, name, it.Result)
		if it.Message != "" {
			line += ": " + it.Message
		}
		out = append(out, line)
	}
	for _, v := range vols {
		out = append(out, fmt.Sprintf("volume %s: %s from snapshot %s on node %s, %d bytes%s", pvcKey(v.Spec.Target.PVC),
			orNone(string(v.Status.Phase)), short(v.Spec.SnapshotID), v.Spec.NodeName, v.Status.Progress.BytesDone, messageSuffix(v.Status.Message)))
	}
	for _, w := range rs.Status.Warnings {
		out = append(out, "warning: "+w)
	}
	for _, er := range rs.Status.Errors {
		out = append(out, "error: "+er)
	}
	return out
}

func messageSuffix(m string) string {
	if m == "" {
		return ""
	}
	return ": " + m
}
