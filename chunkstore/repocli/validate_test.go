package repocli

import (
	"testing"
)

// D11: every numeric and enum flag is checked before anything runs, and
// the message names the flag and what it accepts.
func TestFlagValidation(t *testing.T) {
	h := newHarness(t)
	h.ok("init")
	src := h.dir
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"negative workers", []string{"backup", "--workers", "-1", src}, "--workers -1: must be between 1 and 64"},
		{"zero workers", []string{"backup", "--workers", "0", src}, "--workers 0: must be between 1 and 64"},
		{"too many workers", []string{"backup", "--workers", "1000", src}, "--workers 1000: must be between 1 and 64"},
		{"zero uploads", []string{"backup", "--uploads", "0", src}, "--uploads 0: must be between 1 and 64"},
		{"restore workers", []string{"restore", "latest", "--target", src, "--workers", "0"}, "--workers 0: must be between 1 and 64"},
		{"negative grace", []string{"prune", "--grace", "-5h"}, "--grace -5h0m0s: must be a positive duration"},
		{"zero grace", []string{"prune", "--grace", "0s"}, "--grace 0s: must be a positive duration"},
		{"repack ratio over 1", []string{"prune", "--repack-ratio", "2"}, "--repack-ratio 2: must be a share greater than 0 and at most 1"},
		{"repack ratio NaN", []string{"prune", "--repack-ratio", "NaN"}, "--repack-ratio NaN: must be a share"},
		{"repack ratio zero", []string{"prune", "--repack-ratio", "0"}, "--repack-ratio 0: must be a share"},
		{"tag without equals", []string{"backup", "--tag", "noequals", src}, `--tag "noequals": want key=value`},
		{"tag without key", []string{"backup", "--tag", "=v", src}, `--tag "=v": want key=value`},
		{"snapshots tag filter", []string{"snapshots", "--tag", "x"}, `--tag "x": want key=value`},
		{"endpoint not a URL", []string{"snapshots", "--s3-endpoint", "notaurl"}, `--s3-endpoint: s3 endpoint "notaurl": no scheme`},
		{"endpoint scheme", []string{"snapshots", "--s3-endpoint", "ftp://host:21"}, `scheme "ftp"`},
		{"max memory not a size", []string{"snapshots", "--max-memory", "lots"}, `--max-memory "lots" is not a size`},
		{"max memory too small", []string{"check", "--max-memory", "1MiB"}, "--max-memory 1MiB is below the 64MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.fails(1, tc.want, tc.args...)
			if r.stdout != "" {
				t.Fatalf("a refused flag still ran the command: stdout %q", r.stdout)
			}
		})
	}
	// A bare host:port, which the s3 package would take as https, is
	// refused too: the scheme decides TLS and should be said.
	h.repo = "s3://bucket/repo"
	h.fails(1, "no scheme", "snapshots", "--s3-endpoint", "minio:9000")
}
