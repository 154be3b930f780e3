//go:build unix

package fs

import (
	"os"
	"runtime/debug"
	"testing"
)

// A mapped range whose file is truncated under it faults when touched. With
// SetPanicOnFault, as the restorer runs, that is a recoverable runtime
// error rather than a crash.
func TestMappedRangeTruncatedFaultsRecoverably(t *testing.T) {
	s, err := Open(t.TempDir(), Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i)
	}
	if err := s.Put(t.Context(), "data/ab/pack", data); err != nil {
		t.Fatal(err)
	}
	got, release, err := s.ReadRange(t.Context(), "data/ab/pack", 4096, 512<<10, nil)
	if err != nil || release == nil {
		t.Fatalf("ReadRange: %v (mapped: %v)", err, release != nil)
	}
	defer release()
	if got[0] != data[4096] {
		t.Fatal("mapped bytes differ")
	}
	if err := os.Truncate(s.path("data/ab/pack"), 0); err != nil {
		t.Fatal(err)
	}
	recovered := func() (r any) {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() { r = recover() }()
		// copy is assembly (memmove), as are the AES and BLAKE3 routines
		// that read mapped packs during a restore.
		buf := make([]byte, len(got))
		return copy(buf, got)
	}()
	if _, ok := recovered.(interface{ Addr() uintptr }); !ok {
		t.Fatalf("touching a truncated mapping gave %v, want a recovered fault", recovered)
	}
}
