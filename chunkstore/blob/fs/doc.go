// Package fs stores a repository in a local directory: one file per object,
// the object name's slashes becoming subdirectories.
//
// Invariants:
//
//   - Put is atomic and durable. Data goes to a temporary file in the target
//     directory, which is fsynced, renamed over the final name, and then the
//     directory itself is fsynced so the rename survives a power cut. Readers
//     therefore see the old object or the new one, never a prefix.
//   - Temporary files start with ".tmp-". List never reports them and Put
//     refuses object names that would look like one, so a crash that leaves
//     one behind cannot corrupt a listing. Leftovers reports them and
//     RemoveLeftover (or CleanTemp, by age) removes them.
//   - The root directory is never created implicitly after Open: if it
//     vanishes (an unmounted volume) every call fails with
//     blob.ErrLocationMissing instead of silently filling the mount point.
//   - Directories are an implementation detail: they are created on demand,
//     never reported as objects, and left in place when they empty. As a
//     consequence, "a" and "a/b" cannot both be objects here (S3 allows it);
//     the repository layout never needs that.
//   - Syscall errors become blob sentinels in one function, translate.
package fs
