package dashboard

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// The charts' geometry, in SVG user units; CSS scales them to the width.
const (
	chartW, chartH            = 640, 180
	padLeft, padRight         = 72, 12
	padTop, padBottom         = 12, 28
	plotW                     = chartW - padLeft - padRight
	plotH                     = chartH - padTop - padBottom
	chartTimeFormat           = "Jan 2 15:04"
	maxChartPoints            = 500 // a year of daily backups, with room
	chartHeadroom     float64 = 1.1 // the highest point stays below the top edge
)

// chart is a server-rendered line chart of one figure over time.
type chart struct {
	Title, Unit            string
	W, H                   int
	Left, Right, Top, Base int
	Line                   string
	Points                 []chartPoint
	YTop, YMid             string
	YTopAt, YMidAt         int
	XFirst, XLast          string
}

type chartPoint struct {
	X, Y  float64
	Label string
}

// sample is one backup's figures for the charts.
type sample struct {
	name  string
	at    time.Time
	bytes int64
	took  time.Duration
}

func newChart(title string, samples []sample, value func(sample) float64, text func(float64) string) chart {
	c := chart{Title: title, W: chartW, H: chartH, Left: padLeft, Right: chartW - padRight, Top: padTop, Base: padTop + plotH}
	if len(samples) == 0 {
		return c
	}
	t0, t1 := samples[0].at, samples[len(samples)-1].at
	top := 0.0
	for _, s := range samples {
		top = max(top, value(s))
	}
	if top == 0 {
		top = 1
	}
	top *= chartHeadroom
	var line []string
	for _, s := range samples {
		x := padLeft + plotW/2.0
		if span := t1.Sub(t0); span > 0 {
			x = padLeft + float64(plotW)*float64(s.at.Sub(t0))/float64(span)
		}
		y := padTop + float64(plotH)*(1-value(s)/top)
		line = append(line, fmt.Sprintf("%.1f,%.1f", x, y))
		c.Points = append(c.Points, chartPoint{X: round1(x), Y: round1(y),
			Label: fmt.Sprintf("%s: %s at %s", s.name, text(value(s)), s.at.UTC().Format(time.RFC3339))})
	}
	c.Line = strings.Join(line, " ")
	c.YTop, c.YTopAt = text(top), padTop
	c.YMid, c.YMidAt = text(top/2), padTop+plotH/2
	c.XFirst, c.XLast = t0.UTC().Format(chartTimeFormat), t1.UTC().Format(chartTimeFormat)
	return c
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// samples are the schedule's finished backups that moved data, oldest
// first, at most maxChartPoints of the newest.
func samples(bs []v1alpha1.Backup) []sample {
	var out []sample
	for i := range bs {
		b := &bs[i]
		st := b.Status
		if !st.Phase.Done() || st.Phase == v1alpha1.BackupFailed || st.StartTime == nil || st.CompletionTime == nil {
			continue
		}
		out = append(out, sample{name: b.Name, at: st.StartTime.Time, bytes: backupBytes(b), took: st.CompletionTime.Sub(st.StartTime.Time)})
	}
	slices.SortFunc(out, func(a, b sample) int {
		if d := a.at.Compare(b.at); d != 0 {
			return d
		}
		return compareStrings(a.name, b.name)
	})
	return out[max(0, len(out)-maxChartPoints):]
}

type scheduleView struct {
	Now       time.Time
	Row       scheduleRow
	Spec      v1alpha1.ScheduleSpec
	Size      chart
	Duration  chart
	Backups   []backupRow
	More      int
	Retention string
}

func (s *Server) schedulePage(r *http.Request) *page {
	ctx, now := r.Context(), s.cfg.Clock.Now()
	ns, name := r.PathValue("ns"), r.PathValue("name")
	var sc v1alpha1.Schedule
	if err := s.get(ctx, ns, name, &sc); err != nil {
		return missing(err, "Schedule", ns, name)
	}
	var bs v1alpha1.BackupList
	if err := s.list(ctx, &bs, client.InNamespace(ns), client.MatchingLabels{v1alpha1.LabelSchedule: name}); err != nil {
		return errorPage(http.StatusServiceUnavailable, "read the cache: %v", err)
	}
	pts := samples(bs.Items)
	v := &scheduleView{Now: now, Row: scheduleRowOf(now, &sc), Spec: sc.Spec, Retention: retentionText(sc.Spec.Retention),
		Size: newChart("Backup size", pts, func(s sample) float64 { return float64(s.bytes) }, func(f float64) string { return sizeText(int64(f)) }),
		Duration: newChart("Backup duration", pts, func(s sample) float64 { return s.took.Seconds() },
			func(f float64) string { return durText(time.Duration(f * float64(time.Second))) })}
	v.Backups, v.More = newestRows(now, bs.Items, pageBackups)
	return &page{Title: "Schedule " + name, Template: "schedule", Data: v, Live: true}
}

func retentionText(r v1alpha1.Retention) string {
	var parts []string
	for _, p := range []struct {
		n    int32
		what string
	}{{r.KeepLast, "last"}, {r.Hourly, "hourly"}, {r.Daily, "daily"}, {r.Weekly, "weekly"}, {r.Monthly, "monthly"}, {r.Yearly, "yearly"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if len(parts) == 0 {
		return "keep every backup until its TTL"
	}
	return "keep " + strings.Join(parts, ", ")
}
