#!/usr/bin/env bash
# End-to-end demo of the standalone repository CLI: generate a sample tree,
# back it up, change it, back it up again, restore the latest snapshot and
# verify it byte for byte. Prints throughput and dedup figures. Exits
# non-zero if anything differs. Run by `make demo` after `make build`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cairn="${CAIRN:-$root/bin/cairn}"
[[ -x "$cairn" ]] || { echo "demo: $cairn not found; run 'make build' first" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/cairn-demo.XXXXXX")"
trap 'rm -rf "$work"' EXIT

export CAIRN_REPOSITORY="$work/repo"
export CAIRN_PASSWORD="demo-password-not-for-real-use"
src="$work/src"

# jget KEY FILE prints a top-level scalar of the CLI's indented --json output.
jget() { sed -n "s/^  \"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" "$2"; }
# mb BYTES prints megabytes (10^6) with one decimal.
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
# rate BYTES SECONDS prints MB/s.
rate() { awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f MB/s", (b / 1e6 / s); else print "-" }'; }
fail() { echo "demo: FAIL: $*" >&2; exit 1; }

(cd "$root" && go build -o "$work/gendata" ./scripts/gendata)
cd "$work"
"$work/gendata" -out "$src" -seed 1
echo "sample tree: $(find "$src" -type f | wc -l) files, $(mb "$(du -sb "$src" | cut -f1)") in $work"

"$cairn" repo init >/dev/null

# backup N prints one line of figures from the backup's --json result.
backup() {
  local n="$1" out="$work/backup$1.json"
  "$cairn" repo backup --json "$src" >"$out"
  local read added total secs
  read=$(jget bytes_read "$out"); added=$(jget bytes_added "$out")
  total=$(jget bytes "$out"); secs=$(jget duration_seconds "$out")
  printf 'backup %s:    %s, read %s in %.2f s (%s), added %s (%s of the tree)\n' \
    "$n" "$(jget snapshot_id "$out" | cut -c1-8)" "$(mb "$read")" "$secs" "$(rate "$read" "$secs")" \
    "$(mb "$added")" "$(awk -v a="$added" -v t="$total" 'BEGIN { printf "%.1f%%", (t > 0 ? 100 * a / t : 0) }')"
}

backup 1
"$work/gendata" -change "$src" -seed 2 >"$work/changes.txt"
echo "changes:     modified $(grep -c '^modified' changes.txt), added $(grep -c '^added' changes.txt), deleted $(grep -c '^deleted' changes.txt) (one is a 4 KiB patch inside a 64 MiB image)"
backup 2

"$cairn" repo restore latest --target "$work/restore" --json >"$work/restore.json"
printf 'restore:     %s in %.2f s (%s)\n' "$(mb "$(jget bytes "$work/restore.json")")" \
  "$(jget duration_seconds "$work/restore.json")" \
  "$(rate "$(jget bytes "$work/restore.json")" "$(jget duration_seconds "$work/restore.json")")"

# Verify: contents (symlinks compared as links), then type, mode, size,
# link target and file mtimes of every entry.
got="$work/restore/$(basename "$src")"
diff -r --no-dereference "$src" "$got" >"$work/diff.txt" 2>&1 || { head -20 "$work/diff.txt" >&2; fail "restored tree differs"; }
listing() { (cd "$1" && find . -mindepth 1 -printf '%p %y %m %s %l\n' | sort); }
diff <(listing "$src") <(listing "$got") >&2 || fail "types, modes, sizes or symlinks differ"
mtimes() { (cd "$1" && find . -type f -printf '%p %T@\n' | sort); }
diff <(mtimes "$src") <(mtimes "$got") >&2 || fail "file mtimes differ"
[[ "$(readlink "$got/guides")" == "docs/guides" ]] || fail "symlink guides was not restored"
echo "verify:      restored tree matches byte for byte (contents, types, modes, symlink, mtimes)"

"$cairn" repo check >/dev/null || fail "repository check found problems"
"$cairn" repo stats --json >"$work/stats.json"
printf 'repository:  %s in %s packs for %s of snapshots; dedup %.2fx, compression %.2fx; check OK\n' \
  "$(mb "$(jget pack_bytes "$work/stats.json")")" "$(jget packs "$work/stats.json")" \
  "$(mb "$(jget snapshot_bytes "$work/stats.json")")" \
  "$(jget dedup_ratio "$work/stats.json")" "$(jget compression_ratio "$work/stats.json")"
echo "demo: OK"
