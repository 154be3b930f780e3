package harness

import (
	"cmp"
	"slices"
	"time"
)

// Phases of a cycle, in the order they run.
const (
	PhaseBackup      = "backup"
	PhaseIncremental = "incremental"
	PhaseRestore     = "restore"
)

var phases = []string{PhaseBackup, PhaseIncremental, PhaseRestore}

// Stage is one pipeline stage's busy time, as `cairn repo backup --json
// --stats` reports it: Share is busy time over wall time × goroutines.
type Stage struct {
	BusySeconds float64 `json:"busy_seconds"`
	Share       float64 `json:"share"`
}

// Stages mirrors the "stages" object of cairn's backup JSON.
type Stages struct {
	WallSeconds float64 `json:"wall_seconds"`
	Workers     int     `json:"workers"`
	Uploads     int     `json:"uploads"`
	Read        Stage   `json:"read"`
	Chunk       Stage   `json:"chunk"`
	Hash        Stage   `json:"hash"`
	Compress    Stage   `json:"compress"`
	Encrypt     Stage   `json:"encrypt"`
	Pack        Stage   `json:"pack"`
	Save        Stage   `json:"save"`
	Upload      Stage   `json:"upload"`
}

// stageNames are the stages that can be a bottleneck, in pipeline order.
// Save is left out: it is the sum of compress, encrypt, pack and waiting
// for an upload slot.
var stageNames = []string{"read", "chunk", "hash", "compress", "encrypt", "pack", "upload"}

func (s *Stages) byName() map[string]Stage {
	return map[string]Stage{"read": s.Read, "chunk": s.Chunk, "hash": s.Hash, "compress": s.Compress,
		"encrypt": s.Encrypt, "pack": s.Pack, "save": s.Save, "upload": s.Upload}
}

// Sample is one measured phase of one cycle.
type Sample struct {
	Config      string  `json:"config"`
	Dataset     string  `json:"dataset"`
	Run         int     `json:"run"`
	Phase       string  `json:"phase"`
	Bytes       int64   `json:"bytes"` // logical bytes of the dataset in this phase
	WallSeconds float64 `json:"wall_seconds"`
	UserSeconds float64 `json:"user_seconds"`
	SysSeconds  float64 `json:"sys_seconds"`
	MaxRSSBytes int64   `json:"max_rss_bytes"`
	// RepoBytes is the repository's disk usage after a backup phase.
	RepoBytes int64 `json:"repo_bytes,omitempty"`
	// ServerCPUSeconds is versitygw's CPU time during the phase (S3 leg).
	ServerCPUSeconds float64 `json:"server_cpu_seconds,omitempty"`
	// OtherCPUSeconds is CPU time used by the rest of the machine during
	// the phase: interference on a shared machine.
	OtherCPUSeconds float64 `json:"other_cpu_seconds"`
	Stages          *Stages `json:"stages,omitempty"`
}

// Failure is a tool error or an incorrect restore. Any failure makes the
// harness exit non-zero.
type Failure struct {
	Config  string `json:"config"`
	Dataset string `json:"dataset"`
	Run     int    `json:"run"`
	Phase   string `json:"phase"`
	Error   string `json:"error"`
}

// Median summarises one (config, dataset, phase) over its runs.
type Median struct {
	Config           string             `json:"config"`
	Dataset          string             `json:"dataset"`
	Phase            string             `json:"phase"`
	Runs             int                `json:"runs"`
	Bytes            int64              `json:"bytes"`
	WallSeconds      float64            `json:"wall_seconds"`
	MBPerSecond      float64            `json:"mb_per_second"`
	CPUSeconds       float64            `json:"cpu_seconds"`
	MaxRSSBytes      int64              `json:"max_rss_bytes"`
	RepoBytes        int64              `json:"repo_bytes,omitempty"`
	ServerCPUSeconds float64            `json:"server_cpu_seconds,omitempty"`
	StageShares      map[string]float64 `json:"stage_shares,omitempty"`
	PipelineSeconds  float64            `json:"pipeline_wall_seconds,omitempty"`
}

