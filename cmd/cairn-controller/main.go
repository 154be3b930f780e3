// Command cairn-controller runs cairn's control plane in a cluster.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/cairnbackup/cairn/controlplane/manager"
)

func main() {
	var c manager.Config
	flag.StringVar(&c.MetricsAddr, "metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint")
	flag.StringVar(&c.ProbeAddr, "health-probe-bind-address", ":8081", "address of the health and readiness probes")
	flag.BoolVar(&c.LeaderElection, "leader-elect", true, "elect a leader so only one replica acts")
	flag.StringVar(&c.LeaderElectionNS, "leader-election-namespace", os.Getenv("POD_NAMESPACE"), "namespace of the leader lease")
	flag.IntVar(&c.MaxConcurrentBackups, "max-concurrent-backups", 2, "backups that run at once")
	flag.IntVar(&c.MaxConcurrentRestore, "max-concurrent-restores", 4, "restores that run at once")
	flag.DurationVar(&c.SnapshotTimeout, "snapshot-timeout", 10*time.Minute, "longest freeze window: the wait for volume snapshots between pre- and post-hooks")
	flag.DurationVar(&c.SyncInterval, "sync-interval", time.Minute, "how often backups are imported from shared locations")
	flag.StringVar(&c.Dashboard.BindAddress, "dashboard-bind-address", "", "address of the read-only web dashboard; empty is off, a bare port (8090) listens on localhost only")
	flag.StringVar((*string)(&c.Dashboard.Auth), "dashboard-auth", "none", "dashboard authentication: none (reach it with kubectl port-forward) or token (bearer tokens checked with TokenReview and SubjectAccessReview)")
	flag.StringVar(&c.Dashboard.Namespace, "dashboard-namespace", os.Getenv("POD_NAMESPACE"), "namespace the dashboard shows and checks access to (get backups.cairn.dev); empty is every namespace")
	flag.Parse()
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewJSONHandler(os.Stderr, nil)))
	mgr, err := manager.New(ctrl.GetConfigOrDie(), c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cairn-controller:", err)
		os.Exit(1)
	}
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		fmt.Fprintln(os.Stderr, "cairn-controller:", err)
		os.Exit(1)
	}
}
