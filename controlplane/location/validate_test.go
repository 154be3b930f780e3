package location_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/chunkstore/blob/fs"
	"github.com/cairnbackup/cairn/chunkstore/blob/s3/s3test"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/location"
)

func initRepo(t *testing.T, dir, pw string) {
	t.Helper()
	store, err := fs.Open(dir, fs.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Init(context.Background(), store, []byte(pw), repo.Options{KDF: crypto.FastKDFForTests})
	if err != nil {
		t.Fatal(err)
	}
	_ = r.Close()
}

type validateCase struct {
	name    string
	setup   func(t *testing.T, dir string) (*v1alpha1.BackupLocation, []client.Object)
	reason  string
	message string   // substring of the condition message
	secrets []string // values that must not appear anywhere
}

func TestValidate(t *testing.T) {
	for _, tc := range append(fileCases(), s3Cases(t)...) {
		t.Run(tc.name, func(t *testing.T) {
			loc, objs := tc.setup(t, filepath.Join(t.TempDir(), "repo"))
			h := newHarness(t, "2026-11-26T12:00:00Z", append(objs, loc)...)
			res := reconcileOK(t, location.NewValidator(h.cfg), loc.Name)
			got := h.location(loc.Name)
			c := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionAvailable)
			if c == nil || c.Reason != tc.reason || !strings.Contains(c.Message, tc.message) {
				t.Fatalf("Available condition = %+v\nwant reason %s and message containing %q", c, tc.reason, tc.message)
			}
			t.Logf("%s: %s", c.Reason, c.Message)
			wantPhase := v1alpha1.LocationUnavailable
			if tc.reason == "RepositoryReachable" {
				wantPhase = v1alpha1.LocationAvailable
				if got.Status.RepositoryID == "" {
					t.Fatal("no repositoryID")
				}
			}
			if got.Status.Phase != wantPhase || got.Status.LastValidationTime == nil || res.RequeueAfter != time.Minute {
				t.Fatalf("phase %s, validated %v, requeue %v", got.Status.Phase, got.Status.LastValidationTime, res.RequeueAfter)
			}
			ev := strings.Join(h.events(), "\n")
			if !strings.Contains(ev, tc.reason) {
				t.Fatalf("events %q lack %s", ev, tc.reason)
			}
			for _, s := range append(tc.secrets, password) {
				if strings.Contains(c.Message, s) || strings.Contains(got.Status.Message, s) || strings.Contains(ev, s) {
					t.Fatalf("a secret value leaked into status or events: %q", c.Message)
				}
			}
		})
	}
}

func fileCases() []validateCase {
	withPW := func(mut func(l *v1alpha1.BackupLocation, dir string)) func(*testing.T, string) (*v1alpha1.BackupLocation, []client.Object) {
		return func(t *testing.T, dir string) (*v1alpha1.BackupLocation, []client.Object) {
			l := fileLocation("default", dir)
			if mut != nil {
				mut(l, dir)
			}
			return l, []client.Object{pwSecret(password)}
		}
	}
	return []validateCase{
		{name: "empty writable directory is initialised", setup: withPW(nil), reason: "RepositoryReachable",
			message: "is reachable and opens with the password in Secret cairn/pw"},
		{name: "missing password Secret", reason: location.ReasonSecretMissing,
			message: "Secret cairn/pw does not exist; create it",
			setup: func(t *testing.T, dir string) (*v1alpha1.BackupLocation, []client.Object) {
				return fileLocation("default", dir), nil
			}},
		{name: "Secret without the key", reason: location.ReasonSecretMissing, message: `has no key "password"`,
			setup: func(t *testing.T, dir string) (*v1alpha1.BackupLocation, []client.Object) {
				return fileLocation("default", dir), []client.Object{secret("pw", map[string]string{"pass": password})}
			}},
		{name: "wrong password", reason: location.ReasonWrongPassword, secrets: []string{"the other one"},
			message: `the password in Secret cairn/pw (key "password") does not open the repository`,
			setup: func(t *testing.T, dir string) (*v1alpha1.BackupLocation, []client.Object) {
				initRepo(t, dir, "the other one")
				return fileLocation("default", dir), []client.Object{pwSecret(password)}
			}},
		{name: "malformed URL", reason: location.ReasonInvalidURL, message: "fix spec.url",
			setup: withPW(func(l *v1alpha1.BackupLocation, _ string) { l.Spec.URL = "file://host/x" })},
		{name: "read-only location without a repository", reason: location.ReasonNoRepository, message: "set spec.accessMode to ReadWrite",
			setup: withPW(func(l *v1alpha1.BackupLocation, dir string) {
				_ = os.MkdirAll(dir, 0o755)
				l.Spec.AccessMode = v1alpha1.AccessReadOnly
			})},
		{name: "read-only location whose directory is missing", reason: location.ReasonLocationNotFound, message: "does not exist, and a ReadOnly location never creates it; create it",
			setup: withPW(func(l *v1alpha1.BackupLocation, _ string) { l.Spec.AccessMode = v1alpha1.AccessReadOnly })},
	}
}

