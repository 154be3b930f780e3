package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// FlipStats are the figures of the bit-flip scenario.
type FlipStats struct {
	// Flips and Detected (by check --read-data), by the kind of object.
	Flips, Detected map[string]int
	// Restore outcomes, over every flip and every snapshot: exact, finished
	// with the damaged files named (all others exact), or refused with an
	// error. Silent counts restores that finished without naming a file
	// that differs; it must be 0.
	Exact, Reported, Refused, Silent int
}

// flipKinds are the objects flipped, with their weights: packs hold the
// most bytes and the most ways to go wrong.
var flipKinds = []struct {
	kind   string
	weight int
}{{"pack", 40}, {"index", 15}, {"snapshot", 15}, {"key", 15}, {"config", 15}}

// flipRepo is the pristine repository the flips are made in copies of.
type flipRepo struct {
	dir       string
	snapshots []string // IDs, oldest first
	states    []string // the source tree of each snapshot
}

func (c *campaign) flips(ctx context.Context) error {
	work, err := c.dir("flips")
	if err != nil {
		return err
	}
	pr, err := c.flipPristine(ctx, work)
	if err != nil {
		return err
	}
	st := &FlipStats{Flips: map[string]int{}, Detected: map[string]int{}}
	c.res.Flips = st
	for i := range c.cfg.Flips {
		if err := c.flipOnce(ctx, pr, work, i, st); err != nil {
			return err
		}
	}
	return nil
}

func (c *campaign) flipPristine(ctx context.Context, work string) (*flipRepo, error) {
	pr := &flipRepo{dir: filepath.Join(work, "pristine")}
	r := c.localRepo(pr.dir)
	if err := c.initRepo(ctx, r, filepath.Join(work, "pw2")); err != nil {
		return nil, err
	}
	data, err := newDataset(filepath.Join(work, "src"), c.cfg.Seed+17, shape{textFiles: 24, largeFiles: 2, largeSize: 3 << 20})
	if err != nil {
		return nil, err
	}
	for i := range 2 {
		if i > 0 {
			if err := data.mutate(); err != nil {
				return nil, err
			}
		}
		var b backupJSON
		if _, err := r.must(ctx, &b, "backup", data.dir); err != nil {
			return nil, err
		}
		state := filepath.Join(work, fmt.Sprintf("state-%d", i))
		if err := copyTree(data.dir, state); err != nil {
			return nil, err
		}
		pr.snapshots, pr.states = append(pr.snapshots, b.SnapshotID), append(pr.states, state)
	}
	return pr, nil
}

// flipOnce flips one bit in a copy of the pristine repository and checks
// that check detects it and no restore hides it.
func (c *campaign) flipOnce(ctx context.Context, pr *flipRepo, work string, i int, st *FlipStats) error {
	dir := filepath.Join(work, "flipped")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := copyTree(pr.dir, dir); err != nil {
		return err
	}
	kind, file, bit, err := c.flipBit(dir)
	if err != nil {
		return err
	}
	st.Flips[kind]++
	what := fmt.Sprintf("flip %d: bit %d of %s (%s)", i, bit, file, kind)
	r := c.localRepo(dir)
	if o := r.run(ctx, "check", "--read-data"); o.code != 0 {
		st.Detected[kind]++
	} else {
		c.fail("%s: check --read-data found nothing:\n%s", what, o)
	}
	for s := range pr.snapshots {
		if err := c.flipRestore(ctx, r, pr, s, kind, file, what, st); err != nil {
			return err
		}
	}
	return nil
}

// flipBit picks an object of a weighted random kind and flips one bit.
func (c *campaign) flipBit(dir string) (kind, rel string, bit int64, err error) {
	total := 0
	for _, k := range flipKinds {
		total += k.weight
	}
	n := c.rnd.IntN(total)
	for _, k := range flipKinds {
		if n -= k.weight; n < 0 {
			kind = k.kind
			break
		}
	}
	files, err := objectsOf(dir, kind)
	if err != nil || len(files) == 0 {
		return "", "", 0, fmt.Errorf("flip: no %s objects in %s: %v", kind, dir, err)
	}
	rel = files[c.rnd.IntN(len(files))]
	p := filepath.Join(dir, rel)
	b, err := os.ReadFile(p)
	if err != nil {
		return "", "", 0, err
	}
	bit = c.rnd.Int64N(int64(len(b)) * 8)
	b[bit/8] ^= 1 << (bit % 8)
	return kind, rel, bit, os.WriteFile(p, b, 0o600)
}

