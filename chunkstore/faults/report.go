package faults

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
)

// WriteReport renders the results as Markdown into path.
func WriteReport(path string, res *Results) error {
	var b strings.Builder
	status := "PASSED"
	if len(res.Failures) > 0 {
		status = fmt.Sprintf("FAILED (%d violations, listed at the end)", len(res.Failures))
	}
	fmt.Fprintf(&b, "# cairn reliability campaign\n\n")
	commit := ""
	if res.Config.Commit != "" {
		commit = " at commit " + res.Config.Commit
	}
	fmt.Fprintf(&b, "Written by `make test-faults` (`chunkstore/faults`); do not edit. Run of %s%s, seed %d, %s on %d cores: **%s**.\n",
		res.Started.UTC().Format("2006-01-02 15:04 MST"), commit, res.Config.Seed, res.Duration.Round(time.Second), runtime.NumCPU(), status)
	fmt.Fprintf(&b, "Replay it with `make test-faults FAULTS_SEED=%d`; `FAULTS_FULL=1` runs %s.\n\n", res.Config.Seed, fullCounts())
	writeSummary(&b, res)
	writeKills(&b, res)
	writeS3(&b, res)
	writeFlips(&b, res)
	writeDisk(&b, res)
	writeFuzz(&b, res)
	if len(res.Failures) > 0 {
		b.WriteString("\n## Violations\n\n")
		for _, f := range res.Failures {
			fmt.Fprintf(&b, "- %s\n", strings.ReplaceAll(f, "\n", " "))
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func fullCounts() string {
	f := Defaults(true)
	return fmt.Sprintf("%s per fuzz target and %d S3 rounds", f.FuzzTime, f.S3Backups)
}

func writeSummary(b *strings.Builder, res *Results) {
	var kills, clean int
	for _, k := range res.Kills {
		kills += k.Kills
		clean += k.CleanChecks
	}
	b.WriteString("| figure | value |\n|---|---|\n")
	fmt.Fprintf(b, "| kill -9s survived (rerun completes, `check --read-data` clean) | %d of %d |\n", clean, kills)
	if s := res.S3; s != nil {
		fmt.Fprintf(b, "| S3 faults injected (all absorbed: backups complete, restores exact) | %d in %d requests |\n", total(s.Faults), s.Requests)
	}
	if f := res.Flips; f != nil {
		fmt.Fprintf(b, "| bit flips detected by `check --read-data` | %d of %d |\n", sum(f.Detected), sum(f.Flips))
		fmt.Fprintf(b, "| silent wrong restores after a flip | %d |\n", f.Silent)
	}
	cleanDisk := 0
	for _, d := range res.Disk {
		if d.Outcome != "" {
			cleanDisk++
		}
	}
	fmt.Fprintf(b, "| full-disk runs ending cleanly | %d of %d |\n", cleanDisk, len(res.Disk))
	crashes := 0
	for _, f := range res.Fuzz {
		if f.Crashed {
			crashes++
		}
	}
	fmt.Fprintf(b, "| fuzz targets run (%s each), crashes | %d, %d |\n", res.Config.FuzzTime, len(res.Fuzz), crashes)
	fmt.Fprintf(b, "| bytes lost | %d |\n", res.BytesLost)
}

func writeKills(b *strings.Builder, res *Results) {
	if len(res.Kills) == 0 {
		return
	}
	b.WriteString("\n## Kills\n\nEach operation was killed with SIGKILL at a moment drawn uniformly from its uninterrupted run time, " +
		"then run again to completion (a restore with --overwrite into what the killed one left), and `check --read-data` had to be clean. " +
		"Reused is what the backup reruns read and found already stored, most of it by the killed run. " +
		"On S3 every command reads the index through the on-disk index cache (`CAIRN_CACHE_DIR`); on local disk the index is loaded into memory.\n\n")
	b.WriteString("| backend | operation | kills | finished before the kill | clean checks | rerun read | rerun reused |\n|---|---|---|---|---|---|---|\n")
	for _, k := range res.Kills {
		read, reused := "", ""
		if k.Op == "backup" {
			read, reused = mib(k.RerunRead), mib(k.RerunReused)
		}
		fmt.Fprintf(b, "| %s | %s | %d | %d | %d | %s | %s |\n", k.Backend, k.Op, k.Kills, k.Finished, k.CleanChecks, read, reused)
	}
	for _, k := range res.Kills {
		if len(k.Reused) == 0 {
			continue
		}
		each := make([]string, len(k.Reused))
		for i, n := range k.Reused {
			each[i] = fmt.Sprintf("%.1f", float64(n)/(1<<20))
		}
		fmt.Fprintf(b, "\nMiB each %s backup rerun reused: %s.\n", k.Backend, strings.Join(each, ", "))
	}
}

func writeS3(b *strings.Builder, res *Results) {
	s := res.S3
	if s == nil {
		return
	}
	fmt.Fprintf(b, "\n## S3 faults\n\nA proxy in front of versitygw failed %.0f%% of the requests, each fault kind equally often. "+
		"%s, %s (each compared byte for byte with its source), %s and %s went through it and completed.\n\n",
		res.Config.FaultRate*100, count(s.Backups, "backup"), count(s.Restores, "restore"), count(s.Prunes, "prune"), count(s.Checks, "`check --read-data` run"))
	b.WriteString("| fault | injected |\n|---|---|\n")
	keys := make([]string, 0, len(s.Faults))
	for k := range s.Faults {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(b, "| %s | %d |\n", k, s.Faults[Fault(k)])
	}
	fmt.Fprintf(b, "| requests in all | %d |\n", s.Requests)
}

func writeFlips(b *strings.Builder, res *Results) {
	f := res.Flips
	if f == nil {
		return
	}
	b.WriteString("\n## Bit flips\n\nOne bit flipped per copy of a repository of two snapshots with two keys; then `check --read-data`, " +
		"and a restore of each snapshot. Damage to an index file, a key file or the other snapshot's record must cost no file.\n\n")
	b.WriteString("| object | flips | detected |\n|---|---|---|\n")
	for _, k := range flipKinds {
		fmt.Fprintf(b, "| %s | %d | %d |\n", k.kind, f.Flips[k.kind], f.Detected[k.kind])
	}
	fmt.Fprintf(b, "\nRestores: %d exact, %d finished naming the damaged files (every other file exact), %d refused with an error, %d silently wrong.\n",
		f.Exact, f.Reported, f.Refused, f.Silent)
}

func writeDisk(b *strings.Builder, res *Results) {
	if len(res.Disk) == 0 {
		return
	}
	b.WriteString("\n## Full disks\n\nThe repository (backup) or the target (restore) on a 64 MiB file system filled to leave the given space. " +
		"A failed run must say the space ran out and leave no snapshot; `check --read-data` must stay clean; with the space back the next run " +
		"completes and restores exactly.\n\n")
	b.WriteString("| file system | operation | free | outcome |\n|---|---|---|---|\n")
	for _, d := range res.Disk {
		out := d.Outcome
		if out == "" {
			out = "**failed without saying the space ran out**"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", d.FS, d.Op, kib(d.Free), out)
	}
}

func writeFuzz(b *strings.Builder, res *Results) {
	if len(res.Fuzz) == 0 {
		return
	}
	fuzz := append([]FuzzStats(nil), res.Fuzz...)
	sort.Slice(fuzz, func(i, j int) bool { return fuzz[i].Package+fuzz[i].Target < fuzz[j].Package+fuzz[j].Target })
	b.WriteString("\n## Fuzzing\n\n| package | target | time | inputs | crashed |\n|---|---|---|---|---|\n")
	for _, f := range fuzz {
		fmt.Fprintf(b, "| %s | %s | %s | %d | %v |\n", f.Package, f.Target, f.Time.Round(time.Second), f.Execs, f.Crashed)
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
func kib(n int64) string { return fmt.Sprintf("%d KiB", n>>10) }

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func total(m map[Fault]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
