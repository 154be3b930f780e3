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
go_tool controller-gen sigs.k8s.io/controller-tools/cmd/controller-gen v0.23.0

# kube-apiserver is built from k8s.io/kubernetes through the module proxy: a
# throwaway module requires it and points each of its staging modules at the
# published v0.x release of the same path. About 6 minutes the first time.
kube_apiserver() {
	local version=$1 staging=${1/v1./v0.}
	local have
	have="$(go version -m "$bin/kube-apiserver" 2>/dev/null | awk '($1 == "mod" || $1 == "dep") && $2 == "k8s.io/kubernetes" { print $3; exit }' || true)"
	if [[ $have == "$version" ]]; then
		echo "ok       kube-apiserver $version"
		return
	fi
	echo "install  kube-apiserver $version (had: ${have:-none})"
	local mod="$root/.tools/src/kube-apiserver"
	mkdir -p "$mod"
	local gomod
	gomod="$(cd / && GOFLAGS= go mod download -json "k8s.io/kubernetes@$version" | awk -F'"' '/"GoMod"/ { print $4 }')"
	{
		echo "module cairn.local/kube-apiserver"
		echo
		echo "go 1.26"
		echo
		echo "require k8s.io/kubernetes $version"
		echo
		echo "replace ("
		sed -n '/^replace (/,/^)/p' "$gomod" | awk -v v="$staging" '$2 == "=>" && $3 ~ /^\.\/staging\// { printf "\t%s => %s %s\n", $1, $1, v }'
		echo ")"
	} >"$mod/go.mod"
	cat >"$mod/tools.go" <<'GO'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
	(cd "$mod" && GOFLAGS=-mod=mod GOWORK=off go mod tidy -e >/dev/null 2>&1 || true)
	(cd "$mod" && GOFLAGS=-mod=mod GOWORK=off go build -o "$bin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
}

# etcd comes from Debian's etcd-server package (3.4.x), linked into the tools
# directory so the tests find every server in one place.
etcd_server() {
	if [[ -x $bin/etcd ]]; then
		echo "ok       etcd $("$bin/etcd" --version 2>/dev/null | awk '/etcd Version/ { print $3 }')"
		return
	fi
	if ! command -v etcd >/dev/null 2>&1 && [[ ! -x /usr/bin/etcd ]]; then
		echo "install  etcd (Debian etcd-server)"
		apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null
	fi
	ln -sf "$(command -v etcd || echo /usr/bin/etcd)" "$bin/etcd"
	echo "ok       etcd $("$bin/etcd" --version 2>/dev/null | awk '/etcd Version/ { print $3 }')"
}

# chromium is Debian's, driven headless by the dashboard's browser test
# (controlplane/dashboard), which fails without it. Its path is found on
# PATH or given in $CAIRN_CHROMIUM.
chromium_browser() {
	if [[ -n ${CAIRN_CHROMIUM:-} && -x $CAIRN_CHROMIUM ]] || command -v chromium >/dev/null 2>&1; then
		echo "ok       chromium $("${CAIRN_CHROMIUM:-chromium}" --version 2>/dev/null | awk '{ print $2 }')"
		return
	fi
	echo "install  chromium (Debian)"
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
	echo "ok       chromium $(chromium --version 2>/dev/null | awk '{ print $2 }')"
}

if [[ ${CAIRN_TOOLS_BROWSER:-1} == 1 ]]; then
	chromium_browser
fi

if [[ ${CAIRN_TOOLS_KUBE:-1} == 1 ]]; then
	etcd_server
	kube_apiserver v1.37.2
fi
