package manager

import (
	"fmt"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/controlplane/backup"
	"github.com/cairnbackup/cairn/controlplane/backupsync"
	"github.com/cairnbackup/cairn/controlplane/collect"
	"github.com/cairnbackup/cairn/controlplane/dashboard"
	"github.com/cairnbackup/cairn/controlplane/hooks"
	"github.com/cairnbackup/cairn/controlplane/location"
	"github.com/cairnbackup/cairn/controlplane/locations"
	"github.com/cairnbackup/cairn/controlplane/restore"
	"github.com/cairnbackup/cairn/controlplane/schedule"
)

// Config is what cmd/cairn-controller parses from its flags.
type Config struct {
	MetricsAddr          string
	ProbeAddr            string
	LeaderElection       bool
	LeaderElectionNS     string
	MaxConcurrentBackups int
	MaxConcurrentRestore int
	SnapshotTimeout      time.Duration
	SyncInterval         time.Duration
	// PollInterval is how often running backups and restores look at their
	// work items; zero means the controllers' default (5s).
	PollInterval time.Duration
	// KDF is the password-hash cost of repositories the controller
	// initialises; zero means the default. Tests and the demo lower it.
	KDF crypto.KDFParams
	// SkipNameValidation lets several managers run in one process (tests).
	SkipNameValidation bool
	// Dashboard is served when its BindAddress is set, from the
	// controllers' cache and with their repository opener.
	Dashboard dashboard.Config
}

// New builds the manager with every controller registered.
func New(cfg *rest.Config, c Config) (ctrl.Manager, error) {
	scheme, err := newScheme()
	if err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme,
		Metrics:                 metricsserver.Options{BindAddress: c.MetricsAddr},
		HealthProbeBindAddress:  c.ProbeAddr,
		LeaderElection:          c.LeaderElection,
		LeaderElectionID:        "cairn-controller.cairn.dev",
		LeaderElectionNamespace: c.LeaderElectionNS,
		Controller:              config.Controller{SkipNameValidation: &c.SkipNameValidation}})
	if err != nil {
		return nil, fmt.Errorf("create manager: %w", err)
	}
	if err := register(mgr, cfg, c); err != nil {
		return nil, err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	return mgr, mgr.AddReadyzCheck("ping", healthz.Ping)
}

func register(mgr ctrl.Manager, cfg *rest.Config, c Config) error {
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	exec, err := hooks.NewPodExecutor(cfg)
	if err != nil {
		return err
	}
	replog := mgr.GetLogger().WithName("repository")
	opener := &locations.Opener{Client: mgr.GetAPIReader(), KDF: c.KDF,
		Warn: func(err error) { replog.Info("warning", "err", err.Error()) }}
	runner := &hooks.Runner{Exec: exec, SnapshotTimeout: c.SnapshotTimeout}
	steps := []func() error{
		func() error {
			return backup.New(backup.Deps{Client: mgr.GetClient(), Opener: opener,
				Collector: backup.ClusterCollector{Deps: collect.Deps{Discovery: disc, Dynamic: dyn}},
				Freezer:   backup.HookFreezer{Client: mgr.GetClient(), Runner: runner},
				Recorder:  mgr.GetEventRecorder("cairn-backup")},
				backup.Config{MaxConcurrent: c.MaxConcurrentBackups, SnapshotTimeout: c.SnapshotTimeout, PollInterval: c.PollInterval}).SetupWithManager(mgr)
		},
		func() error {
			return restore.New(restore.Deps{Client: mgr.GetClient(), Dynamic: dyn, Opener: opener, Hooks: runner,
				Recorder: mgr.GetEventRecorder("cairn-restore")}, restore.Config{MaxConcurrent: c.MaxConcurrentRestore, PollInterval: c.PollInterval}).SetupWithManager(mgr)
		},
		func() error { return schedule.New(schedule.Config{}).SetupWithManager(mgr) },
		func() error { return location.SetupWithManager(mgr, location.Config{Opener: opener}) },
		func() error {
			return backupsync.New(backupsync.Config{Opener: opener, Interval: c.SyncInterval}).SetupWithManager(mgr)
		},
	}
	if c.Dashboard.BindAddress != "" {
		steps = append(steps, func() error { return addDashboard(mgr, c.Dashboard, opener) })
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return fmt.Errorf("register controller: %w", err)
		}
	}
	return nil
}

func addDashboard(mgr ctrl.Manager, c dashboard.Config, opener *locations.Opener) error {
	srv, err := dashboard.New(c, dashboard.Deps{Cache: mgr.GetCache(), Opener: opener, Reviewer: mgr.GetClient(),
		Log: mgr.GetLogger().WithName("dashboard")})
	if err != nil {
		return err
	}
	return mgr.Add(srv)
}
