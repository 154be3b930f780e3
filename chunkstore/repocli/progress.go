package repocli

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
)

// progressInterval refreshes the line about four times a second: fast
// enough to look live, slow enough not to flood a remote terminal.
const progressInterval = 250 * time.Millisecond

// rateWindow is how far back the rate looks, so the ETA follows changes in
// speed (a run of duplicates, a slow directory) within seconds.
const rateWindow = 5 * time.Second

// counters reads the done and total byte counts of a running operation.
type counters func() (done, total int64)

// progressLine draws a one-line progress display on a terminal.
type progressLine struct {
	w       io.Writer
	label   string
	read    counters
	start   time.Time
	samples []sample
	stop    chan struct{}
	wg      sync.WaitGroup
}

type sample struct {
	at   time.Time
	done int64
}

// startProgress shows progress on stderr when stderr is a terminal and
// returns the function that clears it; otherwise it does nothing.
func startProgress(cmd *cobra.Command, label string, read counters) (stop func()) {
	w := cmd.ErrOrStderr()
	if _, ok := terminalFd(w); !ok {
		return func() {}
	}
	p := &progressLine{w: w, label: label, read: read, start: time.Now(), stop: make(chan struct{})}
	p.wg.Add(1)
	go p.loop()
	return func() {
		close(p.stop)
		p.wg.Wait()
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func (p *progressLine) loop() {
	defer p.wg.Done()
	t := time.NewTicker(progressInterval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			done, total := p.read()
			fmt.Fprint(p.w, "\r\033[K"+p.render(now, done, total))
		}
	}
}

func (p *progressLine) render(now time.Time, done, total int64) string {
	p.samples = append(p.samples, sample{at: now, done: done})
	for len(p.samples) > 2 && now.Sub(p.samples[0].at) > rateWindow {
		p.samples = p.samples[1:]
	}
	first := sample{at: p.start}
	if len(p.samples) > 1 && now.Sub(p.start) > rateWindow {
		first = p.samples[0]
	}
	rate := 0.0
	if dt := now.Sub(first.at).Seconds(); dt > 0 {
		rate = float64(done-first.done) / dt
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", p.label, formatBytes(done))
	if total > 0 {
		fmt.Fprintf(&b, " / %s (%d%%)", formatBytes(total), min(100, done*100/total))
	}
	fmt.Fprintf(&b, "  %s/s", formatBytes(int64(rate)))
	if total > done && rate > 0 {
		eta := time.Duration(float64(total-done) / rate * float64(time.Second))
		fmt.Fprintf(&b, "  ETA %s", formatDuration(eta))
	}
	fmt.Fprintf(&b, "  %s", formatDuration(now.Sub(p.start)))
	return b.String()
}
