package harness

import (
	"fmt"
	"slices"
	"strings"
)

// agentMedian is the median of one (volume, phase) of the agent leg.
type agentMedian struct {
	Seconds, ItemSeconds float64
	Read, Bytes, RSS     int64
	Mode                 string
	N                    int
}

func agentMedianOf(r *Results, volume, phase string) (agentMedian, bool) {
	var ss []AgentSample
	for _, s := range r.Agent {
		if s.Volume == volume && s.Phase == phase {
			ss = append(ss, s)
		}
	}
	if len(ss) == 0 {
		return agentMedian{}, false
	}
	med := func(f func(AgentSample) float64) float64 {
		v := make([]float64, len(ss))
		for i, s := range ss {
			v[i] = f(s)
		}
		slices.Sort(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return agentMedian{Seconds: med(func(s AgentSample) float64 { return s.Seconds }),
		ItemSeconds: med(func(s AgentSample) float64 { return s.ItemSeconds }),
		Read:        int64(med(func(s AgentSample) float64 { return float64(s.Read) })),
		Bytes:       ss[0].Bytes, RSS: int64(med(func(s AgentSample) float64 { return float64(s.MaxRSSBytes) })),
		Mode: ss[0].ReadMode, N: len(ss)}, true
}

func mbps(bytes int64, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(bytes) / 1e6 / secs
}

func writeAgent(b *strings.Builder, r *Results) {
	if len(r.Agent) == 0 {
		return
	}
	b.WriteString("## Node agent leg\n\n")
	fmt.Fprintf(b, "One simulated node runs the controller, a cairn-agent process and the reference CSI driver as local processes "+
		"(e2e/localcluster). The image dataset is a block volume and the small-files dataset a file-system volume of one namespace, "+
		"backed up one at a time (then both at once, for the memory figure), changed twice (1%% of the image's 64 KiB blocks rewritten, first scattered, then in 1 MiB runs) and backed up after each, "+
		"and restored into another namespace and compared byte for byte. The driver's volumes lived on %s; repositories in %s. "+
		"`cairn-repo` ran on the same data in the same run, before or after the agent by turns. Agent times are the items' data "+
		"movement (`status.stats.readMilliseconds`); \"item\" adds the driver's snapshot, volume and mount work.\n\n",
		orDash(r.Setup.AgentFS), r.Setup.RepoDir)
	b.WriteString("| work | agent | item | cairn-repo | agent ÷ repo | target | verdict |\n|---|---:|---:|---:|---:|---|---|\n")
	for _, w := range []struct{ title, vol string }{{"backup, image as a block volume", "image"}, {"backup, small files as a file system", "files"}} {
		agentSpeedRow(b, r, w.title, w.vol, AgentBackup, RepoBackup)
	}
	agentSpeedRow(b, r, "restore, image as a block volume", "image", AgentRestore, RepoRestore)
	writeAgentIncremental(b, r)
	writeAgentRSS(b, r)
	b.WriteString("\n")
}

// agentSpeedRow compares the agent's throughput with cairn repo's.
func agentSpeedRow(b *strings.Builder, r *Results, title, vol, phase, repoPhase string) {
	a, ok := agentMedianOf(r, vol, phase)
	c, okc := agentMedianOf(r, vol, repoPhase)
	if !ok || !okc {
		fmt.Fprintf(b, "| %s | — | — | — | — | ≥ 0.9× | not measured |\n", title)
		return
	}
	ra, rc := mbps(a.Bytes, a.Seconds), mbps(c.Bytes, c.Seconds)
	ratio := ra / rc
	fmt.Fprintf(b, "| %s | %.0f MB/s (%.2f s) | %.2f s | %.0f MB/s (%.2f s) | %.2f× | ≥ 0.9× | %s |\n",
		title, ra, a.Seconds, a.ItemSeconds, rc, c.Seconds, ratio, verdict(r, ratio >= 0.9))
}

func writeAgentIncremental(b *strings.Builder, r *Results) {
	full, okf := agentMedianOf(r, "image", AgentBackup)
	for _, p := range []struct{ phase, how string }{{AgentIncremental, "1% of blocks scattered"}, {AgentIncrementalRuns, "1% of blocks in 1 MiB runs"}} {
		inc, ok := agentMedianOf(r, "image", p.phase)
		if !ok || !okf {
			continue
		}
		share := float64(inc.Read) / float64(inc.Bytes)
		fmt.Fprintf(b, "| changed-block incremental, %s: bytes read of the volume (%s) | %.2f%% (%s) | | | | ≤ 2%% | %s |\n",
			p.how, orDash(inc.Mode), 100*share, formatBytes(inc.Read), verdict(r, share <= 0.02))
		t := inc.Seconds / full.Seconds
		fmt.Fprintf(b, "| changed-block incremental, %s: time ÷ the full backup's | %.3f (%.2f s ÷ %.2f s) | %.3f (%.2f s ÷ %.2f s) | | | ≤ 0.10 | %s |\n",
			p.how, t, inc.Seconds, full.Seconds, inc.ItemSeconds/full.ItemSeconds, inc.ItemSeconds, full.ItemSeconds, verdict(r, t <= 0.10))
	}
}

func writeAgentRSS(b *strings.Builder, r *Results) {
	a, ok := agentMedianOf(r, "image", AgentBoth)
	if !ok {
		return
	}
	fmt.Fprintf(b, "| agent peak RSS, two items at once | %s MiB | | | | ≤ 300 MiB | %s |\n",
		formatMiB(a.RSS), verdict(r, a.RSS <= 300<<20))
}

func verdict(r *Results, met bool) string {
	switch {
	case r.Smoke:
		return "not judged (smoke)"
	case met:
		return "**met**"
	}
	return "**missed**"
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
