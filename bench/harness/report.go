package harness

import (
	"fmt"
	"strings"
)

// Report renders RESULTS.md from the results alone, so that it can be
// rendered again from results.json (cairn-bench -report).
func Report(r *Results) string {
	var b strings.Builder
	title := "Benchmark results"
	if r.Smoke {
		title = "Benchmark smoke run (tiny datasets: figures say nothing about speed)"
	}
	fmt.Fprintf(&b, "# %s\n\n", title)
	fmt.Fprintf(&b, "Written by `make bench` (bench/cmd/cairn-bench) from `results.json` beside this file. "+
		"Every figure is the median of %d run(s); the tools ran alternately, their order rotating from run to run.\n\n", r.Setup.Runs)
	writeFailures(&b, r)
	writeMachine(&b, r)
	writeSetup(&b, r)
	writeTargets(&b, r)
	writeAnchors(&b, r)
	writeTables(&b, r)
	writeS3(&b, r)
	writeAgent(&b, r)
	writeStages(&b, r)
	if r.Notes != "" {
		fmt.Fprintf(&b, "\n---\n\nThe rest is `%s` as it stood when this run was made: what limits each missed target and what was tried.\n\n%s", NotesFile, r.Notes)
	}
	return b.String()
}

func writeFailures(b *strings.Builder, r *Results) {
	if len(r.Failures) == 0 {
		b.WriteString("All restores were verified byte for byte against their source: no failures.\n\n")
		return
	}
	fmt.Fprintf(b, "## FAILURES (%d)\n\nThese cycles failed; their figures are missing or partial.\n\n", len(r.Failures))
	for _, f := range r.Failures {
		fmt.Fprintf(b, "- run %d, %s, %s, %s:\n\n  ```\n  %s\n  ```\n", f.Run, f.Dataset, f.Config, f.Phase,
			strings.ReplaceAll(strings.TrimSpace(f.Error), "\n", "\n  "))
	}
	b.WriteString("\n")
}

func writeMachine(b *strings.Builder, r *Results) {
	m := r.Machine
	b.WriteString("## Machine\n\n| | |\n|---|---|\n")
	rows := [][2]string{
		{"date", fmt.Sprintf("%s to %s (UTC)", r.Started.Format("2006-01-02 15:04"), r.Finished.Format("15:04"))},
		{"CPUs (nproc)", fmt.Sprint(m.CPUs)},
		{"CPU model", m.CPUModel},
		{"memory", formatBytes(m.MemoryBytes)},
		{"kernel", m.Kernel},
		{"Go", m.GoVersion},
		{"load average before / after", m.LoadBefore + " / " + m.LoadAfter},
		{"one core's speed before / after: chunk search over 32 MiB of random bytes, best of 3", calibration(m)},
		{"CPU used by other processes while a tool was measured", interference(r)},
		{"datasets on", fmt.Sprintf("`%s`, %s", r.Setup.ScratchDir, r.Setup.ScratchFS)},
		{"repositories, caches and restores on", fmt.Sprintf("`%s`, %s", r.Setup.RepoDir, r.Setup.RepoFS)},
	}
	for _, row := range rows {
		fmt.Fprintf(b, "| %s | %s |\n", row[0], row[1])
	}
	b.WriteString("\n")
}

// calibration formats the machine's speed figures, for comparing runs of
// different days.
func calibration(m Machine) string {
	if m.SplitMBBefore == 0 {
		return "not measured"
	}
	return fmt.Sprintf("%.0f / %.0f MB/s", m.SplitMBBefore, m.SplitMBAfter)
}

func writeSetup(b *strings.Builder, r *Results) {
	s := r.Setup
	b.WriteString("## Setup\n\n")
	fmt.Fprintf(b, "cairn `%s`; %s; %s; %s. Datasets seeded with %d.\n\n", s.CairnCommit,
		s.ToolVersions["restic"], "kopia "+s.ToolVersions["kopia"], "harness "+s.ToolVersions["go"], s.Seed)
	b.WriteString("| dataset | what | size | files | incremental variant |\n|---|---|---:|---:|---|\n")
	for _, d := range r.Datasets {
		fmt.Fprintf(b, "| %s | %s | %s | %d | %s |\n", d.Title, d.Description, formatBytes(d.Bytes), d.Files, d.Variant)
	}
	b.WriteString("\nThe text-like data is words of a skewed 4096-word vocabulary. `zstd -b1` compresses it 2.4× at about " +
		"275 MB/s on one core here, where Go source compresses 3.9× at about 400 MB/s: compressing tools pay more on " +
		"it than on source code, and gain less.\n")
	b.WriteString("\n| configuration | how it is set up |\n|---|---|\n")
	for _, c := range r.Configs {
		fmt.Fprintf(b, "| %s | `%s` |\n", c.Title, c.Command)
	}
	b.WriteString(`
Method. Each cycle is one configuration on one dataset: create a repository
(encrypted: cairn, restic and kopia always encrypt), initial backup,
apply the incremental variant in place, incremental backup, restore the
incremental snapshot into an empty directory, and compare every restored
byte with the source. Each tool is a child process, started through a
small launcher so that its peak RSS is its own (Linux carries the parent's
peak across exec): wall time from fork to reap, CPU = user + system time
and peak RSS from the child's rusage.
MB/s = the dataset's logical bytes / wall time (for an incremental backup,
the whole dataset, which every tool walks). Repository size is ` + "`du`" + ` of
the repository directory after the backup. The dataset is read once
before each dataset's turn in a run, so every tool finds it in the page
cache. Each tool keeps its cache and config inside the cycle's directory, a
fresh one per cycle.

Ratios are cairn's median over the peer's median for the same figure: below
1 is better for cairn in time, CPU, memory and size; above 1 is better in
MB/s.

`)
}

// interference sums the other processes' CPU time over all measured
// phases and names the most disturbed one: on a shared 2-core machine this
// says how far the figures can be trusted.
func interference(r *Results) string {
	var other, wall float64
	var worst Sample
	for _, s := range r.Samples {
		other += s.OtherCPUSeconds
		wall += s.WallSeconds
		if s.OtherCPUSeconds/max(s.WallSeconds, 1e-9) > worst.OtherCPUSeconds/max(worst.WallSeconds, 1e-9) {
			worst = s
		}
	}
	if wall == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f s in %.0f s of measured wall time (%.2f of %d cores on average); most disturbed: "+
		"run %d %s %s %s, %.1f s in %.1f s", other, wall, other/wall, r.Machine.CPUs,
		worst.Run, worst.Dataset, worst.Config, worst.Phase, worst.OtherCPUSeconds, worst.WallSeconds)
}

// formatBytes prints binary units, as du -h does.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	f, suffix := float64(n), ""
	for _, s := range []string{"KiB", "MiB", "GiB", "TiB"} {
		f /= unit
		suffix = s
		if f < unit {
			break
		}
	}
	return fmt.Sprintf("%.1f %s", f, suffix)
}

func formatMiB(n int64) string { return fmt.Sprintf("%.0f", float64(n)/(1<<20)) }
