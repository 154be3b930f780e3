package faults

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// KillStats are the figures of one operation on one backend.
type KillStats struct {
	Backend, Op string
	// Kills landed while the command ran; Finished ran out before the
	// kill and do not count.
	Kills, Finished int
	// CleanChecks counts check --read-data runs after a rerun that found
	// nothing wrong; it must equal Kills.
	CleanChecks int
	// Backup reruns: bytes they read, and of those, bytes they found
	// already stored (mostly by the killed run).
	RerunRead, RerunReused int64
	// Reused is RerunReused for each backup rerun, in order.
	Reused []int64
}

// killSetup is one backend's repository and dataset for the kills.
type killSetup struct {
	backend string
	r       *cairn
	objects string // where the repository's objects are on local disk
	data    *dataset
	work    string
	took    map[string]time.Duration // an uninterrupted run of each op
	stats   map[string]*KillStats
}

var killOps = []string{"backup", "backup", "prune", "restore"}

func (c *campaign) kills(ctx context.Context) error {
	for _, backend := range []string{"local", "s3"} {
		ks, err := c.killSetup(ctx, backend)
		if err != nil {
			return fmt.Errorf("%s: %w", backend, err)
		}
		if err := c.killLoop(ctx, ks); err != nil {
			return fmt.Errorf("%s: %w", backend, err)
		}
		for _, op := range []string{"backup", "prune", "restore"} {
			c.res.Kills = append(c.res.Kills, *ks.stats[op])
		}
	}
	return nil
}

func (c *campaign) killSetup(ctx context.Context, backend string) (*killSetup, error) {
	work, err := c.dir("kills", backend)
	if err != nil {
		return nil, err
	}
	ks := &killSetup{backend: backend, work: work, took: map[string]time.Duration{}, stats: map[string]*KillStats{}}
	for _, op := range []string{"backup", "prune", "restore"} {
		ks.stats[op] = &KillStats{Backend: backend, Op: op}
	}
	if backend == "local" {
		ks.objects = filepath.Join(work, "repo")
		ks.r = c.localRepo(ks.objects)
	} else {
		s, err := c.server()
		if err != nil {
			return nil, err
		}
		ks.r, ks.objects = c.s3Repo(s, s.Endpoint, "kills")
		// The S3 leg reads its index through the on-disk cache, so kills
		// land in cache builds and merges too; the local leg keeps the
		// index in memory.
		ks.r.env = append(ks.r.env, "CAIRN_CACHE_DIR="+filepath.Join(work, "cache"))
	}
	if ks.data, err = newDataset(filepath.Join(work, "src"), c.cfg.Seed+7, shape{textFiles: 40, largeFiles: 3, largeSize: 6 << 20}); err != nil {
		return nil, err
	}
	if err := c.initRepo(ctx, ks.r, filepath.Join(work, "pw2")); err != nil {
		return nil, err
	}
	if _, err := ks.r.must(ctx, nil, ks.args("backup")...); err != nil {
		return nil, err
	}
	// One uninterrupted run of each operation, as the kills will find it
	// (a backup after a change, a prune with something to free), sets the
	// range the kill moments are drawn from.
	for _, op := range []string{"backup", "restore", "prune"} {
		if err := c.prepareKill(ctx, ks, op); err != nil {
			return nil, err
		}
		o, err := ks.r.must(ctx, nil, ks.args(op)...)
		if err != nil {
			return nil, err
		}
		ks.took[op] = o.took
	}
	return ks, nil
}

func (ks *killSetup) target() string { return filepath.Join(ks.work, "restore") }

func (ks *killSetup) args(op string) []string {
	switch op {
	case "backup":
		return []string{"backup", ks.data.dir}
	case "prune":
		return []string{"prune", "--grace", "1s"}
	}
	_ = os.RemoveAll(ks.target())
	return []string{"restore", "latest", "--target", ks.target()}
}

