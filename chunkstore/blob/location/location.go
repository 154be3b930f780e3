package location

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/blob/fs"
	"github.com/cairnbackup/cairn/chunkstore/blob/internal/contract"
	"github.com/cairnbackup/cairn/chunkstore/blob/retry"
	"github.com/cairnbackup/cairn/chunkstore/blob/s3"
)

// Kind is the backend a location selects.
type Kind string

// The backends a location can name.
const (
	KindFS Kind = "fs"
	KindS3 Kind = "s3"
)

// acceptedForms ends every parse error, so the user sees how to fix it.
const acceptedForms = "accepted forms: /path/to/repo, relative/path, file:///path/to/repo, s3://bucket[/prefix]"

// URL is a parsed location.
type URL struct {
	Kind   Kind
	Path   string // KindFS: the directory, cleaned
	Bucket string // KindS3
	Prefix string // KindS3: key prefix without leading or trailing "/"
}

// String renders the location in its canonical form.
func (u URL) String() string {
	switch u.Kind {
	case KindS3:
		return "s3://" + u.Bucket + "/" + u.Prefix
	case KindFS:
		return u.Path
	}
	return "<invalid location>"
}

// Options carries what the URL does not: where S3 is and how to sign in.
type Options struct {
	// Create makes a missing directory or bucket (repository init only).
	Create bool
	// S3Endpoint is "http(s)://host:port"; the scheme decides TLS. Empty
	// means AWS.
	S3Endpoint string
	// Region; empty falls back to AWS_REGION / AWS_DEFAULT_REGION.
	Region string
	// PathStyle forces path-style bucket addressing, which most non-AWS
	// servers need.
	PathStyle bool
	// CACertFile is a PEM file of extra CAs to trust for the S3 endpoint.
	CACertFile string
	// CACertPEM is the same bundle given inline (from a Kubernetes object);
	// it is used when CACertFile is empty.
	CACertPEM []byte
	// Credentials; all empty falls back to the AWS_* environment variables.
	AccessKeyID, SecretAccessKey, SessionToken string
	// Retry overrides the retry policy; zero fields take retry's defaults.
	Retry retry.Policy
	// Warn, when set, hears once of what the store works around (see
	// s3.Config.Warn).
	Warn func(error)
}

var schemeRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*):`)

// Parse checks a location without touching the backend.
func Parse(raw string) (URL, error) {
	if raw == "" {
		return URL{}, fmt.Errorf("empty repository location; %s", acceptedForms)
	}
	m := schemeRE.FindStringSubmatch(raw)
	if m == nil {
		return URL{Kind: KindFS, Path: filepath.Clean(raw)}, nil
	}
	scheme := strings.ToLower(m[1])
	if !strings.HasPrefix(raw[len(m[0]):], "//") {
		if scheme == "s3" || scheme == "file" {
			return URL{}, malformed(raw, fmt.Sprintf("%s: needs \"//\" after the scheme", scheme))
		}
		// A relative path that merely contains a colon, such as "backups:old".
		return URL{Kind: KindFS, Path: filepath.Clean(raw)}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		shown := raw
		if strings.Contains(raw, "@") {
			shown = scheme + "://…" // may hold credentials we could not parse out
		}
		return URL{}, malformed(shown, "not a valid URL")
	}
	if u.User != nil {
		return URL{}, malformed(u.Redacted(), "credentials do not belong in the URL; pass them as options or AWS_* environment variables")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return URL{}, malformed(raw, "query strings and fragments are not supported")
	}
	switch scheme {
	case "s3":
		return parseS3(raw, u)
	case "file":
		return parseFile(raw, u)
	}
	return URL{}, malformed(raw, fmt.Sprintf("unsupported scheme %q", scheme))
}

func parseS3(raw string, u *url.URL) (URL, error) {
	if u.Host == "" {
		return URL{}, malformed(raw, "no bucket name after s3://")
	}
	if err := s3utils.CheckValidBucketName(u.Host); err != nil {
		return URL{}, malformed(raw, fmt.Sprintf("bucket name %q: %v", u.Host, err))
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		if err := contract.CheckName(prefix); err != nil {
			return URL{}, malformed(raw, "prefix: "+err.Error())
		}
	}
	return URL{Kind: KindS3, Bucket: u.Host, Prefix: prefix}, nil
}

func parseFile(raw string, u *url.URL) (URL, error) {
	if u.Host != "" && u.Host != "localhost" {
		return URL{}, malformed(raw, fmt.Sprintf("file URLs cannot name a host (%q); use file:///path", u.Host))
	}
	if u.Path == "" || !strings.HasPrefix(u.Path, "/") {
		return URL{}, malformed(raw, "file URLs need an absolute path, as in file:///path/to/repo")
	}
	return URL{Kind: KindFS, Path: filepath.Clean(u.Path)}, nil
}

func malformed(shown, reason string) error {
	return fmt.Errorf("repository location %q: %s; %s", shown, reason, acceptedForms)
}

// Open parses raw and opens the store it names, wrapped in retry.
func Open(ctx context.Context, raw string, opts Options) (blob.Store, error) {
	u, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	var inner blob.Store
	switch u.Kind {
	case KindFS:
		inner, err = fs.Open(u.Path, fs.Options{Create: opts.Create})
	case KindS3:
		if err = CheckEndpoint(opts.S3Endpoint); err == nil {
			// Opening probes the bucket: a request like any other, which
			// may meet a reset or a 503 and deserves the same retries.
			err = retry.Do(ctx, opts.Retry, func() (err error) {
				inner, err = openS3(ctx, u, opts)
				return err
			})
		}
	default:
		err = errors.New("unknown location kind " + string(u.Kind))
	}
	if err != nil {
		return nil, err
	}
	return retry.Wrap(inner, opts.Retry), nil
}

func openS3(ctx context.Context, u URL, opts Options) (*s3.Store, error) {
	cfg := s3.Config{
		Endpoint:        opts.S3Endpoint,
		Bucket:          u.Bucket,
		Prefix:          u.Prefix,
		Region:          opts.Region,
		PathStyle:       opts.PathStyle,
		Create:          opts.Create,
		AccessKeyID:     opts.AccessKeyID,
		SecretAccessKey: opts.SecretAccessKey,
		SessionToken:    opts.SessionToken,
		CACertPEM:       opts.CACertPEM,
		Warn:            opts.Warn,
	}
	if opts.CACertFile != "" {
		pem, err := os.ReadFile(opts.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("open %s: read CA certificate: %w", u, err)
		}
		cfg.CACertPEM = pem
	}
	return s3.Open(ctx, s3.ConfigFromEnv(cfg))
}
