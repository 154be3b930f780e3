package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/schedule/cronspec"
)

var scheduleView = view{kind: scheduleKind,
	newObj: func() client.Object { return &v1alpha1.Schedule{} },
	table: func(e *env, objs []client.Object) error {
		return scheduleTable(e.cfg.Out, e.cfg.Now(), items[v1alpha1.Schedule](objs))
	},
	describe: describeScheduleCmd,
}

func newScheduleCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "schedule", Aliases: []string{"schedules"}, Short: "Back up on a cron schedule with GFS retention"}
	cmd.AddCommand(newScheduleCreateCmd(e), newGetCmd(e, scheduleView), newDescribeCmd(e, scheduleView),
		newSchedulePauseCmd(e, true), newSchedulePauseCmd(e, false), newScheduleDeleteCmd(e))
	return cmd
}

type scheduleFlags struct {
	selectionFlags
	cron      string
	paused    bool
	retention v1alpha1.Retention
}

func newScheduleCreateCmd(e *env) *cobra.Command {
	f := &scheduleFlags{}
	cmd := &cobra.Command{
		Use:   "create NAME --schedule CRON",
		Short: "Create a schedule",
		Long: `Create a Schedule: a Backup named <schedule>-<timestamp> is made on each slot
of the cron expression (five fields, UTC, or a descriptor such as @daily),
from the backup flags. Retention keeps the newest --keep-last backups plus
the newest of each of the last N hours, days, weeks, months and years, and
deletes the schedule's other Completed backups. All zero keeps everything
until its TTL.`,
		Example: `  cairn schedule create nightly --schedule "0 3 * * *" --include-namespaces shop --keep-daily 7 --keep-weekly 4`,
		Args:    exactArgs(1, "one schedule NAME"),
		RunE:    func(cmd *cobra.Command, args []string) error { return e.runScheduleCreate(cmd, f, args[0]) },
	}
	f.selectionFlags.add(cmd)
	fs := cmd.Flags()
	fs.StringVar(&f.cron, "schedule", "", "cron expression, e.g. \"0 3 * * *\" or @daily (required)")
	fs.BoolVar(&f.paused, "paused", false, "create the schedule paused")
	fs.Int32Var(&f.retention.KeepLast, "keep-last", 0, "keep the N newest backups")
	fs.Int32Var(&f.retention.Hourly, "keep-hourly", 0, "keep the newest backup of each of the last N hours")
	fs.Int32Var(&f.retention.Daily, "keep-daily", 0, "keep the newest backup of each of the last N days")
	fs.Int32Var(&f.retention.Weekly, "keep-weekly", 0, "keep the newest backup of each of the last N weeks")
	fs.Int32Var(&f.retention.Monthly, "keep-monthly", 0, "keep the newest backup of each of the last N months")
	fs.Int32Var(&f.retention.Yearly, "keep-yearly", 0, "keep the newest backup of each of the last N years")
	return cmd
}

func (e *env) runScheduleCreate(cmd *cobra.Command, f *scheduleFlags, name string) error {
	if err := checkName("schedule", name); err != nil {
		return err
	}
	if len(name) > 63-len("-20060102150405") {
		return usageErrorf("schedule name %q is longer than 48 characters, so its backups' names (<schedule>-<yyyymmddhhmmss>) would not fit", name)
	}
	if f.cron == "" {
		return usageErrorf("schedule create needs --schedule CRON, e.g. --schedule \"0 3 * * *\"")
	}
	if _, err := cronspec.Parse(f.cron); err != nil {
		return usageErrorf("--schedule %q: %v; use five fields (minute hour day-of-month month day-of-week, e.g. \"0 3 * * *\") or a descriptor such as @daily", f.cron, err)
	}
	r := f.retention
	for _, n := range []int32{r.KeepLast, r.Hourly, r.Daily, r.Weekly, r.Monthly, r.Yearly} {
		if n < 0 {
			return usageErrorf("--keep-* counts cannot be negative")
		}
	}
	spec, err := f.spec(cmd)
	if err != nil {
		return err
	}
	if err := e.checkLocation(cmd, spec.LocationName); err != nil {
		return err
	}
	s := &v1alpha1.Schedule{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.namespace},
		Spec: v1alpha1.ScheduleSpec{Schedule: f.cron, Paused: f.paused, Template: spec, Retention: f.retention}}
	c, err := e.kube()
	if err != nil {
		return err
	}
	if err := c.Create(ctxOf(cmd), s); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("schedule %q already exists in namespace %s; pick another name, or delete it with `cairn schedule delete %s`", name, e.namespace, name)
		}
		return fmt.Errorf("create schedule %s/%s: %w", e.namespace, name, err)
	}
	printf(e.cfg.Out, "Schedule %q created in namespace %s; see its next runs with `cairn schedule describe %s`.\n", name, e.namespace, name)
	return nil
}

func newSchedulePauseCmd(e *env, pause bool) *cobra.Command {
	use, short := "unpause NAME...", "Resume paused schedules"
	if pause {
		use, short = "pause NAME...", "Pause schedules (no backups are made until unpaused)"
	}
	return &cobra.Command{
		Use:               use,
		Short:             short,
		Args:              rangeArgs(1, -1, "one or more schedule names"),
		ValidArgsFunction: e.completeNames(scheduleKind),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, n := range args {
				if err := e.setPaused(cmd, n, pause); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func (e *env) setPaused(cmd *cobra.Command, name string, pause bool) error {
	ctx := ctxOf(cmd)
	var s v1alpha1.Schedule
	if err := e.get(ctx, scheduleKind, name, &s); err != nil {
		return err
	}
	state := map[bool]string{true: "paused", false: "unpaused"}[pause]
	if s.Spec.Paused == pause {
		printf(e.cfg.Out, "Schedule %q is already %s.\n", name, state)
		return nil
	}
	c, err := e.kube()
	if err != nil {
		return err
	}
	patch := client.MergeFrom(s.DeepCopy())
	s.Spec.Paused = pause
	if err := c.Patch(ctx, &s, patch); err != nil {
		return fmt.Errorf("set schedule %s/%s %s: %w", e.namespace, name, state, err)
	}
	printf(e.cfg.Out, "Schedule %q %s.\n", name, state)
	return nil
}

func newScheduleDeleteCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:               "delete NAME...",
		Short:             "Delete schedules (the backups they made stay)",
		Args:              rangeArgs(1, -1, "one or more schedule names"),
		ValidArgsFunction: e.completeNames(scheduleKind),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.deleteObjects(cmd, scheduleKind, args, false, func() client.Object { return &v1alpha1.Schedule{} },
				"the backups it made stay until their TTL")
		},
	}
}

// nextRuns lists the next n slots of expr after now, or none.
func nextRuns(expr string, now time.Time, n int) []time.Time {
	spec, err := cronspec.Parse(expr)
	if err != nil {
		return nil
	}
	var out []time.Time
	for t := now; len(out) < n; {
		t = spec.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}
