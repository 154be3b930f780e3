package faults

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// S3Stats are the figures of the S3 fault scenario.
type S3Stats struct {
	Requests int
	Faults   map[Fault]int
	// Backups, Restores (each compared byte for byte with its source) and
	// clean check --read-data runs that completed through the faults.
	Backups, Restores, Checks, Prunes int
}

// s3Faults backs up, restores, prunes and checks through the fault proxy.
// Every command must complete, as the retry layer absorbs the faults, and
// every restore must be exact.
func (c *campaign) s3Faults(ctx context.Context) error {
	s, err := c.server()
	if err != nil {
		return err
	}
	p, err := StartProxy(s.Endpoint, c.cfg.Seed+11, c.cfg.FaultRate)
	if err != nil {
		return err
	}
	defer p.Close()
	work, err := c.dir("s3faults")
	if err != nil {
		return err
	}
	st := &S3Stats{}
	c.res.S3 = st
	defer func() { st.Requests, st.Faults = p.Stats() }()
	r, _ := c.s3Repo(s, p.URL, "faults")
	data, err := newDataset(filepath.Join(work, "src"), c.cfg.Seed+13, shape{textFiles: 30, largeFiles: 2, largeSize: 6 << 20})
	if err != nil {
		return err
	}
	if err := c.initRepo(ctx, r, filepath.Join(work, "pw2")); err != nil {
		c.fail("s3 faults: init: %v", err)
		return nil
	}
	for i := range c.cfg.S3Backups {
		if err := c.s3Round(ctx, r, data, work, i, st); err != nil {
			c.fail("s3 faults, round %d: %v", i, err)
			return nil
		}
	}
	if _, err := r.must(ctx, nil, "prune", "--grace", "1s"); err != nil {
		c.fail("s3 faults: prune: %v", err)
		return nil
	}
	st.Prunes++
	if err := r.checkClean(ctx); err != nil {
		c.fail("s3 faults: after prune: %v", err)
		return nil
	}
	st.Checks++
	st.Requests, st.Faults = p.Stats()
	c.logf("s3 faults: %d requests, %s", st.Requests, faultSummary(st.Faults))
	return nil
}

func (c *campaign) s3Round(ctx context.Context, r *cairn, data *dataset, work string, i int, st *S3Stats) error {
	if i > 0 {
		if err := data.mutate(); err != nil {
			return err
		}
	}
	if _, err := r.must(ctx, nil, "backup", data.dir); err != nil {
		return err
	}
	st.Backups++
	target := filepath.Join(work, fmt.Sprintf("restore-%d", i))
	if _, err := r.must(ctx, nil, "restore", "latest", "--target", target); err != nil {
		return err
	}
	if err := c.compareRestore(data.dir, filepath.Join(target, "src")); err != nil {
		return err
	}
	st.Restores++
	if err := os.RemoveAll(target); err != nil {
		return err
	}
	if err := r.checkClean(ctx); err != nil {
		return err
	}
	st.Checks++
	return nil
}
