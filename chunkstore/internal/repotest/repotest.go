package repotest

import (
	"context"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/blob/fs"
	"github.com/cairnbackup/cairn/chunkstore/blob/mem"
	"github.com/cairnbackup/cairn/chunkstore/blob/s3"
	"github.com/cairnbackup/cairn/chunkstore/blob/s3/s3test"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// Password is the password of every test repository.
var Password = []byte("correct horse battery staple")

// Options are the repository options tests use: a cheap KDF, and the
// index cache when SetIndexCache chose one.
func Options() repo.Options {
	return repo.Options{KDF: crypto.FastKDFForTests, Host: "test-host", User: "tester",
		IndexCache: indexCache, MaxMemory: indexCacheMemory}
}

var (
	indexCache       string
	indexCacheMemory int64
)

// SetIndexCache makes every repository Options opens read its index
// through an on-disk cache in dir, with a small memory budget, so that a
// package's tests can run again on the bounded code paths ("" turns it
// off).
func SetIndexCache(dir string) {
	indexCache, indexCacheMemory = dir, 64<<20
}

// Backend makes a fresh, empty store.
type Backend struct {
	Name string
	New  func(t *testing.T) blob.Store
}

// Backends returns mem, fs and s3. The S3 server is started once, on the
// first use, and stopped when t ends.
func Backends(t *testing.T) []Backend {
	var srv *s3test.Server
	return []Backend{
		{"mem", func(t *testing.T) blob.Store { return mem.New() }},
		{"fs", func(t *testing.T) blob.Store { return FS(t, t.TempDir()) }},
		{"s3", func(inner *testing.T) blob.Store {
			if srv == nil {
				srv = s3test.Start(t)
			}
			st, err := s3.Open(context.Background(), srv.Config(srv.NewBucket(inner), "repo"))
			if err != nil {
				inner.Fatal(err)
			}
			return st
		}},
	}
}

// FS opens a local-directory store in dir.
func FS(t testing.TB, dir string) blob.Store {
	st, err := fs.Open(dir, fs.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// Init creates a repository on store.
func Init(t testing.TB, store blob.Store) *repo.Repository {
	t.Helper()
	r, err := repo.Init(context.Background(), store, Password, Options())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Open reopens the repository on store with the test password.
func Open(t testing.TB, store blob.Store) *repo.Repository {
	t.Helper()
	r, err := repo.Open(context.Background(), store, Password, Options())
	if err != nil {
		t.Fatal(err)
	}
	return r
}
