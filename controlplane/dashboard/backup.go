package dashboard

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

type backupView struct {
	Now                time.Time
	NS, Name, Phase    string
	Location, Schedule string
	Status             v1alpha1.BackupStatus
	Duration           time.Duration
	Bytes              int64
	Total              volumeRow
	Volumes            []volumeRow
	Hooks              *metav1.Condition
	Conditions         []metav1.Condition
	Selection          []field
	Details            details
}

// field is one labelled value of a spec.
type field struct{ Label, Value string }

func (s *Server) backupPage(r *http.Request) *page {
	ctx, now := r.Context(), s.cfg.Clock.Now()
	ns, name := r.PathValue("ns"), r.PathValue("name")
	var b v1alpha1.Backup
	if err := s.get(ctx, ns, name, &b); err != nil {
		return missing(err, "Backup", ns, name)
	}
	v := &backupView{Now: now, NS: b.Namespace, Name: b.Name, Phase: phaseOr(string(b.Status.Phase), "New"),
		Location: locationName(&b), Schedule: b.Labels[v1alpha1.LabelSchedule], Status: b.Status,
		Duration: elapsed(now, b.Status.StartTime, b.Status.CompletionTime), Bytes: backupBytes(&b),
		Selection: selection(&b.Spec)}
	v.Volumes = backupVolumes(now, s.backupItems(ctx, &b), b.Status.VolumeSnapshots)
	v.Total = total(v.Volumes)
	for _, c := range b.Status.Conditions {
		if c.Type == v1alpha1.ConditionHooksRun {
			v.Hooks = c.DeepCopy()
			continue
		}
		v.Conditions = append(v.Conditions, c)
	}
	var loc v1alpha1.BackupLocation
	if err := s.get(ctx, b.Namespace, v.Location, &loc); err == nil {
		v.Details = s.details.get(&b, &loc)
	} else {
		v.Details = details{State: detailNone, Err: "location " + v.Location + " does not exist"}
	}
	return &page{Title: "Backup " + b.Name, Template: "backup", Data: v, Live: true}
}

// selection is what the spec includes and excludes, in words. Hooks are
// named, never shown: their commands and bodies may carry credentials.
func selection(s *v1alpha1.BackupSpec) []field {
	all := func(xs []string) string {
		if len(xs) == 0 {
			return "all"
		}
		return strings.Join(xs, ", ")
	}
	out := []field{{"Namespaces", all(s.IncludedNamespaces)}}
	if len(s.ExcludedNamespaces) > 0 {
		out = append(out, field{"Excluded namespaces", strings.Join(s.ExcludedNamespaces, ", ")})
	}
	out = append(out, field{"Resources", all(s.IncludedResources)})
	if len(s.ExcludedResources) > 0 {
		out = append(out, field{"Excluded resources", strings.Join(s.ExcludedResources, ", ")})
	}
	if s.LabelSelector != nil {
		out = append(out, field{"Label selector", metav1.FormatLabelSelector(s.LabelSelector)})
	}
	if s.TTL != nil {
		out = append(out, field{"TTL", s.TTL.Duration.String()})
	}
	var hooks []string
	for _, h := range s.Hooks {
		hooks = append(hooks, h.Name)
	}
	if len(hooks) > 0 {
		out = append(out, field{"Hooks", strings.Join(hooks, ", ")})
	}
	return out
}

func missing(err error, kind, ns, name string) *page {
	if apierrors.IsNotFound(err) {
		return errorPage(http.StatusNotFound, "%s %s/%s does not exist (it may have been deleted or expired).", kind, ns, name)
	}
	return errorPage(http.StatusServiceUnavailable, "read %s %s/%s from the cache: %v", kind, ns, name, err)
}

type restoreView struct {
	Now             time.Time
	NS, Name, Phase string
	Backup          string
	Status          v1alpha1.RestoreStatus
	Duration        time.Duration
	Total           volumeRow
	Volumes         []volumeRow
	Conditions      []metav1.Condition
	Selection       []field
	Hooks           *metav1.Condition
}

func (s *Server) restorePage(r *http.Request) *page {
	ctx, now := r.Context(), s.cfg.Clock.Now()
	ns, name := r.PathValue("ns"), r.PathValue("name")
	var rs v1alpha1.Restore
	if err := s.get(ctx, ns, name, &rs); err != nil {
		return missing(err, "Restore", ns, name)
	}
	v := &restoreView{Now: now, NS: rs.Namespace, Name: rs.Name, Phase: phaseOr(string(rs.Status.Phase), "New"),
		Backup: rs.Spec.BackupName, Status: rs.Status, Duration: elapsed(now, rs.Status.StartTime, rs.Status.CompletionTime),
		Hooks: meta.FindStatusCondition(rs.Status.Conditions, v1alpha1.ConditionHooksRun)}
	v.Volumes = restoreVolumes(now, s.restoreItems(ctx, &rs))
	v.Total = total(v.Volumes)
	for _, c := range rs.Status.Conditions {
		if c.Type != v1alpha1.ConditionHooksRun {
			v.Conditions = append(v.Conditions, c)
		}
	}
	v.Selection = restoreSelection(&rs.Spec)
	return &page{Title: "Restore " + rs.Name, Template: "restore", Data: v, Live: true}
}

func restoreSelection(s *v1alpha1.RestoreSpec) []field {
	b := v1alpha1.BackupSpec{IncludedNamespaces: s.IncludedNamespaces, ExcludedNamespaces: s.ExcludedNamespaces,
		IncludedResources: s.IncludedResources, ExcludedResources: s.ExcludedResources, LabelSelector: s.LabelSelector}
	out := selection(&b)
	for _, old := range slices.Sorted(maps.Keys(s.NamespaceMapping)) { // a stable order: streams send only changes
		out = append(out, field{"Namespace mapping", old + " → " + s.NamespaceMapping[old]})
	}
	policy := string(s.ExistingResourcePolicy)
	if policy == "" {
		policy = string(v1alpha1.ExistingNone)
	}
	return append(out, field{"Existing objects", policy})
}
