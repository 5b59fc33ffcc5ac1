#!/usr/bin/env python3
"""Every architecture llama.cpp knows: generate a small model of each with llama.cpp itself and record
what llama.cpp allocates for it.

    python3 scripts/oracle/archs.py                    # all architectures
    python3 scripts/oracle/archs.py --only cohere2     # ids containing "cohere2"
    python3 scripts/oracle/archs.py --list             # the plan

For each architecture in `oracle_gen list` (llama.cpp's `llm_arch_all()`) and each of its dense / MoE
variants, `oracle_gen gen` writes a header-only GGUF into fixtures/archs/<id>.gguf from the
hyperparameters of llama.cpp's own tests/test-llama-archs.cpp fixture, with the changes in SPEC below
(more layers so that layer patterns show, a longer trained context, a wider window), asking llama.cpp's
loader for the tensors. A sparse full-length copy goes to the cache and `oracle` records the case
matrix ARCH_CASES into fixtures/oracle/arch-<id>.json (same schema as run.py's files, model kind
"arch-fixture"). A file llama.cpp cannot generate or load is recorded too, with the reason, so the
coverage table shows it.

Environment: as run.py (GGUF_METER_LLAMA_CACHE, GGUF_METER_SPARSE_DIR, ORACLE), plus ORACLE_GEN.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import run  # noqa: E402  (scripts/oracle/run.py: oracle runner, sparse copies, JSON layout)

ARCH_DIR = run.REPO / "fixtures/archs"
GEN_VERSION = 2

# Changes to llama.cpp's fixture for every architecture: 8 layers (the fixture has 2, too few to show a
# sliding-window or hybrid pattern; per-layer arrays are repeated), a longer trained context and window
# (the fixture's 256 / 32 would make every cache tiny), Q8_0 matmul weights (so the CPU_REPACK split is
# exercised). An architecture that refuses these is retried with the fixture unchanged but for quant,
# then with F32 weights.
SPEC = {
    "n_layer": 8,
    "set": {
        "{arch}.context_length": ["u32", 8192],
        "{arch}.attention.sliding_window": ["u32", 512],
    },
    "quant": "q8_0",
}
# What llama.cpp's fixture leaves out for some architectures (test-llama-archs.cpp skips them: "TODO
# vocab", hard-coded patterns...), found by reading their load_arch_hparams.
EXTRA = {
    "rwkv7": {"{arch}.attention.decay_lora_rank": ["u32", 64], "{arch}.attention.iclr_lora_rank": ["u32", 64],
              "{arch}.attention.value_residual_mix_lora_rank": ["u32", 32], "{arch}.attention.gate_lora_rank": ["u32", 128]},
    "bert": {"tokenizer.ggml.token_type_count": ["u32", 2]},
    "nomic-bert": {"tokenizer.ggml.token_type_count": ["u32", 2]},
    "nomic-bert-moe": {"tokenizer.ggml.token_type_count": ["u32", 2]},
    "jina-bert-v2": {"tokenizer.ggml.token_type_count": ["u32", 2]},
    "jina-bert-v3": {"tokenizer.ggml.token_type_count": ["u32", 2]},
    "gemma4": {"{arch}.attention.sliding_window_pattern": ["bool[]", [True, True, True, True, False] * 2]},
    "gemma4-assistant": {"{arch}.attention.sliding_window_pattern": ["bool[]", [True, True, True, True, False] * 2]},
    "deepseek2-ocr": {"{arch}.expert_feed_forward_length": ["u32", 192], "{arch}.expert_count": ["u32", 4],
                      "{arch}.expert_used_count": ["u32", 2], "{arch}.expert_shared_count": ["u32", 1]},
    "eagle3": {"{arch}.target_layers": ["i32[]", [0, 1, 2]], "{arch}.target_hidden_size": ["u32", 256]},
    "dflash": {"{arch}.target_layers": ["i32[]", [0, 1]], "{arch}.target_hidden_size": ["u32", 256]},
}
# ARWKV-7 and RWKV6-Qwen2 keep one token shift (their graphs assert n_embd == n_embd_r)
EXTRA["arwkv7"] = dict(EXTRA["rwkv7"], **{"{arch}.token_shift_count": ["u32", 1]})
EXTRA["rwkv6qwen2"] = {"{arch}.token_shift_count": ["u32", 1]}
LAYERS = {"gemma4": 10, "gemma4-assistant": 10}

# llama.cpp's fixture gives every architecture `sliding_window_pattern = 2`, which overrides the period
# llama.cpp hard-codes per architecture; real files rarely carry the key, so it is removed (the hard-coded
# period then applies) except where the fixture gives a per-layer array the architecture requires.
PATTERN_ARRAYS = {"cohere2moe", "mimo2", "step35", "spark2_5", "muse-glimmer", "granite_swa", "dots3note", "maple",
                  "gemma4", "gemma4-assistant"}

# Architectures whose fixture needs its own layer count (llama.cpp hard-codes a layer pattern for them;
# test-llama-archs.cpp says why): keep the fixture's.
KEEP_LAYERS = {"gemma3n", "hrm-text", "llama4", "nemotron_h", "nemotron_h_moe"}


def _full(arch: str, vocab: int, ctx: int, embd: int, layers: int, heads, kv, ff, moe: bool = False, **keys) -> dict:
    """A full-size geometry after a published config: llama.cpp's fixture with the model's sizes; the
    tokenizer is replaced by llama.cpp's "none" vocabulary of `vocab` tokens (sizes only depend on it)."""
    typ = lambda v: ["u32[]", v] if isinstance(v, list) else ["u32", v]  # noqa: E731
    st = {"tokenizer.ggml.model": ["str", "none"], "{arch}.vocab_size": ["u32", vocab],
          "{arch}.context_length": ["u32", ctx], "{arch}.embedding_length": ["u32", embd],
          "{arch}.attention.head_count": typ(heads), "{arch}.attention.head_count_kv": typ(kv),
          "{arch}.feed_forward_length": typ(ff)}
    for k, v in keys.items():
        key = "{arch}." + k.replace("__", ".")
        st[key] = v if isinstance(v, list) and v and isinstance(v[0], str) else typ(v)
    return {"arch": arch, "moe": moe, "n_layer": layers, "quant": "q4_K", "set": st,
            "remove": ["tokenizer.ggml.tokens", "tokenizer.ggml.scores", "{arch}.attention.sliding_window_pattern"]}


