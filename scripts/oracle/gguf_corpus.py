#!/usr/bin/env python3
"""Builds the GGUF corpus `check`'s structural rules are judged on, and records llama.cpp's verdicts.

    python3 scripts/oracle/gguf_corpus.py            # rewrites fixtures/gguf-corpus/{corpus.bin.gz,verdicts.json}

Needs `oracle_gguf` (scripts/oracle/oracle_gguf.cpp, built by build.sh; $ORACLE_GGUF overrides the path).
The corpus (all generated here, deterministic):
  hc-*       llama.cpp's tests/test-gguf.cpp get_handcrafted_file(), every file type, seeds 1-3
  random-*   test-gguf.cpp get_random_gguf_context() written by gguf_write_to_file, whole and
             metadata only, seeds 1-2
  plant-*    hand-planted defects (and accepted oddities) in complete copies of fixtures and of a
             test-gguf file: see PLANTS below
  mut-*      seeded random mutations of the same bases: byte flips, u64/u32 fields set to edge
             values, truncations
Each file is stored as its first bytes (the header, or all of it when that is shorter) plus its
length: the rest is zeros, which neither llama.cpp's reader (no_alloc) nor `check` reads. The oracle
judges exactly those zero-filled files. `verdicts.json` also lists files outside the repo
(`external`: llama.cpp's models/ggml-vocab-*.gguf, real models fetched by fetch-real-models.sh) with
their verdicts; tests/gguf_corpus.rs checks those when they are present.
"""
import gzip
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# GGUF_CORPUS_OUT and GGUF_CORPUS_MUTATIONS make a larger corpus elsewhere (tests/gguf_corpus.rs
# reads it with GGUF_METER_CORPUS_DIR) without touching the committed one.
OUT = Path(os.environ.get("GGUF_CORPUS_OUT", ROOT / "fixtures" / "gguf-corpus"))
N_MUTATIONS = int(os.environ.get("GGUF_CORPUS_MUTATIONS", "100"))
CACHE = Path(os.environ.get("GGUF_METER_LLAMA_CACHE", Path.home() / ".cache/gguf-meter/llama.cpp"))
ORACLE = Path(os.environ.get("ORACLE_GGUF", CACHE / "build-0.3.36" / "oracle_gguf"))
LLAMA_SRC = CACHE / "src/llama_cpp_python-0.3.36/vendor/llama.cpp"
REAL = Path(os.environ.get("GGUF_METER_REAL_DIR", Path.home() / ".cache/gguf-meter/real"))

# gguf value type ids and fixed sizes
U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
FIXED = {U8: 1, I8: 1, U16: 2, I16: 2, U32: 4, I32: 4, F32: 4, BOOL: 1, U64: 8, I64: 8, F64: 8}
# ggml type id -> (block size, type size): ggml.c type_traits (as src/read/ggml_type.rs)
GGML = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292), 16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66), 39: (32, 17), 40: (64, 36), 41: (128, 18), 42: (64, 18)}


