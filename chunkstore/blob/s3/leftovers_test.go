package s3_test

import (
	"bytes"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/blob/retry"
	"github.com/cairnbackup/cairn/chunkstore/blob/s3/s3test"
)

// D10 on S3: the parts of a pack upload that was killed stay stored until
// the upload is aborted; the store reports and removes them.
func TestLeftoverUploads(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	s := open(t, srv.Config(bucket, "repo"))
	client, err := minio.New(srv.Addr, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""),
		Region: s3test.Region, BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	core := minio.Core{Client: client}
	id, err := core.NewMultipartUpload(t.Context(), bucket, "repo/data/ab/abcd", minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	part := bytes.Repeat([]byte("x"), 5<<20)
	if _, err := core.PutObjectPart(t.Context(), bucket, "repo/data/ab/abcd", id, 1, bytes.NewReader(part), int64(len(part)), minio.PutObjectPartOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := core.NewMultipartUpload(t.Context(), bucket, "other/x", minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	wrapped := retry.Wrap(s, retry.Policy{})
	var found []blob.Leftover
	if err := blob.Leftovers(t.Context(), wrapped, func(l blob.Leftover) error { found = append(found, l); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Name != "data/ab/abcd" || found[0].ModTime.IsZero() {
		t.Fatalf("leftovers %+v, want the one upload under the prefix", found)
	}
	if err := blob.RemoveLeftover(t.Context(), wrapped, found[0]); err != nil {
		t.Fatal(err)
	}
	if err := blob.RemoveLeftover(t.Context(), wrapped, found[0]); err != nil {
		t.Fatalf("removing an upload twice: %v", err)
	}
	found = nil
	if err := blob.Leftovers(t.Context(), s, func(l blob.Leftover) error { found = append(found, l); return nil }); err != nil || len(found) != 0 {
		t.Fatalf("leftovers after the abort: %+v, %v", found, err)
	}
}
