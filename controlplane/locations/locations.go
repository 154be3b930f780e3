package locations

import (
	"context"
	"errors"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/chunkstore/blob/location"
	"github.com/cairnbackup/cairn/chunkstore/compress"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// ErrSecret marks a missing or incomplete Secret.
var ErrSecret = errors.New("location secret")

// Opener opens and caches repositories. It is safe for concurrent use.
type Opener struct {
	// Client reads Secrets (in the location's namespace).
	Client client.Reader
	// KDF is the password-hash cost for repositories it initialises; zero
	// means crypto.DefaultKDF.
	KDF crypto.KDFParams
	// Host names the opener in the repository's writer sessions (who holds
	// a session matters when prune waits for writers); default
	// "cairn-controller".
	Host string
	// Budget, when its MaxMemory is set, makes OpenJob read each job's
	// index through the on-disk cache within that budget.
	Budget Bounded
	// Warn, when set, hears what a repository or its store works around
	// (a damaged index file read past, an S3 server that takes no checksum
	// trailers), each once per repository handle.
	Warn func(error)

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	version string
	repo    *repo.Repository
}

// Open returns the repository of loc, initialising it when the location is
// writable and holds no repository yet.
func (o *Opener) Open(ctx context.Context, loc *v1alpha1.BackupLocation) (*repo.Repository, error) {
	secrets, version, err := o.readSecrets(ctx, loc)
	if err != nil {
		return nil, err
	}
	key := loc.Namespace + "/" + loc.Name
	version = fmt.Sprintf("%d/%s", loc.Generation, version)
	o.mu.Lock()
	if c, ok := o.cache[key]; ok && c.version == version {
		o.mu.Unlock()
		return c.repo, nil
	}
	o.mu.Unlock()
	r, err := o.open(ctx, loc, secrets, repo.Options{})
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cache == nil {
		o.cache = map[string]cached{}
	}
	o.cache[key] = cached{version: version, repo: r}
	return r, nil
}

// Bounded says how OpenBounded reads a repository's index.
type Bounded struct {
	IndexCache string // local directory of the on-disk index cache
	MaxMemory  int64  // bytes
}

// OpenBounded opens loc's repository for one job that must stay within
// b.MaxMemory: its index is read through an on-disk cache in
// b.IndexCache. The repository is not shared with other callers; the
// caller closes it.
func (o *Opener) OpenBounded(ctx context.Context, loc *v1alpha1.BackupLocation, b Bounded) (*repo.Repository, error) {
	secrets, _, err := o.readSecrets(ctx, loc)
	if err != nil {
		return nil, err
	}
	return o.open(ctx, loc, secrets, repo.Options{IndexCache: b.IndexCache, MaxMemory: b.MaxMemory})
}

// OpenJob returns a handle on loc's repository for one job, and the
// function that releases it once the job is over. Without a Budget it is
// the cached repository, and release does nothing. With one, the
// repository is opened once (one password hash) and each job gets a
// handle of its own (repo.Reopen) whose index is read through the cache
// within the budget and released with the job, so a long-running process
// does not accumulate the index of a repository that keeps growing.
func (o *Opener) OpenJob(ctx context.Context, loc *v1alpha1.BackupLocation) (*repo.Repository, func(), error) {
	r, err := o.Open(ctx, loc)
	if err != nil || o.Budget.MaxMemory <= 0 {
		return r, func() {}, err
	}
	h, err := r.Reopen(repo.Options{IndexCache: o.Budget.IndexCache, MaxMemory: o.Budget.MaxMemory})
	if err != nil {
		return nil, nil, fmt.Errorf("location %s: %w", loc.Name, err)
	}
	return h, func() { _ = h.Close() }, nil
}

// Forget drops a cached repository, after a location is deleted.
func (o *Opener) Forget(namespace, name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.cache, namespace+"/"+name)
}

type secrets struct {
	password                        []byte
	accessKey, secretKey, sessionTk string
}

func (o *Opener) readSecrets(ctx context.Context, loc *v1alpha1.BackupLocation) (secrets, string, error) {
	var s secrets
	ref := loc.Spec.PasswordSecretRef
	pw, err := o.secret(ctx, loc.Namespace, ref.Name)
	if err != nil {
		return s, "", err
	}
	if len(pw.Data[ref.Key]) == 0 {
		return s, "", fmt.Errorf("%w: Secret %s/%s has no key %q for the repository password of location %s; add it",
			ErrSecret, loc.Namespace, ref.Name, ref.Key, loc.Name)
	}
	s.password = pw.Data[ref.Key]
	version := pw.ResourceVersion
	if loc.Spec.CredentialsSecret != "" {
		cs, err := o.secret(ctx, loc.Namespace, loc.Spec.CredentialsSecret)
		if err != nil {
			return s, "", err
		}
		s.accessKey = string(cs.Data["AWS_ACCESS_KEY_ID"])
		s.secretKey = string(cs.Data["AWS_SECRET_ACCESS_KEY"])
		s.sessionTk = string(cs.Data["AWS_SESSION_TOKEN"])
		if s.accessKey == "" || s.secretKey == "" {
			return s, "", fmt.Errorf("%w: Secret %s/%s must hold AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for location %s",
				ErrSecret, loc.Namespace, cs.Name, loc.Name)
		}
		version += "/" + cs.ResourceVersion
	}
	return s, version, nil
}

func (o *Opener) secret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	var sec corev1.Secret
	err := o.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &sec)
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("%w: Secret %s/%s does not exist; create it", ErrSecret, ns, name)
	}
	if err != nil {
		return nil, fmt.Errorf("read Secret %s/%s: %w", ns, name, err)
	}
	return &sec, nil
}

func (o *Opener) open(ctx context.Context, loc *v1alpha1.BackupLocation, s secrets, ropts repo.Options) (*repo.Repository, error) {
	writable := loc.Spec.AccessMode != v1alpha1.AccessReadOnly
	opts := location.Options{Create: writable, AccessKeyID: s.accessKey, SecretAccessKey: s.secretKey, SessionToken: s.sessionTk,
		Warn: o.Warn}
	if s3 := loc.Spec.S3; s3 != nil {
		opts.S3Endpoint, opts.Region, opts.PathStyle, opts.CACertPEM = s3.Endpoint, s3.Region, s3.PathStyle, s3.CABundle
	}
	store, err := location.Open(ctx, loc.Spec.URL, opts)
	if err != nil {
		return nil, fmt.Errorf("location %s: %w", loc.Name, err)
	}
	host := o.Host
	if host == "" {
		host = "cairn-controller"
	}
	ropts.KDF, ropts.Host, ropts.User = o.KDF, host, "cairn"
	if ropts.Warn == nil {
		ropts.Warn = o.Warn
	}
	r, err := repo.Open(ctx, store, s.password, ropts)
	if errors.Is(err, repo.ErrNoRepository) && writable {
		if lvl, perr := compress.ParseLevel(loc.Spec.Compression); perr == nil && loc.Spec.Compression != "" {
			ropts.Compression = &lvl
		}
		r, err = repo.Init(ctx, store, s.password, ropts)
	}
	if err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("location %s: %w", loc.Name, err)
	}
	return r, nil
}
