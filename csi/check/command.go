package check

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// ErrChecksFailed is returned by the command when a check failed, after
// the report is printed.
var ErrChecksFailed = errors.New("some checks failed")

// NewCommand returns `csi` with its `check` subcommand.
func NewCommand() *cobra.Command {
	csiCmd := &cobra.Command{Use: "csi", Short: "Work with CSI drivers directly"}
	var cfg Config
	var secrets []string
	var asJSON bool
	check := &cobra.Command{
		Use:   "check --endpoint unix:///path/to/csi.sock",
		Short: "Report which cairn data paths a CSI driver supports, trying each for real",
		Long: `check probes a CSI driver the way cairn's node agent uses it: it creates
scratch volumes and snapshots, writes a known pattern, and reads it back
through every data path — filesystem and block publishing, snapshots,
volumes from snapshots, and changed-block metadata (allocated and delta).
Each is reported pass, fail (with the RPC and the driver's error) or
unsupported. Everything it creates is removed at the end, also on failure.

Run it as root on a node of the driver, with a --work-dir the driver can
mount into (for a driver in a pod, a directory under the kubelet's).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.Secrets, err = parseSecrets(secrets); err != nil {
				return err
			}
			rep, err := Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if asJSON {
				err = printJSON(cmd.OutOrStdout(), rep)
			} else {
				err = printTable(cmd.OutOrStdout(), rep)
			}
			if err == nil && !rep.OK() {
				err = ErrChecksFailed
			}
			return err
		},
	}
	f := check.Flags()
	f.StringVar(&cfg.Endpoint, "endpoint", "", "the driver's node service (and controller service, unless --controller-endpoint), unix:///path")
	f.StringVar(&cfg.ControllerEndpoint, "controller-endpoint", "", "the driver's controller service, when on another socket")
	f.StringVar(&cfg.WorkDir, "work-dir", "", "where scratch volumes are staged and published (default a new temporary directory)")
	f.Int64Var(&cfg.SizeBytes, "size", defaultSize, "bytes of each scratch volume")
	f.StringArrayVar(&secrets, "secret", nil, "KEY=VALUE passed in the secrets of controller calls (repeatable)")
	f.DurationVar(&cfg.Timeout, "timeout", defaultTimeout, "timeout of each CSI call")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	_ = check.MarkFlagRequired("endpoint")
	csiCmd.AddCommand(check)
	return csiCmd
}

func parseSecrets(list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--secret %q: want KEY=VALUE", k)
		}
		out[k] = v
	}
	return out, nil
}

func printJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func printTable(w io.Writer, rep *Report) error {
	if rep.Driver == "" {
		fmt.Fprint(w, "driver: did not identify itself\n\n")
	} else {
		fmt.Fprintf(w, "driver %s %s\n\n", rep.Driver, rep.Version)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tRESULT\tDETAIL")
	for _, c := range rep.Checks {
		detail := c.Detail
		if c.Result == Fail && c.Error != "" {
			detail = c.Error
			if c.RPC != "" {
				detail = c.RPC + ": " + detail
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.Result, detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range rep.Cleanup {
		fmt.Fprintf(w, "\ncleanup problem: %s (remove it by hand)", p)
	}
	fmt.Fprintf(w, "\ntook %s\n", rep.Took.Round(time.Millisecond))
	return nil
}