// killLoop kills operations until the configured number of kills landed.
func (c *campaign) killLoop(ctx context.Context, ks *killSetup) error {
	kills := 0
	first := c.rnd.IntN(len(killOps))
	for attempt := 0; kills < c.cfg.Kills && attempt < 6*c.cfg.Kills; attempt++ {
		// In turn, so every operation gets its share of the kills.
		op := killOps[(first+attempt)%len(killOps)]
		landed, err := c.killOnce(ctx, ks, op)
		if err != nil {
			return err
		}
		if landed {
			kills++
		}
	}
	if kills < c.cfg.Kills {
		c.fail("%s: only %d of %d kills landed mid-run", ks.backend, kills, c.cfg.Kills)
	}
	return c.finalRestore(ctx, ks)
}

// killOnce prepares op, kills it at a random moment, runs it again to the
// end and checks the repository.
func (c *campaign) killOnce(ctx context.Context, ks *killSetup, op string) (bool, error) {
	st := ks.stats[op]
	if err := c.prepareKill(ctx, ks, op); err != nil {
		return false, err
	}
	delay := time.Duration((0.05 + 0.95*c.rnd.Float64()) * float64(ks.took[op]))
	landed, o, err := ks.r.killAfter(ctx, delay, ks.args(op)...)
	if err != nil {
		return false, err
	}
	if !landed {
		st.Finished++
		if o.code != 0 {
			c.fail("%s %s (not killed) failed: %s", ks.backend, op, o)
		}
		return false, nil
	}
	st.Kills++
	if err := c.rerun(ctx, ks, op); err != nil {
		c.fail("%s %s killed after %s: rerun: %v", ks.backend, op, delay.Round(time.Millisecond), err)
		return true, nil
	}
	if err := ks.r.checkClean(ctx); err != nil {
		c.fail("%s %s killed after %s: %v", ks.backend, op, delay.Round(time.Millisecond), err)
		return true, nil
	}
	st.CleanChecks++
	return true, nil
}

// prepareKill gives op something to do: new data for a backup, a
// forgotten snapshot for a prune.
func (c *campaign) prepareKill(ctx context.Context, ks *killSetup, op string) error {
	switch op {
	case "backup":
		return ks.data.mutate()
	case "prune":
		var snaps []struct {
			ID string `json:"id"`
		}
		if _, err := ks.r.must(ctx, &snaps, "snapshots"); err != nil {
			return err
		}
		if len(snaps) > 3 {
			_, err := ks.r.must(ctx, nil, "forget", snaps[0].ID)
			return err
		}
	}
	return nil
}

// rerun runs op again to its end, as an operator would after a crash.
func (c *campaign) rerun(ctx context.Context, ks *killSetup, op string) error {
	switch op {
	case "backup":
		var b backupJSON
		if _, err := ks.r.must(ctx, &b, ks.args(op)...); err != nil {
			return err
		}
		reused := max(0, b.BytesRead-b.BytesAdded)
		ks.stats[op].RerunRead += b.BytesRead
		ks.stats[op].RerunReused += reused
		ks.stats[op].Reused = append(ks.stats[op].Reused, reused)
	case "prune":
		_, err := ks.r.must(ctx, nil, ks.args(op)...)
		return err
	case "restore":
		// Into what the killed run left, which args would clear.
		if _, err := ks.r.must(ctx, nil, "restore", "latest", "--target", ks.target(), "--overwrite"); err != nil {
			return err
		}
		return c.compareRestore(ks.data.dir, filepath.Join(ks.target(), "src"))
	}
	return nil
}

// compareRestore fails the campaign for every file that differs.
func (c *campaign) compareRestore(want, got string) error {
	diff, err := compareTrees(want, got)
	if err != nil {
		return err
	}
	for _, rel := range diff {
		fi, err := os.Lstat(filepath.Join(want, rel))
		if err == nil {
			c.res.BytesLost += fi.Size()
		}
	}
	if len(diff) > 0 {
		return fmt.Errorf("restore differs from its source in %d paths, first %s", len(diff), diff[0])
	}
	return nil
}

// finalRestore restores the latest snapshot once the kills are over.
func (c *campaign) finalRestore(ctx context.Context, ks *killSetup) error {
	if _, err := ks.r.must(ctx, nil, ks.args("restore")...); err != nil {
		c.fail("%s: final restore: %v", ks.backend, err)
		return nil
	}
	if err := c.compareRestore(ks.data.dir, filepath.Join(ks.target(), "src")); err != nil {
		c.fail("%s: final restore: %v", ks.backend, err)
	}
	return nil
}
