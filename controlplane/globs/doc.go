// Package globs is how cairn's specs select namespaces and resources:
// path.Match patterns, lower-cased, validated once. Backups (collect),
// restores (restoreplan) and hooks all select with it, so one pattern means
// the same thing everywhere.
package globs
