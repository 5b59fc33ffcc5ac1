#!/usr/bin/env python3
"""What llama.cpp's model loader says of zoo headers with planted tensor defects.

    python3 scripts/oracle/tensor_corpus.py        # rewrites fixtures/tensor-corpus/verdicts.json

For every header in fixtures/archs/ that llama.cpp loaded (fixtures/oracle/arch-NAME.json says ok),
plants defects in its tensor list: a tensor dropped (at random, the output head, a bias), a
dimension changed, two dimensions swapped, a tensor renamed, an unknown tensor added, a tensor of a
layer beyond the last added. Each variant is written as a sparse full-length file (header, then a
hole as long as the tensor data) and loaded by `oracle_load` (llama_model_load_from_file with
no_alloc, as llama-server would on the CPU). The mutations and llama.cpp's verdicts are committed;
tests/tensor_rules.rs applies each mutation to the same header's tensor list and holds `check`'s
tensor rules to llama.cpp's verdict.

ORACLE_LOAD overrides the oracle binary (default: the build dir of scripts/oracle/build.sh).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gguf_corpus import GGML, Gguf  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "fixtures" / "tensor-corpus" / "verdicts.json"
CACHE = Path(os.environ.get("GGUF_METER_LLAMA_CACHE", Path.home() / ".cache/gguf-meter/llama.cpp"))
ORACLE = Path(os.environ.get("ORACLE_LOAD", CACHE / "build-0.3.36" / "oracle_load"))
FLOAT_TYPES = {0, 1, 30}  # F32, F16, BF16: any shape is a whole number of blocks


def mutations(g: Gguf, rng: random.Random) -> list[dict]:
    names = [t[0].decode() for t in g.tensors]
    by = {t[0].decode(): t for t in g.tensors}
    out = []

    def pick(pred):
        c = [n for n in names if pred(n)]
        return rng.choice(c) if c else None

    for n in {pick(lambda n: True), pick(lambda n: not n.startswith("blk.")), pick(lambda n: n.startswith("blk."))}:
        if n:
            out.append({"op": "drop", "tensor": n})
    for n in ("output.weight", pick(lambda n: n.endswith(".bias")), pick(lambda n: ".scale" in n or "norm" in n)):
        if n and n in by and {"op": "drop", "tensor": n} not in out:
            out.append({"op": "drop", "tensor": n})
    # a dimension one larger: the outer one, or the only one of a float vector
    n = pick(lambda n: len(by[n][1]) >= 2 or by[n][2] in FLOAT_TYPES)
    if n:
        dims = list(by[n][1])
        k = len(dims) - 1 if len(dims) >= 2 else 0
        dims[k] += 1
        out.append({"op": "shape", "tensor": n, "dims": dims})
    # transposed: the two inner dimensions swapped (float tensors, or rows still whole blocks)
    n = pick(lambda n: len(by[n][1]) >= 2 and by[n][1][0] != by[n][1][1] and by[n][1][1] % GGML[by[n][2]][0] == 0)
    if n:
        dims = list(by[n][1])
        dims[0], dims[1] = dims[1], dims[0]
        out.append({"op": "shape", "tensor": n, "dims": dims})
    n = pick(lambda n: n.startswith("blk."))
    if n:
        out.append({"op": "rename", "tensor": n, "to": n.replace(".weight", ".wieght") if n.endswith(".weight") else n + ".x"})
    out.append({"op": "add", "tensor": "gguf_meter_extra.weight", "dims": [16]})
    n_layer = 1 + max((int(n.split(".")[1]) for n in names if n.startswith("blk.") and n.split(".")[1].isdigit()), default=-1)
    n = pick(lambda n: n.startswith("blk.0."))
    if n:
        out.append({"op": "add", "tensor": n.replace("blk.0.", f"blk.{n_layer}.", 1), "dims": list(by[n][1]), "type": by[n][2]})
    return out


def apply(g: Gguf, m: dict) -> Gguf:
    h = Gguf.__new__(Gguf)
    h.__dict__.update(g.__dict__)
    h.tensors = [list(t) for t in g.tensors]
    name = m["tensor"].encode()
    if m["op"] == "drop":
        h.tensors = [t for t in h.tensors if t[0] != name]
    elif m["op"] == "shape":
        for t in h.tensors:
            if t[0] == name:
                t[1] = list(m["dims"])
    elif m["op"] == "rename":
        for t in h.tensors:
            if t[0] == name:
                t[0] = m["to"].encode()
    elif m["op"] == "add":
        h.tensors.append([name, list(m["dims"]), m.get("type", 0), 0])
    h.relayout()
    return h


def write_sparse(g: Gguf, path: Path) -> None:
    head, full = g.file()
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(full)


# The README's example: fixtures/archs/llama.gguf with a required tensor dropped, one reshaped and a
# tensor of a layer beyond the last added (header only, as the other fixtures).
EXAMPLE = ("archs/llama.gguf", "tensor-corpus/llama-tensor-defects.gguf", [
    {"op": "drop", "tensor": "blk.3.ffn_up.weight"},
    {"op": "shape", "tensor": "blk.1.attn_k.weight", "dims": [256, 128]},
    {"op": "add", "tensor": "blk.8.attn_norm.weight", "dims": [256]}])


def write_example() -> None:
    base, out, muts = EXAMPLE
    g = Gguf((ROOT / "fixtures" / base).read_bytes())
    for m in muts:
        g = apply(g, m)
    (ROOT / "fixtures" / out).write_bytes(g.file()[0])


def main() -> None:
    write_example()
    if not ORACLE.exists():
        sys.exit(f"no oracle_load at {ORACLE}: run scripts/oracle/build.sh (or set ORACLE_LOAD)")
    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for f in sorted((ROOT / "fixtures" / "archs").glob("*.gguf")):
            oracle = json.loads((ROOT / "fixtures" / "oracle" / f"arch-{f.stem}.json").read_text())
            if not oracle["ok"]:
                continue  # llama.cpp did not load the header itself: nothing to plant into
            g = Gguf(f.read_bytes())
            rng = random.Random(f.stem)
            for i, m in enumerate([None] + mutations(g, rng)):
                p = Path(tmp) / f"{f.stem}.{i}.gguf"
                write_sparse(apply(g, m) if m else g, p)
                cases.append({"base": f"archs/{f.name}", "mutation": m})
                paths.append(p)
        verdicts = []
        for k in range(0, len(paths), 64):
            r = subprocess.run([str(ORACLE)] + [str(p) for p in paths[k:k + 64]], capture_output=True, text=True, check=True)
            verdicts += [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    assert len(verdicts) == len(cases), (len(verdicts), len(cases))
    for c, v in zip(cases, verdicts):
        c["llama_cpp"] = {"verdict": v["verdict"], "reason": v["reason"]}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    doc = {"generator": "scripts/oracle/tensor_corpus.py", "oracle": "oracle_load (llama_model_load_from_file, no_alloc)",
           "llama_cpp": "0c1e570 (llama-cpp-python 0.3.36)", "cases": cases}
    OUT.write_text(json.dumps(doc, indent=0) + "\n")
    refused = sum(c["llama_cpp"]["verdict"] == "refused" for c in cases)
    print(f"wrote {OUT}: {len(cases)} files, {refused} refused by llama.cpp")


if __name__ == "__main__":
    main()
