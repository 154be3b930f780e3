package harness

import (
	"fmt"
	"strings"
)

// mainConfigs are the columns of the per-dataset tables; cairn-s3 has its
// own section.
var mainConfigs = []string{"cairn", "cairn-nocomp", "restic", "kopia", "kopia-zstd"}

var phaseTitles = map[string]string{
	PhaseBackup:      "Initial backup",
	PhaseIncremental: "Incremental backup",
	PhaseRestore:     "Full restore",
}

// figure is one row of a results table: how to read it from a median and
// how to print it.
type figure struct {
	name   string
	get    func(Median) float64
	format string
	backup bool // only for backup phases
}

var figures = []figure{
	{"wall time (s)", func(m Median) float64 { return m.WallSeconds }, "%.2f", false},
	{"throughput (MB/s)", func(m Median) float64 { return m.MBPerSecond }, "%.0f", false},
	{"CPU time (s)", func(m Median) float64 { return m.CPUSeconds }, "%.2f", false},
	{"peak RSS (MiB)", func(m Median) float64 { return float64(m.MaxRSSBytes) / (1 << 20) }, "%.0f", false},
	{"repository size (MiB)", func(m Median) float64 { return float64(m.RepoBytes) / (1 << 20) }, "%.0f", true},
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func (r *Results) titleOf(config string) string {
	for _, c := range r.Configs {
		if c.Name == config {
			return c.Title
		}
	}
	return config
}

func (r *Results) hasConfig(name string) bool {
	for _, c := range r.Configs {
		if c.Name == name {
			return true
		}
	}
	return false
}

func writeTables(b *strings.Builder, r *Results) {
	b.WriteString("## Results\n\n")
	var cols []string
	for _, c := range mainConfigs {
		if r.hasConfig(c) {
			cols = append(cols, c)
		}
	}
	for _, d := range r.Datasets {
		fmt.Fprintf(b, "### %s (%s, %s)\n\n", d.Title, formatBytes(d.Bytes), plural(d.Files, "file"))
		for _, p := range phases {
			fmt.Fprintf(b, "%s:\n\n", phaseTitles[p])
			writePhaseTable(b, r, d.Name, p, cols)
		}
	}
}

func writePhaseTable(b *strings.Builder, r *Results, dataset, phase string, cols []string) {
	b.WriteString("| figure |")
	for _, c := range cols {
		fmt.Fprintf(b, " %s |", r.titleOf(c))
	}
	b.WriteString(" cairn/restic | cairn/kopia |\n|---|")
	b.WriteString(strings.Repeat("---:|", len(cols)+2) + "\n")
	for _, f := range figures {
		if f.backup && phase == PhaseRestore {
			continue
		}
		fmt.Fprintf(b, "| %s |", f.name)
		for _, c := range cols {
			fmt.Fprintf(b, " %s |", cell(r, c, dataset, phase, f))
		}
		fmt.Fprintf(b, " %s | %s |\n", ratioCell(r, "restic", dataset, phase, f), ratioCell(r, "kopia", dataset, phase, f))
	}
	b.WriteString("\n")
}

func cell(r *Results, config, dataset, phase string, f figure) string {
	m, ok := r.find(config, dataset, phase)
	if !ok {
		return "—"
	}
	return fmt.Sprintf(f.format, f.get(m))
}

func ratioCell(r *Results, peer, dataset, phase string, f figure) string {
	c, ok1 := r.find("cairn", dataset, phase)
	p, ok2 := r.find(peer, dataset, phase)
	if !ok1 || !ok2 || f.get(p) == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", f.get(c)/f.get(p))
}

// writeS3 compares cairn on S3 (versitygw on loopback) with cairn on a
// local directory. The server's CPU time is part of the S3 path's cost.
func writeS3(b *strings.Builder, r *Results) {
	if !r.hasConfig("cairn-s3") {
		return
	}
	b.WriteString("## S3 leg\n\ncairn against versitygw on loopback (posix backend on the repository filesystem), " +
		"beside cairn on a local directory. Server CPU is versitygw's user+system time during the phase.\n\n")
	b.WriteString("| dataset | phase | local (s) | S3 (s) | S3/local | S3 MB/s | cairn CPU on S3 (s) | server CPU (s) | " +
		"peak RSS on S3 (MiB) | repository on S3 (MiB) |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, d := range r.Datasets {
		for _, p := range phases {
			s, ok := r.find("cairn-s3", d.Name, p)
			if !ok {
				continue
			}
			local, okl := r.find("cairn", d.Name, p)
			lw, ratio := "—", "—"
			if okl {
				lw, ratio = fmt.Sprintf("%.2f", local.WallSeconds), fmt.Sprintf("%.2f", s.WallSeconds/local.WallSeconds)
			}
			repo := "—"
			if p != PhaseRestore {
				repo = formatMiB(s.RepoBytes)
			}
			fmt.Fprintf(b, "| %s | %s | %s | %.2f | %s | %.0f | %.2f | %.2f | %s | %s |\n", d.Title, phaseTitles[p],
				lw, s.WallSeconds, ratio, s.MBPerSecond, s.CPUSeconds, s.ServerCPUSeconds, formatMiB(s.MaxRSSBytes), repo)
		}
	}
	b.WriteString("\n")
}
