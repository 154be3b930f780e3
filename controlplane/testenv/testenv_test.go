package testenv_test

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/testenv"
)

// The API server accepts cairn's CRDs and enforces their validation.
func TestStartServesCairnCRDs(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	loc := &v1alpha1.BackupLocation{
		ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "default"},
		Spec: v1alpha1.BackupLocationSpec{URL: "s3://bucket/prefix",
			PasswordSecretRef: v1alpha1.SecretKeyRef{Name: "pw", Key: "password"}},
	}
	if err := env.Client.Create(ctx, loc); err != nil {
		t.Fatal(err)
	}
	var got v1alpha1.BackupLocation
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(loc), &got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.AccessMode != v1alpha1.AccessReadWrite {
		t.Fatalf("default access mode = %q, want ReadWrite", got.Spec.AccessMode)
	}
	bad := loc.DeepCopy()
	bad.ResourceVersion, bad.Name, bad.Spec.URL = "", "bad", "ftp://nope"
	if err := env.Client.Create(ctx, bad); err == nil {
		t.Fatal("a malformed URL was accepted")
	}
}
