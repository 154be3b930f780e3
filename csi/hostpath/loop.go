package hostpath

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

const (
	loopControl = "/dev/loop-control"
	loopMajor   = 7
)

// probeLoop attaches and detaches a loop device on a scratch image. Only
// doing it tells: /dev/loop-control can often be opened where configuring
// a device is denied (a container without the capability, no free nodes).
func (d *Driver) probeLoop() error {
	img := d.lay.tmpPath("loop-probe.img")
	os.Remove(img) // a leftover from a crash during the probe
	if err := createEmpty(img, kindBlock, 1<<20); err != nil {
		return err
	}
	defer os.Remove(img)
	dev, err := attachLoop(img, true)
	if err != nil {
		return err
	}
	return detachLoop(dev, img)
}

// attachLoop binds image to a free loop device and returns its node. A
// read-only device refuses writes at the block layer, which is what makes
// a read-only raw-block publication read-only: a read-only bind mount of a
// device node does not stop writes through it. The device is not set to
// auto-clear, because the bind mount onto the target does not hold it
// open and it would vanish at once; detachLoop releases it.
func attachLoop(image string, readOnly bool) (string, error) {
	ctl, err := os.OpenFile(loopControl, os.O_RDWR, 0)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", loopControl, err)
	}
	defer ctl.Close()
	backing, err := os.OpenFile(image, openMode(readOnly), 0)
	if err != nil {
		return "", fmt.Errorf("open image %s: %w", image, err)
	}
	defer backing.Close() // the loop device holds its own reference
	// Another process may take the device LOOP_CTL_GET_FREE offered before
	// we configure it; that shows up as EBUSY and we ask again.
	for range 16 {
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			return "", fmt.Errorf("find a free loop device: %w", err)
		}
		dev := fmt.Sprintf("/dev/loop%d", n)
		err = configureLoop(dev, n, backing, readOnly)
		if errors.Is(err, unix.EBUSY) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("attach %s to %s: %w", image, dev, err)
		}
		return dev, nil
	}
	return "", fmt.Errorf("attach %s: every free loop device was taken before it could be configured", image)
}

func openMode(readOnly bool) int {
	if readOnly {
		return os.O_RDONLY
	}
	return os.O_RDWR
}

func configureLoop(dev string, n int, backing *os.File, readOnly bool) error {
	f, err := openLoopNode(dev, n)
	if err != nil {
		return err
	}
	defer f.Close()
	cfg := unix.LoopConfig{Fd: uint32(backing.Fd())}
	if readOnly {
		cfg.Info.Flags |= unix.LO_FLAGS_READ_ONLY
	}
	copy(cfg.Info.File_name[:len(cfg.Info.File_name)-1], backing.Name())
	err = unix.IoctlLoopConfigure(int(f.Fd()), &cfg)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTTY) {
		// Kernels before 5.8 have no LOOP_CONFIGURE.
		if err = unix.IoctlSetInt(int(f.Fd()), unix.LOOP_SET_FD, int(backing.Fd())); err == nil {
			if err = unix.IoctlLoopSetStatus64(int(f.Fd()), &cfg.Info); err != nil {
				unix.IoctlSetInt(int(f.Fd()), unix.LOOP_CLR_FD, 0)
			}
		}
	}
	return err
}

// openLoopNode opens /dev/loopN, creating the node when the machine's /dev
// is a static directory (as in many containers) that lacks it.
func openLoopNode(dev string, n int) (*os.File, error) {
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		if err := unix.Mknod(dev, unix.S_IFBLK|0o660, int(unix.Mkdev(loopMajor, uint32(n)))); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create %s: %w", dev, err)
		}
		f, err = os.OpenFile(dev, os.O_RDWR, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dev, err)
	}
	return f, nil
}

// detachLoop detaches dev if it is still backed by image; a device now
// backing something else (the record predates a reboot) is left alone.
// If the device is still open somewhere, the kernel detaches it at the
// last close.
func detachLoop(dev, image string) error {
	backing, err := loopBacking(dev)
	if err != nil {
		return err
	}
	if backing == "" || (image != "" && backing != image) {
		return nil
	}
	f, err := os.OpenFile(dev, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", dev, err)
	}
	defer f.Close()
	if err := unix.IoctlSetInt(int(f.Fd()), unix.LOOP_CLR_FD, 0); err != nil && !errors.Is(err, unix.ENXIO) {
		return fmt.Errorf("detach %s from %s: %w", dev, image, err)
	}
	return nil
}

// loopBacking returns the file behind a loop device, "" when unbound.
func loopBacking(dev string) (string, error) {
	b, err := os.ReadFile(filepath.Join("/sys/block", filepath.Base(dev), "loop", "backing_file"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read backing file of %s: %w", dev, err)
	}
	return strings.TrimSuffix(strings.TrimSpace(string(b)), " (deleted)"), nil
}

// loopsBackedUnder lists the attached loop devices whose image lies under
// dir, mapped to that image.
func loopsBackedUnder(dir string) (map[string]string, error) {
	entries, err := os.ReadDir("/sys/block")
	if err != nil {
		return nil, fmt.Errorf("list /sys/block: %w", err)
	}
	out := map[string]string{}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "loop") {
			continue
		}
		if _, err := strconv.Atoi(strings.TrimPrefix(e.Name(), "loop")); err != nil {
			continue
		}
		dev := "/dev/" + e.Name()
		backing, err := loopBacking(dev)
		if err != nil || backing == "" {
			continue
		}
		if strings.HasPrefix(backing, dir+string(filepath.Separator)) {
			out[dev] = backing
		}
	}
	return out, nil
}

// detachLeakedLoops detaches loop devices backed by images under the root
// that no publication records: what a crash between attaching a device and
// recording it leaves. Failures are logged; they do not stop the driver.
func (d *Driver) detachLeakedLoops() {
	if !d.useLoop {
		return
	}
	owned := map[string]bool{}
	for _, p := range d.st.Publications {
		if p.Device != "" {
			owned[p.Device] = true
		}
	}
	loops, err := loopsBackedUnder(d.cfg.Root)
	if err != nil {
		d.log.Warn("cannot scan loop devices for leaks", "error", err)
		return
	}
	for dev, image := range loops {
		if owned[dev] {
			continue
		}
		d.log.Warn("detaching leaked loop device", "device", dev, "image", image)
		if err := detachLoop(dev, image); err != nil {
			d.log.Error("detach leaked loop device", "device", dev, "error", err)
		}
	}
}

// detachLoopsOf detaches every loop device still backed by image, which
// DeleteVolume calls so that no device outlives its volume.
func detachLoopsOf(image string) error {
	loops, err := loopsBackedUnder(filepath.Dir(image))
	if err != nil {
		return err
	}
	for dev, backing := range loops {
		if backing == image {
			if err := detachLoop(dev, image); err != nil {
				return err
			}
		}
	}
	return nil
}
