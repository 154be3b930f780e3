package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// age is kubectl's short age of t, or <unknown>.
func age(now time.Time, t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

func agePtr(now time.Time, t *metav1.Time) string {
	if t == nil {
		return "<none>"
	}
	return age(now, *t)
}

// until is the short time left until t, or "expired".
func until(now time.Time, t *metav1.Time) string {
	if t == nil {
		return "<none>"
	}
	if !t.After(now) {
		return "expired"
	}
	return duration.HumanDuration(t.Sub(now))
}

// stamp prints an absolute time with its relative age.
func stamp(now time.Time, t *metav1.Time) string {
	if t == nil || t.IsZero() {
		return "<none>"
	}
	rel := duration.HumanDuration(now.Sub(t.Time)) + " ago"
	if t.After(now) {
		rel = "in " + duration.HumanDuration(t.Sub(now))
	}
	return t.UTC().Format(time.RFC3339) + " (" + rel + ")"
}

// bytes prints a byte count in IEC units.
func size(n int64) string {
	if n < 0 {
		n = 0
	}
	return humanize.IBytes(uint64(n))
}

func rate(bps int64) string {
	if bps <= 0 {
		return "-"
	}
	return size(bps) + "/s"
}

// eta is the time left at the given rate, or "-".
func eta(done, total, bps int64) string {
	if bps <= 0 || total <= done {
		return "-"
	}
	d := time.Duration(float64(total-done) / float64(bps) * float64(time.Second))
	return d.Round(time.Second).String()
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func list(s []string) string {
	if len(s) == 0 {
		return "<none>"
	}
	return strings.Join(s, ", ")
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return orNone(id)
}

// labels prints a label map as k=v,k=v sorted.
func labels(m map[string]string) string {
	if len(m) == 0 {
		return "<none>"
	}
	return strings.Join(pairs(m, "="), ",")
}

// pairs renders a map's entries as key+sep+value, sorted by key.
func pairs(m map[string]string, sep string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + sep + m[k]
	}
	return keys
}

// describer writes kubectl-describe style "Key:  value" lines, indented
// by level, aligned within each block.
type describer struct{ tw *tabwriter.Writer }

func newDescriber(w io.Writer) *describer {
	return &describer{tw: tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)}
}

// kv writes "key:\tvalue" at level.
func (d *describer) kv(level int, key string, format string, args ...any) {
	_, _ = fmt.Fprintf(d.tw, "%s%s:\t%s\n", strings.Repeat("  ", level), key, fmt.Sprintf(format, args...))
}

// line writes free text at level.
func (d *describer) line(level int, format string, args ...any) {
	_, _ = fmt.Fprintf(d.tw, "%s%s\n", strings.Repeat("  ", level), fmt.Sprintf(format, args...))
}

// items writes a list under a heading, or "<none>".
func (d *describer) items(level int, key string, items []string) {
	if len(items) == 0 {
		d.kv(level, key, "<none>")
		return
	}
	d.line(level, "%s:", key)
	for _, it := range items {
		d.line(level+1, "- %s", it)
	}
}

func (d *describer) flush() error { return d.tw.Flush() }

func timePtr(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t)
	return &mt
}
