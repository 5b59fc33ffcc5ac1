#!/usr/bin/env bash
# Coverage-guided fuzzing of the whole pipeline (fuzz/fuzz_targets/pipeline.rs) with cargo-fuzz.
# Needs a nightly toolchain (rustup toolchain install nightly) and cargo-fuzz
# (cargo install cargo-fuzz). Usage: scripts/fuzz.sh [SECONDS] (default 300).
# The corpus starts from every fixture and regression input; a crash is left in
# fuzz/artifacts/pipeline/: copy it into fixtures/regressions/ (see its README).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-300}"
corpus=fuzz/corpus/pipeline
mkdir -p "$corpus"
cp fixtures/*.gguf fixtures/tiny/*.gguf fixtures/broken/*.gguf fixtures/regressions/*.gguf "$corpus"/
cd fuzz
# Limits: one input may not allocate 64 MiB at once, the process not exceed 1 GiB, an
# input not take 10 s; -max_len lets inputs grow past the largest fixture header (72 KB).
exec cargo +nightly fuzz run pipeline "corpus/pipeline" -- \
    -max_total_time="$secs" -malloc_limit_mb=64 -rss_limit_mb=1024 -timeout=10 -max_len=262144 -print_final_stats=1