// Results is everything a run produced; results.json is this, and
// RESULTS.md is rendered from it alone.
type Results struct {
	Started  time.Time     `json:"started"`
	Finished time.Time     `json:"finished"`
	Smoke    bool          `json:"smoke"`
	Machine  Machine       `json:"machine"`
	Setup    Setup         `json:"setup"`
	Datasets []DatasetInfo `json:"datasets"`
	Configs  []ConfigInfo  `json:"configs"`
	Samples  []Sample      `json:"samples"`
	Failures []Failure     `json:"failures"`
	Medians  []Median      `json:"medians"`
	// Agent holds the node-agent leg's samples.
	Agent []AgentSample `json:"agent,omitempty"`
	// Notes is bench/TUNING.md as it stood when the run was made: the
	// hand-written account of what limits each missed target and what was
	// tried. RESULTS.md ends with it.
	Notes string `json:"notes,omitempty"`
}

// DatasetInfo describes a generated dataset.
type DatasetInfo struct {
	Name         string `json:"name"`
	Title        string `json:"title"`
	Description  string `json:"description"`
	Bytes        int64  `json:"bytes"`
	MutatedBytes int64  `json:"mutated_bytes"`
	Files        int    `json:"files"`
	Variant      string `json:"variant"`
}

// ConfigInfo describes one tool configuration.
type ConfigInfo struct {
	Name    string `json:"name"`
	Title   string `json:"title"`
	Command string `json:"command"`
}

// computeMedians groups samples by (config, dataset, phase).
func computeMedians(samples []Sample) []Median {
	type key struct{ config, dataset, phase string }
	groups := map[key][]Sample{}
	var order []key
	for _, s := range samples {
		k := key{s.Config, s.Dataset, s.Phase}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], s)
	}
	out := make([]Median, 0, len(order))
	for _, k := range order {
		out = append(out, medianOf(groups[k]))
	}
	return out
}

func medianOf(ss []Sample) Median {
	m := Median{Config: ss[0].Config, Dataset: ss[0].Dataset, Phase: ss[0].Phase, Runs: len(ss), Bytes: ss[0].Bytes}
	m.WallSeconds = median(ss, func(s Sample) float64 { return s.WallSeconds })
	if m.WallSeconds > 0 {
		m.MBPerSecond = float64(m.Bytes) / 1e6 / m.WallSeconds
	}
	m.CPUSeconds = median(ss, func(s Sample) float64 { return s.UserSeconds + s.SysSeconds })
	m.MaxRSSBytes = int64(median(ss, func(s Sample) float64 { return float64(s.MaxRSSBytes) }))
	m.RepoBytes = int64(median(ss, func(s Sample) float64 { return float64(s.RepoBytes) }))
	m.ServerCPUSeconds = median(ss, func(s Sample) float64 { return s.ServerCPUSeconds })
	if ss[0].Stages != nil {
		m.StageShares = map[string]float64{}
		for _, name := range append(slices.Clone(stageNames), "save") {
			m.StageShares[name] = median(ss, func(s Sample) float64 {
				if s.Stages == nil {
					return 0
				}
				return s.Stages.byName()[name].Share
			})
		}
		m.PipelineSeconds = median(ss, func(s Sample) float64 {
			if s.Stages == nil {
				return 0
			}
			return s.Stages.WallSeconds
		})
	}
	return m
}

// median of f over ss; the mean of the middle two for an even count.
func median(ss []Sample, f func(Sample) float64) float64 {
	v := make([]float64, len(ss))
	for i, s := range ss {
		v[i] = f(s)
	}
	slices.SortFunc(v, cmp.Compare)
	n := len(v)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// find returns the median of one (config, dataset, phase), if measured.
func (r *Results) find(config, dataset, phase string) (Median, bool) {
	for _, m := range r.Medians {
		if m.Config == config && m.Dataset == dataset && m.Phase == phase {
			return m, true
		}
	}
	return Median{}, false
}