func s3Location(srv *s3test.Server, bucket string) *v1alpha1.BackupLocation {
	l := fileLocation("s3", "/unused")
	l.Spec.URL = "s3://" + bucket + "/cairn"
	l.Spec.S3 = &v1alpha1.S3Options{Endpoint: srv.Endpoint, Region: s3test.Region, PathStyle: true}
	l.Spec.CredentialsSecret = "s3-creds"
	return l
}

func creds(access, secretKey string) *corev1.Secret {
	return secret("s3-creds", map[string]string{"AWS_ACCESS_KEY_ID": access, "AWS_SECRET_ACCESS_KEY": secretKey})
}

func s3Cases(t *testing.T) []validateCase {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	return []validateCase{
		{name: "S3 available", reason: "RepositoryReachable", secrets: []string{srv.SecretKey},
			setup: func(t *testing.T, _ string) (*v1alpha1.BackupLocation, []client.Object) {
				return s3Location(srv, bucket), []client.Object{pwSecret(password), creds(srv.AccessKey, srv.SecretKey)}
			}},
		{name: "S3 wrong credentials", reason: location.ReasonCredentialsRejected, secrets: []string{"wrong-secret-value"},
			message: "refused the credentials from Secret cairn/s3-creds; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
			setup: func(t *testing.T, _ string) (*v1alpha1.BackupLocation, []client.Object) {
				return s3Location(srv, bucket), []client.Object{pwSecret(password), creds(srv.AccessKey, "wrong-secret-value")}
			}},
		{name: "S3 missing bucket", reason: location.ReasonLocationNotFound, message: "the bucket of s3://no-such-bucket/cairn does not exist",
			setup: func(t *testing.T, _ string) (*v1alpha1.BackupLocation, []client.Object) {
				l := s3Location(srv, "no-such-bucket")
				l.Spec.AccessMode = v1alpha1.AccessReadOnly
				return l, []client.Object{pwSecret(password), creds(srv.AccessKey, srv.SecretKey)}
			}},
		{name: "S3 endpoint unreachable", reason: location.ReasonUnreachable, message: "cannot reach S3 endpoint http://127.0.0.1:1",
			setup: func(t *testing.T, _ string) (*v1alpha1.BackupLocation, []client.Object) {
				l := s3Location(srv, bucket)
				l.Spec.S3.Endpoint = "http://127.0.0.1:1"
				return l, []client.Object{pwSecret(password), creds(srv.AccessKey, srv.SecretKey)}
			}},
		{name: "S3 credentials Secret missing", reason: location.ReasonSecretMissing, message: "Secret cairn/s3-creds does not exist",
			setup: func(t *testing.T, _ string) (*v1alpha1.BackupLocation, []client.Object) {
				return s3Location(srv, bucket), []client.Object{pwSecret(password)}
			}},
	}
}

// A location that fails after it was opened (and cached) is reported, and
// events mark only transitions.
func TestValidateNoticesLossAfterCaching(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	loc := fileLocation("default", dir)
	loc.Spec.AccessMode = v1alpha1.AccessReadOnly
	initRepo(t, dir, password)
	h := newHarness(t, "2026-11-26T12:00:00Z", loc, pwSecret(password))
	v := location.NewValidator(h.cfg)
	reconcileOK(t, v, "default")
	reconcileOK(t, v, "default")
	if ev := h.events(); len(ev) != 1 || !strings.HasPrefix(ev[0], "Normal RepositoryReachable") {
		t.Fatalf("events after two good validations: %q", ev)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	reconcileOK(t, v, "default")
	got := h.location("default")
	if got.Status.Phase != v1alpha1.LocationUnavailable {
		t.Fatalf("phase %s after the repository vanished", got.Status.Phase)
	}
	if ev := h.events(); len(ev) != 1 || !strings.HasPrefix(ev[0], "Warning") {
		t.Fatalf("events: %q", ev)
	}
}

func TestValidationIntervalFromSpec(t *testing.T) {
	loc := fileLocation("default", filepath.Join(t.TempDir(), "repo"))
	loc.Spec.ValidationInterval = &metav1.Duration{Duration: 10 * time.Second}
	h := newHarness(t, "2026-11-26T12:00:00Z", loc, pwSecret(password))
	if res := reconcileOK(t, location.NewValidator(h.cfg), "default"); res.RequeueAfter != 10*time.Second {
		t.Fatalf("RequeueAfter = %v", res.RequeueAfter)
	}
}
