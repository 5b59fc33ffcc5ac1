#!/usr/bin/env python3
"""Small vocab-only GGUFs for the tests, cut from llama.cpp's own models/ggml-vocab-*.gguf.

    python3 scripts/gen_vocab_fixtures.py      # writes fixtures/vocab/ggml-vocab-{llama-spm,gpt-2}-64.gguf

llama.cpp ships 19 vocab-only files (0 tensors, header not padded; loaded with vocab_only) in the
pinned source tree (llama-cpp-python 0.3.36 sdist, vendor/llama.cpp/models/); the smallest is
627 KB. These keep every key of the original and the first 64 entries of each vocabulary-sized
array (tokens, scores, token types) and of the merges; special-token ids beyond 64 are dropped.
Written byte for byte as llama.cpp's writer does (no padding after a header without tensors).
"""
import os
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "oracle"))
from gguf_corpus import ARR, FIXED, STR, U32, Gguf, skip_value  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("GGUF_METER_LLAMA_CACHE", Path.home() / ".cache/gguf-meter/llama.cpp"))
MODELS = CACHE / "src/llama_cpp_python-0.3.36/vendor/llama.cpp/models"
KEEP = 64


def cut_array(raw, n_vocab):
    et, n = struct.unpack_from("<IQ", raw, 0)
    if n != n_vocab and not (et == STR and n > KEEP):
        return raw
    keep = min(n, KEEP)
    if et in FIXED:
        return struct.pack("<IQ", et, keep) + raw[12 : 12 + keep * FIXED[et]]
    p = 12
    for _ in range(keep):
        p = skip_value(raw, p, et)
    return struct.pack("<IQ", et, keep) + raw[12:p]


def main():
    for name in ["llama-spm", "gpt-2"]:
        g = Gguf((MODELS / f"ggml-vocab-{name}.gguf").read_bytes())
        tokens = next(v for k, t, v in g.kvs if k == b"tokenizer.ggml.tokens")
        n_vocab = struct.unpack_from("<IQ", tokens, 0)[1]
        kvs = []
        for k, t, v in g.kvs:
            if t == ARR:
                v = cut_array(v, n_vocab)
            if k.endswith(b"_token_id") and t == U32 and struct.unpack("<I", v)[0] >= KEEP:
                continue
            kvs.append([k, t, v])
        g.kvs = kvs
        out = ROOT / "fixtures" / "vocab" / f"ggml-vocab-{name}-{KEEP}.gguf"
        out.write_bytes(g.serialize())
        print(out, out.stat().st_size)


if __name__ == "__main__":
    main()
