package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/yaml"
)

// Output formats of get and describe.
const (
	outTable = "table"
	outJSON  = "json"
	outYAML  = "yaml"
)

// addOutputFlag adds -o/--output to a get or describe command.
func addOutputFlag(cmd *cobra.Command, out *string) {
	cmd.Flags().StringVarP(out, "output", "o", outTable, "output format: table, json or yaml")
}

func checkOutput(out string) error {
	switch out {
	case outTable, outJSON, outYAML:
		return nil
	}
	return usageErrorf("unknown output format %q; use -o table, json or yaml", out)
}

// kubeList is the shape kubectl prints for several objects.
type kubeList struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Items      []client.Object `json:"items"`
	Metadata   struct {
		ResourceVersion string `json:"resourceVersion"`
	} `json:"metadata"`
}

// printObjects writes objs as JSON or YAML: the object alone when single,
// else a v1 List, as kubectl does.
func printObjects(w io.Writer, format string, objs []client.Object, single bool) error {
	for _, o := range objs {
		if err := withKind(o); err != nil {
			return err
		}
		o.SetManagedFields(nil)
	}
	var v any = kubeList{APIVersion: "v1", Kind: "List", Items: objs}
	if single && len(objs) == 1 {
		v = objs[0]
	}
	if kl, ok := v.(kubeList); ok && kl.Items == nil {
		kl.Items = []client.Object{}
		v = kl
	}
	var raw []byte
	var err error
	if format == outJSON {
		raw, err = json.MarshalIndent(v, "", "    ")
		raw = append(raw, '\n')
	} else {
		raw, err = yaml.Marshal(v)
	}
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	_, err = w.Write(raw)
	return err
}

// withKind fills the object's apiVersion and kind, which typed clients
// leave empty.
func withKind(o client.Object) error {
	gvk, err := apiutil.GVKForObject(o, cliScheme)
	if err != nil {
		return fmt.Errorf("print %T: %w", o, err)
	}
	o.GetObjectKind().SetGroupVersionKind(gvk)
	return nil
}

// table writes aligned columns as kubectl does.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, headers ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)}
	t.row(toAny(headers)...)
	return t
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func (t *table) row(cells ...any) {
	for i, c := range cells {
		if i > 0 {
			_, _ = io.WriteString(t.tw, "\t")
		}
		_, _ = fmt.Fprint(t.tw, c)
	}
	_, _ = io.WriteString(t.tw, "\n")
}

func (t *table) flush() error { return t.tw.Flush() }
