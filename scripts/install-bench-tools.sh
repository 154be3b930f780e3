#!/usr/bin/env bash
# Installs the peers the benchmark harness (bench/) runs cairn beside,
# restic and kopia at pinned versions, into .tools/bin. Kept apart from
# install-tools.sh so that `make tools` for the unit tests stays fast.
#
# Idempotent: a binary already built from the pinned version is left alone.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${CAIRN_TOOLS_BIN:-$root/.tools/bin}"
mkdir -p "$bin"

# dep_version BINARY MODULE prints the version of MODULE recorded in a Go
# binary, as main module or dependency, or nothing if it is not there.
dep_version() {
	go version -m "$1" 2>/dev/null | awk -v m="$2" '($1 == "mod" || $1 == "dep") && $2 == m { print $3; exit }' || true
}

# restic installs with a plain `go install`, from outside any module so
# nothing in this repository can change its dependencies.
restic_tool() {
	local version=$1 have
	have="$(dep_version "$bin/restic" github.com/restic/restic)"
	if [[ $have == "$version" ]]; then
		echo "ok       restic $version"
		return
	fi
	echo "install  restic $version (had: ${have:-none})"
	(cd / && GOBIN="$bin" GOFLAGS= GOWORK=off go install "github.com/restic/restic/cmd/restic@$version")
}

# kopia refuses a plain `go install` (its go.mod has replace directives), so
# a throwaway module requires it and builds its main package.
kopia_tool() {
	local version=$1 have
	have="$(dep_version "$bin/kopia" github.com/kopia/kopia)"
	if [[ $have == "$version" ]]; then
		echo "ok       kopia $version"
		return
	fi
	echo "install  kopia $version (had: ${have:-none})"
	local mod="$root/.tools/src/kopia"
	rm -rf "$mod"
	mkdir -p "$mod"
	printf 'module cairn.local/kopia\n\ngo 1.26\n\nrequire github.com/kopia/kopia %s\n' "$version" >"$mod/go.mod"
	cat >"$mod/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/kopia/kopia"
GO
	(cd "$mod" && GOFLAGS=-mod=mod GOWORK=off go mod tidy >/dev/null)
	(cd "$mod" && GOFLAGS=-mod=mod GOWORK=off go build -o "$bin/kopia" github.com/kopia/kopia)
}

restic_tool v0.18.1
kopia_tool v0.21.1

# The node-agent leg of a full run keeps the reference driver's volumes on
# XFS with reflink, so snapshots are metadata operations as on a storage
# system; mkfs.xfs comes from Debian's xfsprogs.
if ! command -v mkfs.xfs >/dev/null 2>&1; then
	echo "install  xfsprogs (Debian)"
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xfsprogs >/dev/null
fi
echo "ok       mkfs.xfs"
