package dashboard

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// funcs are the template helpers. Times render relative to a moment the
// view carries (Now), so one render is consistent and tests are stable.
func funcs() template.FuncMap {
	return template.FuncMap{
		"bytes":    sizeText,
		"rate":     rateText,
		"dur":      durText,
		"ago":      agoText,
		"until":    untilText,
		"stamp":    stampText,
		"ratio":    func(f float64) string { return fmt.Sprintf("%.2f×", f) },
		"pct":      func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
		"lower":    strings.ToLower,
		"join":     strings.Join,
		"short":    shortID,
		"orDash":   orDash,
		"phaseCSS": phaseClass,
		"metaTime": func(t time.Time) *metav1.Time { return &metav1.Time{Time: t} },
		"backupTable": func(now time.Time, rows []backupRow) backupTable {
			return backupTable{Now: now, Rows: rows}
		},
		"messages": func(warnings, errors []string) messages { return messages{Warnings: warnings, Errors: errors} },
	}
}

// backupTable is the data of the "backups" template.
type backupTable struct {
	Now  time.Time
	Rows []backupRow
}

// messages is the data of the "messages" template.
type messages struct{ Warnings, Errors []string }

func sizeText(n int64) string {
	if n <= 0 {
		return "0 B"
	}
	return humanize.IBytes(uint64(n))
}

func rateText(bps int64) string {
	if bps <= 0 {
		return "–"
	}
	return humanize.IBytes(uint64(bps)) + "/s"
}

// durText rounds to what a person reads: seconds under ten minutes, then
// minutes, then hours.
func durText(d time.Duration) string {
	switch {
	case d < 0:
		return "–"
	case d < time.Second:
		return "<1s"
	case d < 10*time.Minute:
		return d.Round(time.Second).String()
	case d < 10*time.Hour:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	}
	h := int(d.Round(time.Hour).Hours())
	if h >= 72 {
		return fmt.Sprintf("%dd", h/24)
	}
	return fmt.Sprintf("%dh", h)
}

func agoText(now time.Time, t *metav1.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	d := now.Sub(t.Time)
	if d < 0 {
		return "in " + durText(-d)
	}
	return durText(d) + " ago"
}

func untilText(now time.Time, t *metav1.Time) string {
	if t == nil || t.IsZero() {
		return "–"
	}
	d := t.Sub(now)
	if d < 0 {
		return durText(-d) + " ago"
	}
	return "in " + durText(d)
}

func stampText(t *metav1.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return orDash(id)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// phaseClass maps a phase (of any kind) to a CSS class: ok, warn, bad,
// run or idle.
func phaseClass(phase string) string {
	switch phase {
	case "Completed", "Available", "True", "Created", "Updated":
		return "ok"
	case "PartiallyFailed", "Canceled", "Deleting":
		return "warn"
	case "Failed", "Unavailable", "False":
		return "bad"
	case "InProgress", "WaitingForVolumes", "New", "Pending":
		return "run"
	}
	return "idle"
}
