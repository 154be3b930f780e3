//go:build realnode

package realnode

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The test application's view of itself (testapp's State and Check).
type appEvent struct {
	Name         string `json:"name"`
	UnixNano     int64  `json:"unixNano"`
	FSRecords    uint64 `json:"fsRecords"`
	BlockRecords uint64 `json:"blockRecords"`
}

type appCheck struct {
	File         string `json:"file"`
	Records      uint64 `json:"records"`
	LastUnixNano int64  `json:"lastUnixNano"`
	InWindow     uint64 `json:"inWindow"`
	Error        string `json:"error"`
}

type appState struct {
	FSRecords    uint64     `json:"fsRecords"`
	BlockRecords uint64     `json:"blockRecords"`
	Events       []appEvent `json:"events"`
	Startup      []appCheck `json:"startup"`
	WriteError   string     `json:"writeError"`
}

func (s appState) event(t *testing.T, name string) appEvent {
	t.Helper()
	var found []appEvent
	for _, e := range s.Events {
		if e.Name == name {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("the application saw %d %q events, want 1: %+v", len(found), name, s.Events)
	}
	return found[0]
}

const (
	appPod       = "app"
	appContainer = "app"
	fsRecords    = "/data/records.log"
	blockRecords = "/blk/records.log"
)

// appPodSpec is the application: privileged (it mounts the block volume's
// file system and freezes it), with the freeze and thaw as exec hooks in
// its annotations.
func appPodSpec(ns string) *corev1.Pod {
	privileged := true
	grace := int64(5)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: appPod, Namespace: ns, Labels: map[string]string{"app": "shop"},
			Annotations: map[string]string{
				"pre.hook.backup.cairn.dev/command":  `["/testapp", "freeze", "/blk"]`,
				"pre.hook.backup.cairn.dev/timeout":  "1m",
				"post.hook.backup.cairn.dev/command": `["/testapp", "thaw", "/blk"]`,
			}},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: &grace,
			Containers: []corev1.Container{{
				Name: appContainer, Image: AppImage, ImagePullPolicy: corev1.PullNever,
				Args:            []string{"--fs-dir", "/data", "--block-dev", "/dev/cairn-block", "--block-mount", "/blk", "--prefill-mib", "192"},
				SecurityContext: &corev1.SecurityContext{Privileged: &privileged},
				VolumeMounts:    []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
				VolumeDevices:   []corev1.VolumeDevice{{Name: "block", DevicePath: "/dev/cairn-block"}},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{
					Command: []string{"/testapp", "status"}}}, PeriodSeconds: 1},
			}},
			Volumes: []corev1.Volume{
				{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}},
				{Name: "block", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "block"}}},
			},
		},
	}
}

// startApp makes the namespace, its two volumes and the application pod,
// and waits until it is Ready and writing.
func startApp(ctx context.Context, t *testing.T) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: appNamespace}}
	if _, err := cluster.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	createStorageClass(ctx, t)
	provision(ctx, t, appNamespace, "data", 256<<20, false)
	provision(ctx, t, appNamespace, "block", 512<<20, true)
	if _, err := cluster.Kube.CoreV1().Pods(appNamespace).Create(ctx, appPodSpec(appNamespace), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPod(ctx, t, appNamespace, appPod, 3*time.Minute, podReady)
	if err := waitFor(time.Minute, "the application writing", func() (bool, error) {
		s, err := appStatus(ctx, appNamespace)
		if err != nil {
			return false, err
		}
		return s.FSRecords > 1000 && s.BlockRecords > 1000, fmt.Errorf("%d and %d records", s.FSRecords, s.BlockRecords)
	}); err != nil {
		t.Fatal(err)
	}
}

func appStatus(ctx context.Context, ns string) (appState, error) {
	out, err := execIn(ctx, ns, appPod, appContainer, "/testapp", "status")
	if err != nil {
		return appState{}, err
	}
	var s appState
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		return appState{}, fmt.Errorf("parse the application's status %q: %w", out, err)
	}
	return s, nil
}

// appScan checks both record files in the live pod and counts the records
// stamped inside (from, to).
func appScan(ctx context.Context, t *testing.T, ns string, from, to int64) (fs, block appCheck) {
	t.Helper()
	out, err := execIn(ctx, ns, appPod, appContainer, "/testapp", "scan",
		"--from", strconv.FormatInt(from, 10), "--to", strconv.FormatInt(to, 10), fsRecords, blockRecords)
	if err != nil {
		t.Fatal(err)
	}
	var checks []appCheck
	if err := json.Unmarshal([]byte(out), &checks); err != nil || len(checks) != 2 {
		t.Fatalf("scan output %q: %v", out, err)
	}
	return checks[0], checks[1]
}
