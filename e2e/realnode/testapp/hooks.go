package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// The file-system freeze ioctls of linux/fs.h, _IOWR('X', 119, int) and
// _IOWR('X', 120, int), which x/sys/unix does not name.
const (
	fiFreeze = 0xC0045877
	fiThaw   = 0xC0045878
)

// control is the flag set of the commands that talk to a running app.
func control(name string, args []string) (addr string, rest []string, err error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	a := fs.String("addr", "127.0.0.1:8080", "the application's control endpoint")
	if err := fs.Parse(args); err != nil {
		return "", nil, err
	}
	return *a, fs.Args(), nil
}

func post(addr, path string) error {
	c := http.Client{Timeout: 30 * time.Second}
	resp, err := c.Post("http://"+addr+path, "application/json", nil)
	if err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s", path, resp.Status)
	}
	return nil
}

// freeze quiesces the writer, then freezes the file system at the mount
// point: FIFREEZE, as util-linux fsfreeze --freeze does.
func freeze(args []string) error {
	addr, rest, err := control("freeze", args)
	if err != nil {
		return err
	}
	if err := post(addr, "/quiesce"); err != nil {
		return err
	}
	for _, mnt := range rest {
		if err := ioctlMount(mnt, fiFreeze); err != nil {
			return err
		}
	}
	return post(addr, "/event?name="+url.QueryEscape("frozen"))
}

// thaw is freeze undone in reverse: FITHAW, then the writer resumes. A
// file system that is not frozen (EINVAL) is fine: thaw must be safe to
// run after a pre-hook that failed half way.
func thaw(args []string) error {
	addr, rest, err := control("thaw", args)
	if err != nil {
		return err
	}
	_ = post(addr, "/event?name=thawing")
	var first error
	for _, mnt := range rest {
		if err := ioctlMount(mnt, fiThaw); err != nil && first == nil && !isNotFrozen(err) {
			first = err
		}
	}
	if err := post(addr, "/resume"); err != nil && first == nil {
		first = err
	}
	return first
}

func isNotFrozen(err error) bool {
	var errno unix.Errno
	return errors.As(err, &errno) && errno == unix.EINVAL
}

func ioctlMount(mnt string, req uint) error {
	f, err := os.Open(mnt)
	if err != nil {
		return fmt.Errorf("open %s: %w", mnt, err)
	}
	defer f.Close()
	if err := unix.IoctlSetInt(int(f.Fd()), req, 0); err != nil {
		return fmt.Errorf("ioctl %#x on %s: %w", req, mnt, err)
	}
	return nil
}

func status(args []string) error {
	addr, _, err := control("status", args)
	if err != nil {
		return err
	}
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/status")
	if err != nil {
		return fmt.Errorf("GET /status: %w", err)
	}
	defer resp.Body.Close()
	_, err = io.Copy(os.Stdout, resp.Body)
	return err
}
