#!/usr/bin/env bash
# One command for every benchmark in the README: header parse of the same files by
# gguf-meter and its peers, as whole processes (hyperfine, warm cache) and in-process, and
# gguf-meter's peak RSS on multi-GB sparse files. Results: target/bench/results.md.
#
# Installs what it needs from package registries into ~/.cache/gguf-meter/bench (hyperfine
# from crates.io when not on PATH, gguf-py in a venv, gpustack's gguf-parser binary from
# the gpustack 0.3.0 wheel on PyPI, @huggingface/gguf from npm). Needs: cargo, python3,
# node + npm. Usage: scripts/bench.sh [RUNS] (hyperfine runs per command, default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
out=target/bench
cache="${GGUF_METER_BENCH_CACHE:-$HOME/.cache/gguf-meter/bench}"
real="${GGUF_METER_REAL_DIR:-$HOME/.cache/gguf-meter/real}"
mkdir -p "$out" "$cache"

# --- tools -----------------------------------------------------------------------------
if ! command -v hyperfine >/dev/null; then
    [ -x "$cache/bin/hyperfine" ] || cargo install --quiet --locked --root "$cache" hyperfine
    export PATH="$cache/bin:$PATH"
fi
if [ ! -x "$cache/venv/bin/python" ]; then
    python3 -m venv "$cache/venv"
    "$cache/venv/bin/pip" install --quiet -r scripts/requirements.txt
fi
py="$cache/venv/bin/python"
parser="$cache/gguf-parser"
if [ ! -x "$parser" ] && [ "$(uname -sm)" = "Linux x86_64" ]; then
    # gpustack 0.3.0 (PyPI) is the last wheel that ships gguf-parser (v0.11.0) instead of
    # downloading it at run time.
    "$py" -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
        --python-version 3.10 -d "$cache/wheel" gpustack==0.3.0
    "$py" - "$cache/wheel"/gpustack-0.3.0-*.whl "$parser" <<'PY'
import sys, zipfile, shutil, os
with zipfile.ZipFile(sys.argv[1]) as z, z.open("gpustack/third_party/bin/gguf-parser/gguf-parser-linux-amd64") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
os.chmod(sys.argv[2], 0o755)
PY
    rm -rf "$cache/wheel"
fi
npmdir="$cache/npm"
if [ ! -d "$npmdir/node_modules/@huggingface/gguf" ]; then
    mkdir -p "$npmdir" && (cd "$npmdir" && npm init -y >/dev/null && npm install --silent @huggingface/gguf@0.4.6 >/dev/null)
fi
cp scripts/bench/read.mjs "$npmdir/read.mjs"
scripts/fetch-real-models.sh >/dev/null
cargo build --release --quiet
bin="$PWD/target/release/gguf-meter"

# --- files: real small GGUFs, a real partial download, Qwen3.5 headers with ~1,000 tensors -
files=("$real/gemma-3-270m-q4_k_m.gguf" "$real/deepseek-r1-distill-qwen-7b.gguf.part"
       "$PWD/fixtures/qwen35-122b-a10b-q4km.gguf" "$PWD/fixtures/qwen35-397b-a17b-q4km.gguf")
sparse=()   # gguf-py maps every tensor, so it gets a full-length sparse copy of short files
for f in "${files[@]}"; do
    exp=$("$bin" inspect --json "$f" | "$py" -c "import json,sys; print(json.load(sys.stdin)['expected_bytes'])") || true
    s="$out/full-$(basename "$f")"
    if [ "$(stat -c %s "$f")" -lt "$exp" ]; then
        hdr=$("$bin" inspect --json "$f" | "$py" -c "import json,sys; print(json.load(sys.stdin)['files'][0]['data_offset'])") || true
        head -c "$hdr" "$f" > "$s" && truncate -s "$exp" "$s"
    else
        ln -sf "$f" "$s"
    fi
    sparse+=("$s")
done

# --- whole process -------------------------------------------------------------------------
# One hyperfine per command: fast ones get RUNS runs, slow ones (gguf-py takes seconds on a
# real tokenizer) at least 3 within hyperfine's 3-second budget.
: > "$out/process.tsv"
for i in "${!files[@]}"; do
    f="${files[$i]}"; s="${sparse[$i]}"; name=$(basename "$f")
    cmds=("$bin inspect $f" "$py scripts/bench/gguf_py_read.py $s" "node $npmdir/read.mjs $f")
    labels=("gguf-meter inspect" "gguf-py GGUFReader" "@huggingface/gguf")
    if [ -x "$parser" ]; then cmds+=("$parser --path $f --skip-estimate"); labels+=("gguf-parser --skip-estimate"); fi
    for k in "${!cmds[@]}"; do
        echo "== $name: ${labels[$k]}" >&2
        hyperfine -N -i --warmup 2 --min-runs 3 --max-runs "$runs" --export-json "$out/process.json" "${cmds[$k]}" >/dev/null
        "$py" - "$out/process.json" "$name" "${labels[$k]}" >> "$out/process.tsv" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
t = sorted(r["times"])
print(f"{sys.argv[2]}\t{sys.argv[3]}\t{t[0]*1e3:.2f}\t{t[len(t)//2]*1e3:.2f}\t{len(t)}")
PY
    done
done

# --- in process ----------------------------------------------------------------------------
cargo bench --quiet --bench parse -- "${files[@]}" | tail -n +2 | sed 's/^/gguf-meter\t/' > "$out/inprocess.tsv"
"$py" scripts/bench/gguf_py_read.py --time "${sparse[@]}" >> "$out/inprocess.tsv"
for f in "${files[@]}"; do node "$npmdir/read.mjs" --time "$f"; done >> "$out/inprocess.tsv"

# --- peak RSS on multi-GB sparse files -----------------------------------------------------
fx=fixtures/qwen35-35b-a3b-q4km.gguf
full=$("$bin" inspect --json "$fx" | "$py" -c "import json,sys; print(json.load(sys.stdin)['expected_bytes'])") || true
cp "$fx" "$out/rss-complete.gguf" && truncate -s "$full" "$out/rss-complete.gguf"
cp "$fx" "$out/rss-6gb-partial.gguf" && truncate -s 6000000000 "$out/rss-6gb-partial.gguf"
g="$real/gemma-3-270m-q4_k_m.gguf"
head -c 8000000 "$g" > "$out/rss-gemma-8gb.gguf" && truncate -s 8000000000 "$out/rss-gemma-8gb.gguf"
: > "$out/rss.tsv"
for f in "$fx" "$out/rss-6gb-partial.gguf" "$out/rss-complete.gguf" "$g" "$out/rss-gemma-8gb.gguf"; do
    for args in "inspect" "inspect --json --tensors"; do
        kib=$(for _ in 1 2 3 4 5; do
                  /usr/bin/time -f "%M" -o "$out/time.txt" "$bin" $args "$f" >/dev/null 2>&1 || true  # exit 3: incomplete
                  tail -1 "$out/time.txt"
              done | sort -n | sed -n 3p)
        printf '%s\t%s\t%s\t%s\n' "$(basename "$f")" "$(stat -c %s "$f")" "$args" "$kib" >> "$out/rss.tsv"
    done
done
rm -f "$out"/rss-*.gguf "$out/time.txt"

"$py" scripts/bench/report.py "$out" > "$out/results.md"
cat "$out/results.md"
