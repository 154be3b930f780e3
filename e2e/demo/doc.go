// Package demo is `make demo`: cairn's real job, told step by step on a
// local cluster (see e2e/localcluster) with nothing to install and no
// network. A shop namespace with a Deployment, a ConfigMap, a Secret, a
// Service and two volumes holding real data (a file tree on node-a, a
// database-like block image on node-b) is backed up with the real `cairn`
// CLI, changed, backed up again incrementally, deleted with its volumes,
// restored into another namespace and verified object by object and byte
// by byte. Every process and directory it starts is removed at the end,
// also on Ctrl-C or failure.
//
// The demo's own test runs it at a small scale in `make test`, so it
// cannot rot.
package demo
