#!/usr/bin/env python3
"""Dumps what gguf-py (PyPI `gguf`, the library behind `gguf-dump`) reads from a GGUF file,
as JSON, so tests can compare gguf-meter field by field against an independent reader.

gguf-py maps tensor data eagerly, so the file must be full length: tests pass a sparse copy
(header bytes written, the rest a hole). Output: {version, endian, alignment, data_offset,
tensor_count, metadata: {key: value or {type, len, items?}}, tensors: [{name, type, shape,
n_elements, n_bytes, data_offset}]}. Array values carry their items only when short (<= 1024)."""
import json
import sys

import gguf
from gguf.constants import GGUFValueType


# gguf-meter's short names for GGUF value types.
SHORT = {"UINT8": "u8", "INT8": "i8", "UINT16": "u16", "INT16": "i16", "UINT32": "u32", "INT32": "i32",
         "FLOAT32": "f32", "BOOL": "bool", "STRING": "string", "ARRAY": "array", "UINT64": "u64",
         "INT64": "i64", "FLOAT64": "f64"}


def value_of(field):
    vt = field.types[0]
    if vt == GGUFValueType.ARRAY:
        et = field.types[-1]
        out = {"type": "array", "elem_type": SHORT[et.name], "len": len(field.data)}
        if len(field.data) <= 1024 and et != GGUFValueType.ARRAY:
            items = field.contents()
            out["items"] = items
        return out
    return field.contents()


def main(path):
    r = gguf.GGUFReader(path, "r")
    meta = {}
    version = None
    for name, field in r.fields.items():
        if name == "GGUF.version":
            version = int(field.parts[field.data[0]][0])
        if name.startswith("GGUF."):
            continue
        meta[name] = value_of(field)
    tensors = [
        {
            "name": t.name,
            "type": t.tensor_type.name,
            "shape": [int(d) for d in t.shape],
            "n_elements": int(t.n_elements),
            "n_bytes": int(t.n_bytes),
            "data_offset": int(t.data_offset),
        }
        for t in r.tensors
    ]
    doc = {
        "version": version,
        "endian": r.endianess.name,
        "alignment": int(r.alignment),
        "data_offset": int(r.data_offset),
        "tensor_count": len(tensors),
        "metadata": meta,
        "tensors": tensors,
    }
    json.dump(doc, sys.stdout, default=float)


if __name__ == "__main__":
    main(sys.argv[1])
