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
	{"initial backup, real source tree", "source", PhaseBackup, 2},
	{"incremental backup, real source tree", "source", PhaseIncremental, 2},
	{"full restore, real source tree", "source", PhaseRestore, 2},
}

// s3Target: on S3, cairn must reach this share of its local throughput.
const s3Target = 0.8

func writeTargets(b *strings.Builder, r *Results) {
	b.WriteString("## Targets\n\n")
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
	for _, d := range r.Datasets {
		for _, ph := range []string{PhaseBackup, PhaseRestore} {
			writeS3Target(b, r, d, ph)
		}
	}
	b.WriteString("\n")
}

// writeS3Target judges the S3 leg of one dataset and phase against the
// local one; datasets the S3 leg did not run on are left out.
func writeS3Target(b *strings.Builder, r *Results, d DatasetInfo, phase string) {
	s3, ok := r.find("cairn-s3", d.Name, phase)
	local, okl := r.find("cairn", d.Name, phase)
	if !ok || !okl {
		return
	}
	got := local.WallSeconds / s3.WallSeconds
	verdict := "**met**"
	if got < s3Target {
		verdict = fmt.Sprintf("**missed**: %.2f× of %.1f×", got, s3Target)
	}
	fmt.Fprintf(b, "| S3 leg, %s, %s | ≥ %.1f× the local throughput | %.2f s | %.2f s (local) | %.2f× | %s |\n",
		strings.ToLower(phaseTitles[phase]), d.Title, s3Target, s3.WallSeconds, local.WallSeconds, got, verdict)
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

// anchor is a peer figure measured separately on this kind of machine
// (DESIGN.md, "Measured anchors"), for a sanity check of this run's peers.
type anchor struct {
	work, dataset, phase string
	restic, kopia        float64 // seconds
	note                 string
}

var anchors = []anchor{
	{"2 GiB random file, first backup", "image", PhaseBackup, 12.1, 10.8, ""},
	{"same file again, re-read", "image", PhaseIncremental, 4.7, 5.0, "anchor: all duplicate; here: 1% of blocks rewritten"},
	{"restore the 2 GiB file", "image", PhaseRestore, 5.8, 16.1, ""},
	{"source tree, first backup", "source", PhaseBackup, 5.2, 4.9, "anchor: 665 MB of Go source, 57k files; here: the Go distribution's tree (dataset 4)"},
	{"same tree, 1% of files changed", "source", PhaseIncremental, 2.9, 1.8, "as above"},
	{"restore the source tree", "source", PhaseRestore, 6.6, 8.1, "as above"},
}

// writeAnchors sets this run's peer figures beside DESIGN.md's anchors.
// The targets are judged on this run alone; the anchors only show whether
// the peers ran as fast here as they did there.
func writeAnchors(b *strings.Builder, r *Results) {
	if r.Smoke {
		return
	}
	b.WriteString("## Peers against the DESIGN.md anchors\n\n" +
		"The targets above compare figures of this run only. This table shows how the peers ran here against the " +
		"anchors measured earlier on a machine of this kind (tmpfs repository, default settings).\n\n")
	b.WriteString("| work | restic anchor (s) | restic here (s) | kopia anchor (s) | kopia here (s) | note |\n" +
		"|---|---:|---:|---:|---:|---|\n")
	for _, a := range anchors {
		here := func(peer string) string {
			if m, ok := r.find(peer, a.dataset, a.phase); ok {
				return fmt.Sprintf("%.2f", m.WallSeconds)
			}
			return "—"
		}
		fmt.Fprintf(b, "| %s | %.1f | %s | %.1f | %s | %s |\n", a.work, a.restic, here("restic"), a.kopia, here("kopia"), a.note)
	}
	b.WriteString("\n")
}
