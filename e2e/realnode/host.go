package realnode

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The host paths a real node uses. The kubelet's root is the standard one
// because cairn's manifests (the agent DaemonSet, the driver DaemonSet)
// name it, as every real cluster's do; the harness creates it and removes
// it, and refuses to start over one it did not create.
const (
	KubeletDir = "/var/lib/kubelet"
	DriverRoot = "/var/lib/cairn-csi-hostpath"
	// marker tells a leftover of an earlier, killed run from a directory
	// someone else owns.
	marker   = ".cairn-realnode"
	lockFile = "/run/cairn-realnode.lock"
)

// sysctls the kubelet sets on start (REALCLUSTER.md, pitfall 6); their
// values are restored on tear-down.
var kubeletSysctls = []string{"vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops"}

// claimedDirs are the fixed directories the node writes to: the kubelet's
// and the driver's roots, the CNI plugins' cache and containerd's runtime
// directory (which they use whatever their configuration says), and the
// kubelet's pod log directories.
var claimedDirs = []string{KubeletDir, DriverRoot, "/var/lib/cni", "/run/containerd", "/var/log/pods", "/var/log/containers"}

// hostState is what the harness changed on the host, to undo it.
type hostState struct {
	lock    *os.File
	sysctls map[string]string
	// created are directories that did not exist before the run.
	created []string
}

// claimHost takes the machine-wide lock (one real node per machine: the
// kubelet's root and ports are fixed) and prepares the fixed directories.
func claimHost() (*hostState, error) {
	f, err := os.OpenFile(lockFile, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", lockFile, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another real-node run holds %s: %w", lockFile, err)
	}
	h := &hostState{lock: f, sysctls: map[string]string{}}
	for _, s := range kubeletSysctls {
		b, err := os.ReadFile("/proc/sys/" + s)
		if err != nil {
			return nil, h.fail(fmt.Errorf("read sysctl %s: %w", s, err))
		}
		h.sysctls[s] = strings.TrimSpace(string(b))
	}
	for _, dir := range claimedDirs {
		if err := h.claimDir(dir); err != nil {
			return nil, h.fail(err)
		}
	}
	return h, nil
}

func (h *hostState) fail(err error) error {
	h.lock.Close()
	return err
}

// claimDir makes dir, unless it exists. A directory of an earlier killed
// run (it has the marker) is cleaned up first; KubeletDir and DriverRoot
// that someone else made are refused.
func (h *hostState) claimDir(dir string) error {
	_, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	case fileExists(filepath.Join(dir, marker)):
		if dir == KubeletDir {
			cleanStaleNode()
		}
		if err := unmountUnder(dir); err != nil {
			return err
		}
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("remove %s left by an earlier run: %w", dir, err)
		}
	case dir == KubeletDir || dir == DriverRoot:
		return fmt.Errorf("%s exists and was not made by this harness: is a kubelet running here? Remove it to run the real-node suite", dir)
	default:
		return nil // shared system directories are left as they are
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	h.created = append(h.created, dir)
	return os.WriteFile(filepath.Join(dir, marker), nil, 0o644)
}

// cleanStaleNode removes what a run killed before its Stop left running
// or set up outside the fixed directories: its containers (their shims and
// kubepods cgroups), its scratch directory with containerd's mounts, its
// loop devices, its bridge and its Service address. Its daemons died with
// it (Pdeathsig). Only called under the lock, so no run is using them.
func cleanStaleNode() {
	killShims(runDirPrefix)
	_ = removeCgroups()
	stale, _ := filepath.Glob(filepath.Join(os.TempDir(), runDirPrefix+"*"))
	for _, dir := range stale {
		if unmountUnder(dir) == nil {
			_ = os.RemoveAll(dir)
		}
	}
	_ = detachLoops(append([]string{KubeletDir, DriverRoot}, stale...)...)
	_, _ = run("ip", "link", "del", BridgeName)
	_, _ = run("ip", "addr", "del", ServiceIP+"/32", "dev", "lo")
}

// runDirPrefix starts the name of every run's scratch directory, which
// the shims' command lines carry (their containerd's socket is in it).
const runDirPrefix = "cairn-realnode-"