class Gguf:
    """A little-endian GGUF header: values kept as raw bytes, so any file round-trips."""

    def __init__(self, b):
        self.magic, self.version = b[:4], struct.unpack_from("<I", b, 4)[0]
        n_t, n_kv = struct.unpack_from("<QQ", b, 8)
        p = 24
        self.kvs = []
        for _ in range(n_kv):
            (n,) = struct.unpack_from("<Q", b, p)
            key = b[p + 8 : p + 8 + n]
            p += 8 + n
            (t,) = struct.unpack_from("<I", b, p)
            start = p + 4
            p = skip_value(b, start, t)
            self.kvs.append([key, t, b[start:p]])
        self.tensors = []
        for _ in range(n_t):
            (n,) = struct.unpack_from("<Q", b, p)
            name = b[p + 8 : p + 8 + n]
            p += 8 + n
            (nd,) = struct.unpack_from("<I", b, p)
            dims = list(struct.unpack_from("<%dQ" % nd, b, p + 4))
            p += 4 + 8 * nd
            t, off = struct.unpack_from("<IQ", b, p)
            p += 12
            self.tensors.append([name, dims, t, off])
        self.alignment = 32
        for k, t, v in self.kvs:
            if k == b"general.alignment" and t == U32:
                self.alignment = struct.unpack("<I", v)[0]
        self.header_end = p

    def nbytes(self, i):
        _, dims, t, _ = self.tensors[i]
        blk, size = GGML[t]
        n = 1
        for d in dims:
            n *= d
        return n // blk * size

    def relayout(self):
        """Offsets as a writer puts them: contiguous, each padded to the alignment."""
        off = 0
        for i, t in enumerate(self.tensors):
            t[3] = off
            off += pad(self.nbytes(i), self.alignment)
        return off

    def serialize(self, version=None, n_tensors=None, n_kv=None):
        out = bytearray(self.magic)
        out += struct.pack("<IQQ", self.version if version is None else version, len(self.tensors) if n_tensors is None else n_tensors, len(self.kvs) if n_kv is None else n_kv)
        for k, t, v in self.kvs:
            out += struct.pack("<Q", len(k)) + k + struct.pack("<I", t) + v
        for name, dims, t, off in self.tensors:
            out += struct.pack("<Q", len(name)) + name + struct.pack("<I", len(dims)) + struct.pack("<%dQ" % len(dims), *dims) + struct.pack("<IQ", t, off)
        return bytes(out)

    def file(self, **kw):
        """(header padded as llama.cpp writes it, complete length)."""
        h = self.serialize(**kw)
        if not self.tensors:
            return h, len(h)
        h += b"\0" * (pad(len(h), self.alignment) - len(h))
        end = 0
        for i, t in enumerate(self.tensors):
            try:
                end = max(end, t[3] + self.nbytes(i))
            except KeyError:
                pass
        return h, len(h) + end


def pad(n, a):
    return (n + a - 1) // a * a


def skip_value(b, p, t):
    if t in FIXED:
        return p + FIXED[t]
    if t == STR:
        return p + 8 + struct.unpack_from("<Q", b, p)[0]
    if t == ARR:
        et, n = struct.unpack_from("<IQ", b, p)
        p += 12
        if et in FIXED:
            return p + n * FIXED[et]
        for _ in range(n):
            p = skip_value(b, p, et)
        return p
    raise ValueError("type %d" % t)


def kv(key, t, raw):
    return [key, t, raw]


def s(x):
    x = x.encode() if isinstance(x, str) else x
    return struct.pack("<Q", len(x)) + x


