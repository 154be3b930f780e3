//go:build realnode

package realnode

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairnbackup/cairn/controlplane/testenv"
)

// cluster is the node every test of the suite runs on: starting one costs
// seconds, building the images tens of seconds, so it is shared.
var cluster *Cluster

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	root, err := testenv.ModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "realnode:", err)
		return 1
	}
	tools := os.Getenv("CAIRN_TOOLS_BIN")
	if tools == "" {
		tools = filepath.Join(root, ".tools", "bin")
	}
	dir, err := os.MkdirTemp("", runDirPrefix)
	if err != nil {
		fmt.Fprintln(os.Stderr, "realnode:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	t0 := time.Now()
	cluster, err = Start(context.Background(), Config{ToolsBin: tools, ModuleRoot: root, Dir: dir,
		Log: func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }})
	if err != nil {
		fmt.Fprintln(os.Stderr, "realnode:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "realnode: node up in %s\n", time.Since(t0).Round(time.Millisecond))
	code := m.Run()
	if code != 0 {
		// A red run must be readable from its output alone.
		fmt.Fprintln(os.Stderr, cluster.LogTails(60))
		for _, ns := range []string{"cairn-system", driverNamespace, appNamespace, restoredNamespace} {
			fmt.Fprint(os.Stderr, cluster.PodLogs(context.Background(), ns, 60))
		}
	}
	if err := cluster.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "realnode:", err)
		return 1
	}
	return code
}
