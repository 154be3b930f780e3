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
			objs, done, err := e.fetchOrPrint(cmd, v, args, out)
			if done || err != nil {
				return err
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
			objs, done, err := e.fetchOrPrint(cmd, v, args, out)
			if done || err != nil {
				return err
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

// items copies the objects of one kind out of their interface values.
func items[T any](objs []client.Object) []T {
	out := make([]T, len(objs))
	for i, o := range objs {
		out[i] = *any(o).(*T)
	}
	return out
}

// fetchOrPrint checks the output format and reads the objects; for -o yaml
// or json it prints them too and reports done.
func (e *env) fetchOrPrint(cmd *cobra.Command, v view, names []string, out string) ([]client.Object, bool, error) {
	if err := checkOutput(out); err != nil {
		return nil, false, err
	}
	objs, err := e.fetch(cmd, v, names)
	if err != nil || out == outTable {
		return objs, false, err
	}
	return nil, true, printObjects(e.cfg.Out, out, objs, len(names) == 1)
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