# Full-size geometries of models people run, after their published configs (Hugging Face config.json;
# sizes as published, everything else llama.cpp's fixture): the rules at real scale, where the logits
# and the KV cache dominate. Weights are Q4_K where rows allow (a sparse file: nothing is written).
FULL = {
    "full-command-r7b": _full("cohere2", 256000, 131072, 4096, 32, 32, 8, 14336, attention__sliding_window=4096),
    "full-exaone4-32b": _full("exaone4", 102400, 131072, 5120, 64, 40, 8, 27392, attention__key_length=128,
                              attention__value_length=128, attention__sliding_window=4096),
    "full-llama4-scout": _full("llama4", 202048, 10485760, 5120, 48, 40, 8, 16384, moe=True, attention__key_length=128,
                               attention__value_length=128, rope__dimension_count=128, expert_feed_forward_length=8192,
                               expert_count=16, expert_used_count=1, interleave_moe_layer_step=1),
    "full-falcon-h1-1.5b": _full("falcon-h1", 65537, 131072, 2048, 24, 8, 2, 8192, attention__key_length=128,
                                 attention__value_length=128, rope__dimension_count=128, ssm__inner_size=3072,
                                 ssm__state_size=256, ssm__group_count=1, ssm__conv_kernel=4, ssm__time_step_rank=24),
    "full-lfm2-1.2b": _full("lfm2", 65536, 128000, 2048, 16, 32, [0, 0, 8, 0, 0, 8, 0, 0, 8, 0, 8, 0, 8, 0, 8, 0], 8192,
                            shortconv__l_cache=3),
    "full-glm4.5-air": _full("glm4moe", 151552, 131072, 4096, 46, 96, 8, 10944, moe=True, attention__key_length=128,
                             attention__value_length=128, rope__dimension_count=64, expert_feed_forward_length=1408,
                             expert_count=128, expert_used_count=8, expert_shared_count=1, leading_dense_block_count=1),
    "full-phi4": _full("phi3", 100352, 16384, 5120, 40, 40, 10, 17920, rope__dimension_count=128),
    "full-smollm3-3b": _full("smollm3", 128256, 65536, 2048, 36, 16, 4, 11008, rope__dimension_count=128),
    "full-olmo2-7b": _full("olmo2", 100352, 4096, 4096, 32, 32, 32, 11008, rope__dimension_count=128),
    "full-seed-oss-36b": _full("seed_oss", 155136, 524288, 5120, 64, 80, 8, 27648, attention__key_length=128,
                               attention__value_length=128, rope__dimension_count=128),
    "full-ernie4.5-21b-a3b": _full("ernie4_5-moe", 103424, 131072, 2560, 28, 20, 4, 12288, moe=True,
                                   attention__key_length=128, attention__value_length=128, rope__dimension_count=128,
                                   expert_feed_forward_length=1536, expert_count=64, expert_used_count=6,
                                   expert_shared_count=2, leading_dense_block_count=1, interleave_moe_layer_step=1),
    "full-minimax-m2": _full("minimax-m2", 200064, 196608, 3072, 62, 48, 8, 1536, moe=True, attention__key_length=128,
                             attention__value_length=128, rope__dimension_count=64, expert_feed_forward_length=1536,
                             expert_count=256, expert_used_count=8),
    "full-hunyuan-a13b": _full("hunyuan-moe", 128167, 262144, 4096, 32, 32, 8, 3072, moe=True, attention__key_length=128,
                               attention__value_length=128, rope__dimension_count=128, expert_feed_forward_length=3072,
                               expert_count=64, expert_used_count=8, expert_shared_count=1),
    "full-granite3.3-8b": _full("granite", 49159, 131072, 4096, 40, 32, 8, 12800, rope__dimension_count=128),
    "full-bge-m3": _full("bert", 250002, 8192, 1024, 24, 16, 16, 4096),
    "full-deepseek-v3.2": _full("deepseek32", 129280, 163840, 7168, 61, 128, 1, 18432, moe=True,
                                attention__key_length=576, attention__value_length=512, attention__key_length_mla=192,
                                attention__value_length_mla=128, attention__q_lora_rank=1536,
                                attention__kv_lora_rank=512, rope__dimension_count=64, expert_feed_forward_length=2048,
                                expert_count=256, expert_used_count=8, expert_shared_count=1,
                                leading_dense_block_count=3, attention__indexer__head_count=64,
                                attention__indexer__key_length=128, attention__indexer__top_k=2048),
}
FULL["full-bge-m3"]["set"]["tokenizer.ggml.token_type_count"] = ["u32", 1]