def plants(name, g):
    """Hand-planted variants of a complete base `g`: (suffix, (prefix, length))."""
    out = []

    def add(suffix, fn):
        c = Gguf(g.serialize())
        r = fn(c)
        out.append((f"plant-{name}-{suffix}", r if r is not None else c.file()))

    def with_alignment(t, raw, relayout=None):
        def f(c):
            c.kvs = [x for x in c.kvs if x[0] != b"general.alignment"]
            c.kvs.append(kv(b"general.alignment", t, raw))
            if relayout:
                c.alignment = relayout
                c.relayout()
        return f

    add("as-is", lambda c: None)
    add("version-2", lambda c: c.file(version=2))
    add("version-4", lambda c: c.file(version=4))
    add("version-0", lambda c: c.file(version=0))
    add("version-0x20000", lambda c: c.file(version=0x20000))
    add("alignment-u32-64", with_alignment(U32, struct.pack("<I", 64), 64))
    add("alignment-u32-1", with_alignment(U32, struct.pack("<I", 1), 1))
    add("alignment-u64-32", with_alignment(U64, struct.pack("<Q", 32)))
    add("alignment-i32-32", with_alignment(I32, struct.pack("<i", 32)))
    add("alignment-u16-32", with_alignment(U16, struct.pack("<H", 32)))
    add("alignment-u8-32", with_alignment(U8, struct.pack("<B", 32)))
    add("alignment-u32-0", with_alignment(U32, struct.pack("<I", 0)))
    add("alignment-u32-48", with_alignment(U32, struct.pack("<I", 48)))
    add("alignment-str", with_alignment(STR, s("32")))
    add("key-empty", lambda c: c.kvs.append(kv(b"", U32, struct.pack("<I", 7))))
    add("key-not-utf8", lambda c: c.kvs.append(kv(b"general.\xff\xfe\x80", U32, struct.pack("<I", 7))))
    add("key-70000-bytes", lambda c: c.kvs.append(kv(b"k" * 70000, U8, b"\x01")))
    add("key-duplicate", lambda c: c.kvs.append(list(c.kvs[0])))
    add("key-duplicate-not-utf8", lambda c: c.kvs.extend([kv(b"x.\xff", U8, b"\x01"), kv(b"x.\xff", U8, b"\x02")]))
    add("keys-same-when-lossy", lambda c: c.kvs.extend([kv(b"x.\xff", U8, b"\x01"), kv(b"x.\xfe", U8, b"\x02")]))
    add("array-of-arrays", lambda c: c.kvs.append(kv(b"nested", ARR, struct.pack("<IQ", ARR, 1) + struct.pack("<IQ", U8, 2) + b"\x01\x02")))
    add("array-of-arrays-empty", lambda c: c.kvs.append(kv(b"nested", ARR, struct.pack("<IQ", ARR, 0))))
    add("value-type-13", lambda c: c.kvs.append(kv(b"bad.type", 13, b"\0" * 8)))
    add("array-elem-type-13", lambda c: c.kvs.append(kv(b"bad.type", ARR, struct.pack("<IQ", 13, 0))))
    add("string-value-not-utf8", lambda c: c.kvs.append(kv(b"general.note", STR, s(b"\xff\xfe"))))
    add("empty-array", lambda c: c.kvs.append(kv(b"general.empty", ARR, struct.pack("<IQ", U32, 0))))
    add("empty-string", lambda c: c.kvs.append(kv(b"general.empty", STR, s(b""))))
    if not g.tensors:
        return out

    def rename(new):
        def f(c):
            c.tensors[-1][0] = new
        return f

    add("name-63-bytes", rename(b"n" * 63))
    add("name-64-bytes", rename(b"n" * 64))
    add("name-200-bytes", rename(b"n" * 200))
    add("name-empty", rename(b""))
    add("name-not-utf8", rename(b"blk.0.\xff\xfe.weight"))
    add("name-duplicate", rename(g.tensors[0][0]))

    def scalar(c):
        c.tensors.append([b"scalar.weight", [], 0, 0])  # 0 dims: ne = [1,1,1,1], F32, 4 bytes
        c.relayout()

    add("tensor-0-dims", scalar)

    def zero_elems(c):
        c.tensors.append([b"empty.weight", [64, 0], 0, 0])
        c.relayout()

    add("tensor-zero-elements", zero_elems)

    def zero_by_huge(c):
        c.tensors.append([b"empty.huge", [2**62, 0], 0, 0])  # 0 bytes (ggml_nbytes), whatever ne0
        c.relayout()

    add("tensor-zero-elements-huge-row", zero_by_huge)

    def dims(nd):
        def f(c):
            c.tensors[-1][1] = [1] * nd
            c.tensors[-1][2] = 0
            c.relayout()
        return f

    add("tensor-4-dims", dims(4))
    add("tensor-5-dims", dims(5))

    def set_t(i, **kw):
        def f(c):
            t = c.tensors[i]
            if "dims" in kw:
                t[1] = kw["dims"]
            if "type" in kw:
                t[2] = kw["type"]
            if "offset" in kw:
                t[3] = kw["offset"](c, t[3])
        return f

    add("dim-negative", set_t(-1, dims=[2**64 - 1]))
    add("dims-overflow-i64", set_t(-1, dims=[2**32, 2**31]))
    add("dims-2^62-x2", set_t(-1, dims=[2**62, 2], type=24))
    add("type-43", set_t(-1, type=43))
    add("type-4-removed", set_t(-1, type=4))
    add("type-31-removed", set_t(-1, type=31))
    add("type-2^31", set_t(-1, type=2**31))
    add("block-size", set_t(0, dims=[33] + g.tensors[0][1][1:], type=2))
    add("offset-misaligned", set_t(-1, offset=lambda c, o: o + 1))
    add("offset-gap", set_t(-1, offset=lambda c, o: o + c.alignment))
    add("offset-first-not-0", lambda c: [t.__setitem__(3, t[3] + c.alignment) for t in c.tensors] and None)
    add("offset-overlap", set_t(-1, offset=lambda c, o: max(0, o - c.alignment)))
    add("offset-2^64-32", set_t(-1, offset=lambda c, o: 2**64 - 32))

    def swap_offsets(c):
        a, b = c.tensors[0], c.tensors[1]
        # put tensor 1's data first: tensor 0 after it
        b[3] = 0
        a[3] = pad(c.nbytes(1), c.alignment)
        for i in range(2, len(c.tensors)):
            pass

    if len(g.tensors) >= 2:
        add("data-swapped", swap_offsets)

        def swap_infos(c):
            c.tensors[0], c.tensors[1] = c.tensors[1], c.tensors[0]

        add("infos-swapped", swap_infos)

        def swap_both(c):
            c.tensors[0], c.tensors[1] = c.tensors[1], c.tensors[0]
            c.relayout()

        add("infos-swapped-relaid", swap_both)
    add("count-tensors+1", lambda c: c.file(n_tensors=len(c.tensors) + 1))
    add("count-tensors-1", lambda c: c.file(n_tensors=len(c.tensors) - 1))
    add("count-kv+1", lambda c: c.file(n_kv=len(c.kvs) + 1))
    add("count-kv-2^30", lambda c: c.file(n_kv=2**30))
    add("count-tensors-2^40", lambda c: c.file(n_tensors=2**40))
    add("count-kv-2^63", lambda c: c.file(n_kv=2**63))

    def trailing(c):
        h, n = c.file()
        return h, n + 100

    add("trailing-bytes", trailing)

    def short(by):
        def f(c):
            h, n = c.file()
            return h, n - by
        return f

    add("data-short-1", short(1))
    add("data-missing", lambda c: (lambda h: (h[0], len(h[0])))(c.file()))

    def header_cut(frac):
        def f(c):
            h, _ = c.file()
            n = int(len(h) * frac)
            return h[:n], n
        return f

    add("header-cut-half", header_cut(0.5))
    add("header-unpadded", lambda c: (c.serialize(), len(c.serialize())))

    def ending_in(raw):
        """The file ends 3 bytes into a last metadata item whose length field says more."""
        def f(c):
            c.kvs.append(kv(b"general.zz", raw[0], raw[1]))
            end = 24 + sum(8 + len(k) + 4 + len(v) for k, _, v in c.kvs)
            return c.serialize()[:end], end
        return f

    def string_past_end(length):
        return ending_in((STR, struct.pack("<Q", length) + b"abc"))

    add("string-past-end-small", string_past_end(100))
    add("string-past-end-2^29", string_past_end(2**29))
    add("string-2^31", string_past_end(2**31))

    def array_past_end(n, et):
        return ending_in((ARR, struct.pack("<IQ", et, n) + (b"\1\0\0\0\0\0\0\0a" if et == STR else b"\0\0\0")))

    add("array-u8-past-end-small", array_past_end(1000, U8))
    add("array-u32-past-end-2^28", array_past_end(2**28, U32))
    add("array-str-past-end-2^27", array_past_end(2**27, STR))
    add("array-2^31", array_past_end(2**31, U8))
    return out