func objectsOf(dir, kind string) ([]string, error) {
	sub := map[string]string{"pack": "data", "index": "index", "snapshot": "snapshots", "key": "keys"}[kind]
	if kind == "config" {
		return []string{"config"}, nil
	}
	var out []string
	err := filepath.WalkDir(filepath.Join(dir, sub), func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".tmp-") {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return err
	})
	slices.Sort(out)
	return out, err
}

// flipRestore restores one snapshot of the flipped repository and judges
// the outcome by what was flipped.
func (c *campaign) flipRestore(ctx context.Context, r *cairn, pr *flipRepo, s int, kind, file, what string, st *FlipStats) error {
	target := filepath.Join(filepath.Dir(pr.dir), "restore")
	if err := os.RemoveAll(target); err != nil {
		return err
	}
	o := r.run(ctx, "restore", pr.snapshots[s], "--target", target, "--json")
	if o.code == 1 && strings.Contains(o.stderr, "wrong password") {
		// The first password's key is the damaged one: the second opens.
		r2 := *r
		r2.password = password2
		o = r2.run(ctx, "restore", pr.snapshots[s], "--target", target, "--json")
	}
	what = fmt.Sprintf("%s, restore of snapshot %d", what, s)
	diff, err := restoredDiff(pr.states[s], filepath.Join(target, "src"), o)
	if err != nil {
		return err
	}
	flippedThis := kind == "snapshot" && strings.HasSuffix(file, pr.snapshots[s])
	contained := kind == "index" || kind == "key" || (kind == "snapshot" && !flippedThis)
	switch {
	case o.code == 1 && (contained || kind == "pack" && !strings.Contains(o.stderr, "corrupt")):
		c.fail("%s: refused, though the damage should not stop it:\n%s", what, o)
	case o.code == 1:
		st.Refused++
	case o.code == 4 && contained:
		c.fail("%s: files reported damaged, though the damage should cost none:\n%s", what, o)
	case o.code == 4 && len(diff) == 0:
		st.Reported++
	case (o.code == 0 || o.code == 3) && len(diff) == 0:
		st.Exact++
	case o.code == 0 || o.code == 3 || o.code == 4:
		st.Silent++
		c.fail("%s: SILENT WRONG RESTORE: %v differ and are not reported:\n%s", what, diff, o)
	default:
		c.fail("%s: exit %d:\n%s", what, o.code, o)
	}
	return nil
}

// restoredDiff returns the paths of a restore that differ from its source
// and that the restore did not report as damaged.
func restoredDiff(want, got string, o outcome) ([]string, error) {
	if o.code != 0 && o.code != 3 && o.code != 4 {
		return nil, nil
	}
	diff, err := compareTrees(want, got)
	if err != nil {
		return nil, err
	}
	var res restoreJSON
	if err := json.Unmarshal([]byte(o.stdout), &res); err != nil {
		return nil, fmt.Errorf("decode restore --json: %w\n%s", err, o)
	}
	damaged := map[string]bool{}
	for _, d := range res.Damaged {
		rel, err := filepath.Rel(got, d.Path)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") || rel == "." {
			// The snapshot's root listing, or the restored path's own:
			// nothing below it is claimed whole.
			return nil, nil
		}
		damaged[rel] = true
	}
	var hidden []string
	for _, rel := range diff {
		if !damaged[rel] && !underDamagedDir(rel, damaged) {
			hidden = append(hidden, rel)
		}
	}
	return hidden, nil
}

// underDamagedDir reports whether rel lies in a directory whose listing
// was reported lost.
func underDamagedDir(rel string, damaged map[string]bool) bool {
	for d := range damaged {
		if strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return false
}
