package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/blob/internal/contract"
)

var _ blob.Store = (*Store)(nil)

// Store is a repository in an S3 bucket.
type Store struct {
	client    *minio.Client
	core      minio.Core // for GetObject that reports errors before reading
	transport *http.Transport
	bucket    string
	keyPrefix string // "" or "prefix/"
	location  string
	secrets   []string
	// signedPuts is set when the server refused a checksum trailer, and
	// from the start for Google Cloud Storage, which takes none.
	signedPuts atomic.Bool
	warn       func(error)
}

// Open connects to the bucket described by cfg and checks that it exists
// (creating it when cfg.Create is set).
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s, err := newStore(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.checkBucket(ctx, cfg); err != nil {
		return nil, err
	}
	return s, nil
}

func newStore(cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3 open: no bucket given")
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		if err := contract.CheckName(prefix); err != nil {
			return nil, fmt.Errorf("s3 open: key prefix: %w", err)
		}
	}
	ep, err := parseEndpoint(cfg)
	if err != nil {
		return nil, err
	}
	tr, err := newTransport(ep.secure, cfg.CACertPEM)
	if err != nil {
		return nil, err
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(ep.host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken),
		Secure:       ep.secure,
		Transport:    tr,
		Region:       cfg.Region,
		BucketLookup: lookup,
		MaxRetries:   1, // package retry owns retrying
		// Lets Put send a CRC32C trailer with an unsigned payload (see Put).
		TrailingHeaders: true,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 open %s: %w", ep.url(), err)
	}
	s := &Store{
		client:    client,
		core:      minio.Core{Client: client},
		transport: tr,
		bucket:    cfg.Bucket,
		location:  fmt.Sprintf("s3://%s/%s at %s", cfg.Bucket, prefix, ep.url()),
		secrets:   cfg.secrets(),
		warn:      cfg.Warn,
	}
	if prefix != "" {
		s.keyPrefix = prefix + "/"
	}
	s.signedPuts.Store(s3utils.IsGoogleEndpoint(*client.EndpointURL()))
	return s, nil
}

// checkBucket lists at most one key rather than sending HEAD bucket: a HEAD
// error has no body, so some servers' answer to unknown credentials (404)
// would read as a missing bucket. Listing is also a permission the
// repository needs anyway.
func (s *Store) checkBucket(ctx context.Context, cfg Config) error {
	err := s.probe(ctx)
	if err == nil {
		return nil
	}
	if minio.ToErrorResponse(err).Code != minio.NoSuchBucket {
		return s.translate(ctx, "open", s.location, err)
	}
	if !cfg.Create {
		return fmt.Errorf("s3 open %s: %w: bucket %q does not exist; create it or fix the bucket name",
			s.location, blob.ErrLocationMissing, s.bucket)
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: cfg.Region})
	if err != nil && minio.ToErrorResponse(err).Code != minio.BucketAlreadyOwnedByYou {
		return s.translate(ctx, "create bucket for", s.location, err)
	}
	return nil
}

func (s *Store) probe(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := minio.ListObjectsOptions{Prefix: s.keyPrefix, Recursive: true, MaxKeys: 1}
	for obj := range s.client.ListObjectsIter(ctx, s.bucket, opts) {
		return obj.Err
	}
	return nil
}

func (s *Store) key(name string) string { return s.keyPrefix + name }

// Put uploads data with its size known, so minio-go can choose between a
// single PUT and a multipart upload without buffering.
//
// The payload is unsigned but carries a CRC32C trailer (aws-chunked with
// STREAMING-UNSIGNED-PAYLOAD-TRAILER): the request itself is still signed,
// and the server rejects a body that is cut short or altered because the
// checksum, sent after the last byte, does not arrive or does not match.
// Signing the payload instead would hash every byte with SHA-256 on both
// sides, on plain http once per 64 KiB chunk. An unsigned payload without
// the trailer (what minio-go sends over https unless told otherwise) lets
// a server store a PUT cut short by a killed client under its full name;
// TestPutCutShortIsNotStored checks both schemes. A server that refuses
// trailers gets signed payloads from then on (see trailerRefused).
func (s *Store) Put(ctx context.Context, name string, data []byte) error {
	if err := check(ctx, "put", name); err != nil {
		return err
	}
	signed := s.signedPuts.Load()
	err := s.put(ctx, name, data, signed)
	if err != nil && !signed && trailerRefused(err) {
		s.fallBackToSigned(err)
		err = s.put(ctx, name, data, true)
	}
	if err != nil {
		return s.translate(ctx, "put", name, err)
	}
	return nil
}

func (s *Store) put(ctx context.Context, name string, data []byte, signed bool) error {
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream"}
	if !signed {
		opts.DisableContentSha256, opts.Checksum = true, minio.ChecksumCRC32C
	}
	_, err := s.client.PutObject(ctx, s.bucket, s.key(name), bytes.NewReader(data), int64(len(data)), opts)
	return err
}

// fallBackToSigned makes every later put signed, and says so once.
func (s *Store) fallBackToSigned(refusal error) {
	if s.signedPuts.Swap(true) || s.warn == nil {
		return
	}
	resp := minio.ToErrorResponse(refusal)
	s.warn(fmt.Errorf("%s: the server refused an upload with a checksum trailer (HTTP %d %s); "+
		"uploads are signed from now on, hashing every byte with SHA-256, which is slower; "+
		"a server version that accepts STREAMING-UNSIGNED-PAYLOAD-TRAILER uploads brings the faster path back", s.location, resp.StatusCode, resp.Code))
}

