#!/usr/bin/env bash
# Installs the pinned external programs the tests run as real servers
# (never fakes) into .tools/bin, where the test harnesses look for them.
#
# Idempotent: a binary already built from the pinned version is left alone,
# so `make tools` is cheap to run before every test. To add a Go tool, add
# one go_tool line at the bottom.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${CAIRN_TOOLS_BIN:-$root/.tools/bin}"
mkdir -p "$bin"

# installed_version prints the main-module version recorded in a Go binary,
# or nothing if the file is missing or not a Go binary.
installed_version() {
	go version -m "$1" 2>/dev/null | awk '$1 == "mod" { print $3; exit }' || true
}

# go_tool BINARY PACKAGE VERSION
# BINARY must be the last element of PACKAGE, as `go install` names it.
go_tool() {
	local name=$1 pkg=$2 version=$3
	local have
	have="$(installed_version "$bin/$name")"
	if [[ $have == "$version" ]]; then
		echo "ok       $name $version"
		return
	fi
	echo "install  $name $version (had: ${have:-none})"
	# From outside any module or workspace, and without inherited GOFLAGS,
	# so nothing in this repository can change the tool's dependencies.
	(cd / && GOBIN="$bin" GOFLAGS= GOWORK=off go install "$pkg@$version")
}

go_tool versitygw github.com/versity/versitygw/cmd/versitygw v1.8.0
go_tool staticcheck honnef.co/go/tools/cmd/staticcheck v0.8.2
