package restorer

import (
	"errors"
	"strings"
	"syscall"
	"testing"
)

// A write that fails (here: the target is full) must come back as an
// error naming the fix. It used to slice the data at the -1 that
// pwrite returns on failure and panic: found by the fault campaign's
// full-disk restores.
func TestWriteAtFullTarget(t *testing.T) {
	err := writeAt("/dev/full", make([]byte, 4096), 0, false)
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "free space on the target") {
		t.Fatalf("write to a full device: %v, want ENOSPC and the fix", err)
	}
}
