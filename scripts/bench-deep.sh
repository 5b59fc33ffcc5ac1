#!/usr/bin/env bash
# Throughput of `check --deep` against plain reads and hashes of the same file, warm page cache.
#
#   scripts/bench-deep.sh [--no-big] [--runs N]
#
# Files: the real Gemma 3 270M Q4_K_M (scripts/fetch-real-models.sh) and, unless --no-big, a
# >= 2 GiB GGUF of the same real data written by scripts/make-big-gguf.py into $BIG_DIR
# (default /tmp/gguf-meter-bench; 2.1 GB of disk, reused between runs). For each file,
# hyperfine compares `cat FILE > /dev/null`, `sha256sum FILE`, `openssl dgst -sha256 FILE`
# (the fastest single-stream SHA-256 on the machine, when installed) and `gguf-meter check
# --deep FILE` read with pread (default) and mmap, and without the hash (the scan alone). Then two files at once with --jobs 1 and 2,
# and peak RSS of each read mode. Results in $BIG_DIR/*.md.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=10
big=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-big) big=0 ;;
    --runs) runs="$2"; shift ;;
    *) echo "usage: $0 [--no-big] [--runs N]" >&2; exit 2 ;;
  esac
  shift
done

command -v hyperfine >/dev/null || { echo "hyperfine is required (apt-get install hyperfine)" >&2; exit 2; }
real_dir="${GGUF_METER_REAL_DIR:-$HOME/.cache/gguf-meter/real}"
gemma="$real_dir/gemma-3-270m-q4_k_m.gguf"
[ -f "$gemma" ] || { echo "$gemma missing: run scripts/fetch-real-models.sh" >&2; exit 2; }
out="${BIG_DIR:-/tmp/gguf-meter-bench}"
mkdir -p "$out"

cargo build --release --quiet
bin="$PWD/target/release/gguf-meter"

files=("$gemma")
if [ "$big" = 1 ]; then
  bigf="$out/gemma-3-deep-2g.gguf"
  [ -f "$bigf" ] || python3 scripts/make-big-gguf.py "$bigf"
  files+=("$bigf")
fi

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
for f in "${files[@]}"; do
  cat "$f" > /dev/null # warm the page cache
  name=$(basename "$f" .gguf)
  cmds=("cat $f" "sha256sum $f")
  command -v openssl >/dev/null && cmds+=("openssl dgst -sha256 $f")
  cmds+=("$bin check --deep $f" "$bin check --deep --deep-io mmap $f" "$bin check --deep --deep-no-hash $f")
  echo "== $f ($(stat -c %s "$f") bytes)"
  hyperfine -N --warmup 2 --runs "$runs" --export-markdown "$out/$name.md" "${cmds[@]}"
  for mode in pread mmap; do
    /usr/bin/time -f "peak RSS, --deep-io $mode: %M KiB" "$bin" check --deep --deep-io "$mode" "$f" > /dev/null
  done
done

# Several files: --jobs hashes them on separate cores. Two names for the same data (a hard
# link) so that the page cache holds both without doubling the disk used.
f="${files[-1]}"
g="$out/second-copy.gguf"
ln -f "$f" "$g"
echo "== two files at once"
hyperfine -N --warmup 1 --runs "$runs" --export-markdown "$out/two-files.md" \
  "cat $f $g" "$bin check --deep --jobs 1 $f $g" "$bin check --deep --jobs 2 $f $g"
rm -f "$g"
echo "results: $out/*.md"