// trailerRefused reports whether a put failed because the server does not
// take aws-chunked bodies with a checksum trailer, as S3-compatible
// servers older than that part of the API answer: 501, or 400 with a code
// about the request's form rather than its content. Retrying such a put
// with a signed payload is harmless when the guess is wrong (puts are
// atomic); it only costs the speed of the unsigned form.
func trailerRefused(err error) bool {
	resp := minio.ToErrorResponse(err)
	switch resp.StatusCode {
	case http.StatusNotImplemented:
		return true
	case http.StatusBadRequest:
		switch resp.Code {
		case "NotImplemented", "InvalidArgument", "InvalidRequest", "XAmzContentSHA256Mismatch":
			return true
		}
	}
	return false
}

// Get reads a byte range.
func (s *Store) Get(ctx context.Context, name string, offset, length int64) ([]byte, error) {
	return s.get(ctx, name, offset, length, nil)
}

// GetInto is Get reading into buf when it has room (blob.BufferGetter).
func (s *Store) GetInto(ctx context.Context, name string, offset, length int64, buf []byte) ([]byte, error) {
	return s.get(ctx, name, offset, length, buf)
}

func (s *Store) get(ctx context.Context, name string, offset, length int64, buf []byte) ([]byte, error) {
	if err := check(ctx, "get", name); err != nil {
		return nil, err
	}
	if offset < 0 || length == 0 {
		// HTTP cannot ask for zero bytes; the size decides validity.
		return s.getEmpty(ctx, name, offset, length)
	}
	var opts minio.GetObjectOptions
	switch {
	case length > 0:
		_ = opts.SetRange(offset, offset+length-1)
	case offset > 0:
		_ = opts.SetRange(offset, 0) // "bytes=offset-"
	}
	body, info, header, err := s.core.GetObject(ctx, s.bucket, s.key(name), opts)
	if err != nil {
		if length < 0 && minio.ToErrorResponse(err).Code == minio.InvalidRange {
			// "bytes=size-" is unsatisfiable in HTTP but valid (and empty)
			// in the blob contract.
			return s.getEmpty(ctx, name, offset, length)
		}
		return nil, s.translate(ctx, "get", name, err)
	}
	defer body.Close()
	if rng := opts.Header().Get("Range"); rng != "" && header.Get("Content-Range") == "" {
		// A server may ignore Range and send the whole object with 200;
		// returning that as the requested bytes would corrupt silently.
		return nil, fmt.Errorf("s3 get %s: server ignored the byte range %s and sent the whole object", name, rng)
	}
	data, err := readBody(body, info.Size, buf)
	if err != nil {
		return nil, s.translate(ctx, "get", name, err)
	}
	if length > 0 && int64(len(data)) != length {
		return nil, fmt.Errorf("s3 get %s: %w: asked for %d bytes at offset %d, the object holds only %d there",
			name, blob.ErrRange, length, offset, len(data))
	}
	return data, nil
}

func (s *Store) getEmpty(ctx context.Context, name string, offset, length int64) ([]byte, error) {
	oi, err := s.client.StatObject(ctx, s.bucket, s.key(name), minio.StatObjectOptions{})
	if err != nil {
		return nil, s.translate(ctx, "get", name, err)
	}
	if _, err := contract.Range(offset, length, oi.Size); err != nil {
		return nil, fmt.Errorf("s3 get %s: %w", name, err)
	}
	return []byte{}, nil
}

// readBody reads a response whose length the server announced, so the
// buffer is allocated once; net/http already fails a body cut short.
func readBody(r io.Reader, size int64, buf []byte) ([]byte, error) {
	if size < 0 {
		return io.ReadAll(r)
	}
	buf = blob.SizedBuffer(buf, size)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// Stat reports size and modification time.
func (s *Store) Stat(ctx context.Context, name string) (blob.Info, error) {
	if err := check(ctx, "stat", name); err != nil {
		return blob.Info{}, err
	}
	oi, err := s.client.StatObject(ctx, s.bucket, s.key(name), minio.StatObjectOptions{})
	if err != nil {
		return blob.Info{}, s.translate(ctx, "stat", name, err)
	}
	return blob.Info{Name: name, Size: oi.Size, ModTime: oi.LastModified}, nil
}

// List pages through the keys under prefix.
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	if err := contract.CheckPrefix(prefix); err != nil {
		return fmt.Errorf("s3 list %s: %w", prefix, err)
	}
	// Cancelling on return stops minio-go's pager if fn ended the walk early.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := minio.ListObjectsOptions{Prefix: s.key(prefix), Recursive: true}
	for obj := range s.client.ListObjectsIter(ctx, s.bucket, opts) {
		if obj.Err != nil {
			return s.translate(ctx, "list", prefix, obj.Err)
		}
		if strings.HasSuffix(obj.Key, "/") || !strings.HasPrefix(obj.Key, s.keyPrefix) {
			continue
		}
		info := blob.Info{Name: strings.TrimPrefix(obj.Key, s.keyPrefix), Size: obj.Size, ModTime: obj.LastModified}
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes name, reporting blob.ErrNotFound if it is not there.
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := check(ctx, "delete", name); err != nil {
		return err
	}
	_, err := s.client.StatObject(ctx, s.bucket, s.key(name), minio.StatObjectOptions{})
	if err == nil {
		err = s.client.RemoveObject(ctx, s.bucket, s.key(name), minio.RemoveObjectOptions{})
	}
	if err != nil {
		return s.translate(ctx, "delete", name, err)
	}
	return nil
}

// Location is "s3://bucket/prefix at endpoint", without credentials.
func (s *Store) Location() string { return s.location }

// Close releases idle connections.
func (s *Store) Close() error {
	s.transport.CloseIdleConnections()
	return nil
}

func check(ctx context.Context, op, name string) error {
	if err := contract.CheckName(name); err != nil {
		return fmt.Errorf("s3 %s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("s3 %s %s: %w", op, name, err)
	}
	return nil
}
