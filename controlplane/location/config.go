package location

import (
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/chunkstore/pruner"
	"github.com/cairnbackup/cairn/controlplane/locations"
)

// Defaults.
const (
	// DefaultValidationInterval is used when a location sets none.
	DefaultValidationInterval = time.Minute
	// DefaultMaintenanceSchedule prunes daily at 03:00 UTC, when backups are
	// least likely to be running.
	DefaultMaintenanceSchedule = "0 3 * * *"
	// DefaultValidationTimeout bounds one validation: longer than the blob
	// retry policy needs to call an endpoint unreachable (a few seconds),
	// short enough that a hung server is reported within a minute.
	DefaultValidationTimeout = 30 * time.Second
	// DefaultMaxWait bounds requeues that wait for a time, so a wall-clock
	// jump delays maintenance or expiry by at most this.
	DefaultMaxWait = 5 * time.Minute
)

// Clock tells the time; tests inject a fake.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Config holds the controllers' dependencies and settings. Zero fields take
// defaults in SetupWithManager: the manager's client, an event recorder
// per controller, and an Opener reading Secrets through the manager's
// uncached API reader. Share one Opener between all controllers that open
// repositories, so each repository's password is hashed once.
type Config struct {
	Client   client.Client
	Opener   *locations.Opener
	Recorder events.EventRecorder
	Clock    Clock
	// ValidationTimeout defaults to DefaultValidationTimeout.
	ValidationTimeout time.Duration
	// MaxWait defaults to DefaultMaxWait.
	MaxWait time.Duration
	// Prune tunes maintenance; zero fields take the pruner's defaults.
	Prune pruner.Options
	// IndexCacheDir holds the on-disk index caches of locations that set
	// spec.maintenanceMaxMemory; default DefaultIndexCacheDir.
	IndexCacheDir string
}

// DefaultIndexCacheDir is where maintenance keeps index caches when the
// Config names no directory: the cache is only a cache, so a temporary
// directory that does not survive a restart costs one rebuild.
var DefaultIndexCacheDir = filepath.Join(os.TempDir(), "cairn-index-cache")

func (c Config) withDefaults(mgr ctrl.Manager, recorderName string) Config {
	if c.Client == nil {
		c.Client = mgr.GetClient()
	}
	if c.Opener == nil {
		c.Opener = &locations.Opener{Client: mgr.GetAPIReader()}
	}
	if c.Recorder == nil {
		c.Recorder = mgr.GetEventRecorder(recorderName)
	}
	return c.withStaticDefaults()
}

func (c Config) withStaticDefaults() Config {
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	if c.ValidationTimeout <= 0 {
		c.ValidationTimeout = DefaultValidationTimeout
	}
	if c.MaxWait <= 0 {
		c.MaxWait = DefaultMaxWait
	}
	if c.IndexCacheDir == "" {
		c.IndexCacheDir = DefaultIndexCacheDir
	}
	return c
}

// SetupWithManager registers the Validator, the Maintainer and the Expirer
// with one shared configuration.
func SetupWithManager(mgr ctrl.Manager, cfg Config) error {
	if cfg.Opener == nil {
		cfg.Opener = &locations.Opener{Client: mgr.GetAPIReader()}
	}
	if err := NewValidator(cfg).SetupWithManager(mgr); err != nil {
		return err
	}
	if err := NewMaintainer(cfg).SetupWithManager(mgr); err != nil {
		return err
	}
	return NewExpirer(cfg).SetupWithManager(mgr)
}
