package nodeagent

import (
	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/cairnbackup/cairn/chunkstore/archiver"
)

// metrics are the agent's Prometheus metrics, cairn_agent_<what>_<unit>,
// served with the controller-runtime ones on /metrics.
type metrics struct {
	bytesRead, bytesUploaded, bytesDeduped prometheus.Counter
	restoredBytes, chunks                  prometheus.Counter
	stageSeconds                           *prometheus.CounterVec
	active                                 *prometheus.GaugeVec
	items, errors                          *prometheus.CounterVec
	snapshotSeconds                        prometheus.Histogram
}

// theMetrics are registered once per process; tests start many agents.
var theMetrics = func() *metrics {
	m := &metrics{
		bytesRead:     counter("cairn_agent_read_bytes_total", "Bytes read from volumes by backups."),
		bytesUploaded: counter("cairn_agent_uploaded_bytes_total", "Bytes stored in repositories (compressed, encrypted) by backups."),
		bytesDeduped:  counter("cairn_agent_deduplicated_bytes_total", "Bytes read that the repository already held."),
		restoredBytes: counter("cairn_agent_restored_bytes_total", "Bytes written to volumes by restores."),
		chunks:        counter("cairn_agent_chunks_total", "New chunks stored by backups."),
		stageSeconds: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_agent_stage_busy_seconds_total",
			Help: "Busy time of each backup pipeline stage, summed over its goroutines."}, []string{"stage"}),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cairn_agent_active_items",
			Help: "Work items running now."}, []string{"kind"}),
		items: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_agent_items_total",
			Help: "Work items ended, by kind and result."}, []string{"kind", "result"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_agent_errors_total",
			Help: "Failures, by cause (csi, repository, cleanup, canceled, other)."}, []string{"cause"}),
		snapshotSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cairn_agent_snapshot_cut_seconds",
			Help: "Time to cut a CSI snapshot: the application's freeze window.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 12)}),
	}
	ctrlmetrics.Registry.MustRegister(m.bytesRead, m.bytesUploaded, m.bytesDeduped, m.restoredBytes, m.chunks,
		m.stageSeconds, m.active, m.items, m.errors, m.snapshotSeconds)
	return m
}()

func newMetrics() *metrics { return theMetrics }

func counter(name, help string) prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
}

// recordBackup adds one backup's figures.
func (m *metrics) recordBackup(res *archiver.Result) {
	st := res.Snapshot.Stats
	m.bytesRead.Add(float64(st.BytesRead))
	m.bytesUploaded.Add(float64(st.BytesStored))
	m.bytesDeduped.Add(float64(max(st.BytesRead-st.BytesAdded, 0)))
	m.chunks.Add(float64(st.BlobsNew))
	s := res.Stages
	for stage, d := range map[string]float64{"read": s.Read.Seconds(), "chunk": s.Chunk.Seconds(), "hash": s.Hash.Seconds(),
		"compress": s.Compress.Seconds(), "encrypt": s.Encrypt.Seconds(), "pack": s.Pack.Seconds(), "upload": s.Upload.Seconds()} {
		m.stageSeconds.WithLabelValues(stage).Add(d)
	}
}
