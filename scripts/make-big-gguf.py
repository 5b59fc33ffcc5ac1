#!/usr/bin/env python3
"""Writes a large, valid GGUF made of real tensor data, for benchmarking `check --deep`.

Takes a real model (default: the Gemma 3 270M Q4_K_M that scripts/fetch-real-models.sh
fetches) and repeats its transformer blocks until the file reaches --min-bytes: blocks
blk.0..N-1 become blk.0..k*N-1 and `<arch>.block_count` is raised to match, so the result is
a deeper model of the same family whose every byte is real quantized data. Written with
gguf-py's GGUFWriter (as llama.cpp's converters write files).

    python3 scripts/make-big-gguf.py OUT.gguf [--src FILE] [--min-bytes 2147483648]
"""

import argparse
import os
import re
import sys

import gguf


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--src", default=os.path.expanduser("~/.cache/gguf-meter/real/gemma-3-270m-q4_k_m.gguf"))
    ap.add_argument("--min-bytes", type=int, default=2 << 30)
    a = ap.parse_args()

    r = gguf.GGUFReader(a.src)
    arch = r.fields[gguf.Keys.General.ARCHITECTURE].contents()
    count_key = gguf.Keys.LLM.BLOCK_COUNT.format(arch=arch)
    n_blocks = r.fields[count_key].contents()
    blk = re.compile(r"^blk\.(\d+)\.(.*)$")
    block_bytes = sum(t.n_bytes for t in r.tensors if blk.match(t.name))
    other_bytes = sum(t.n_bytes for t in r.tensors if not blk.match(t.name))
    repeat = max(1, -(-(a.min_bytes - other_bytes) // block_bytes))

    # Non-block tensors first, then the blocks repeated in order.
    tensors = [(t.name, t) for t in r.tensors if not blk.match(t.name)]
    for k in range(repeat):
        for t in r.tensors:
            m = blk.match(t.name)
            if m:
                tensors.append((f"blk.{int(m.group(1)) + k * n_blocks}.{m.group(2)}", t))

    w = gguf.GGUFWriter(a.out, arch, endianess=r.endianess)
    for field in r.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        vtype = field.types[0]
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        value = n_blocks * repeat if field.name == count_key else field.contents()
        w.add_key_value(field.name, value, vtype, sub_type=sub)
    for name, t in tensors:
        w.add_tensor_info(name, t.data.shape, t.data.dtype, t.data.nbytes, t.tensor_type)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    for _, t in tensors:
        w.write_tensor_data(t.data, tensor_endianess=r.endianess)
    w.close()
    print(f"{a.out}: {n_blocks * repeat} blocks ({repeat}x {n_blocks}), {os.path.getsize(a.out)} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
