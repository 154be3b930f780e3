package harness

import (
	"fmt"
	"strings"
)

// saturated is the share above which a stage is called the bottleneck:
// below it, no stage was busy most of the time and the time went
// elsewhere (start-up, key derivation, index loading, the tree walk).
const saturated = 0.5

// writeStages lists cairn's per-stage busy shares and names the
// bottleneck of each backup.
func writeStages(b *strings.Builder, r *Results) {
	b.WriteString("## Pipeline stages\n\n")
	b.WriteString("From `cairn-repo backup --json --stats`, medians. A share is the stage's busy time over " +
		"(pipeline wall time × goroutines that run it): the chunking workers for read to pack, the upload slots for " +
		"upload. Read, chunk, hash and save (compress + encrypt + pack + waiting for an upload slot) run one after another " +
		"in each worker, so their shares add up to at most 100%. Busy time is wall-clock time inside a stage: with more " +
		"goroutines than the 2 cores, it includes waiting for a CPU. \"pipeline/process\" is the pipeline's wall time over " +
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
