package retention_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/retention"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// entries builds Entries named after their times, given as RFC 3339.
func entries(times ...string) []retention.Entry {
	out := make([]retention.Entry, len(times))
	for i, s := range times {
		out[i] = retention.Entry{Name: s, Time: at(s)}
	}
	return out
}

type selectCase struct {
	name       string
	in         []retention.Entry
	policy     v1alpha1.Retention
	keep, drop []string
}

var selectCases = []selectCase{
	{name: "empty", policy: v1alpha1.Retention{KeepLast: 3}},
	{
		name:   "all-zero policy keeps everything",
		in:     entries("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"),
		keep:   []string{"2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z"},
		policy: v1alpha1.Retention{},
	},
	{
		name:   "keep last",
		in:     entries("2026-11-20T00:00:00Z", "2026-11-22T00:00:00Z", "2026-11-21T00:00:00Z"),
		policy: v1alpha1.Retention{KeepLast: 2},
		keep:   []string{"2026-11-22T00:00:00Z", "2026-11-21T00:00:00Z"},
		drop:   []string{"2026-11-20T00:00:00Z"},
	},
	{
		name:   "keep last larger than the set",
		in:     entries("2026-11-20T00:00:00Z"),
		policy: v1alpha1.Retention{KeepLast: 5},
		keep:   []string{"2026-11-20T00:00:00Z"},
	},
	{
		name: "hourly keeps the newest of each hour",
		in: entries("2026-11-26T10:05:00Z", "2026-11-26T10:55:00Z", "2026-11-26T11:10:00Z",
			"2026-11-26T09:00:00Z"),
		policy: v1alpha1.Retention{Hourly: 2},
		keep:   []string{"2026-11-26T11:10:00Z", "2026-11-26T10:55:00Z"},
		drop:   []string{"2026-11-26T10:05:00Z", "2026-11-26T09:00:00Z"},
	},
	{
		name: "daily counts days that hold backups, not calendar days",
		in: entries("2026-11-01T03:00:00Z", "2026-10-01T03:00:00Z", "2026-10-01T01:00:00Z",
			"2026-09-01T03:00:00Z"),
		policy: v1alpha1.Retention{Daily: 2},
		keep:   []string{"2026-11-01T03:00:00Z", "2026-10-01T03:00:00Z"},
		drop:   []string{"2026-10-01T01:00:00Z", "2026-09-01T03:00:00Z"},
	},
	{
		name:   "ties at one time resolve by name",
		in:     []retention.Entry{{"b", at("2026-11-26T03:00:00Z")}, {"a", at("2026-11-26T03:00:00Z")}, {"c", at("2026-11-26T03:00:00Z")}},
		policy: v1alpha1.Retention{Daily: 1},
		keep:   []string{"c"},
		drop:   []string{"b", "a"},
	},
	{
		name: "weekly uses ISO weeks across the new year",
		// 2024-12-30 is Monday of ISO week 1 of 2025; 2024-12-29 is in week 52 of 2024.
		in:     entries("2025-01-02T00:00:00Z", "2024-12-30T00:00:00Z", "2024-12-29T00:00:00Z"),
		policy: v1alpha1.Retention{Weekly: 2},
		keep:   []string{"2025-01-02T00:00:00Z", "2024-12-29T00:00:00Z"},
		drop:   []string{"2024-12-30T00:00:00Z"},
	},
	{
		name:   "monthly",
		in:     entries("2026-03-31T00:00:00Z", "2026-03-01T00:00:00Z", "2026-02-28T00:00:00Z", "2026-01-15T00:00:00Z"),
		policy: v1alpha1.Retention{Monthly: 2},
		keep:   []string{"2026-03-31T00:00:00Z", "2026-02-28T00:00:00Z"},
		drop:   []string{"2026-03-01T00:00:00Z", "2026-01-15T00:00:00Z"},
	},
	{
		name:   "yearly",
		in:     entries("2026-06-01T00:00:00Z", "2025-12-31T00:00:00Z", "2025-01-01T00:00:00Z", "2024-07-01T00:00:00Z"),
		policy: v1alpha1.Retention{Yearly: 5},
		keep:   []string{"2026-06-01T00:00:00Z", "2025-12-31T00:00:00Z", "2024-07-01T00:00:00Z"},
		drop:   []string{"2025-01-01T00:00:00Z"},
	},
	{
		name: "tiers combine as a union",
		in: entries("2026-11-26T11:00:00Z", "2026-11-26T10:00:00Z", "2026-11-25T10:00:00Z",
			"2026-10-31T10:00:00Z", "2026-10-15T10:00:00Z"),
		policy: v1alpha1.Retention{KeepLast: 1, Daily: 2, Monthly: 2},
		keep:   []string{"2026-11-26T11:00:00Z", "2026-11-25T10:00:00Z", "2026-10-31T10:00:00Z"},
		drop:   []string{"2026-11-26T10:00:00Z", "2026-10-15T10:00:00Z"},
	},
	{
		name: "buckets are UTC",
		// 01:30 and 00:30 on 26 Nov UTC: one bucket, though local dates differ.
		in:     entries("2026-11-25T23:30:00-02:00", "2026-11-26T00:30:00Z"),
		policy: v1alpha1.Retention{Daily: 5},
		keep:   []string{"2026-11-25T23:30:00-02:00"},
		drop:   []string{"2026-11-26T00:30:00Z"},
	},
	{
		name:   "future and undated backups are kept and take no bucket",
		in:     []retention.Entry{{"future", now.Add(time.Hour)}, {"undated", time.Time{}}, {"x", now.Add(-time.Hour)}, {"y", now.Add(-2 * time.Hour)}},
		policy: v1alpha1.Retention{KeepLast: 1},
		keep:   []string{"future", "x", "undated"},
		drop:   []string{"y"},
	},
	{
		name:   "a repeated name counts once",
		in:     []retention.Entry{{"a", at("2026-11-26T03:00:00Z")}, {"a", at("2026-11-25T03:00:00Z")}, {"b", at("2026-11-24T03:00:00Z")}},
		policy: v1alpha1.Retention{KeepLast: 1},
		keep:   []string{"a"},
		drop:   []string{"b"},
	},
}

