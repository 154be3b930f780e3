package harness

import (
	"strings"
	"testing"
)

func TestCalibrationInTheMachineTable(t *testing.T) {
	mb := calibrate()
	if mb < 10 || mb > 100000 {
		t.Fatalf("calibrate() = %.1f MB/s, not a plausible speed for the chunk search", mb)
	}
	r := fakeResults()
	var b strings.Builder
	writeMachine(&b, r)
	if !strings.Contains(b.String(), "| not measured |") {
		t.Errorf("Machine table of a run without calibration:\n%s", b.String())
	}
	r.Machine.SplitMBBefore, r.Machine.SplitMBAfter = mb, 850.4
	b.Reset()
	writeMachine(&b, r)
	if want := " / 850 MB/s |"; !strings.Contains(b.String(), want) {
		t.Errorf("Machine table lacks %q:\n%s", want, b.String())
	}
}
