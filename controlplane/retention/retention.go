package retention

import (
	"cmp"
	"slices"
	"time"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// Entry is one backup.
type Entry struct {
	Name string
	Time time.Time
}

// tier is one GFS rule: how many buckets and how a time maps to its bucket.
type tier struct {
	n      int32
	bucket func(time.Time) int64
}

func tiers(r v1alpha1.Retention) []tier {
	return []tier{
		{r.Hourly, func(t time.Time) int64 { return t.Unix() / 3600 }},
		{r.Daily, func(t time.Time) int64 { y, m, d := t.Date(); return int64(y)*10000 + int64(m)*100 + int64(d) }},
		{r.Weekly, func(t time.Time) int64 { y, w := t.ISOWeek(); return int64(y)*100 + int64(w) }},
		{r.Monthly, func(t time.Time) int64 { return int64(t.Year())*100 + int64(t.Month()) }},
		{r.Yearly, func(t time.Time) int64 { return int64(t.Year()) }},
	}
}

// KeepsAll reports whether r is the all-zero policy that keeps everything.
func KeepsAll(r v1alpha1.Retention) bool {
	return r.KeepLast <= 0 && r.Hourly <= 0 && r.Daily <= 0 && r.Weekly <= 0 && r.Monthly <= 0 && r.Yearly <= 0
}

// Select splits backups into those r keeps and those it drops, each newest
// first. Names appearing twice are considered once, at their newest time.
func Select(backups []Entry, r v1alpha1.Retention, now time.Time) (keep, drop []string) {
	sorted := newestFirst(backups)
	kept := make(map[string]bool, len(sorted))
	var dated []Entry
	for _, e := range sorted {
		if e.Time.IsZero() || e.Time.After(now) || KeepsAll(r) {
			kept[e.Name] = true
			continue
		}
		dated = append(dated, e)
	}
	for i := 0; i < len(dated) && i < int(r.KeepLast); i++ {
		kept[dated[i].Name] = true
	}
	for _, t := range tiers(r) {
		pick(dated, t, kept)
	}
	for _, e := range sorted {
		if kept[e.Name] {
			keep = append(keep, e.Name)
		} else {
			drop = append(drop, e.Name)
		}
	}
	return keep, drop
}

// pick marks the newest entry of each of the t.n most recent buckets;
// entries are newest first, so a bucket starts where the key changes.
func pick(entries []Entry, t tier, kept map[string]bool) {
	if t.n <= 0 {
		return
	}
	var last int64
	buckets := int32(0)
	for _, e := range entries {
		k := t.bucket(e.Time.UTC())
		if buckets > 0 && k == last {
			continue
		}
		kept[e.Name] = true
		last = k
		if buckets++; buckets == t.n {
			return
		}
	}
}

// newestFirst sorts a copy by time descending, then name descending, and
// drops repeated names.
func newestFirst(in []Entry) []Entry {
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(a, b Entry) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return cmp.Compare(b.Name, a.Name)
	})
	seen := make(map[string]bool, len(out))
	return slices.DeleteFunc(out, func(e Entry) bool {
		dup := seen[e.Name]
		seen[e.Name] = true
		return dup
	})
}
