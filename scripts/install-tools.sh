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

# --node adds what the real-node suite (e2e/realnode) runs: a kubelet, the
# control-plane's controller manager and scheduler, and Debian's container
# runtime, CNI plugins and busybox. `make test` alone does not pay for them.
node=0
for arg in "$@"; do
	case $arg in
	--node) node=1 ;;
	*) echo "install-tools.sh: unknown argument $arg (want --node)" >&2; exit 2 ;;
	esac
done

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

# The Kubernetes binaries are built from k8s.io/kubernetes through the module
# proxy: a throwaway module requires it and points each of its staging modules
# at the published v0.x release of the same path. The version ldflags make the
# binaries report a version clients can parse (kubectl, the kubelet's node
# status) instead of v0.0.0-master. kube-apiserver alone takes about 6 minutes
# the first time; kubelet, kube-controller-manager and kube-scheduler add
# about 3½ more once its packages are in the build cache.
#
# kube_binaries VERSION NAME... builds, in one `go build`, every NAME whose
# binary is missing or was built from another version or without ldflags.
kube_binaries() {
	local version=$1 staging=${1/v1./v0.}
	shift
	local minor=${version#v1.}
	minor=${minor%%.*}
	local ldflags="-X k8s.io/component-base/version.gitVersion=$version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
	local want=() name info
	for name in "$@"; do
		info="$(go version -m "$bin/$name" 2>/dev/null || true)"
		if awk -v v="$version" '($1 == "mod" || $1 == "dep") && $2 == "k8s.io/kubernetes" && $3 == v { found = 1 } END { exit !found }' <<<"$info" &&
			grep -q "gitVersion=$version" <<<"$info"; then
			echo "ok       $name $version"
		else
			echo "install  $name $version"
			want+=("k8s.io/kubernetes/cmd/$name")
		fi
	done
	[[ ${#want[@]} -gt 0 ]] || return 0
	local mod="$root/.tools/src/kubernetes"
	mkdir -p "$mod"
	local gomod
	gomod="$(cd / && GOFLAGS= go mod download -json "k8s.io/kubernetes@$version" | awk -F'"' '/"GoMod"/ { print $4 }')"
	{
		echo "module cairn.local/kubernetes"
		echo
		echo "go 1.26"
		echo
		echo "require k8s.io/kubernetes $version"
		echo
		echo "replace ("
		sed -n '/^replace (/,/^)/p' "$gomod" | awk -v v="$staging" '$2 == "=>" && $3 ~ /^\.\/staging\// { printf "\t%s => %s %s\n", $1, $1, v }'
		echo ")"
	} >"$mod/go.mod"
	# Every binary this script may build is imported, so one go.sum serves
	# each selection of them.
	{
		echo "//go:build tools"
		echo
		echo "package tools"
		echo
		echo "import ("
		for name in kube-apiserver kube-controller-manager kube-scheduler kubelet; do
			echo "	_ \"k8s.io/kubernetes/cmd/$name\""
		done
		echo ")"
	} >"$mod/tools.go"
	(cd "$mod" && GOFLAGS=-mod=mod GOWORK=off go mod tidy -e >/dev/null 2>&1 || true)
	# One go build for all of them shares the compile of the common packages
	# and keeps to one build at a time on a 2-core machine.
	(cd "$mod" && GOFLAGS=-mod=mod GOWORK=off go build -ldflags "$ldflags" -o "$bin/" "${want[@]}")
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

# debian_tool COMMAND PACKAGE installs PACKAGE when COMMAND is missing.
debian_tool() {
	local cmd=$1 pkg=$2
	if [[ -x $cmd ]]; then
		echo "ok       $pkg ($cmd)"
		return
	fi
	echo "install  $pkg (Debian)"
	if [[ -z ${apt_updated:-} ]]; then
		apt-get update -qq >/dev/null
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
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

if [[ ${CAIRN_TOOLS_KUBE:-1} == 1 || $node == 1 ]]; then
	etcd_server
	if [[ $node == 1 ]]; then
		kube_binaries v1.37.2 kube-apiserver kube-controller-manager kube-scheduler kubelet
	else
		kube_binaries v1.37.2 kube-apiserver
	fi
fi

if [[ $node == 1 ]]; then
	debian_tool /usr/bin/containerd containerd
	debian_tool /usr/sbin/runc runc
	debian_tool /usr/lib/cni/bridge containernetworking-plugins
	debian_tool /bin/busybox busybox-static
	debian_tool /usr/sbin/fsfreeze util-linux
	debian_tool /usr/sbin/mkfs.ext4 e2fsprogs
fi
