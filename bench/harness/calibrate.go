package harness

import (
	"math/rand/v2"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/chunker"
)

// calibrate measures how fast this machine runs one core today: the MB/s of
// cairn's chunk search over one segment of random bytes, the best of three
// passes (the same work as `go test -bench Split ./chunkstore/chunker/`).
// Shared machines change speed from day to day by more than any tuning
// changes cairn, and the peers' times move with it; this figure, taken
// before and after the run, says how a run's absolute times compare with
// another day's.
func calibrate() float64 {
	data := make([]byte, chunker.SegmentSize)
	_, _ = rand.NewChaCha8([32]byte{9}).Read(data)
	pol, err := chunker.RandomPol()
	if err != nil {
		return 0
	}
	s := chunker.NewSplitter(pol)
	best := 0.0
	for range 3 {
		t0 := time.Now()
		if err := s.Split(data, func([]byte) error { return nil }); err != nil {
			return 0
		}
		best = max(best, float64(len(data))/time.Since(t0).Seconds()/1e6)
	}
	return best
}