EDGE64 = [0, 1, 31, 32, 63, 64, 65, 2**16, 2**30, 2**30 + 1, 2**31, 2**32, 2**40, 2**62, 2**63 - 1, 2**63, 2**64 - 32, 2**64 - 1]


def mutations(name, data, rng, n):
    """(name, (prefix, length)) for n seeded mutations of a complete file `data` (prefix, length)."""
    prefix, length = data
    out = []
    hdr = len(prefix)
    for i in range(n):
        b = bytearray(prefix)
        op = rng.choice(["flip", "u64", "u32", "truncate", "byte"])
        at = rng.randrange(4, hdr)
        new_len = length
        if op == "flip":
            b[at] ^= 1 << rng.randrange(8)
        elif op == "byte":
            b[at] = rng.randrange(256)
        elif op == "u64" and at + 8 <= hdr:
            struct.pack_into("<Q", b, at, rng.choice(EDGE64))
        elif op == "u32" and at + 4 <= hdr:
            struct.pack_into("<I", b, at, rng.choice([0, 1, 5, 9, 12, 13, 42, 43, 2**31, 2**32 - 1]))
        else:
            cut = rng.randrange(0, length)
            b = b[:cut]
            new_len = cut
        out.append((f"mut-{name}-{i:04d}-{op}", (bytes(b[:new_len]), new_len)))
    return out