def full_cases() -> list[dict]:
    base = dict(n_ctx=4096, n_seq_max=1, n_batch=2048, n_ubatch=512, type_k="f16", type_v="f16",
                flash_attn="on", swa_full=False, kv_unified=False, load="noalloc", load_mtp=False)
    cases = [dict(base, n_ctx=c, type_k=tk, type_v=tv, flash_attn=fa)
             for c in (4096, 32768, 131072) for tk, tv, fa in (("f16", "f16", "on"), ("f16", "f16", "off"), ("q8_0", "q8_0", "on"))]
    cases.append(dict(base, n_ctx=32768, n_seq_max=4, kv_unified=True))
    cases.append(dict(base, n_ctx=131072, swa_full=True))
    return cases


def not_generated(model_id: str, out: Path, extra: dict, res: dict) -> dict:
    """The record of a model llama.cpp would not build from its metadata, with its reason."""
    out.unlink(missing_ok=True)
    return {"schema_version": run.SCHEMA_VERSION, "generator": "scripts/oracle/archs.py", "id": f"arch-{model_id}",
            "llama_cpp": None, "model": dict(extra, kind="arch-fixture", file_name=out.name), "ok": False,
            "error_stage": "generate", "error": res.get("error", "?")[-1500:], "log": [res.get("log", "")[-1500:]],
            "cases": []}


