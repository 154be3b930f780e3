package s3

import (
	"context"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/cairnbackup/cairn/chunkstore/blob"
)

var _ blob.LeftoverCleaner = (*Store)(nil)

// Leftovers reports the incomplete multipart uploads under the prefix
// (blob.LeftoverCleaner): packs of 16 MiB and more are uploaded in parts,
// and the parts of a process killed mid-upload stay stored, and billed,
// until the upload is aborted.
func (s *Store) Leftovers(ctx context.Context, fn func(blob.Leftover) error) error {
	// Cancelling on return stops minio-go's pager if fn ended the walk early.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for u := range s.client.ListIncompleteUploads(ctx, s.bucket, s.keyPrefix, true) {
		if u.Err != nil {
			return s.translate(ctx, "list incomplete uploads", s.keyPrefix, u.Err)
		}
		if !strings.HasPrefix(u.Key, s.keyPrefix) {
			continue
		}
		l := blob.Leftover{Name: strings.TrimPrefix(u.Key, s.keyPrefix), Size: u.Size, ModTime: u.Initiated, Handle: u.UploadID}
		if err := fn(l); err != nil {
			return err
		}
	}
	return nil
}

// RemoveLeftover aborts one incomplete upload (blob.LeftoverCleaner).
func (s *Store) RemoveLeftover(ctx context.Context, l blob.Leftover) error {
	if err := check(ctx, "abort upload of", l.Name); err != nil {
		return err
	}
	err := s.core.AbortMultipartUpload(ctx, s.bucket, s.key(l.Name), l.Handle)
	if err != nil && minio.ToErrorResponse(err).Code != minio.NoSuchUpload {
		return s.translate(ctx, "abort upload of", l.Name, err)
	}
	return nil
}
