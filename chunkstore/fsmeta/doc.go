// Package fsmeta reads and re-creates file-system metadata: the part of a
// backup that is not file content. The archiver calls Lstat, ReadLink,
// ListXattrs and DataExtents for every entry it walks; the restorer calls
// CreateSparse, Mknod, Symlink, Link, SetXattrs, SetOwner, SetMode and
// SetTimes to put an entry back. The package knows nothing of repositories or
// trees: it is the thin, tested layer between them and the kernel.
//
// Invariants:
//
//   - Nothing follows a symlink. Lstat, ListXattrs, SetXattrs, SetOwner and
//     SetTimes act on the link itself; SetMode refuses to be used on one
//     (Linux cannot change a symlink's mode), so callers skip it for links.
//   - Mode holds only the permission bits plus setuid, setgid and sticky
//     (st_mode & 07777). The type lives in Kind, never in Mode.
//   - Times are nanoseconds since the Unix epoch, as the kernel keeps them.
//   - Xattrs come back sorted by name, so equal metadata serialises to equal
//     bytes and deduplicates. A file with no xattrs costs one syscall, because
//     the small-files path calls ListXattrs for every file.
//   - Nothing is skipped silently. A filesystem that has no xattrs at all
//     reads as "no xattrs" (there is nothing to lose); everything else is an
//     error. Errors the restorer may downgrade to a warning wrap a sentinel:
//     ErrXattrUnsupported (target filesystem refuses xattrs) and
//     ErrNotPermitted (chown without root).
//   - Holes are never data. DataExtents reports only the regions that hold
//     data; CreateSparse makes a file whose unwritten ranges are holes. On a
//     filesystem that cannot report holes the whole file is one extent, which
//     costs space, never correctness.
//
// Restore order matters and is the caller's job: create the entry and write
// its data, then SetXattrs, then SetOwner (chown clears setuid and setgid),
// then SetMode, then SetTimes last (writing data moves mtime). Directories get
// their times after all their children exist.
//
// Linux is the target. Other systems compile, and their OS-facing functions
// return an error wrapping errors.ErrUnsupported.
package fsmeta
