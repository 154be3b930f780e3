package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/blob/s3/s3test"
	"github.com/cairnbackup/cairn/e2e/localcluster"
)

// Config says how to run the demo.
type Config struct {
	// Out receives the story and the CLI's output.
	Out io.Writer
	// BinDir holds cairn and cairn-agent; built when empty.
	BinDir string
	// S3 keeps the repository on a local versitygw instead of a directory.
	S3 bool
	// Small shrinks the data (for the demo's test).
	Small bool
	// Dir is the work directory; default a new temporary one, removed at
	// the end.
	Dir string
}

// Run tells the whole story. It returns the figures, or the first thing
// that went wrong (a mismatch included).
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	dir := cfg.Dir
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "cairn-demo-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	}
	d := &demo{cfg: cfg, dir: dir, out: cfg.Out, sizes: sizesFor(cfg.Small)}
	defer d.stop()
	if err := d.start(ctx); err != nil {
		return nil, err
	}
	return d.story(ctx)
}

// demo is one run.
type demo struct {
	cfg     Config
	dir     string
	out     io.Writer
	sizes   sizes
	c       *localcluster.Cluster
	s3      *s3test.Server
	sum     Summary
	started time.Time
	// catalog and orders are where the pods see their volumes.
	catalog, orders string
	volumes         []*localcluster.Volume
	// want are the digests the restore must reproduce.
	wantCatalog, wantOrders string
}

// sizes of the demo's data.
type sizes struct {
	files       int   // files in the catalog tree
	dbVolume    int64 // bytes of the block volume
	dbData      int64 // bytes of it the database uses
	changePages int   // pages the second day rewrites
}

func sizesFor(small bool) sizes {
	if small {
		return sizes{files: 300, dbVolume: 64 << 20, dbData: 16 << 20, changePages: 40}
	}
	return sizes{files: 4000, dbVolume: 1 << 30, dbData: 384 << 20, changePages: 2000}
}

// start brings up the cluster (and the S3 server).
func (d *demo) start(ctx context.Context) error {
	d.started = time.Now()
	d.say("Starting a local cluster: etcd and kube-apiserver, the cairn controller, and two simulated nodes\n" +
		"(node-a, node-b), each with cairn's reference CSI driver and a cairn agent process.")
	c, err := localcluster.Start(ctx, localcluster.Config{Dir: filepath.Join(d.dir, "cluster"), BinDir: d.cfg.BinDir})
	d.c = c
	if err != nil {
		return fmt.Errorf("start the local cluster: %w", err)
	}
	if d.cfg.S3 {
		dir := filepath.Join(d.dir, "s3")
		if err := os.MkdirAll(filepath.Join(dir, "cairn-demo"), 0o700); err != nil { // the bucket
			return err
		}
		if d.s3, err = s3test.Launch("", dir); err != nil {
			return fmt.Errorf("start versitygw: %w", err)
		}
		d.say("S3: versitygw on %s.", d.s3.Endpoint)
	}
	d.say("Up in %s. kubeconfig: %s\n", time.Since(d.started).Round(100*time.Millisecond), c.Kubeconfig)
	return nil
}

func (d *demo) stop() {
	if d.c != nil {
		if err := d.c.Stop(); err != nil {
			fmt.Fprintf(d.out, "demo: stopping the cluster: %v\n", err)
		}
	}
	if d.s3 != nil {
		d.s3.Stop()
	}
}

// story runs the steps in order.
func (d *demo) story(ctx context.Context) (*Summary, error) {
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"create the shop", d.createShop},
		{"install cairn", d.install},
		{"first backup", func(ctx context.Context) error { return d.backup(ctx, "monday", &d.sum.First) }},
		{"a day of business", d.change},
		{"second backup", func(ctx context.Context) error { return d.backup(ctx, "tuesday", &d.sum.Second) }},
		{"disaster", d.disaster},
		{"restore", d.restore},
		{"verify", d.verify},
	}
	for _, s := range steps {
		if err := s.fn(ctx); err != nil {
			return &d.sum, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	d.sum.Total = time.Since(d.started)
	d.sum.print(d.out)
	return &d.sum, nil
}

// say prints one paragraph of the story.
func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, "\n"+format+"\n", args...)
}

// cairn runs the cairn CLI against the cluster, showing the command and
// its output.
func (d *demo) cairn(ctx context.Context, args ...string) error {
	fmt.Fprintf(d.out, "\n$ cairn %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, filepath.Join(d.c.BinDir(), "cairn"), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+d.c.Kubeconfig)
	cmd.Stdout, cmd.Stderr = d.out, d.out
	if f, ok := d.out.(*os.File); ok {
		cmd.Stdout, cmd.Stderr = f, f // a terminal stays a terminal: live progress
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cairn %s: %w", args[0], err)
	}
	return nil
}

// errMismatch marks a verification failure.
var errMismatch = errors.New("the restored shop differs from the original")