def run_cases(oracle: Path, model_id: str, out: Path, extra: dict, qs, jobs: int, cases: list[dict]) -> dict:
    """The oracle over a sparse full-length copy of the generated header `out`."""
    sp = run.SPARSE_DIR / "archs" / out.name
    desc = run.make_sparse(out, sp, qs)
    extra = dict(extra, fixture=run.rel(out), fixture_sha256=run.sha256(out), fixture_size=out.stat().st_size,
                 full_size=desc["full_size"])
    doc = run.run_model(oracle, f"arch-{model_id}", sp, "arch-fixture", extra, jobs, True, False, cases=cases)
    sp.unlink(missing_ok=True)
    doc["generator"] = "scripts/oracle/archs.py"
    for c in doc.get("cases", []):
        c.pop("log_context", None)   # the MiB log lines: kept for the repo fixtures, too bulky here
    return doc


def record_full(oracle: Path, gen: Path, model_id: str, spec: dict, qs, jobs: int) -> dict:
    out = ARCH_DIR / f"{model_id}.gguf"
    ARCH_DIR.mkdir(parents=True, exist_ok=True)
    spec = dict(spec, out=str(out))
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
    p = subprocess.run([str(gen), "gen", f.name], capture_output=True, text=True)
    os.unlink(f.name)
    extra = {"generator": "scripts/oracle/archs.py", "gen_version": GEN_VERSION, "arch_requested": spec["arch"],
             "moe": spec["moe"], "spec": {k: v for k, v in spec.items() if k != "out"}}
    try:
        res = json.loads(p.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        res = {"ok": False, "error": f"oracle_gen exited {p.returncode}: {p.stderr.strip()[-1500:]}"}
    if not res.get("ok"):
        return not_generated(model_id, out, extra, res)
    return run_cases(oracle, model_id, out, extra, qs, jobs, full_cases())


def arch_cases() -> list[dict]:
    base = dict(n_ctx=4096, n_seq_max=1, n_batch=2048, n_ubatch=512, type_k="f16", type_v="f16",
                flash_attn="on", swa_full=False, kv_unified=False, load="noalloc", load_mtp=False)
    cases = []
    for n_ctx in (4096, 32768):
        for np_, unified in ((1, False), (4, False), (4, True)):
            for tk, tv, fa in (("f16", "f16", "on"), ("f16", "f16", "off"), ("q8_0", "q8_0", "on")):
                cases.append(dict(base, n_ctx=n_ctx, n_seq_max=np_, kv_unified=unified, type_k=tk, type_v=tv,
                                  flash_attn=fa))
    cases.append(dict(base, n_ctx=32768, swa_full=True))
    cases.append(dict(base, n_ctx=10000, n_seq_max=3))
    cases.append(dict(base, n_ubatch=256, flash_attn="off"))
    cases.append(dict(base, n_batch=1024, n_ubatch=1024))
    return cases


def gen_path() -> Path:
    p = Path(os.environ.get("ORACLE_GEN", run.CACHE / f"build-{run.SDIST_VERSION}/oracle_gen"))
    if not p.exists():
        sys.exit(f"oracle_gen not found at {p}; run scripts/oracle/build.sh")
    return p


def plan(gen: Path) -> list[tuple[str, str, bool]]:
    out = []
    for line in subprocess.run([str(gen), "list"], capture_output=True, text=True, check=True).stdout.splitlines():
        a = json.loads(line)
        for moe in a["moe_variants"]:
            suffix = "-moe" if moe and len(a["moe_variants"]) > 1 else ""
            out.append((a["arch"] + suffix, a["arch"], moe))
    return out


def generate(gen: Path, arch: str, moe: bool, out: Path) -> tuple[dict, dict]:
    """Tries SPEC, then the fixture's own layers, then F32 weights. Returns (spec used, oracle_gen result)."""
    attempts = []
    full = dict(SPEC, arch=arch, moe=moe, out=str(out))
    full["set"] = dict(SPEC["set"], **EXTRA.get(arch, {}))
    if arch not in PATTERN_ARRAYS:
        full["remove"] = ["{arch}.attention.sliding_window_pattern"]
    if arch in KEEP_LAYERS:
        full.pop("n_layer")
    if arch in LAYERS:
        full["n_layer"] = LAYERS[arch]
    attempts.append(full)
    attempts.append({k: v for k, v in full.items() if k != "n_layer"})
    attempts.append(dict(arch=arch, moe=moe, out=str(out), quant="q8_0", set=EXTRA.get(arch, {})))
    attempts.append(dict(arch=arch, moe=moe, out=str(out), set=EXTRA.get(arch, {})))
    last = {}
    for spec in attempts:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(spec, f)
        p = subprocess.run([str(gen), "gen", f.name], capture_output=True, text=True)
        os.unlink(f.name)
        try:
            last = json.loads(p.stdout.strip().splitlines()[-1])
        except (json.JSONDecodeError, IndexError):
            last = {"ok": False, "error": f"oracle_gen exited {p.returncode}: {p.stderr.strip()[-1500:]}"}
        if last.get("ok"):
            # the caller resumes the generator only when llama.cpp cannot run what was generated
            yield spec, last
    yield None, last


def record(oracle: Path, gen: Path, model_id: str, arch: str, moe: bool, qs, jobs: int) -> dict:
    out = ARCH_DIR / f"{model_id}.gguf"
    ARCH_DIR.mkdir(parents=True, exist_ok=True)
    extra = {"generator": "scripts/oracle/archs.py", "gen_version": GEN_VERSION, "arch_requested": arch, "moe": moe}
    doc = None
    for spec, res in generate(gen, arch, moe, out):
        if spec is None and doc is not None:
            break   # generated, but llama.cpp cannot run it in any form: keep the last oracle record
        if spec is None:
            return not_generated(model_id, out, extra, res)
        doc = run_cases(oracle, model_id, out, dict(extra, spec={k: v for k, v in spec.items() if k != "out"}), qs, jobs,
                        arch_cases())
        if doc.get("ok") and any(c["ok"] for c in doc["cases"]):
            break
        # llama.cpp generated it but cannot run it (e.g. the graph asserts on Q8_0): next attempt
    return doc


def write_compact(out_dir: Path, doc: dict) -> None:
    """One line per top-level key and per case: 160 of these files stay small and diff well."""
    out_dir.mkdir(parents=True, exist_ok=True)
    p = out_dir / f"{doc['id']}.json"
    c = lambda v: json.dumps(v, separators=(",", ":"))  # noqa: E731
    lines = []
    for k, v in doc.items():
        if k == "cases":
            body = ",\n".join("  " + c(x) for x in v)
            lines.append(f"{c(k)}:[\n{body}\n]" if v else f"{c(k)}:[]")
        else:
            lines.append(f"{c(k)}:{c(v)}")
    p.write_text("{\n" + ",\n".join(lines) + "\n}\n")
    print(f"wrote {run.rel(p)} ({p.stat().st_size} bytes)", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=run.REPO / "fixtures/oracle")
    ap.add_argument("--only", action="append")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    gen = gen_path()
    items = plan(gen)
    full = list(FULL)
    if args.only:
        items = [x for x in items if any(o in x[0] for o in args.only)]
        full = [x for x in full if any(o in x for o in args.only)]
    if args.list:
        for model_id, arch, moe in items:
            print(model_id, arch, "moe" if moe else "dense")
        for model_id in full:
            print(model_id, FULL[model_id]["arch"], "full-size")
        return
    oracle = run.oracle_path()
    qs = run._quant_sizes()
    t0 = time.time()
    for model_id, arch, moe in items:
        print(f"== arch-{model_id}", file=sys.stderr)
        doc = record(oracle, gen, model_id, arch, moe, qs, args.jobs)
        write_compact(args.out, doc)
    for model_id in full:
        print(f"== arch-{model_id}", file=sys.stderr)
        write_compact(args.out, record_full(oracle, gen, model_id, FULL[model_id], qs, args.jobs))
    print(f"done in {time.time() - t0:.0f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
