#!/usr/bin/env python3
"""Synthetic qwen3vl_merger mmproj variants, as sparse full-length files (header + hole).

Rewrites the header of fixtures/mmproj-qwen35-f16.gguf with another vision geometry
(embedding width, FFN width, heads, layers, patch size, image size) and tensor shapes to match,
so that oracle_mmproj can measure how clip.cpp's compute buffer scales with each of them.
No tensor data is written: clip's no_alloc load never reads it.

    python3 scripts/oracle/make_mmproj.py OUT.gguf --embd 768 --ff 3072 --heads 12 --layers 12
"""
import argparse
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import Header, _quant_sizes  # noqa: E402

FIXTURE = HERE.parent.parent / "fixtures/mmproj-qwen35-f16.gguf"


def build(out: Path, embd: int, ff: int, heads: int, layers: int, patch: int, image: int, proj: int) -> int:
    h = Header(FIXTURE)
    old = {"embd": h.get("clip.vision.embedding_length"), "ff": h.get("clip.vision.feed_forward_length"),
           "patch": h.get("clip.vision.patch_size"), "proj": h.get("clip.vision.projection_dim")}
    u32 = {"clip.vision.embedding_length": embd, "clip.vision.feed_forward_length": ff,
           "clip.vision.attention.head_count": heads, "clip.vision.block_count": layers,
           "clip.vision.patch_size": patch, "clip.vision.image_size": image, "clip.vision.projection_dim": proj}
    kvs = []
    for k, t, raw, dec in h.kvs:
        if k in u32:
            raw = struct.pack("<I", u32[k])
        if k == "clip.vision.is_deepstack_layers":
            raw = struct.pack("<IQ", 7, layers) + b"\0" * layers
        kvs.append((k, t, raw))
    n_pos = (image // patch) ** 2

    def dims(name, ne):
        if name == "v.position_embd.weight":
            return [embd, n_pos]
        if name.startswith("v.patch_embd.weight"):
            return [patch, patch, 3, embd]
        m = {old["embd"]: embd, 3 * old["embd"]: 3 * embd, 4 * old["embd"]: 4 * embd, old["ff"]: ff,
             old["proj"]: proj}
        return [m.get(x, x) for x in ne]

    qs = _quant_sizes()
    infos, off = [], 0
    for name, ne, ttype, _, _ in h.tensors:
        if name.startswith("v.blk.") and int(name.split(".")[2]) >= layers:
            continue
        ne = dims(name, ne)
        blk, tsz = qs[ttype]
        n = 1
        for x in ne:
            n *= x
        nb = n // blk * tsz
        nm = name.encode()
        infos.append(struct.pack("<Q", len(nm)) + nm + struct.pack("<I", len(ne)) +
                     struct.pack(f"<{len(ne)}Q", *ne) + struct.pack("<IQ", ttype, off))
        off += -(-nb // h.alignment) * h.alignment
    hdr = bytearray(b"GGUF" + struct.pack("<IQQ", h.version, len(infos), len(kvs)))
    for k, t, raw in kvs:
        kb = k.encode()
        hdr += struct.pack("<Q", len(kb)) + kb + struct.pack("<I", t) + raw
    for i in infos:
        hdr += i
    hdr += b"\0" * (-len(hdr) % h.alignment)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as f:
        f.write(hdr)
        f.truncate(len(hdr) + off)
    return len(hdr) + off


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--embd", type=int, default=1152)
    ap.add_argument("--ff", type=int, default=4304)
    ap.add_argument("--heads", type=int, default=16)
    ap.add_argument("--layers", type=int, default=27)
    ap.add_argument("--patch", type=int, default=16)
    ap.add_argument("--image", type=int, default=768)
    ap.add_argument("--proj", type=int, default=2048)
    a = ap.parse_args()
    print(build(a.out, a.embd, a.ff, a.heads, a.layers, a.patch, a.image, a.proj))


if __name__ == "__main__":
    main()
