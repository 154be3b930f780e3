package cli

import (
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// volumeState is one volume as --wait shows it.
type volumeState struct {
	key, node, phase string
	done, total, bps int64
	ended            bool
}

// progressState is what one poll of a backup or restore sees.
type progressState struct {
	phase string
	vols  []volumeState
	ended bool
}

// total sums the volumes.
func (s progressState) total() volumeState {
	t := volumeState{key: "total", phase: s.phase, ended: s.ended}
	for _, v := range s.vols {
		t.done += v.done
		t.total += v.total
		t.bps += v.bps
	}
	return t
}

// display renders progress states; stop ends it and must be called once.
type display interface {
	update(s progressState)
	stop()
}

// plainEvery spaces the plain display's lines: often enough to show the
// run is alive in a CI log, rarely enough not to flood it.
const plainEvery = 5 * time.Second

// newDisplay picks the terminal display (redrawn lines) or the plain one.
func (e *env) newDisplay(what, name string) display {
	w := e.cfg.Err
	tty := e.cfg.Progress == "tty"
	if e.cfg.Progress == "" {
		f, ok := w.(*os.File)
		tty = ok && term.IsTerminal(int(f.Fd()))
	}
	if tty {
		return newTTYDisplay(w, what+" "+name)
	}
	return &plainDisplay{w: w, label: what + " " + name, seen: map[string]string{}}
}

// plainDisplay prints a line on every phase or volume change and at most
// every plainEvery otherwise.
type plainDisplay struct {
	w     io.Writer
	label string
	last  time.Time
	phase string
	seen  map[string]string
}

func (p *plainDisplay) update(s progressState) {
	now := time.Now()
	changed := s.phase != p.phase
	for _, v := range s.vols {
		if p.seen[v.key] != v.phase {
			p.seen[v.key] = v.phase
			printf(p.w, "%s volume %s on node %s: %s, %s\n", now.Format("15:04:05"), v.key, v.node, v.phase, amount(v))
		}
	}
	if !changed && now.Sub(p.last) < plainEvery && !s.ended {
		return
	}
	p.phase, p.last = s.phase, now
	t := s.total()
	printf(p.w, "%s %s %s: %d volumes, %s, %s, ETA %s\n", now.Format("15:04:05"), p.label, s.phase, len(s.vols),
		amount(t), rate(t.bps), eta(t.done, t.total, t.bps))
}

func (p *plainDisplay) stop() {}

func amount(v volumeState) string {
	if v.total > 0 {
		return fmt.Sprintf("%s / %s", size(v.done), size(v.total))
	}
	return size(v.done)
}

// ttyDisplay redraws one bar per volume and a total bar in place, through
// mpb; the decorators read the latest state under mu.
type ttyDisplay struct {
	p     *mpb.Progress
	mu    sync.Mutex
	state map[string]volumeState
	bars  map[string]*mpb.Bar
	label string
}

func newTTYDisplay(w io.Writer, label string) *ttyDisplay {
	d := &ttyDisplay{state: map[string]volumeState{}, bars: map[string]*mpb.Bar{}, label: label}
	d.p = mpb.New(mpb.WithOutput(w), mpb.WithWidth(100), mpb.WithRefreshRate(200*time.Millisecond), mpb.ForceTTY(), mpb.WithAutoRefresh())
	// The total stays the last line, below every volume.
	d.bars["total"] = d.newBar("total", math.MaxInt)
	return d
}

func (d *ttyDisplay) newBar(key string, priority int) *mpb.Bar {
	name := key
	if key == "total" {
		name = d.label
	}
	return d.p.New(0, mpb.BarStyle().Lbound("[").Rbound("]"),
		mpb.BarWidth(24),
		mpb.BarPriority(priority),
		mpb.PrependDecorators(
			decor.Name(name, decor.WCSyncSpaceR),
			decor.Any(func(decor.Statistics) string { return d.get(key).node }, decor.WCSyncSpaceR),
			decor.Any(func(decor.Statistics) string { return d.get(key).phase }, decor.WCSyncSpaceR),
		),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			v := d.get(key)
			return fmt.Sprintf("%s  %s  ETA %s", amount(v), rate(v.bps), eta(v.done, v.total, v.bps))
		})),
	)
}

func (d *ttyDisplay) get(key string) volumeState {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state[key]
}

func (d *ttyDisplay) update(s progressState) {
	d.mu.Lock()
	vols := append(s.vols, s.total())
	for _, v := range vols {
		d.state[v.key] = v
	}
	d.mu.Unlock()
	for i, v := range vols {
		b := d.bars[v.key]
		if b == nil {
			b = d.newBar(v.key, i)
			d.bars[v.key] = b
		}
		if b.AbortedOrCompleted() {
			continue
		}
		b.SetTotal(max(v.total, v.done), false)
		b.SetCurrent(v.done)
		if v.ended {
			b.SetTotal(-1, true)
		}
	}
}

// stop completes or aborts every bar (keeping its line) and waits for
// mpb's render goroutine to end.
func (d *ttyDisplay) stop() {
	for _, b := range d.bars {
		if !b.AbortedOrCompleted() {
			b.Abort(false)
		}
	}
	d.p.Wait()
}
