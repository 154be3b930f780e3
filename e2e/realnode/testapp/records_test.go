package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeRecords(t *testing.T, seqs []uint64, tail []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "records.log")
	var b []byte
	for i, s := range seqs {
		b = append(b, encodeRecord(s, int64(1000+i))...)
	}
	if err := os.WriteFile(p, append(b, tail...), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckFile(t *testing.T) {
	corrupt := func(p string) {
		b, _ := os.ReadFile(p)
		b[2*RecordSize+20] ^= 1
		_ = os.WriteFile(p, b, 0o644)
	}
	for name, tc := range map[string]struct {
		seqs    []uint64
		tail    []byte
		damage  func(string)
		records uint64
		err     string
	}{
		"a consistent prefix": {seqs: []uint64{0, 1, 2, 3}, records: 4},
		"empty":               {records: 0},
		"torn last record":    {seqs: []uint64{0, 1}, tail: encodeRecord(2, 9)[:30], records: 2, err: "torn record"},
		"a gap":               {seqs: []uint64{0, 1, 3}, records: 2, err: "a gap"},
		"a flipped bit":       {seqs: []uint64{0, 1, 2, 3}, damage: corrupt, records: 2, err: "bad checksum"},
	} {
		t.Run(name, func(t *testing.T) {
			p := writeRecords(t, tc.seqs, tc.tail)
			if tc.damage != nil {
				tc.damage(p)
			}
			c := checkFile(p)
			if c.Records != tc.records || (tc.err == "") != (c.Error == "") || !strings.Contains(c.Error, tc.err) {
				t.Fatalf("check = %+v, want %d records and error %q", c, tc.records, tc.err)
			}
		})
	}
}

func TestScanWindow(t *testing.T) {
	p := writeRecords(t, []uint64{0, 1, 2, 3, 4}, nil) // stamped 1000..1004
	if c := scanFile(p, 1001, 1004); c.InWindow != 2 || c.LastUnixNano != 1004 {
		t.Fatalf("scan = %+v, want 2 records strictly inside (1001, 1004)", c)
	}
}

func TestMissingFileIsEmpty(t *testing.T) {
	if c := checkFile(filepath.Join(t.TempDir(), "none")); c.Records != 0 || c.Error != "" {
		t.Fatalf("check of a missing file = %+v", c)
	}
}
