#!/usr/bin/env bash
# Build the llama.cpp "oracle" used to record what real llama.cpp allocates.
#
#   scripts/oracle/build.sh
#
# Downloads the pinned llama-cpp-python sdist (which vendors llama.cpp) into a
# cache directory outside the repo, configures vendor/llama.cpp CPU-only and
# builds libllama (static) + scripts/oracle/oracle.cpp, and oracle_mmproj.cpp (with
# llama.cpp's tools/mtmd clip sources) for vision projectors.
#
# Environment:
#   GGUF_METER_LLAMA_CACHE  cache dir (default ~/.cache/gguf-meter/llama.cpp)
#   LLAMA_CPP_SRC           use an already unpacked <sdist>/vendor/llama.cpp
#                           instead of downloading (must be the pinned version)
#   JOBS                    parallel build jobs (default 2)
#
#   scripts/oracle/build.sh --rpc
#
# builds the same sources with ggml's RPC backend (GGML_RPC=ON) into its own directory,
# build-<version>-rpc: the oracle (which then takes --rpc/-ngl/-ts/-ot/... for several devices)
# and llama.cpp's rpc-server (scripts/oracle/multi.py starts them on 127.0.0.1). The plain build
# dir is left alone.
#
#   scripts/oracle/build.sh --cuda      (or --metal)
#
# builds the oracle with that GPU backend into build-<version>-cuda (-metal), for recording
# the same placements on a real GPU: python3 scripts/oracle/multi.py --gpus (see README.md).
#
# Result: $GGUF_METER_LLAMA_CACHE/build-<version>/oracle  (path also printed)
#         $GGUF_METER_LLAMA_CACHE/build-<version>/oracle_mmproj
#         $GGUF_METER_LLAMA_CACHE/build-<version>/oracle_gguf  (gguf_corpus.py)
#         $GGUF_METER_LLAMA_CACHE/build-<version>/oracle_load  (tensor_corpus.py)
set -euo pipefail

SDIST_VERSION=0.3.36
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${GGUF_METER_LLAMA_CACHE:-$HOME/.cache/gguf-meter/llama.cpp}"
JOBS="${JOBS:-2}"
MODE="${1:-}"
mkdir -p "$CACHE"

if [[ -n "${LLAMA_CPP_SRC:-}" ]]; then
    SRC="$(cd "$LLAMA_CPP_SRC" && pwd)"
else
    SRC="$CACHE/src/llama_cpp_python-$SDIST_VERSION/vendor/llama.cpp"
    if [[ ! -f "$SRC/CMakeLists.txt" ]]; then
        mkdir -p "$CACHE/sdist" "$CACHE/src"
        TARBALL="$CACHE/sdist/llama_cpp_python-$SDIST_VERSION.tar.gz"
        if [[ ! -f "$TARBALL" ]]; then
            echo "== downloading llama-cpp-python==$SDIST_VERSION sdist" >&2
            # --no-binary only for llama-cpp-python: with ":all:" pip would also build the
            # sdist's *build* dependencies (cmake, ...) from source just to read its metadata.
            python3 -m pip download --no-deps --no-binary llama-cpp-python \
                "llama-cpp-python==$SDIST_VERSION" -d "$CACHE/sdist" >&2
        fi
        echo "== unpacking $TARBALL" >&2
        tar -xzf "$TARBALL" -C "$CACHE/src"
    fi
fi
[[ -f "$SRC/include/llama.h" ]] || { echo "no llama.cpp tree at $SRC" >&2; exit 1; }

# The sdist ships a shallow git dir for the submodule: the commit is exact, the
# commit count (llama.cpp's "build number") is not, so we don't rely on it.
COMMIT="$(git -C "$SRC" rev-parse HEAD 2>/dev/null || true)"
if [[ -z "$COMMIT" ]]; then
    # fallback: llama-cpp-python's changelog names the vendored commit
    COMMIT="$(grep -m1 -o 'ggml-org/llama.cpp@[0-9a-f]*' "$SRC/../../CHANGELOG.md" | cut -d@ -f2 || echo unknown)"
fi

command -v cmake >/dev/null || python3 -m pip install cmake >&2
GEN=()
if command -v ninja >/dev/null; then GEN=(-G Ninja); fi

BUILD="$CACHE/build-$SDIST_VERSION"
EXTRA=()
TARGETS=(oracle oracle_mmproj oracle_gen oracle_gguf oracle_load)
case "$MODE" in
    --rpc)
        BUILD="$CACHE/build-$SDIST_VERSION-rpc"
        EXTRA=(-DGGML_RPC=ON -DGGML_RPC_RDMA=OFF)
        TARGETS=(oracle rpc-server) ;;
    --cuda)
        BUILD="$CACHE/build-$SDIST_VERSION-cuda"
        EXTRA=(-DGGML_CUDA=ON)
        TARGETS=(oracle) ;;
    --metal)
        BUILD="$CACHE/build-$SDIST_VERSION-metal"
        EXTRA=(-DGGML_METAL=ON)
        TARGETS=(oracle) ;;
    "") ;;
    *) echo "usage: build.sh [--rpc|--cuda|--metal]" >&2; exit 2 ;;
esac
echo "== llama.cpp $COMMIT (llama-cpp-python $SDIST_VERSION) at $SRC" >&2
echo "== build dir $BUILD" >&2
start=$(date +%s)
nice -n 10 cmake -S "$HERE" -B "$BUILD" "${GEN[@]}" \
    -DCMAKE_BUILD_TYPE=Release \
    -DLLAMA_CPP_DIR="$SRC" \
    -DORACLE_LLAMA_COMMIT="$COMMIT" \
    -DORACLE_SDIST_VERSION="$SDIST_VERSION" "${EXTRA[@]}" >&2
nice -n 10 cmake --build "$BUILD" --target "${TARGETS[@]}" -j "$JOBS" >&2
end=$(date +%s)
echo "== build took $((end - start)) s" >&2
echo "$BUILD/oracle"
