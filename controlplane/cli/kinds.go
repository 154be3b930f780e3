package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

var (
	backupKind = kind{name: "backup", command: "cairn backup",
		newList: func() client.ObjectList { return &v1alpha1.BackupList{} }}
	restoreKind = kind{name: "restore", command: "cairn restore",
		newList: func() client.ObjectList { return &v1alpha1.RestoreList{} }}
	scheduleKind = kind{name: "schedule", command: "cairn schedule",
		newList: func() client.ObjectList { return &v1alpha1.ScheduleList{} }}
	locationKind = kind{name: "location", command: "cairn location",
		newList: func() client.ObjectList { return &v1alpha1.BackupLocationList{} }}
)

// view is what get and describe need to know about one kind.
type view struct {
	kind   kind
	newObj func() client.Object
	// table renders the get table.
	table func(e *env, objs []client.Object) error
	// describe renders one object in detail.
	describe func(cmd *cobra.Command, e *env, obj client.Object) error
}

// newGetCmd is "get [NAME...]" for a kind.
func newGetCmd(e *env, v view) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:               "get [NAME...]",
		Short:             fmt.Sprintf("List %ss, or show the named ones", v.kind.name),
		Args:              rangeArgs(0, -1, "any number of names"),
		ValidArgsFunction: e.completeNames(v.kind),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(out); err != nil {
				return err
			}
			objs, err := e.fetch(cmd, v, args)
			if err != nil {
				return err
			}
			if out != outTable {
				return printObjects(e.cfg.Out, out, objs, len(args) == 1)
			}
			if len(objs) == 0 {
				printf(e.cfg.Err, "No %ss found in namespace %s.\n", v.kind.name, e.namespace)
				return nil
			}
			return v.table(e, objs)
		},
	}
	addOutputFlag(cmd, &out)
	return cmd
}

// newDescribeCmd is "describe NAME..." for a kind.
func newDescribeCmd(e *env, v view) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:               "describe NAME...",
		Short:             fmt.Sprintf("Show %ss in detail", v.kind.name),
		Args:              rangeArgs(1, -1, "one or more names"),
		ValidArgsFunction: e.completeNames(v.kind),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(out); err != nil {
				return err
			}
			objs, err := e.fetch(cmd, v, args)
			if err != nil {
				return err
			}
			if out != outTable {
				return printObjects(e.cfg.Out, out, objs, len(args) == 1)
			}
			for i, o := range objs {
				if i > 0 {
					printf(e.cfg.Out, "\n")
				}
				if err := v.describe(cmd, e, o); err != nil {
					return err
				}
			}
			return nil
		},
	}
	addOutputFlag(cmd, &out)
	return cmd
}

// fetch reads the named objects, or all of the kind.
func (e *env) fetch(cmd *cobra.Command, v view, names []string) ([]client.Object, error) {
	ctx := ctxOf(cmd)
	return e.list(ctx, v.kind, names, v.kind.newList(), func(n string) (client.Object, error) {
		o := v.newObj()
		return o, e.get(ctx, v.kind, n, o)
	})
}

// completeNames completes object names from the cluster.
func (e *env) completeNames(k kind) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		names, err := e.names(ctxOf(cmd), k)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}
