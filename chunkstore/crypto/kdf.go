package crypto

import "fmt"

// KDFArgon2id is the only key derivation function key files use.
const KDFArgon2id = "argon2id"

// Bounds that ParseKeyFile enforces, so a hostile key file cannot make cairn
// allocate without limit or spin for hours before the password is checked.
const (
	// MaxKDFMemoryKiB is 4 GiB. Whoever opens the repository needs that much
	// free memory for such a key; the default uses 64 MiB.
	MaxKDFMemoryKiB = 4 << 20
	// MaxKDFTime is the largest number of argon2 passes accepted. With the
	// memory bound, the worst a hostile file can cost is 4 GiB and a few
	// minutes of CPU, once, before the password is rejected.
	MaxKDFTime = 100
)

// KDFParams says how a password becomes the key that wraps the master key.
type KDFParams struct {
	Algorithm string `json:"algorithm"`  // always KDFArgon2id
	Time      uint32 `json:"time"`       // passes over memory, 1..MaxKDFTime
	MemoryKiB uint32 `json:"memory_kib"` // 8*Threads..MaxKDFMemoryKiB
	Threads   uint8  `json:"threads"`    // lanes, 1..255
}

// DefaultKDF is the cost for new keys. It is RFC 9106's second recommended
// argon2id setting (t=3, 64 MiB), made for machines that cannot spare GiBs,
// with 2 lanes instead of 4 because agents and CLIs run on nodes or
// containers with about 2 cores, where more lanes add no speed for us but
// do for an attacker's many-core cracker. A key is unwrapped once per
// process, so the 70-130 ms this takes on two dev-machine cores is paid
// rarely, while every password guess costs an attacker 64 MiB for as long.
var DefaultKDF = KDFParams{Algorithm: KDFArgon2id, Time: 3, MemoryKiB: 64 << 10, Threads: 2}

// FastKDFForTests is a deliberately weak cost so that tests creating many
// repositories stay fast. Never use it for a real repository.
var FastKDFForTests = KDFParams{Algorithm: KDFArgon2id, Time: 1, MemoryKiB: 64, Threads: 1}

// Validate checks the algorithm and that the cost lies within the bounds.
func (p KDFParams) Validate() error {
	if p.Algorithm != KDFArgon2id {
		return fmt.Errorf("kdf algorithm %q is not supported (want %q)", p.Algorithm, KDFArgon2id)
	}
	if p.Time < 1 || p.Time > MaxKDFTime {
		return fmt.Errorf("kdf time %d is outside 1..%d", p.Time, MaxKDFTime)
	}
	if p.Threads < 1 {
		return fmt.Errorf("kdf threads %d is outside 1..255", p.Threads)
	}
	// argon2 needs 8 KiB per lane and silently uses more below that;
	// rejecting it keeps the numbers in the file the ones that ran.
	minMem := 8 * uint32(p.Threads)
	if p.MemoryKiB < minMem || p.MemoryKiB > MaxKDFMemoryKiB {
		return fmt.Errorf("kdf memory %d KiB is outside %d..%d KiB for %d threads",
			p.MemoryKiB, minMem, MaxKDFMemoryKiB, p.Threads)
	}
	return nil
}
