package faults

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// DiskStats is one full-disk run: which file system, how much was left
// free, and how the command ended.
type DiskStats struct {
	FS, Op string
	Free   int64
	// Outcome is "no space", naming where it ran out, or "completed".
	Outcome string
}

// fsSize is the size of each file system the disk runs use: far more than
// the data, so that the filler decides the free space.
const fsSize = 64 << 20

func (c *campaign) disks(ctx context.Context) error {
	work, err := c.dir("disk")
	if err != nil {
		return err
	}
	data, err := newDataset(filepath.Join(work, "src"), c.cfg.Seed+19, shape{textFiles: 20, largeFiles: 2, largeSize: 4 << 20})
	if err != nil {
		return err
	}
	for _, fsType := range []string{"tmpfs", "ext4"} {
		mnt, unmount, err := mountSmall(work, fsType)
		if err != nil {
			return err
		}
		err = c.diskRuns(ctx, fsType, mnt, work, data.dir)
		if uerr := unmount(); err == nil {
			err = uerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", fsType, err)
		}
	}
	return nil
}

// mountSmall mounts a fresh file system of fsSize bytes and returns a
// func that unmounts it (and removes its image).
func mountSmall(work, fsType string) (string, func() error, error) {
	mnt := filepath.Join(work, fsType)
	if err := os.MkdirAll(mnt, 0o700); err != nil {
		return "", nil, err
	}
	var cmds [][]string
	img := filepath.Join(work, fsType+".img")
	if fsType == "tmpfs" {
		cmds = [][]string{{"mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", fsSize), "tmpfs", mnt}}
	} else {
		cmds = [][]string{{"truncate", "-s", fmt.Sprint(fsSize), img}, {"mkfs.ext4", "-q", "-F", "-m", "0", img}, {"mount", "-o", "loop", img, mnt}}
	}
	for _, a := range cmds {
		if out, err := exec.Command(a[0], a[1:]...).CombinedOutput(); err != nil {
			return "", nil, fmt.Errorf("%s: %v: %s (the disk runs need root, mount and mkfs.ext4)", strings.Join(a, " "), err, out)
		}
	}
	return mnt, func() error {
		out, err := exec.Command("umount", mnt).CombinedOutput()
		_ = os.Remove(img)
		if err != nil {
			return fmt.Errorf("umount %s: %v: %s", mnt, err, out)
		}
		return nil
	}, nil
}

// diskRuns backs up into a repository on mnt with each free size in turn,
// and restores onto mnt likewise.
func (c *campaign) diskRuns(ctx context.Context, fsType, mnt, work, src string) error {
	written, err := c.diskCalibrate(ctx, mnt, src)
	if err != nil {
		return err
	}
	for _, free := range freeSizes(written, c.cfg.DiskSizes) {
		if err := c.diskBackup(ctx, fsType, mnt, work, src, free); err != nil {
			return err
		}
	}
	data := treeBytes(src)
	for _, free := range []int64{data / 4, data / 2, data * 3 / 4} {
		if err := c.diskRestore(ctx, fsType, mnt, work, src, free); err != nil {
			return err
		}
	}
	return nil
}

// diskCalibrate measures how many bytes a first backup of src writes.
func (c *campaign) diskCalibrate(ctx context.Context, mnt, src string) (int64, error) {
	dir := filepath.Join(mnt, "calibrate")
	r := c.localRepo(dir)
	if _, err := r.must(ctx, nil, "init", "--kdf-fast"); err != nil {
		return 0, err
	}
	before, err := used(mnt)
	if err != nil {
		return 0, err
	}
	if _, err := r.must(ctx, nil, "backup", src); err != nil {
		return 0, err
	}
	after, err := used(mnt)
	if err != nil {
		return 0, err
	}
	return after - before, os.RemoveAll(dir)
}

// used is the space a file system has allocated, blocks and all, which is
// what its free space is measured against.
func used(mnt string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(mnt, &st); err != nil {
		return 0, err
	}
	return int64(st.Blocks-st.Bfree) * st.Bsize, nil
}

// freeSizes spreads n free sizes over a backup that allocates written
// bytes: one too small for the first pack, steps through the packs, and
// the last few KiB, where the index file and the snapshot are written,
// up to one that suffices.
func freeSizes(written int64, n int) []int64 {
	tail := []int64{written - 16<<10, written - 8<<10, written - 4<<10, written, written + 256<<10}
	out := []int64{16 << 10}
	steps := max(0, n-1-len(tail))
	for k := 1; k <= steps; k++ {
		out = append(out, written*int64(k)/int64(steps+1))
	}
	for _, t := range tail {
		if len(out) < n {
			out = append(out, t)
		}
	}
	return out
}

