// Package s3 stores a repository in an S3 bucket, under an optional key
// prefix, through minio-go. It works with AWS and with S3-compatible servers
// (MinIO, Ceph RGW, versitygw, ...).
//
// Invariants:
//
//   - Object name n is stored at key "<prefix>/<n>" (just "<n>" without a
//     prefix). List reports names with the prefix removed and ignores keys
//     ending in "/", which some tools create as directory markers.
//   - Put sends the size up front: one PUT up to 16 MiB, multipart above,
//     both atomic on the server side as the blob contract requires.
//   - Get checks that it received exactly the bytes asked for; a range past
//     the end wraps blob.ErrRange whatever the server does with it.
//   - Delete of a missing object must report blob.ErrNotFound, but S3's
//     DeleteObject succeeds on missing keys, so Delete stats first. A
//     concurrent delete of the same name may therefore both succeed.
//   - minio-go's own retries are disabled: package retry owns retrying for
//     the whole stack, and two nested loops would multiply the attempts.
//     Dial and response-header timeouts make a dead endpoint fail in seconds.
//   - minio errors become blob sentinels in one function, translate.
//     Credentials never appear in an error, in Location or in the printed
//     form of a Config: translate redacts them from every message as a
//     second line of defence.
package s3
