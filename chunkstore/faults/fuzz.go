package faults

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// FuzzStats is one fuzz target's run.
type FuzzStats struct {
	Package, Target string
	Time            time.Duration
	// Execs is the number of inputs tried, as go test reports it.
	Execs int64
	// Crashed is set when the target found an input that fails; go test
	// saves it under the package's testdata/fuzz for replay.
	Crashed bool
}

// fuzzTargets are the fuzz targets of every parser of repository bytes.
var fuzzTargets = []struct{ pkg, name string }{
	{"./chunkstore/compress", "FuzzDecompress"},
	{"./chunkstore/compress", "FuzzRoundTrip"},
	{"./chunkstore/crypto", "FuzzParseKeyFile"},
	{"./chunkstore/crypto", "FuzzOpen"},
	{"./chunkstore/index", "FuzzDecodeFile"},
	{"./chunkstore/pack", "FuzzDecodeHeader"},
	{"./chunkstore/repo", "FuzzParseConfig"},
	{"./chunkstore/snapshot", "FuzzParseTree"},
	{"./chunkstore/snapshot", "FuzzParseContentList"},
	{"./chunkstore/snapshot", "FuzzParseSnapshot"},
}

var execsRE = regexp.MustCompile(`execs: (\d+)`)

// fuzz runs every target for FuzzTime, FuzzParallel at a time, each with
// one worker: on two cores that is the same work as one at a time with
// two workers, in half the wall time.
func (c *campaign) fuzz(ctx context.Context) error {
	var mu sync.Mutex
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, c.cfg.FuzzParallel))
	for _, ft := range fuzzTargets {
		g.Go(func() error {
			st, out, err := c.fuzzOne(ctx, ft.pkg, ft.name)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			c.res.Fuzz = append(c.res.Fuzz, st)
			if st.Crashed {
				c.fail("fuzz %s %s crashed:\n%s", ft.pkg, ft.name, clip(out))
			} else {
				c.logf("fuzz %s %s: %d execs in %s", ft.pkg, ft.name, st.Execs, st.Time.Round(time.Second))
			}
			return nil
		})
	}
	return g.Wait()
}

func (c *campaign) fuzzOne(ctx context.Context, pkg, name string) (FuzzStats, string, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-run", "^$", "-fuzz", "^"+name+"$",
		"-fuzztime", c.cfg.FuzzTime.String(), "-parallel", "1", pkg)
	cmd.Dir = c.cfg.Root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	st := FuzzStats{Package: pkg, Target: name, Time: time.Since(start)}
	if m := execsRE.FindAllStringSubmatch(out.String(), -1); len(m) > 0 {
		st.Execs, _ = strconv.ParseInt(m[len(m)-1][1], 10, 64)
	}
	if ctx.Err() != nil {
		return st, out.String(), ctx.Err()
	}
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			return st, out.String(), fmt.Errorf("run go test: %w", err)
		}
		st.Crashed = true
	}
	return st, out.String(), nil
}
