package location

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/locations"
)

// Reasons of the Available condition when it is False.
const (
	ReasonInvalidURL          = "InvalidURL"
	ReasonSecretMissing       = "SecretMissing"
	ReasonWrongPassword       = "WrongPassword"
	ReasonCredentialsRejected = "CredentialsRejected"
	ReasonLocationNotFound    = "LocationNotFound"
	ReasonUnreachable         = "Unreachable"
	ReasonNoRepository        = "NoRepository"
	ReasonRepositoryDamaged   = "RepositoryDamaged"
	ReasonNoSpace             = "NoSpace"
	ReasonOpenFailed          = "OpenFailed"
)

// classify turns an error from opening a location into a reason and a
// message that names the location and says what to do. Errors that could
// carry a server's words about credentials are not quoted.
func classify(loc *v1alpha1.BackupLocation, err error) verdict {
	who := fmt.Sprintf("BackupLocation %s/%s", loc.Namespace, loc.Name)
	pw := loc.Spec.PasswordSecretRef
	switch {
	case errors.Is(err, locations.ErrSecret):
		return verdict{reason: ReasonSecretMissing, msg: fmt.Sprintf("%s: %v", who, unwrapSecretErr(err))}
	case errors.Is(err, crypto.ErrWrongPassword):
		return verdict{reason: ReasonWrongPassword, msg: fmt.Sprintf("%s: the password in Secret %s/%s (key %q) does not open "+
			"the repository at %s; put that repository's password in the Secret, or point spec.url at an empty location "+
			"to create a new repository with this password", who, loc.Namespace, pw.Name, pw.Key, loc.Spec.URL)}
	case errors.Is(err, blob.ErrPermission):
		return verdict{reason: ReasonCredentialsRejected, msg: credentialsMessage(who, loc)}
	case errors.Is(err, blob.ErrLocationMissing):
		return verdict{reason: ReasonLocationNotFound, msg: notFoundMessage(who, loc)}
	case errors.Is(err, blob.ErrUnavailable), errors.Is(err, blob.ErrTransient), errors.Is(err, context.DeadlineExceeded):
		return verdict{reason: ReasonUnreachable, msg: fmt.Sprintf("%s: cannot reach %s (%v); check spec.s3.endpoint, "+
			"DNS and network policies, and that the storage server is up", who, endpoint(loc), err)}
	case errors.Is(err, repo.ErrNoRepository):
		return verdict{reason: ReasonNoRepository, msg: fmt.Sprintf("%s: there is no repository at %s and the location "+
			"is ReadOnly; point spec.url at an existing repository, or set spec.accessMode to ReadWrite to create one",
			who, loc.Spec.URL)}
	case errors.Is(err, repo.ErrCorrupt), errors.Is(err, crypto.ErrAuth):
		return verdict{reason: ReasonRepositoryDamaged, msg: fmt.Sprintf("%s: the repository at %s is damaged (%v); "+
			"run 'cairn repo check' against it", who, loc.Spec.URL, err)}
	case errors.Is(err, blob.ErrNoSpace):
		return verdict{reason: ReasonNoSpace, msg: fmt.Sprintf("%s: the storage at %s is out of space or quota; free space "+
			"or raise the quota", who, loc.Spec.URL)}
	default:
		return verdict{reason: ReasonOpenFailed, msg: fmt.Sprintf("%s: cannot open the repository at %s: %v", who, loc.Spec.URL, err)}
	}
}

// unwrapSecretErr drops the sentinel's prefix; the rest names the Secret.
func unwrapSecretErr(err error) string {
	return strings.TrimPrefix(err.Error(), locations.ErrSecret.Error()+": ")
}

func credentialsMessage(who string, loc *v1alpha1.BackupLocation) string {
	if !isS3(loc) {
		return fmt.Sprintf("%s: permission denied on %s; give the controller's user read and write access to it", who, loc.Spec.URL)
	}
	src := "the controller's AWS environment"
	if loc.Spec.CredentialsSecret != "" {
		src = fmt.Sprintf("Secret %s/%s", loc.Namespace, loc.Spec.CredentialsSecret)
	}
	return fmt.Sprintf("%s: %s refused the credentials from %s; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "+
		"there, and that they may list, read and write %s", who, endpoint(loc), src, loc.Spec.URL)
}

func isS3(loc *v1alpha1.BackupLocation) bool {
	return strings.HasPrefix(loc.Spec.URL, "s3://")
}

func endpoint(loc *v1alpha1.BackupLocation) string {
	switch {
	case !isS3(loc):
		return loc.Spec.URL
	case loc.Spec.S3 != nil && loc.Spec.S3.Endpoint != "":
		return "S3 endpoint " + loc.Spec.S3.Endpoint
	default:
		return "AWS S3"
	}
}

func notFoundMessage(who string, loc *v1alpha1.BackupLocation) string {
	if loc.Spec.AccessMode == v1alpha1.AccessReadOnly {
		return fmt.Sprintf("%s: %s does not exist, and a ReadOnly location never creates it; create it, or fix spec.url",
			who, what(loc))
	}
	return fmt.Sprintf("%s: %s does not exist and could not be created; create it, or fix spec.url", who, what(loc))
}

func what(loc *v1alpha1.BackupLocation) string {
	if isS3(loc) {
		return "the bucket of " + loc.Spec.URL
	}
	return "the directory " + loc.Spec.URL
}
