package chunker

import "testing"

// Pinned outputs for seeded inputs. A change here is a repository format
// change: bump the format version and update FORMAT.md with it.
var goldenLengths = []int{1733389, 1140313, 3724263, 777394, 564872, 3355776, 633539, 653366}

const goldenHash = "1594da054fe5aea0cbc6f062bb4bd498ce065411fc64e500685ab70ba7dcc823"

func TestGoldenPolIsIrreducible(t *testing.T) {
	if !goldenPol.Irreducible() {
		t.Fatal("golden polynomial is not irreducible")
	}
}
