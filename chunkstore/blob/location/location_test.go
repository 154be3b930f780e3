package location_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/blob/location"
	"github.com/cairnbackup/cairn/chunkstore/blob/retry"
	"github.com/cairnbackup/cairn/chunkstore/blob/s3/s3test"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    location.URL
		wantErr string // substring of the error; "" means success
	}{
		{"absolute path", "/var/lib/cairn", location.URL{Kind: location.KindFS, Path: "/var/lib/cairn"}, ""},
		{"relative path", "backups/repo/", location.URL{Kind: location.KindFS, Path: "backups/repo"}, ""},
		{"colon in relative path", "backups:old", location.URL{Kind: location.KindFS, Path: "backups:old"}, ""},
		{"file url", "file:///srv/repo", location.URL{Kind: location.KindFS, Path: "/srv/repo"}, ""},
		{"file url localhost", "file://localhost/srv/repo", location.URL{Kind: location.KindFS, Path: "/srv/repo"}, ""},
		{"s3 bucket only", "s3://my-bucket", location.URL{Kind: location.KindS3, Bucket: "my-bucket"}, ""},
		{"s3 with prefix", "s3://my-bucket/cluster/prod/", location.URL{Kind: location.KindS3, Bucket: "my-bucket", Prefix: "cluster/prod"}, ""},
		{"empty", "", location.URL{}, "empty repository location"},
		{"unknown scheme", "ftp://host/path", location.URL{}, `unsupported scheme "ftp"`},
		{"s3 without slashes", "s3:my-bucket", location.URL{}, `needs "//"`},
		{"s3 without bucket", "s3:///prefix", location.URL{}, "no bucket"},
		{"s3 bad bucket", "s3://a/prefix", location.URL{}, "bucket name"},
		{"s3 dot-dot prefix", "s3://my-bucket/a/../b", location.URL{}, "prefix"},
		{"s3 query", "s3://my-bucket/p?region=x", location.URL{}, "query"},
		{"file with host", "file://server/srv/repo", location.URL{}, "cannot name a host"},
		{"file relative", "file:repo", location.URL{}, `needs "//"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := location.Parse(tc.raw)
			if tc.wantErr == "" {
				if err != nil || got != tc.want {
					t.Fatalf("Parse(%q) = %+v, %v; want %+v", tc.raw, got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tc.raw, got)
			}
			msg := err.Error()
			for _, want := range []string{tc.wantErr, "accepted forms", "s3://bucket"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
			if tc.raw != "" && !strings.Contains(msg, tc.raw) {
				t.Errorf("error %q does not name the location", msg)
			}
		})
	}
}

func TestParseHidesCredentials(t *testing.T) {
	_, err := location.Parse("s3://AKIDEXAMPLE:TOPSECRET@my-bucket/p")
	if err == nil || strings.Contains(err.Error(), "TOPSECRET") {
		t.Fatalf("Parse = %v; want an error without the secret", err)
	}
}

func TestOpenFS(t *testing.T) {
	base := t.TempDir()
	tests := []struct {
		name   string
		raw    string
		create bool
		want   error // nil: success
	}{
		{"existing path", base, false, nil},
		{"existing file url", "file://" + base, false, nil},
		{"missing", filepath.Join(base, "missing"), false, blob.ErrLocationMissing},
		{"missing with create", filepath.Join(base, "new"), true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := location.Open(t.Context(), tc.raw, location.Options{Create: tc.create})
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Open = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			if _, ok := s.(*retry.Store); !ok {
				t.Errorf("Open returned %T, want it wrapped in retry", s)
			}
			if err := s.Put(t.Context(), "config", []byte("x")); err != nil {
				t.Errorf("Put: %v", err)
			}
		})
	}
}

func TestOpenS3(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	tlsSrv := s3test.StartTLS(t)
	tlsBucket := tlsSrv.NewBucket(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	withKeys := func(o location.Options) location.Options {
		o.AccessKeyID, o.SecretAccessKey = srv.AccessKey, srv.SecretKey
		return o
	}
	tests := []struct {
		name string
		raw  string
		opts location.Options
		env  map[string]string
		want error // nil: success
	}{
		{"credentials in options", "s3://" + bucket + "/repo", withKeys(location.Options{S3Endpoint: srv.Endpoint, PathStyle: true, Region: s3test.Region}), nil, nil},
		{"credentials from env", "s3://" + bucket + "/env", location.Options{S3Endpoint: srv.Endpoint, PathStyle: true},
			map[string]string{"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey, "AWS_REGION": s3test.Region}, nil},
		{"custom CA file", "s3://" + tlsBucket, location.Options{S3Endpoint: tlsSrv.Endpoint, PathStyle: true, Region: s3test.Region,
			CACertFile: tlsSrv.CACertFile, AccessKeyID: tlsSrv.AccessKey, SecretAccessKey: tlsSrv.SecretKey}, nil, nil},
		{"missing bucket", "s3://nope-bucket/repo", withKeys(location.Options{S3Endpoint: srv.Endpoint, PathStyle: true, Region: s3test.Region}), nil, blob.ErrLocationMissing},
		{"create bucket", "s3://created-bucket/repo", withKeys(location.Options{S3Endpoint: srv.Endpoint, PathStyle: true, Region: s3test.Region, Create: true}), nil, nil},
		{"wrong secret", "s3://" + bucket, location.Options{S3Endpoint: srv.Endpoint, PathStyle: true, Region: s3test.Region,
			AccessKeyID: srv.AccessKey, SecretAccessKey: "WRONG"}, nil, blob.ErrPermission},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			s, err := location.Open(t.Context(), tc.raw, tc.opts)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Open = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			if err := s.Put(t.Context(), "config", []byte("x")); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if strings.Contains(s.Location(), srv.SecretKey) || strings.Contains(s.Location(), srv.AccessKey) {
				t.Errorf("Location %q contains a credential", s.Location())
			}
		})
	}
}

func TestOpenS3MissingCAFile(t *testing.T) {
	_, err := location.Open(t.Context(), "s3://my-bucket", location.Options{
		S3Endpoint: "https://127.0.0.1:1", CACertFile: filepath.Join(t.TempDir(), "nope.pem"),
	})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "CA certificate") {
		t.Fatalf("Open = %v, want a missing CA file error", err)
	}
}