// fill leaves free bytes available on mnt, returning the filler's path.
func fill(mnt string, free int64) (string, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(mnt, &st); err != nil {
		return "", err
	}
	avail := int64(st.Bavail) * st.Bsize
	p := filepath.Join(mnt, "filler")
	f, err := os.Create(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if n := avail - free; n > 0 {
		if err := unix.Fallocate(int(f.Fd()), 0, 0, n); err != nil {
			return "", fmt.Errorf("fill %s: %w", mnt, err)
		}
	}
	return p, nil
}

// diskBackup runs a backup with only free bytes left: it must complete or
// fail saying the space ran out, leave no snapshot when it fails, and
// leave a clean repository; with the space back, the next backup completes
// and restores exactly.
func (c *campaign) diskBackup(ctx context.Context, fsType, mnt, work, src string, free int64) error {
	dir := filepath.Join(mnt, "repo")
	r := c.localRepo(dir)
	if _, err := r.must(ctx, nil, "init", "--kdf-fast"); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	filler, err := fill(mnt, free)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%s, backup with %d bytes free", fsType, free)
	o := r.run(ctx, "backup", src)
	st := DiskStats{FS: fsType, Op: "backup", Free: free, Outcome: outcomeOf(o)}
	c.res.Disk = append(c.res.Disk, st)
	switch {
	case o.code != 0 && st.Outcome == "":
		c.fail("%s: failed without saying the space ran out:\n%s", what, o)
	case o.code != 0:
		var snaps []any
		if _, err := r.must(ctx, &snaps, "snapshots"); err != nil || len(snaps) != 0 {
			c.fail("%s: a failed backup left %d snapshots (%v)", what, len(snaps), err)
		}
	}
	if err := r.checkClean(ctx); err != nil {
		c.fail("%s: %v", what, err)
	}
	if err := os.Remove(filler); err != nil {
		return err
	}
	return c.diskRecover(ctx, r, work, src, what)
}

// diskRecover backs up with the space back, checks and restores.
func (c *campaign) diskRecover(ctx context.Context, r *cairn, work, src, what string) error {
	if _, err := r.must(ctx, nil, "backup", src); err != nil {
		c.fail("%s: the backup after freeing space: %v", what, err)
		return nil
	}
	if err := r.checkClean(ctx); err != nil {
		c.fail("%s: after freeing space: %v", what, err)
	}
	out := filepath.Join(work, "out")
	defer os.RemoveAll(out)
	if _, err := r.must(ctx, nil, "restore", "latest", "--target", out); err != nil {
		c.fail("%s: restore: %v", what, err)
		return nil
	}
	if err := c.compareRestore(src, filepath.Join(out, "src")); err != nil {
		c.fail("%s: %v", what, err)
	}
	return nil
}

// diskRestore restores onto mnt with only free bytes left: it must fail
// saying so, and with the space back a restore over what it left must be
// exact.
func (c *campaign) diskRestore(ctx context.Context, fsType, mnt, work, src string, free int64) error {
	repoDir := filepath.Join(work, "restore-repo")
	r := c.localRepo(repoDir)
	if _, err := os.Stat(repoDir); os.IsNotExist(err) {
		if _, err := r.must(ctx, nil, "init", "--kdf-fast"); err != nil {
			return err
		}
		if _, err := r.must(ctx, nil, "backup", src); err != nil {
			return err
		}
	}
	target := filepath.Join(mnt, "target")
	defer os.RemoveAll(target)
	filler, err := fill(mnt, free)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("%s, restore with %d bytes free", fsType, free)
	o := r.run(ctx, "restore", "latest", "--target", target)
	st := DiskStats{FS: fsType, Op: "restore", Free: free, Outcome: outcomeOf(o)}
	c.res.Disk = append(c.res.Disk, st)
	if o.code != 0 && st.Outcome == "" {
		c.fail("%s: failed without saying the space ran out:\n%s", what, o)
	}
	if err := os.Remove(filler); err != nil {
		return err
	}
	if _, err := r.must(ctx, nil, "restore", "latest", "--target", target, "--overwrite"); err != nil {
		c.fail("%s: the restore after freeing space: %v", what, err)
		return nil
	}
	if err := c.compareRestore(src, filepath.Join(target, "src")); err != nil {
		c.fail("%s: %v", what, err)
	}
	return nil
}

// outcomeOf is "completed", "no space: <what ran out>", or "" for a
// failure that does not say the space ran out.
func outcomeOf(o outcome) string {
	if o.code == 0 {
		return "completed"
	}
	msg := strings.TrimSpace(o.stderr)
	if !strings.Contains(strings.ToLower(msg), "no space") {
		return ""
	}
	// "cairn: upload pack 1a2b3c4d: fs put …" → "upload pack": the
	// operation, without the object's ID or path.
	msg = strings.TrimPrefix(msg, "cairn: ")
	if i := strings.Index(msg, ":"); i > 0 {
		msg = msg[:i]
	}
	var words []string
	for _, w := range strings.Fields(msg) {
		if kind, _, ok := strings.Cut(w, "/"); ok {
			words = append(words, kind) // "index/3fa2…": the kind of file
			break
		}
		if strings.ContainsAny(w, "0123456789") {
			break
		}
		words = append(words, w)
	}
	return "no space: " + strings.Join(words, " ")
}