def shrink_arrays(g, keep=64):
    """Cuts every array of 1,024 or more items to its first `keep` (a real header without its
    megabytes of vocabulary; the tensor infos and other keys as they are)."""
    for item in g.kvs:
        if item[1] != ARR:
            continue
        et, n = struct.unpack_from("<IQ", item[2], 0)
        if n < 1024:
            continue
        if et in FIXED:
            item[2] = struct.pack("<IQ", et, keep) + item[2][12 : 12 + keep * FIXED[et]]
        else:
            p = 12
            for _ in range(keep):
                p = skip_value(item[2], p, et)
            item[2] = struct.pack("<IQ", et, keep) + item[2][12:p]
    return g


def complete(path):
    """(header prefix, complete length) of a header-only or complete fixture."""
    g = Gguf(Path(path).read_bytes())
    return g.file()


def main():
    if not ORACLE.exists():
        sys.exit(f"no oracle_gguf at {ORACLE}: run scripts/oracle/build.sh (or set ORACLE_GGUF)")
    work = Path(tempfile.mkdtemp(prefix="gguf-corpus-"))
    try:
        gen = work / "gen"
        gen.mkdir()
        subprocess.run([str(ORACLE), "generate", str(gen), "1", "2", "3"], check=True, stdout=subprocess.DEVNULL)
        files = {}
        for p in sorted(gen.iterdir()):
            if p.name.startswith("random-s3"):
                continue
            b = p.read_bytes()
            keep = len(b)
            try:
                keep = min(len(b), pad(Gguf(b).header_end, 32))
            except Exception:
                keep = min(len(b), 1 << 16)
            files[p.stem] = (b[:keep], len(b))

        bases = {
            "tiny-llama": complete(ROOT / "fixtures/tiny/tiny-llama.gguf"),
            "hc-s1-data": files["hc-s1-DATA_SUCCESS"],
            "vocab-spm": complete(ROOT / "fixtures/vocab/ggml-vocab-llama-spm-64.gguf"),
            "vocab-bpe": complete(ROOT / "fixtures/vocab/ggml-vocab-gpt-2-64.gguf"),
        }
        for name, (prefix, _) in bases.items():
            for n, (h, length) in plants(name, Gguf(prefix)):
                # A planted size no disk holds: the file is the header and a little data.
                files[n] = (h, length if length <= 1 << 32 else len(h) + 64)
        # GGUF_CORPUS_EXTRA=a.gguf,b.gguf: more bases (real files, arrays cut to 64 items), for a
        # sweep outside the committed corpus.
        for extra in filter(None, os.environ.get("GGUF_CORPUS_EXTRA", "").split(",")):
            with open(extra, "rb") as f:
                head = f.read(64 << 20)
            g = shrink_arrays(Gguf(head))
            g.relayout()
            bases["x-" + Path(extra).stem] = g.file()
            for n, (h, length) in plants("x-" + Path(extra).stem, g):
                files[n] = (h, length if length <= 1 << 32 else len(h) + 64)
        h, n = complete(ROOT / "fixtures/qwen2.5-7b-q4km.gguf")
        files["plant-qwen2.5-7b-complete"] = (h, n)
        big = (ROOT / "fixtures/bigendian-llama.gguf").read_bytes()
        files["plant-bigendian-llama-complete"] = (big, 2200294048)
        rng = random.Random(13)
        for name, data in bases.items():
            for n, d in mutations(name, data, rng, N_MUTATIONS):
                files[n] = d

        # Materialize (prefix + zeros) and ask llama.cpp.
        mat = work / "mat"
        mat.mkdir()
        names = sorted(files)
        for n in names:
            prefix, length = files[n]
            p = mat / f"{n}.gguf"
            with open(p, "wb") as f:
                f.write(prefix[:length])
                f.truncate(length)
        verdicts = oracle([str(mat / f"{n}.gguf") for n in names])

        external = []
        ext_paths = sorted((LLAMA_SRC / "models").glob("ggml-vocab-*.gguf")) + sorted(REAL.glob("*.gguf")) + sorted(REAL.glob("*.gguf.part")) if LLAMA_SRC.exists() else []
        for p, v in zip(ext_paths, oracle([str(p) for p in ext_paths])):
            where = "llama.cpp" if LLAMA_SRC in p.parents else "real"
            rel = str(p.relative_to(LLAMA_SRC if where == "llama.cpp" else REAL))
            external.append({"where": where, "path": rel, **v})

        OUT.mkdir(parents=True, exist_ok=True)
        blob = bytearray()
        for n in names:
            prefix, length = files[n]
            nb = n.encode()
            blob += struct.pack("<I", len(nb)) + nb + struct.pack("<QQ", length, len(prefix)) + prefix
        with gzip.GzipFile(OUT / "corpus.bin.gz", "wb", mtime=0) as f:
            f.write(bytes(blob))
        doc = {
            "about": "llama.cpp's verdict on every file of corpus.bin.gz (written by scripts/oracle/gguf_corpus.py with oracle_gguf)",
            "llama_cpp": verdicts[0]["llama_cpp"] if verdicts else None,
            "files": [{"name": n, **v} for n, v in zip(names, verdicts)],
            "external": external,
        }
        for f in doc["files"]:
            f.pop("llama_cpp", None)
        for f in doc["external"]:
            f.pop("llama_cpp", None)
        # One file per line: reviewable diffs, a third of the indented size.
        lines = ["{"]
        for k in ("about", "llama_cpp"):
            lines.append(f" {json.dumps(k)}: {json.dumps(doc[k], ensure_ascii=False)},")
        for k in ("files", "external"):
            items = [f"  {json.dumps(x, ensure_ascii=False)}" for x in doc[k]]
            lines.append(f" {json.dumps(k)}: [\n" + ",\n".join(items) + "\n ]" + ("," if k == "files" else ""))
        lines.append("}")
        (OUT / "verdicts.json").write_text("\n".join(lines) + "\n")
        json.loads((OUT / "verdicts.json").read_text())
        ok = sum(1 for v in verdicts if v["verdict"] == "ok")
        print(f"{len(names)} files ({ok} accepted by llama.cpp), {len(external)} external; corpus {len(blob)} bytes, "
              f"{(OUT / 'corpus.bin.gz').stat().st_size} gzipped", file=sys.stderr)
    finally:
        shutil.rmtree(work)


def oracle(paths):
    out = []
    for i in range(0, len(paths), 200):
        r = subprocess.run([str(ORACLE), "check", *paths[i : i + 200]], check=True, capture_output=True)
        out_text = r.stdout.decode("utf-8", errors="replace")
        for line in out_text.splitlines():
            v = json.loads(line)
            keep = {k: v[k] for k in ("file_bytes", "verdict", "stage", "reason", "log")}
            keep["llama_cpp"] = v.get("llama_cpp")
            out.append(keep)
    assert len(out) == len(paths), (len(out), len(paths))
    return out


if __name__ == "__main__":
    main()
