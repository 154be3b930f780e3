package cronspec_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cairnbackup/cairn/controlplane/schedule/cronspec"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParse(t *testing.T) {
	cases := []struct {
		name, expr string
		wantErr    string // substring; empty means valid
	}{
		{"five fields", "0 3 * * *", ""},
		{"ranges and steps", "*/15 8-18 * * 1-5", ""},
		{"descriptor", "@daily", ""},
		{"every", "@every 90m", ""},
		{"zone prefix", "CRON_TZ=UTC 0 3 * * *", ""},
		{"empty", "", "empty"},
		{"six fields", "0 0 3 * * *", "expected exactly 5 fields"},
		{"minute out of range", "61 * * * *", "61"},
		{"words", "every night", "expected exactly 5 fields"},
		{"unknown descriptor", "@fortnightly", "unrecognized descriptor"},
		{"too frequent", "@every 10s", "shortest period"},
		{"never fires", "0 0 30 2 *", "never fires"},
		{"zone without expression", "TZ=UTC", "malformed"},
		{"unknown zone", "CRON_TZ=Mars/Olympus 0 3 * * *", "bad location"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cronspec.Parse(tc.expr)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Parse(%q): %v", tc.expr, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Parse(%q) = %v, want an error containing %q", tc.expr, err, tc.wantErr)
			}
		})
	}
}

func TestDue(t *testing.T) {
	cases := []struct {
		name, expr, after, now string
		want                   string // empty: nothing due
		missed                 bool
	}{
		{name: "not yet", expr: "0 * * * *", after: "2026-11-26T10:30:00Z", now: "2026-11-26T10:59:59Z"},
		{name: "exactly on the slot", expr: "0 * * * *", after: "2026-11-26T10:30:00Z", now: "2026-11-26T11:00:00Z", want: "2026-11-26T11:00:00Z"},
		{name: "slot equal to after is not due again", expr: "0 * * * *", after: "2026-11-26T11:00:00Z", now: "2026-11-26T11:30:00Z"},
		{name: "newest of several missed", expr: "0 * * * *", after: "2026-11-26T08:30:00Z", now: "2026-11-26T12:15:00Z", want: "2026-11-26T12:00:00Z", missed: true},
		{name: "years of downtime", expr: "* * * * *", after: "2016-01-01T00:00:00Z", now: "2026-11-26T12:15:30Z", want: "2026-11-26T12:15:00Z", missed: true},
		{name: "yearly", expr: "@yearly", after: "2020-06-01T00:00:00Z", now: "2026-11-26T00:00:00Z", want: "2026-01-01T00:00:00Z", missed: true},
		{name: "sparse: every minute of January", expr: "* * * 1 *", after: "2025-01-01T00:00:00Z", now: "2026-11-26T00:00:00Z", want: "2026-01-31T23:59:00Z", missed: true},
		{name: "every is anchored at the epoch", expr: "@every 90m", after: "2026-11-26T00:00:00Z", now: "2026-11-26T02:00:00Z", want: "2026-11-26T01:30:00Z"},
		{name: "zone", expr: "CRON_TZ=Europe/Berlin 0 3 * * *", after: "2026-11-25T12:00:00Z", now: "2026-11-26T12:00:00Z", want: "2026-11-26T02:00:00Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := cronspec.Parse(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := s.Due(at(tc.after), at(tc.now))
			if tc.want == "" {
				if ok {
					t.Fatalf("Due = %v, want nothing", got)
				}
				return
			}
			if !ok || !got.Equal(at(tc.want)) {
				t.Fatalf("Due = %v %v, want %s", got, ok, tc.want)
			}
			if m := s.Missed(at(tc.after), got); m != tc.missed {
				t.Fatalf("Missed = %v, want %v", m, tc.missed)
			}
		})
	}
}

// Due agrees with walking every slot, on random expressions and windows.
func TestDueMatchesWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	exprs := []string{"*/7 * * * *", "13 */5 * * *", "0 9 * * 1", "30 2 1,15 * *", "@hourly", "@every 25m", "0 0 1 */3 *"}
	base := at("2026-01-01T00:00:00Z")
	for range 400 {
		s, err := cronspec.Parse(exprs[rng.IntN(len(exprs))])
		if err != nil {
			t.Fatal(err)
		}
		after := base.Add(time.Duration(rng.Int64N(int64(300 * 24 * time.Hour))))
		now := after.Add(time.Duration(rng.Int64N(int64(100 * 24 * time.Hour))))
		var want time.Time
		for n := s.Next(after); !n.After(now); n = s.Next(n) {
			want = n
		}
		got, ok := s.Due(after, now)
		if ok != !want.IsZero() || !got.Equal(want) {
			t.Fatalf("%s in (%v, %v]: Due = %v %v, walk = %v", s, after, now, got, ok, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{"0 3 * * *", "@every 1h", "TZ=UTC", "CRON_TZ= x", "*/0 * * * *", "1-0 * * * *", "@every -5m"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := cronspec.Parse(expr)
		if err != nil {
			return
		}
		now := time.Now()
		if n := s.Next(now); n.IsZero() || !n.After(now) {
			t.Fatalf("%q: Next(%v) = %v", expr, now, n)
		}
	})
}
