package harness

import (
	"fmt"
	"slices"
	"strings"
)

// peers are the configurations the targets compare with: restic and
// kopia with their defaults, as issue 3 states them.
var peers = []string{"restic", "kopia"}

// speedTarget: cairn must be want× as fast as the faster peer.
type speedTarget struct {
	work, dataset, phase string
	want                 float64
}

var speedTargets = []speedTarget{
	{"initial backup, 2 GiB incompressible image", "image", PhaseBackup, 3},
	{"initial backup, small-files tree", "files", PhaseBackup, 2},
	{"incremental backup, image", "image", PhaseIncremental, 2},
	{"incremental backup, small-files tree", "files", PhaseIncremental, 2},
	{"full restore, image", "image", PhaseRestore, 2},
	{"full restore, small-files tree", "files", PhaseRestore, 2},
}

func writeTargets(b *strings.Builder, r *Results) {
	b.WriteString("## Targets of issue 3\n\n")
	if r.Smoke {
		b.WriteString("Smoke run: targets are not judged on tiny datasets.\n\n")
		return
	}
	b.WriteString("Speed-up = the faster peer's median wall time / cairn's (default configuration). " +
		"Peers are restic and kopia with their defaults.\n\n")
	b.WriteString("| work | target | cairn | faster peer | achieved | verdict |\n|---|---|---:|---:|---:|---|\n")
	for _, t := range speedTargets {
		writeSpeedTarget(b, r, t)
	}
	for _, d := range r.Datasets {
		writeRSSTarget(b, r, d)
	}
	for _, d := range []string{"vmimage", "files"} {
		writeSizeTarget(b, r, d)
	}
	b.WriteString("\n")
}

func writeSpeedTarget(b *strings.Builder, r *Results, t speedTarget) {
	c, ok := r.find("cairn", t.dataset, t.phase)
	peer, p, okp := fastestPeer(r, t.dataset, t.phase)
	if !ok || !okp {
		fmt.Fprintf(b, "| %s | ≥ %.0f× the faster peer | — | — | — | not measured |\n", t.work, t.want)
		return
	}
	got := p.WallSeconds / c.WallSeconds
	verdict := "**met**"
	if got < t.want {
		verdict = fmt.Sprintf("**missed**: %.2f× of %.0f× (cairn needs %.0f%% less time)", got, t.want,
			100*(1-got/t.want))
	}
	fmt.Fprintf(b, "| %s | ≥ %.0f× the faster peer | %.2f s | %.2f s (%s) | %.2f× | %s |\n",
		t.work, t.want, c.WallSeconds, p.WallSeconds, peer, got, verdict)
}

func fastestPeer(r *Results, dataset, phase string) (string, Median, bool) {
	var best Median
	name, found := "", false
	for _, p := range peers {
		m, ok := r.find(p, dataset, phase)
		if ok && (!found || m.WallSeconds < best.WallSeconds) {
			name, best, found = p, m, true
		}
	}
	return name, best, found
}

// peakRSS is a configuration's highest median peak RSS over the phases.
func peakRSS(r *Results, config, dataset string) (int64, bool) {
	var peak int64
	found := false
	for _, p := range phases {
		if m, ok := r.find(config, dataset, p); ok {
			peak, found = max(peak, m.MaxRSSBytes), true
		}
	}
	return peak, found
}

func writeRSSTarget(b *strings.Builder, r *Results, d DatasetInfo) {
	work := "peak RSS (highest of backup, incremental, restore), " + d.Title
	c, ok := peakRSS(r, "cairn", d.Name)
	lowest, lowName := int64(0), ""
	for _, p := range peers {
		if v, okp := peakRSS(r, p, d.Name); okp && (lowName == "" || v < lowest) {
			lowest, lowName = v, p
		}
	}
	if !ok || lowName == "" {
		fmt.Fprintf(b, "| %s | ≤ the lower peer | — | — | — | not measured |\n", work)
		return
	}
	fmt.Fprintf(b, "| %s | ≤ the lower peer | %s MiB | %s MiB (%s) | %.2f× | %s |\n", work,
		formatMiB(c), formatMiB(lowest), lowName, float64(c)/float64(lowest), atMost(float64(c), float64(lowest)))
}

