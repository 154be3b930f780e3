package cli

import (
	"bytes"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestParseMappings(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]string
		err      string
	}{
		{name: "empty", in: ""},
		{name: "two pairs", in: "a:b, c:d", want: map[string]string{"a": "b", "c": "d"}},
		{name: "same pair twice", in: "a:b,a:b", want: map[string]string{"a": "b"}},
		{name: "no colon", in: "a", err: `"a" in "a" is not OLD:NEW`},
		{name: "empty new", in: "a:", err: `"a:" in "a:" is not OLD:NEW`},
		{name: "empty old", in: ":b", err: `":b" in ":b" is not OLD:NEW`},
		{name: "three parts", in: "a:b:c", err: `"a:b:c" in "a:b:c" is not OLD:NEW`},
		{name: "trailing comma", in: "a:b,", err: `"" in "a:b," is not OLD:NEW`},
		{name: "invalid name", in: "a:B_C", err: `"B_C" in "a:B_C" is not a valid name`},
		{name: "ambiguous", in: "a:b,a:c", err: `maps "a" twice (to "b" and "c")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMappings("namespace-mappings", tc.in, namespaceName)
			if tc.err != "" {
				var u *UsageError
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.As(err, &u) {
					t.Fatalf("err = %v, want a usage error with %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestReadCredentials(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content, key, err string
	}{
		{name: "aws default profile", content: "[other]\naws_access_key_id=OTHER\naws_secret_access_key=x\n[default]\naws_access_key_id = AKID\naws_secret_access_key = SECRETVALUE\n", key: "AKID"},
		{name: "env lines", content: "export AWS_ACCESS_KEY_ID=\"AKID\"\nAWS_SECRET_ACCESS_KEY=SECRETVALUE\n", key: "AKID"},
		{name: "only profile", content: "[ci]\naws_access_key_id=AKID\naws_secret_access_key=SECRETVALUE\n", key: "AKID"},
		{name: "bad line", content: "AWS_ACCESS_KEY_ID=AKID\nSECRETVALUE\n", err: "line 2 is neither KEY=VALUE nor [profile]"},
		{name: "no secret", content: "aws_access_key_id=AKID\n", err: "holds no access key ID and secret access key"},
		{name: "two profiles", content: "[a]\naws_access_key_id=A\n[b]\naws_access_key_id=B\n", err: "several profiles and no [default]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			writeFile(t, path, tc.content)
			got, err := readCredentials(path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "SECRETVALUE") {
					t.Fatalf("err = %v, want %q without the secret", err, tc.err)
				}
				return
			}
			if err != nil || string(got["AWS_ACCESS_KEY_ID"]) != tc.key || string(got["AWS_SECRET_ACCESS_KEY"]) != "SECRETVALUE" {
				t.Fatalf("got %q, %v", got, err)
			}
		})
	}
}

// The manifests move into the chosen namespace and take the chosen images.
func TestInstallObjectsRelocateAndSetImages(t *testing.T) {
	objs, err := installObjects("backup-ns", images{controller: "reg/ctl:v1", agent: "reg/agent:v1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetNamespace() != "" && o.GetNamespace() != "backup-ns" {
			t.Errorf("%s left in namespace %s", resourceName(o), o.GetNamespace())
		}
		switch o.GetKind() {
		case "Namespace":
			if o.GetName() != "backup-ns" {
				t.Errorf("namespace %s", o.GetName())
			}
		case "ClusterRoleBinding", "RoleBinding":
			subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
			for _, s := range subjects {
				if ns := s.(map[string]any)["namespace"]; ns != "backup-ns" {
					t.Errorf("%s subject in namespace %v", resourceName(o), ns)
				}
			}
		case "Deployment", "DaemonSet":
			cs, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
			img := cs[0].(map[string]any)["image"]
			if want := map[string]string{"Deployment": "reg/ctl:v1", "DaemonSet": "reg/agent:v1"}[o.GetKind()]; img != want {
				t.Errorf("%s image %v, want %s", resourceName(o), img, want)
			}
		}
	}
	for in, want := range map[string]string{"ghcr.io/cairnbackup/cairn-agent:v1": "cairn-agent", "cairn-controller": "cairn-controller",
		"r:5000/x/cairn-agent@sha256:00": "cairn-agent", "busybox:1": "busybox"} {
		if got := imageRepository(in); got != want {
			t.Errorf("imageRepository(%s) = %s, want %s", in, got, want)
		}
	}
}

func sampleProgress(ended bool) progressState {
	phase := "WaitingForVolumes"
	if ended {
		phase = "Completed"
	}
	return progressState{phase: phase, ended: ended, vols: []volumeState{
		{key: "shop/data", node: "node-a", phase: "InProgress", done: 1 << 30, total: 4 << 30, bps: 100 << 20},
		{key: "shop/logs", node: "node-b", phase: "Completed", done: 2 << 20, total: 2 << 20, ended: true},
	}}
}

// The terminal display draws a line per volume and a total with bytes,
// rate and ETA.
func TestTTYDisplay(t *testing.T) {
	var b bytes.Buffer
	d := newTTYDisplay(&b, "backup shop-1")
	d.update(sampleProgress(false))
	time.Sleep(500 * time.Millisecond) // a few refreshes of the display
	d.update(sampleProgress(true))
	d.stop()
	out := b.String()
	for _, want := range []string{"shop/data", "node-a", "1.0 GiB / 4.0 GiB", "100 MiB/s", "ETA 31s", "shop/logs", "backup shop-1", "Completed"} {
		if !strings.Contains(out, want) {
			t.Errorf("tty display lacks %q:\n%s", want, out)
		}
	}
}

func TestPlainDisplay(t *testing.T) {
	var b bytes.Buffer
	d := &plainDisplay{w: &b, label: "backup shop-1", seen: map[string]string{}}
	d.update(sampleProgress(false))
	d.update(sampleProgress(false)) // nothing changed: no line
	d.update(sampleProgress(true))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || !strings.Contains(lines[2], "backup shop-1 WaitingForVolumes: 2 volumes, 1.0 GiB / 4.0 GiB, 100 MiB/s, ETA 31s") ||
		!strings.Contains(lines[3], "backup shop-1 Completed") || strings.Contains(b.String(), "\x1b[") {
		t.Fatalf("plain display:\n%s", b.String())
	}
}
