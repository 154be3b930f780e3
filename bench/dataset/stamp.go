package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// generatorVersion changes whenever the bytes a seed produces change, so
// that datasets from an older generator are written again.
const generatorVersion = 1

// stamp is written beside a dataset once it is complete. A dataset whose
// stamp matches its parameters is reused instead of written again.
type stamp struct {
	Generator int    `json:"generator"`
	Params    any    `json:"params"`
	Bytes     int64  `json:"bytes"`
	Files     int    `json:"files"`
	Note      string `json:"note,omitempty"`
}

// state locates a dataset's directory and the files kept beside it.
type state struct {
	root, name string
}

func (s state) dir() string        { return filepath.Join(s.root, s.name) }
func (s state) stampPath() string  { return filepath.Join(s.root, s.name+".stamp.json") }
func (s state) markerPath() string { return filepath.Join(s.root, s.name+".mutated") }

// current reports whether a complete dataset with these parameters exists.
func (s state) current(st stamp) (bool, error) {
	have, err := os.ReadFile(s.stampPath())
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("dataset %s: read stamp: %w", s.name, err)
	}
	want, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return false, err
	}
	return bytes.Equal(bytes.TrimSpace(have), want), nil
}

// reset removes the dataset and its stamp before it is written again.
func (s state) reset() error {
	for _, p := range []string{s.stampPath(), s.markerPath(), s.dir()} {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("dataset %s: remove %s: %w", s.name, p, err)
		}
	}
	return os.MkdirAll(s.dir(), 0o755)
}

func (s state) writeStamp(st stamp) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.stampPath() + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("dataset %s: write stamp: %w", s.name, err)
	}
	return os.Rename(tmp, s.stampPath())
}

func (s state) mutated() bool {
	_, err := os.Stat(s.markerPath())
	return err == nil
}

func (s state) setMutated(on bool) error {
	if on {
		return os.WriteFile(s.markerPath(), []byte("incremental variant applied\n"), 0o644)
	}
	if err := os.Remove(s.markerPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// prepare brings the dataset to its base state: generated if missing or
// stale, reverted if a previous run left the variant applied.
func (s state) prepare(st stamp, generate, revert func() error) error {
	ok, err := s.current(st)
	if err != nil {
		return err
	}
	if ok {
		if !s.mutated() {
			return nil
		}
		return revert()
	}
	if err := s.reset(); err != nil {
		return err
	}
	if err := generate(); err != nil {
		return fmt.Errorf("dataset %s: generate: %w", s.name, err)
	}
	return s.writeStamp(st)
}
