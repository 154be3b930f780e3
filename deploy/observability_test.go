package deploy

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/yaml"

	_ "github.com/cairnbackup/cairn/controlplane/metrics" // registers the controller's metrics
	_ "github.com/cairnbackup/cairn/nodeagent"            // registers the agents' metrics
)

// Every metric the Grafana dashboard and the alert rules query is one the
// controller or the agent registers: a renamed metric fails here, not on
// an operator's empty panel or silent alert.
func TestObservabilityQueriesRegisteredMetrics(t *testing.T) {
	exprs := map[string][]string{
		"grafana/cairn.json":     grafanaExprs(t, "grafana/cairn.json"),
		"prometheus/alerts.yaml": alertExprs(t, "prometheus/alerts.yaml"),
	}
	for file, list := range exprs {
		if len(list) == 0 {
			t.Fatalf("%s: no queries found", file)
		}
		for _, expr := range list {
			names := metricNames(expr)
			if len(names) == 0 {
				t.Errorf("%s: %q queries no metric", file, expr)
			}
			for _, name := range names {
				if !registered(name) {
					t.Errorf("%s: %q queries %s, which neither the controller nor the agent registers", file, expr, name)
				}
			}
		}
	}
}

// The alerts the dashboard issue asks for exist.
func TestAlertRulesCoverTheRequiredAlerts(t *testing.T) {
	rules := loadRules(t, "prometheus/alerts.yaml")
	var names []string
	for _, r := range rules {
		names = append(names, r.Alert)
		if r.Alert == "" || r.Expr == "" || r.Annotations["summary"] == "" {
			t.Errorf("rule %+v lacks a name, an expression or a summary", r)
		}
	}
	for _, want := range []string{"CairnScheduleNoRecentSuccess", "CairnLocationUnavailable", "CairnBackupPartiallyFailed"} {
		if !slices.Contains(names, want) {
			t.Errorf("no alert %s (have %v)", want, names)
		}
	}
}

// The test that every manifest is installed covers the embedded top
// directory and crds/; this one covers the rest of deploy/ on disk: a YAML
// file is either installed, an example under examples/ (applied by hand,
// never by install), or, in a directory of monitoring files, no
// Kubernetes object that someone could apply by mistake.
func TestEveryYAMLIsInstalledOrNotAnObject(t *testing.T) {
	monitoring := map[string]bool{"grafana": true, "prometheus": true}
	listed := map[string]bool{}
	var k kustomization
	raw, _ := files.ReadFile("kustomization.yaml")
	if err := yaml.Unmarshal(raw, &k); err != nil {
		t.Fatal(err)
	}
	for _, r := range k.Resources {
		listed[r] = true
	}
	err := filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || (filepath.Ext(p) != ".yaml" && filepath.Ext(p) != ".yml") || p == "kustomization.yaml" {
			return err
		}
		p = filepath.ToSlash(p)
		dir, _, _ := strings.Cut(p, "/")
		switch {
		case listed[p]:
		case dir == "examples" && strings.Contains(p, "/"):
			// Examples for vendors (the reference driver's DaemonSet):
			// applied by hand or by the tests, never by install.
			if _, err := os.Stat(p); err != nil {
				return err
			}
		case monitoring[dir] && strings.Contains(p, "/"):
			var doc map[string]any
			b, err := os.ReadFile(p)
			if err == nil {
				err = yaml.Unmarshal(b, &doc)
			}
			if err != nil {
				return err
			}
			if doc["apiVersion"] != nil || doc["kind"] != nil {
				t.Errorf("%s is a Kubernetes object outside the kustomization", p)
			}
		default:
			t.Errorf("%s is neither listed in kustomization.yaml nor a monitoring file", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func grafanaExprs(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []grafanaPanel `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []string
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				out = append(out, tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(dash.Panels)
	return out
}

type grafanaPanel struct {
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
	Panels []grafanaPanel `json:"panels"`
}

type rule struct {
	Alert       string            `json:"alert"`
	Record      string            `json:"record"`
	Expr        string            `json:"expr"`
	For         string            `json:"for"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

func loadRules(t *testing.T, path string) []rule {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []rule `json:"rules"`
		} `json:"groups"`
	}
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []rule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

func alertExprs(t *testing.T, path string) []string {
	var out []string
	for _, r := range loadRules(t, path) {
		out = append(out, r.Expr)
	}
	return out
}

var (
	promStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]`)
	promLabels   = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	promKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true, "by": true,
		"without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true}
)

// metricNames returns the metric names a PromQL expression selects: the
// identifiers left once strings, label matchers, ranges and grouping
// clauses are removed, that are neither keywords nor calls of functions
// and aggregations.
func metricNames(expr string) []string {
	s := promStrings.ReplaceAllString(expr, `""`)
	s = promMatchers.ReplaceAllString(s, " ")
	s = promLabels.ReplaceAllString(s, " ")
	var out []string
	for _, m := range promIdent.FindAllStringSubmatch(s, -1) {
		name := strings.TrimSpace(m[0])
		if m[1] != "" || promKeywords[strings.ToLower(name)] {
			continue // a call, or a keyword
		}
		out = append(out, name)
	}
	return out
}

// registered reports whether the controller-runtime registry, which both
// the controller and the agent serve, has a collector named name (or, for
// a histogram's _bucket, _sum and _count series, its base name). Vectors
// without children are not gathered, so the registry is asked directly: a
// probe of that name conflicts with a registered one.
func registered(name string) bool {
	candidates := []string{name}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			candidates = append(candidates, base)
		}
	}
	for _, n := range candidates {
		probe := prometheus.NewGauge(prometheus.GaugeOpts{Name: n, Help: "probe for a registered name"})
		err := ctrlmetrics.Registry.Register(probe)
		if err == nil {
			ctrlmetrics.Registry.Unregister(probe)
			continue
		}
		var dup prometheus.AlreadyRegisteredError
		if errors.As(err, &dup) || strings.Contains(err.Error(), "same fully-qualified name") {
			return true
		}
	}
	return false
}

// The name extraction finds what a query selects and nothing else.
func TestMetricNames(t *testing.T) {
	for _, c := range []struct {
		expr string
		want []string
	}{
		{`sum by (result) (increase(cairn_backup_total{result=~"Failed|PartiallyFailed"}[24h]))`, []string{"cairn_backup_total"}},
		{`(time() - a_created > 2 * b_interval) unless on(schedule) c_last`, []string{"a_created", "b_interval", "c_last"}},
		{`histogram_quantile(0.95, sum by (le) (rate(x_bucket[1h])))`, []string{"x_bucket"}},
		{`count(up == 0) or vector(0)`, []string{"up"}},
	} {
		if got := metricNames(c.expr); !slices.Equal(got, c.want) {
			t.Errorf("metricNames(%q) = %v, want %v", c.expr, got, c.want)
		}
	}
	if registered("cairn_no_such_metric") || !registered("cairn_agent_read_bytes_total") || !registered("cairn_backup_duration_seconds_bucket") {
		t.Error("registered does not tell registered metrics from others")
	}
}