// restore undoes the host changes after every process is gone.
func (h *hostState) restore() error {
	var errs []error
	for _, dir := range h.created {
		if err := unmountUnder(dir); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", dir, err))
		}
	}
	for s, v := range h.sysctls {
		if err := os.WriteFile("/proc/sys/"+s, []byte(v), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restore sysctl %s=%s: %w", s, v, err))
		}
	}
	h.lock.Close()
	return errors.Join(errs...)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// mountsUnder lists the mount points at or below dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.Count(out[i], "/") > strings.Count(out[j], "/") })
	return out, s.Err()
}

// unescapeMount decodes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unmountUnder detaches every mount at or below dir.
func unmountUnder(dir string) error {
	for range 5 { // stacked mounts need more than one pass
		mps, err := mountsUnder(dir)
		if err != nil || len(mps) == 0 {
			return err
		}
		for _, mp := range mps {
			if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
				return fmt.Errorf("unmount %s: %w", mp, err)
			}
		}
	}
	mps, _ := mountsUnder(dir)
	if len(mps) > 0 {
		return fmt.Errorf("still mounted under %s: %v", dir, mps)
	}
	return nil
}

// detachLoops detaches the loop devices backed by a file under one of
// dirs (the driver's images, while they still exist), and those backed by
// the device node of such a loop device (the kubelet's lock on a block
// volume). Loops are told by the device and inode of their backing file:
// the path the kernel shows is relative to the mount namespace that
// attached it (the driver's container), and other users' loops on this
// machine must be left alone.
func detachLoops(dirs ...string) error {
	files := map[fileID]bool{}
	for _, d := range dirs {
		_ = filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err == nil && e.Type().IsRegular() {
				if id, ok := idOf(p); ok {
					files[id] = true
				}
			}
			return nil
		})
	}
	var errs []error
	for changed := true; changed; {
		changed = false
		for _, dev := range boundLoops() {
			if !files[dev.backing] {
				continue
			}
			if _, err := run("losetup", "-d", dev.path); err != nil {
				errs = append(errs, err)
			}
			if id, ok := idOf(dev.path); ok && !files[id] {
				files[id], changed = true, true // a loop stacked on this one is ours too
			}
		}
	}
	return errors.Join(errs...)
}

type fileID struct{ dev, ino uint64 }

func idOf(path string) (fileID, bool) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return fileID{}, false
	}
	return fileID{uint64(st.Dev), st.Ino}, true
}

type loopDev struct {
	path    string
	backing fileID
}

// boundLoops lists the attached loop devices with their backing files.
func boundLoops() []loopDev {
	names, _ := filepath.Glob("/sys/block/loop*")
	var out []loopDev
	for _, n := range names {
		path := "/dev/" + filepath.Base(n)
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		info, err := unix.IoctlLoopGetStatus64(int(f.Fd()))
		f.Close()
		if err != nil {
			continue // not attached
		}
		out = append(out, loopDev{path: path, backing: fileID{info.Device, info.Inode}})
	}
	return out
}

// hostLeftovers describes what a torn-down node left on the host: mounts
// or directories at the fixed paths, the bridge, the Service address, the
// kubepods cgroups. Empty means clean.
func hostLeftovers() string {
	var left []string
	for _, dir := range claimedDirs {
		if mps, _ := mountsUnder(dir); len(mps) > 0 {
			left = append(left, fmt.Sprintf("mounts %v", mps))
		}
		if fileExists(filepath.Join(dir, marker)) || (fileExists(dir) && (dir == KubeletDir || dir == DriverRoot)) {
			left = append(left, dir)
		}
	}
	if _, err := run("ip", "link", "show", BridgeName); err == nil {
		left = append(left, "bridge "+BridgeName)
	}
	if out, _ := run("ip", "-o", "addr", "show", "dev", "lo"); strings.Contains(out, ServiceIP+"/") {
		left = append(left, "address "+ServiceIP+" on lo")
	}
	if cg, _ := filepath.Glob("/sys/fs/cgroup/*/kubepods"); len(cg) > 0 {
		left = append(left, fmt.Sprintf("cgroups %v", cg))
	}
	return strings.Join(left, "; ")
}
