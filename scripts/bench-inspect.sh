#!/usr/bin/env bash
# Benchmarks `gguf-meter inspect` against peer GGUF readers on the same real files, as whole
# processes (hyperfine: warm cache, several runs), and measures peak RSS.
# Needs: hyperfine (apt-get install hyperfine), node + npm (for @huggingface/gguf),
# python3 with gguf (pip install -r scripts/requirements.txt), and the real files
# (scripts/fetch-real-models.sh). Usage: scripts/bench-inspect.sh [RESULTS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/bench}"
mkdir -p "$out"
real="${GGUF_METER_REAL_DIR:-$HOME/.cache/gguf-meter/real}"
cargo build --release --quiet
bin="$PWD/target/release/gguf-meter"

npmdir="$out/npm"
if [ ! -d "$npmdir/node_modules/@huggingface/gguf" ]; then
    mkdir -p "$npmdir" && (cd "$npmdir" && npm init -y >/dev/null && npm install --silent @huggingface/gguf@0.4 >/dev/null)
fi
cat > "$npmdir/read.mjs" <<'JS'
import { gguf } from "@huggingface/gguf";
const { tensorInfos } = await gguf(process.argv[2], { allowLocalFile: true });
console.log(tensorInfos.length);
JS

for f in "$real/gemma-3-270m-q4_k_m.gguf" "$real/deepseek-r1-distill-qwen-7b.gguf.part" "$PWD/fixtures/qwen35-397b-a17b-q4km.gguf"; do
    name=$(basename "$f")
    echo "== $name ($(stat -c %s "$f") bytes)"
    # gguf-py needs the full length: give it a sparse copy where the file is short.
    py="$f"
    if ! python3 -c "import gguf,sys; gguf.GGUFReader(sys.argv[1])" "$f" 2>/dev/null; then
        py="$out/sparse-$name"
        exp=$("$bin" inspect --json "$f" | python3 -c "import json,sys; print(json.load(sys.stdin)['expected_bytes'])") || true
        head -c 1048576 "$f" > "$py"; truncate -s "$exp" "$py"
    fi
    hyperfine -i --warmup 2 --runs 10 --export-json "$out/$name.json" -N \
        "$bin inspect $f" \
        "node $npmdir/read.mjs $f" \
        "gguf-dump --no-tensors $py" 2>&1 | grep -E "Time|±|faster|gguf-meter|node|gguf-dump" || true
    /usr/bin/time -f "gguf-meter peak RSS: %M KiB" "$bin" inspect "$f" > /dev/null 2> "$out/rss.txt" || true
    tail -1 "$out/rss.txt"
done
