package repo

import (
	"errors"
	"os"
	"strings"
	"syscall"
)

// here identifies the boot and PID namespace this process runs in.
type here struct{ boot, pidNS string }

// thisBoot is read once: neither changes while a process runs.
var thisBoot = func() here {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return here{}
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return here{}
	}
	return here{boot: strings.TrimSpace(string(b)), pidNS: ns}
}()

// gone reports whether the session's process has certainly exited: it
// ran where PIDs mean what they mean here, and no process has its PID.
// A reused PID makes it look alive, which errs on the safe side.
func (h here) gone(info SessionInfo) bool {
	if h.boot == "" || info.BootID != h.boot || info.PIDNamespace != h.pidNS || info.PID <= 0 {
		return false
	}
	err := syscall.Kill(info.PID, 0)
	return errors.Is(err, syscall.ESRCH)
}
