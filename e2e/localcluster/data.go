package localcluster

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// WriteTree fills dir with a seeded tree of files: nested directories,
// small and larger files, a symlink and an empty file. It returns the
// number of bytes written.
func WriteTree(dir string, seed uint64, files int) (int64, error) {
	rng := rand.New(rand.NewPCG(seed, 1))
	var total int64
	for i := range files {
		sub := filepath.Join(dir, fmt.Sprintf("d%d", i%7), fmt.Sprintf("e%d", i%3))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return total, err
		}
		size := 100 + rng.IntN(8<<10)
		if i%17 == 0 {
			size = 1<<20 + rng.IntN(3<<20)
		}
		data := textish(rng, size)
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%04d.txt", i)), data, 0o644); err != nil {
			return total, err
		}
		total += int64(size)
	}
	if err := os.WriteFile(filepath.Join(dir, "empty"), nil, 0o600); err != nil {
		return total, err
	}
	return total, os.Symlink("d0/e0", filepath.Join(dir, "link"))
}

// textish is compressible, log-like data with seeded variety.
func textish(rng *rand.Rand, n int) []byte {
	words := []string{"order", "customer", "shipped", "pending", "invoice", "42", "eu-west", "retry", "ok", "cart"}
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(words[rng.IntN(len(words))])
		if rng.IntN(8) == 0 {
			b.WriteByte('\n')
		} else {
			b.WriteByte(' ')
		}
	}
	return []byte(b.String()[:n])
}

// Range is a byte range of an image.
type Range struct{ Offset, Length int64 }

// WriteImage writes seeded random data into the device or image at path
// over the given ranges (everything else is left as it is: zeros on a
// new volume).
func WriteImage(path string, seed uint64, ranges []Range) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	for _, r := range ranges {
		buf := make([]byte, r.Length)
		for i := range buf {
			buf[i] = byte(rng.Uint32())
		}
		if _, err := f.WriteAt(buf, r.Offset); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// DigestTree describes a tree for comparison: one line per entry with its
// type, mode, size and content hash (link target for symlinks).
func DigestTree(dir string) (string, error) {
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "lost+found" {
			return filepath.SkipDir
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %s %o", rel, fi.Mode().Type(), fi.Mode().Perm())
		switch {
		case fi.Mode().IsRegular():
			sum, err := hashFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %d %s", fi.Size(), sum)
		case fi.Mode()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			line += " -> " + t
		}
		lines = append(lines, line)
		return nil
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n"), err
}

// DigestImage hashes the first size bytes of a device or image file.
func DigestImage(path string, size int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, size)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
