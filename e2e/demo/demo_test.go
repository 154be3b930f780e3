package demo_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/cairnbackup/cairn/e2e/demo"
)

// `make demo`, at a small scale: every step runs, everything verifies, and
// the second backup reads a fraction of the first.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	sum, err := demo.Run(context.Background(), demo.Config{Out: &out, Small: true})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{"$ cairn install", "$ cairn location create default", "$ cairn backup create monday",
		"$ cairn backup describe tuesday", "$ cairn restore create shop-back", "everything verified"} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo's output lacks %q", want)
		}
	}
	if sum.First.Volumes != 2 || sum.Second.Volumes != 2 {
		t.Errorf("volumes backed up: %d and %d, want 2 and 2", sum.First.Volumes, sum.Second.Volumes)
	}
	if sum.Second.BytesRead*10 > sum.First.BytesRead {
		t.Errorf("the incremental read %d bytes, the first backup %d: want under a tenth", sum.Second.BytesRead, sum.First.BytesRead)
	}
	if sum.RestoredBytes == 0 {
		t.Error("nothing was restored")
	}
	if strings.Contains(text, "demo-payment-key-not-real") {
		t.Error("the shop's Secret value appears in the demo's output")
	}
}
