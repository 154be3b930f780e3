package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"
)

// Event is a moment the hooks reported, with the records written by then.
type Event struct {
	Name         string `json:"name"`
	UnixNano     int64  `json:"unixNano"`
	FSRecords    uint64 `json:"fsRecords"`
	BlockRecords uint64 `json:"blockRecords"`
}

// State is what GET /status returns.
type State struct {
	FSRecords    uint64  `json:"fsRecords"`
	BlockRecords uint64  `json:"blockRecords"`
	Events       []Event `json:"events"`
	// Startup is the check of the record files as the application found
	// them when it started (a restored application reads its data here).
	Startup []Check `json:"startup"`
	// WriteError is the first write failure; writing stops there.
	WriteError string `json:"writeError,omitempty"`
}

type app struct {
	dataDir             string // the filesystem volume, synced on quiesce
	fsCount, blockCount atomic.Uint64

	// fsGate is held by the filesystem writer around each record and by a
	// quiesce until the resume, which is how the writer pauses on a
	// record boundary.
	fsGate sync.Mutex

	mu       sync.Mutex // guards the rest
	quiesced bool
	events   []Event
	startup  []Check
	writeErr error
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	dataDir := fs.String("fs-dir", "/data", "filesystem volume")
	dev := fs.String("block-dev", "", "block volume holding an ext4 file system (empty: none)")
	mnt := fs.String("block-mount", "/blk", "where the block volume's file system is mounted")
	listen := fs.String("listen", "127.0.0.1:8080", "control endpoint (the pod's loopback only)")
	// 2000 records a second per file keeps a minute of writing at 15 MiB
	// while the freeze still catches hundreds of writes in flight.
	rate := fs.Int("rate", 2000, "records per second per file")
	prefill := fs.Int("prefill-mib", 0, "on first start, write this much random data beside the block volume's records, "+
		"so that moving the data takes longer than cutting the snapshot")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	files := []string{filepath.Join(*dataDir, "records.log")}
	if *dev != "" {
		if err := mountBlock(*dev, *mnt); err != nil {
			return err
		}
		defer unix.Unmount(*mnt, 0) //nolint:errcheck // best effort on the way out
		files = append(files, filepath.Join(*mnt, "records.log"))
		if err := fill(filepath.Join(*mnt, "fill.bin"), *prefill); err != nil {
			return err
		}
	}
	a := &app{dataDir: *dataDir}
	for _, f := range files {
		a.startup = append(a.startup, checkFile(f))
	}
	for _, c := range a.startup {
		if c.Error != "" {
			// Serve the finding but write nothing over damaged data.
			fmt.Fprintf(os.Stderr, "testapp: %s: %s\n", c.File, c.Error)
			return a.serve(ctx, *listen)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.serve(gctx, *listen) })
	interval := time.Second / time.Duration(max(*rate, 1))
	g.Go(func() error { return a.write(gctx, files[0], a.startup[0].Records, &a.fsCount, &a.fsGate, interval) })
	if len(files) > 1 {
		g.Go(func() error { return a.write(gctx, files[1], a.startup[1].Records, &a.blockCount, nil, interval) })
	}
	return g.Wait()
}

// fill writes mib MiB of random bytes to path unless it exists.
func fill(path string, mib int) error {
	if mib <= 0 || fileExists(path) {
		return nil
	}
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	defer f.Close()
	rng := rand.NewChaCha8([32]byte{1})
	buf := make([]byte, 1<<20)
	for range mib {
		_, _ = rng.Read(buf)
		if _, err := f.Write(buf); err != nil {
			return fmt.Errorf("fill %s: %w", path, err)
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func mountBlock(dev, mnt string) error {
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return fmt.Errorf("create mount point %s: %w", mnt, err)
	}
	if err := unix.Mount(dev, mnt, "ext4", 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("mount %s on %s: %w", dev, mnt, err)
	}
	return nil
}

// write appends records to path from sequence number next on. A write
// failure is recorded for /status and ends this writer only.
func (a *app) write(ctx context.Context, path string, next uint64, count *atomic.Uint64, gate *sync.Mutex, interval time.Duration) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		a.fail(fmt.Errorf("open %s: %w", path, err))
		return nil
	}
	defer f.Close()
	count.Store(next)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return f.Sync()
		case <-tick.C:
		}
		if gate != nil {
			gate.Lock()
		}
		_, err := f.Write(encodeRecord(next, time.Now().UnixNano()))
		if err == nil {
			next++
			count.Store(next)
		}
		if gate != nil {
			gate.Unlock()
		}
		if err != nil {
			a.fail(fmt.Errorf("append to %s: %w", path, err))
			return nil
		}
	}
}

func (a *app) fail(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.writeErr == nil {
		a.writeErr = err
	}
}

func (a *app) serve(ctx context.Context, addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /quiesce", a.quiesce)
	mux.HandleFunc("POST /resume", a.resume)
	mux.HandleFunc("POST /event", func(w http.ResponseWriter, r *http.Request) {
		a.event(r.URL.Query().Get("name"))
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(a.state())
	})
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = srv.Close()
		<-done
		return nil
	}
}

// quiesce pauses the filesystem writer between records and makes what it
// wrote durable, as a database's "flush tables with read lock" would.
func (a *app) quiesce(w http.ResponseWriter, _ *http.Request) {
	a.mu.Lock()
	already := a.quiesced
	a.quiesced = true
	a.mu.Unlock()
	if !already {
		a.fsGate.Lock()
	}
	if err := syncFS(a.dataDir); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	a.event("quiesced")
}

// syncFS flushes the file system holding dir (syncfs(2)), not every file
// system of the machine as sync(2) would.
func syncFS(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("syncfs %s: %w", dir, err)
	}
	return nil
}

func (a *app) resume(w http.ResponseWriter, _ *http.Request) {
	a.mu.Lock()
	was := a.quiesced
	a.quiesced = false
	a.mu.Unlock()
	if was {
		a.fsGate.Unlock()
	}
	a.event("resumed")
}

func (a *app) event(name string) {
	e := Event{Name: name, UnixNano: time.Now().UnixNano(), FSRecords: a.fsCount.Load(), BlockRecords: a.blockCount.Load()}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
}

func (a *app) state() State {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := State{FSRecords: a.fsCount.Load(), BlockRecords: a.blockCount.Load(),
		Events: append([]Event(nil), a.events...), Startup: a.startup}
	if a.writeErr != nil {
		s.WriteError = a.writeErr.Error()
	}
	return s
}