func TestSelect(t *testing.T) {
	for _, tc := range selectCases {
		t.Run(tc.name, func(t *testing.T) {
			keep, drop := retention.Select(tc.in, tc.policy, now)
			if !slices.Equal(keep, tc.keep) || !slices.Equal(drop, tc.drop) {
				t.Errorf("Select:\n keep %q\n want %q\n drop %q\n want %q", keep, tc.keep, drop, tc.drop)
			}
		})
	}
}

// Properties on random sets: keep and drop partition the input; the kept
// set contains what each rule keeps on its own; raising a count never
// drops a backup that was kept.
func TestSelectProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		in := randomEntries(rng, rng.IntN(60))
		p := randomPolicy(rng)
		keep, drop := retention.Select(in, p, now)
		if len(keep)+len(drop) != len(in) || overlaps(keep, drop) {
			t.Fatalf("round %d: keep %d + drop %d != %d or overlap", round, len(keep), len(drop), len(in))
		}
		for _, single := range singles(p) {
			part, _ := retention.Select(in, single, now)
			if !subset(part, keep) {
				t.Fatalf("round %d: policy %+v keeps %q, not all kept by %+v (%q)", round, single, part, p, keep)
			}
		}
		more := p
		more.Daily++
		bigger, _ := retention.Select(in, more, now)
		if !subset(keep, bigger) {
			t.Fatalf("round %d: raising Daily dropped kept backups", round)
		}
	}
}

func randomEntries(rng *rand.Rand, n int) []retention.Entry {
	out := make([]retention.Entry, n)
	for i := range out {
		// Up to two years back, at minute resolution so some times collide.
		ago := time.Duration(rng.IntN(2*365*24*60)) * time.Minute
		if rng.IntN(10) == 0 && i > 0 {
			ago = now.Sub(out[i-1].Time) // an exact tie
		}
		out[i] = retention.Entry{Name: fmt.Sprintf("b%03d", i), Time: now.Add(-ago)}
	}
	return out
}

func randomPolicy(rng *rand.Rand) v1alpha1.Retention {
	n := func() int32 { return int32(rng.IntN(5)) }
	return v1alpha1.Retention{KeepLast: n(), Hourly: n(), Daily: n(), Weekly: n(), Monthly: n(), Yearly: n()}
}

// singles splits a policy into one policy per non-zero rule.
func singles(p v1alpha1.Retention) []v1alpha1.Retention {
	var out []v1alpha1.Retention
	for _, r := range []v1alpha1.Retention{{KeepLast: p.KeepLast}, {Hourly: p.Hourly}, {Daily: p.Daily},
		{Weekly: p.Weekly}, {Monthly: p.Monthly}, {Yearly: p.Yearly}} {
		if !retention.KeepsAll(r) {
			out = append(out, r)
		}
	}
	return out
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
