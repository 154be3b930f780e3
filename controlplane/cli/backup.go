package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

var backupView = view{kind: backupKind,
	newObj: func() client.Object { return &v1alpha1.Backup{} },
	table: func(e *env, objs []client.Object) error {
		return backupTable(e.cfg.Out, e.cfg.Now(), items[v1alpha1.Backup](objs))
	},
	describe: describeBackupCmd,
}

func newBackupCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "backup", Aliases: []string{"backups"}, Short: "Back up API objects and volumes; follow, inspect, cancel and delete backups"}
	cmd.AddCommand(newBackupCreateCmd(e), newGetCmd(e, backupView), newDescribeCmd(e, backupView),
		newBackupLogsCmd(e), newBackupDeleteCmd(e), newBackupCancelCmd(e))
	return cmd
}

type backupCreateFlags struct {
	selectionFlags
	fromSchedule string
	wait         bool
}

func newBackupCreateCmd(e *env) *cobra.Command {
	f := &backupCreateFlags{}
	cmd := &cobra.Command{
		Use:   "create [NAME]",
		Short: "Create a backup",
		Long: `Create a Backup. The controller stores the selected API objects in the
location's repository and has the node agents move every selected volume's
data. With --wait, follow it to the end: one line per volume and a total,
with bytes, rate and ETA. Ctrl-C stops waiting, not the backup.

With --from-schedule, the backup takes the schedule's template and is named
<schedule>-<timestamp> unless NAME is given.`,
		Example: `  cairn backup create shop-1 --include-namespaces shop --wait
  cairn backup create --from-schedule nightly`,
		Args: rangeArgs(0, 1, "at most one NAME"),
		RunE: func(cmd *cobra.Command, args []string) error { return e.runBackupCreate(cmd, f, args) },
	}
	f.selectionFlags.add(cmd)
	cmd.Flags().StringVar(&f.fromSchedule, "from-schedule", "", "take the selection from this schedule's template")
	cmd.Flags().BoolVarP(&f.wait, "wait", "w", false, "follow the backup until it ends, with live progress")
	_ = cmd.RegisterFlagCompletionFunc("from-schedule", e.completeNames(scheduleKind))
	_ = cmd.RegisterFlagCompletionFunc("location", e.completeNames(locationKind))
	return cmd
}

func (e *env) runBackupCreate(cmd *cobra.Command, f *backupCreateFlags, args []string) error {
	b, err := e.backupFromFlags(cmd, f, args)
	if err != nil {
		return err
	}
	ctx := ctxOf(cmd)
	if err := e.checkLocation(cmd, b.Spec.LocationName); err != nil {
		return err
	}
	c, err := e.kube()
	if err != nil {
		return err
	}
	if err := c.Create(ctx, b); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("backup %q already exists in namespace %s; pick another name, or delete it with `cairn backup delete %s`", b.Name, e.namespace, b.Name)
		}
		return fmt.Errorf("create backup %s/%s: %w", e.namespace, b.Name, err)
	}
	printf(e.cfg.Out, "Backup %q created in namespace %s.\n", b.Name, e.namespace)
	if !f.wait {
		printf(e.cfg.Out, "Follow it with `cairn backup describe %s`, or create with --wait to watch its progress.\n", b.Name)
		return nil
	}
	return e.waitBackup(cmd, b.Name)
}

// backupFromFlags builds the Backup object from the flags, or from a
// Schedule's template.
func (e *env) backupFromFlags(cmd *cobra.Command, f *backupCreateFlags, args []string) (*v1alpha1.Backup, error) {
	b := &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Namespace: e.namespace}}
	if len(args) == 1 {
		b.Name = args[0]
	}
	if f.fromSchedule == "" {
		if b.Name == "" {
			return nil, usageErrorf("backup create needs a NAME (or --from-schedule SCHEDULE); see 'cairn backup create --help'")
		}
		if err := checkName("backup", b.Name); err != nil {
			return nil, err
		}
		spec, err := f.spec(cmd)
		b.Spec = spec
		return b, err
	}
	for _, n := range selectionFlagNames {
		if cmd.Flags().Changed(n) {
			return nil, usageErrorf("--%s cannot be combined with --from-schedule, which takes the schedule's template; drop one", n)
		}
	}
	var s v1alpha1.Schedule
	if err := e.get(ctxOf(cmd), scheduleKind, f.fromSchedule, &s); err != nil {
		return nil, err
	}
	if b.Name == "" {
		b.Name = stampName(s.Name, e.cfg.Now())
	}
	if err := checkName("backup", b.Name); err != nil {
		return nil, err
	}
	b.Spec = *s.Spec.Template.DeepCopy()
	b.Labels = map[string]string{v1alpha1.LabelSchedule: s.Name}
	return b, nil
}

func newBackupDeleteCmd(e *env) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "delete NAME...",
		Short: "Delete backups and their repository snapshots",
		Long: `Delete Backups. The controller forgets each backup's snapshots and manifest
in its location's repository before the object goes; prune (the location's
maintenance) frees the space later.`,
		Args:              rangeArgs(1, -1, "one or more backup names"),
		ValidArgsFunction: e.completeNames(backupKind),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.deleteObjects(cmd, backupKind, args, wait, func() client.Object { return &v1alpha1.Backup{} },
				"its repository snapshots are forgotten by the controller; prune frees the space")
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until each backup and its repository data are gone")
	return cmd
}

// deleteObjects deletes the named objects of a kind, checking first that
// they all exist, and optionally waits until they are gone.
func (e *env) deleteObjects(cmd *cobra.Command, k kind, names []string, wait bool, newObj func() client.Object, note string) error {
	ctx := ctxOf(cmd)
	objs := make([]client.Object, len(names))
	for i, n := range names {
		objs[i] = newObj()
		if err := e.get(ctx, k, n, objs[i]); err != nil {
			return err
		}
	}
	c, err := e.kube()
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := c.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete %s %s/%s: %w", k.name, e.namespace, o.GetName(), err)
		}
		printf(e.cfg.Out, "%s %q deleted", capitalize(k.name), o.GetName())
		if note != "" {
			printf(e.cfg.Out, "; %s", note)
		}
		printf(e.cfg.Out, ".\n")
	}
	if !wait {
		return nil
	}
	for _, o := range objs {
		if err := e.waitGone(cmd, k, o); err != nil {
			return err
		}
	}
	return nil
}

// waitGone polls until obj no longer exists.
func (e *env) waitGone(cmd *cobra.Command, k kind, obj client.Object) error {
	c, err := e.kube()
	if err != nil {
		return err
	}
	ctx := ctxOf(cmd)
	for {
		err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("wait for %s %s to be deleted: %w", k.name, obj.GetName(), err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped waiting for %s %s to be deleted; the deletion goes on in the cluster", k.name, obj.GetName())
		case <-time.After(e.cfg.PollInterval):
		}
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
