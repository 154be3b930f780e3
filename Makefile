# cairn — build, test and demo targets. Tools the tests need are built from
# the Go module proxy into .tools/ (git-ignored) by scripts/install-tools.sh.

GO        ?= go
TOOLS_BIN := $(CURDIR)/.tools/bin
export PATH := $(TOOLS_BIN):$(PATH)
export CAIRN_VERSITYGW ?= $(TOOLS_BIN)/versitygw

.PHONY: all build tools tools-realnode generate test test-short test-faults test-realnode test-e2e lint demo demo-repo clean

all: build

build:
	$(GO) build -o bin/ ./cmd/...

tools:
	bash scripts/install-tools.sh

# What the real-node suite adds: kubelet, kube-controller-manager and
# kube-scheduler (built like kube-apiserver, about 3½ more minutes the
# first time) and Debian's containerd, runc, CNI plugins and busybox.
tools-realnode:
	bash scripts/install-tools.sh --node

# Deep-copy code and CRDs from the API types (controlplane/api). A test
# fails when the committed output is stale.
generate: tools
	controller-gen object paths=./controlplane/api/...
	controller-gen crd paths=./controlplane/api/... output:crd:artifacts:config=deploy/crds

# Every test, including those against real servers the tests start.
# The benchmark smoke run goes first so the test runner's summary closes
# the output.
test: tools
	$(MAKE) bench-smoke
	$(GO) test -count=1 -timeout 30m ./...

# The real-node end-to-end suite (e2e/realnode): etcd, the control plane,
# containerd and a kubelet started by the test as root, cairn installed
# from images built here, an application frozen by exec hooks, backed up
# and restored. Behind the realnode build tag, so `make test` does not run
# it. About 4 minutes warm; see the README for a cold machine.
test-realnode: tools-realnode
	$(GO) test -tags realnode -count=1 -timeout 40m -v ./e2e/realnode/

test-e2e: test-realnode

# The fault campaign (chunkstore/faults) against the real binary: kill -9s
# of backup, prune and restore on a directory and on S3, S3 faults through a
# proxy, bit flips, full disks (tmpfs and loop-mounted ext4, so it needs
# root) and 60 s of every repository parser's fuzz target. It rewrites
# chunkstore/RELIABILITY.md. FAULTS_SEED=N replays a run; FAULTS_FULL=1
# fuzzes each target for 10 minutes instead of one (and runs more S3 rounds).
# Only versitygw is needed of the tools, hence CAIRN_TOOLS_KUBE=0.
test-faults:
	$(GO) build -o bin/cairn ./cmd/cairn
	CAIRN_TOOLS_KUBE=0 bash scripts/install-tools.sh
	$(GO) run ./chunkstore/faults/cmd/cairn-faults -cairn bin/cairn -report chunkstore/RELIABILITY.md

# Unit tests only, for quick iteration.
test-short:
	$(GO) test -short ./...

lint: tools
	$(GO) vet ./...
	$(GO) vet -tags realnode ./e2e/realnode/
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	staticcheck ./...
	staticcheck -tags realnode ./e2e/realnode/

# The whole cairn story on a local cluster (etcd and kube-apiserver from
# .tools, the controller, two simulated nodes with the reference CSI driver
# and an agent each). DEMO_S3=1 keeps the repository on versitygw.
demo: build tools
	bin/cairn-demo --bin bin

# The repository CLI alone: back up a tree, change it, back up, restore.
demo-repo: build
	bash scripts/demo.sh

clean:
	rm -rf bin

# Benchmark harness (bench/): cairn beside restic and kopia. `bench` takes
# tens of minutes and writes bench/RESULTS.md and bench/results.json;
# `bench-smoke` takes about a minute on tiny datasets, writes to a temporary
# directory, and fails on any tool error or incorrect restore.
# Scale simulation (bench/SCALE.md): a repository of N index entries with
# metadata-only packs, then backup, lookups, check, restore plan and prune
# measured for time and peak RSS. 10^7 takes about ten minutes and 5 GB of
# disk; 10^8 ten times both. SCALE_SIZES picks the sizes.
SCALE_SIZES ?= 10000000 100000000
SCALE_WORK  ?= /tmp/cairn-scale
.PHONY: bench-scale
bench-scale: build
	$(GO) build -o bin/cairn-scale ./bench/cmd/cairn-scale
	for n in $(SCALE_SIZES); do \
		bin/cairn-scale run -entries $$n -work $(SCALE_WORK)/$$n -cairn bin/cairn > bench/scale-$$n.json || exit 1; \
		rm -rf $(SCALE_WORK)/$$n; \
	done

.PHONY: bench-smoke
bench: build tools
	bash scripts/install-bench-tools.sh
	$(GO) run ./bench/cmd/cairn-bench

bench-smoke: build tools
	bash scripts/install-bench-tools.sh
	$(GO) run ./bench/cmd/cairn-bench -smoke
