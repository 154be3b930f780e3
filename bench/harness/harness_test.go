package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCompareTrees(t *testing.T) {
	base := map[string]string{"a/b/x.txt": "hello", "a/y.txt": strings.Repeat("z", 3<<20), "top": ""}
	cases := []struct {
		name    string
		change  func(dir string)
		wantErr string // empty: the trees must compare equal
	}{
		{"identical", func(string) {}, ""},
		{"content differs", func(d string) { writeFiles(t, d, map[string]string{"a/b/x.txt": "hellO"}) },
			"a/b/x.txt: content differs at or after offset 4"},
		{"late byte differs", func(d string) {
			writeFiles(t, d, map[string]string{"a/y.txt": strings.Repeat("z", 3<<20-1) + "!"})
		}, "offset 3145727"},
		{"shorter", func(d string) { writeFiles(t, d, map[string]string{"a/b/x.txt": "hell"}) }, "a/b/x.txt"},
		{"missing", func(d string) { os.Remove(filepath.Join(d, "top")) }, "missing: top"},
		{"extra", func(d string) { writeFiles(t, d, map[string]string{"a/new": "n"}) }, "unexpected: a/new"},
		{"type differs", func(d string) {
			os.Remove(filepath.Join(d, "top"))
			os.Mkdir(filepath.Join(d, "top"), 0o755)
		}, "top: type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, got := t.TempDir(), t.TempDir()
			writeFiles(t, want, base)
			writeFiles(t, got, base)
			c.change(got)
			err := compareTrees(want, got)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("unexpected difference: %v", err)
			case c.wantErr != "" && err == nil:
				t.Fatal("difference not detected")
			case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
				t.Fatalf("error %q does not mention %q", err, c.wantErr)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	cases := []struct {
		name string
		in   []float64
		want float64
	}{
		{"one", []float64{3}, 3},
		{"odd", []float64{9, 1, 5}, 5},
		{"even", []float64{4, 1, 3, 10}, 3.5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ss []Sample
			for _, v := range c.in {
				ss = append(ss, Sample{WallSeconds: v})
			}
			if got := median(ss, func(s Sample) float64 { return s.WallSeconds }); got != c.want {
				t.Fatalf("median %v = %v, want %v", c.in, got, c.want)
			}
		})
	}
}

// fakeResults has cairn twice as fast as the faster peer everywhere.
func fakeResults() *Results {
	r := &Results{Setup: Setup{Runs: 3}, Machine: Machine{CPUs: 2}}
	for _, d := range []string{"image", "vmimage", "files"} {
		r.Datasets = append(r.Datasets, DatasetInfo{Name: d, Title: d, Bytes: 1 << 30, MutatedBytes: 1 << 30, Files: 1})
	}
	walls := map[string]float64{"cairn": 2, "cairn-nocomp": 2, "restic": 5, "kopia": 4, "kopia-zstd": 4.5}
	for _, c := range mainConfigs {
		r.Configs = append(r.Configs, ConfigInfo{Name: c, Title: c})
		for _, d := range r.Datasets {
			for _, p := range phases {
				for run := 1; run <= 3; run++ {
					s := Sample{Config: c, Dataset: d.Name, Run: run, Phase: p, Bytes: d.Bytes,
						WallSeconds: walls[c] + float64(run-2)*0.1, MaxRSSBytes: 100 << 20, RepoBytes: 500 << 20}
					if c == "cairn" {
						s.Stages = &Stages{WallSeconds: s.WallSeconds * 0.9, Chunk: Stage{Share: 0.8}, Hash: Stage{Share: 0.1}}
					}
					r.Samples = append(r.Samples, s)
				}
			}
		}
	}
	r.Medians = computeMedians(r.Samples)
	return r
}

func TestReport(t *testing.T) {
	r := fakeResults()
	r.Notes = "## What limits the targets\n\nCompression.\n"
	out := Report(r)
	for _, want := range []string{
		"`bench/TUNING.md` as it stood",
		"## What limits the targets\n\nCompression.\n",
		"| wall time (s) | 2.00 | 2.00 | 5.00 | 4.00 | 4.50 | 0.40 | 0.50 |",
		"| initial backup, 2 GiB incompressible image | ≥ 3× the faster peer | 2.00 s | 4.00 s (kopia) | 2.00× | **missed**",
		"| initial backup, small-files tree | ≥ 2× the faster peer | 2.00 s | 4.00 s (kopia) | 2.00× | **met** |",
		"**chunk** (80%)",
		"no failures",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

func TestReportShowsFailures(t *testing.T) {
	r := fakeResults()
	r.Failures = []Failure{{Config: "kopia", Dataset: "files", Run: 2, Phase: "verify", Error: "RESTORE IS NOT IDENTICAL"}}
	if out := Report(r); !strings.Contains(out, "## FAILURES (1)") || !strings.Contains(out, "RESTORE IS NOT IDENTICAL") {
		t.Fatalf("failures not reported:\n%s", out)
	}
}
