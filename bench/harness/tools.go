package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
)

// password is the repository password of every tool. It protects nothing:
// the repositories hold generated data and live only for one cycle.
const password = "cairn-bench-password"

// tool drives one backup program through a cycle. Every method runs the
// program as a user would, on the command line.
type tool interface {
	// Init creates the repository; it is not measured.
	Init(ctx context.Context, c *cycle) error
	// Backup backs up c.src; stages is nil for tools that do not report them.
	Backup(ctx context.Context, c *cycle) (m measurement, stages *Stages, err error)
	// Restore restores the latest backup into target, an empty directory.
	Restore(ctx context.Context, c *cycle, target string) (measurement, error)
	// RestoredRoot is where, under target, the backed-up directory lands.
	RestoredRoot(target, src string) string
	// RepoDir is the directory that holds the repository's bytes.
	RepoDir(c *cycle) string
}

// cairnTool runs cairn-repo (the commands of `cairn repo`, in the binary
// without the cluster client), on a local directory or, with s3 set, on a
// bucket of the loopback versitygw.
type cairnTool struct {
	runner
	bin         string
	compression string // at init; "" keeps cairn's default
	s3          *s3Server
}

func (t *cairnTool) repoArgs(c *cycle) []string {
	if t.s3 == nil {
		return []string{"--repo", filepath.Join(c.work, "repo")}
	}
	return []string{"--repo", "s3://" + c.bucket + "/cairn", "--s3-endpoint", t.s3.endpoint}
}

func (t *cairnTool) cmd(c *cycle, args ...string) command {
	env := []string{"CAIRN_PASSWORD=" + password, "HOME=" + c.home()}
	if t.s3 != nil {
		env = append(env, t.s3.clientEnv()...)
	}
	return command{bin: t.bin, args: append(args, t.repoArgs(c)...), env: env}
}

func (t *cairnTool) Init(ctx context.Context, c *cycle) error {
	args := []string{"init"}
	if t.compression != "" {
		args = append(args, "--compression", t.compression)
	}
	_, err := t.run(ctx, t.cmd(c, args...))
	return err
}

func (t *cairnTool) Backup(ctx context.Context, c *cycle) (measurement, *Stages, error) {
	m, err := t.run(ctx, t.cmd(c, "backup", "--json", "--stats", c.src))
	if err != nil {
		return m, nil, err
	}
	var out struct {
		SnapshotID string `json:"snapshot_id"`
		Stages     Stages `json:"stages"`
	}
	if err := json.Unmarshal(m.Stdout, &out); err != nil {
		return m, nil, fmt.Errorf("cairn backup --json: %w", err)
	}
	c.snapshot = out.SnapshotID
	return m, &out.Stages, nil
}

func (t *cairnTool) Restore(ctx context.Context, c *cycle, target string) (measurement, error) {
	return t.run(ctx, t.cmd(c, "restore", c.snapshot, "--target", target))
}

// RestoredRoot: cairn places each backed-up path under the target by its
// base name.
func (t *cairnTool) RestoredRoot(target, src string) string {
	return filepath.Join(target, filepath.Base(src))
}

func (t *cairnTool) RepoDir(c *cycle) string {
	if t.s3 == nil {
		return filepath.Join(c.work, "repo")
	}
	return t.s3.bucketDir(c.bucket)
}

// resticTool runs restic with its defaults: compression auto, cache on.
type resticTool struct {
	runner
	bin string
}

func (t *resticTool) cmd(c *cycle, args ...string) command {
	env := []string{"RESTIC_PASSWORD=" + password, "RESTIC_CACHE_DIR=" + filepath.Join(c.work, "cache"),
		"HOME=" + c.home()}
	return command{bin: t.bin, args: append(args, "--repo", filepath.Join(c.work, "repo")), env: env}
}

func (t *resticTool) Init(ctx context.Context, c *cycle) error {
	_, err := t.run(ctx, t.cmd(c, "init"))
	return err
}

// Backup runs without --json: restic then prints its summary only, as for
// any user whose output is not a terminal.
func (t *resticTool) Backup(ctx context.Context, c *cycle) (measurement, *Stages, error) {
	m, err := t.run(ctx, t.cmd(c, "backup", c.src))
	return m, nil, err
}

func (t *resticTool) Restore(ctx context.Context, c *cycle, target string) (measurement, error) {
	return t.run(ctx, t.cmd(c, "restore", "latest", "--target", target))
}

// RestoredRoot: restic recreates the absolute path under the target.
func (t *resticTool) RestoredRoot(target, src string) string { return filepath.Join(target, src) }

func (t *resticTool) RepoDir(c *cycle) string { return filepath.Join(c.work, "repo") }

// kopiaTool runs kopia with its defaults (no compression), or with zstd
// set as the global compression policy.
type kopiaTool struct {
	runner
	bin  string
	zstd bool
}

func (t *kopiaTool) cmd(c *cycle, args ...string) command {
	env := []string{"KOPIA_PASSWORD=" + password, "KOPIA_CHECK_FOR_UPDATES=false", "HOME=" + c.home()}
	flags := []string{"--config-file", filepath.Join(c.work, "kopia.config"),
		"--log-dir", filepath.Join(c.work, "kopia-logs")}
	return command{bin: t.bin, args: append(args, flags...), env: env}
}

func (t *kopiaTool) Init(ctx context.Context, c *cycle) error {
	_, err := t.run(ctx, t.cmd(c, "repository", "create", "filesystem",
		"--path", filepath.Join(c.work, "repo"), "--cache-directory", filepath.Join(c.work, "cache")))
	if err != nil || !t.zstd {
		return err
	}
	_, err = t.run(ctx, t.cmd(c, "policy", "set", "--global", "--compression=zstd"))
	return err
}

func (t *kopiaTool) Backup(ctx context.Context, c *cycle) (measurement, *Stages, error) {
	m, err := t.run(ctx, t.cmd(c, "snapshot", "create", c.src, "--json"))
	if err != nil {
		return m, nil, err
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(m.Stdout, &out); err != nil || out.ID == "" {
		return m, nil, fmt.Errorf("kopia snapshot create --json: no snapshot id in %q (%v)", tail(m.Stdout, 200), err)
	}
	c.snapshot = out.ID
	return m, nil, nil
}

func (t *kopiaTool) Restore(ctx context.Context, c *cycle, target string) (measurement, error) {
	return t.run(ctx, t.cmd(c, "snapshot", "restore", c.snapshot, target))
}

// RestoredRoot: kopia restores the directory's contents into the target.
func (t *kopiaTool) RestoredRoot(target, _ string) string { return target }

func (t *kopiaTool) RepoDir(c *cycle) string { return filepath.Join(c.work, "repo") }