func writeSizeTarget(b *strings.Builder, r *Results, dataset string) {
	if !slices.ContainsFunc(r.Datasets, func(d DatasetInfo) bool { return d.Name == dataset }) {
		return
	}
	work := "repository size after both backups, " + dataset
	c, ok := r.find("cairn", dataset, PhaseIncremental)
	p, okp := r.find("restic", dataset, PhaseIncremental)
	if !ok || !okp {
		fmt.Fprintf(b, "| %s | ≤ restic | — | — | — | not measured |\n", work)
		return
	}
	fmt.Fprintf(b, "| %s | ≤ restic | %s MiB | %s MiB (restic) | %.2f× | %s |\n", work,
		formatMiB(c.RepoBytes), formatMiB(p.RepoBytes), float64(c.RepoBytes)/float64(p.RepoBytes),
		atMost(float64(c.RepoBytes), float64(p.RepoBytes)))
}

// atMost judges "got must not exceed limit".
func atMost(got, limit float64) string {
	if got <= limit {
		return "**met**"
	}
	return fmt.Sprintf("**missed**: %.0f%% over", 100*(got/limit-1))
}

// saturated is the share above which a stage is called the bottleneck:
// below it, no stage was busy most of the time and the time went
// elsewhere (start-up, key derivation, index loading, the tree walk).
const saturated = 0.5

// writeStages lists cairn's per-stage busy shares and names the
// bottleneck of each backup.
func writeStages(b *strings.Builder, r *Results) {
	b.WriteString("## Pipeline stages\n\n")
	b.WriteString("From `cairn repo backup --json --stats`, medians. A share is the stage's busy time over " +
		"(pipeline wall time × goroutines that run it): the chunking workers for read to pack, the upload slots for " +
		"upload. Read, chunk, hash and save (compress + encrypt + pack + waiting for an upload slot) run one after another " +
		"in each worker, so their shares add up to at most 100%. \"pipeline/process\" is the pipeline's wall time over " +
		"the whole process's: the rest is start-up (key derivation, index load) and finishing (index and snapshot writes). " +
		fmt.Sprintf("The bottleneck is the busiest stage if its share is at least %.0f%%.\n\n", 100*saturated))
	b.WriteString("| dataset | configuration | backup | " + strings.Join(stageNames, " | ") +
		" | save | pipeline/process | bottleneck |\n|---|---|---|" + strings.Repeat("---:|", len(stageNames)+2) + "---|\n")
	for _, d := range r.Datasets {
		for _, c := range []string{"cairn", "cairn-nocomp", "cairn-s3"} {
			for _, p := range []string{PhaseBackup, PhaseIncremental} {
				if m, ok := r.find(c, d.Name, p); ok && m.StageShares != nil {
					writeStageRow(b, r, d, m)
				}
			}
		}
	}
	b.WriteString("\nBottleneck of cairn (default configuration), per dataset:\n\n")
	for _, d := range r.Datasets {
		var parts []string
		for _, p := range []string{PhaseBackup, PhaseIncremental} {
			if m, ok := r.find("cairn", d.Name, p); ok && m.StageShares != nil {
				parts = append(parts, strings.ToLower(phaseTitles[p])+": "+bottleneck(m))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(b, "- %s — %s\n", d.Title, strings.Join(parts, "; "))
		}
	}
	b.WriteString("\n")
}

func writeStageRow(b *strings.Builder, r *Results, d DatasetInfo, m Median) {
	fmt.Fprintf(b, "| %s | %s | %s |", d.Title, r.titleOf(m.Config), strings.ToLower(phaseTitles[m.Phase]))
	for _, s := range stageNames {
		fmt.Fprintf(b, " %.0f%% |", 100*m.StageShares[s])
	}
	fmt.Fprintf(b, " %.0f%% | %.0f%% | %s |\n", 100*m.StageShares["save"], 100*m.PipelineSeconds/m.WallSeconds,
		bottleneck(m))
}

// bottleneck names the busiest stage, or says that none was saturated.
func bottleneck(m Median) string {
	best, share := "", -1.0
	for _, s := range stageNames {
		if v := m.StageShares[s]; v > share {
			best, share = s, v
		}
	}
	if share >= saturated {
		return fmt.Sprintf("**%s** (%.0f%%)", best, 100*share)
	}
	if m.PipelineSeconds < 0.5*m.WallSeconds {
		return fmt.Sprintf("none saturated (busiest: %s, %.0f%%); %.0f%% of the time is outside the pipeline",
			best, 100*share, 100*(1-m.PipelineSeconds/m.WallSeconds))
	}
	return fmt.Sprintf("none saturated (busiest: %s, %.0f%%)", best, 100*share)
}
