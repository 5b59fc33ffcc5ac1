#!/usr/bin/env python3
"""Generates src/model/arch/llama_cpp.rs: per architecture, the memory rules llama.cpp applies.

For every architecture llama.cpp maps to a model class (src/llama-model.cpp `llama_model_mapping`), this
reads the class's `load_arch_hparams` (src/models/*.cpp) and llama.cpp's memory factory
(`llama_model::create_memory`, and `llm_arch_is_recurrent/hybrid` in src/llama-arch.cpp) and records:

  * which memory module llama.cpp creates: none (embedding / diffusion models), KV cache (with a
    sliding-window cache when the model slides), recurrent state, hybrid (which layers go to which
    part), or a sparse-attention cache gguf-meter does not size yet;
  * which layers slide and over how many tokens: the swa type, llama.cpp's hard-coded pattern period
    and `dense_first`, whether a `sliding_window_pattern` array is required, the default window, and
    whether sliding is switched on only by a positive `sliding_window`;
  * which layers are recurrent: all, those with 0 KV heads (and, for Nemotron-H, 0 FFN), the
    `full_attention_interval` rule with its default, or all layers alongside attention (Falcon-H1);
  * layers whose KV is shared with earlier ones (`n_layer_kv_from_start`);
  * non-causal attention.

The parse looks for the idioms llama.cpp uses for these; an architecture whose code says something the
parse does not understand gets `exotic` (gguf-meter then says its figures for that model are unverified).
When llama.cpp moves, rerun this and `git diff` shows what changed:

    python3 scripts/gen_arch_rules.py [LLAMA_CPP_DIR]   (default: the oracle cache's unpacked sdist)
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SRC = Path.home() / ".cache/gguf-meter/llama.cpp/src/llama_cpp_python-0.3.36/vendor/llama.cpp"
OUT = REPO / "src/model/arch/llama_cpp.rs"


def func_body(text: str, start: int) -> str:
    i = text.index("{", start)
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i:j + 1]
    raise ValueError("unbalanced")


def switch_cases(body: str) -> list[str]:
    return re.findall(r"case (LLM_ARCH_\w+):", body)


def no_cache_graph(cls: str, models_h: str, model_files, parents) -> bool:
    """True when the class's graph attends without the KV cache (`build_attn_inp_no_cache`) although a
    cache is allocated: the `graph<true>` instantiations of llama.cpp's embedding and encoder variants."""
    owner, graph_true = cls, False
    for f, t in model_files:
        m = re.search(cls + r"::build_arch_graph\(", t)
        if m and "graph<true>" in func_body(t, m.end()):
            graph_true = True
    st = re.search(r"struct " + cls + r"\b[^{]*\{(.*?)\n\};", models_h, re.S)
    if st:
        u = re.search(r"using graph = (llama_model_\w+)::graph<true>", st.group(1))
        if u:
            owner, graph_true = u.group(1), True
    if not graph_true:
        return False
    look = owner
    while look:
        for f, t in model_files:
            spec = re.search(look + r"::graph<true>::graph\(", t)
            if spec:
                return "build_attn_inp_no_cache" in func_body(t, spec.end())
            tpl = re.search(r"template <bool (\w+)>\s*\n" + look + r"::graph<\1>::graph\(", t)
            if tpl:
                return bool(re.search(r"conditional_t<" + tpl.group(1) + r",\s*llm_graph_input_attn_no_cache", t))
        look = parents.get(look)
    return False


def main() -> None:
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SRC
    arch_cpp = (src / "src/llama-arch.cpp").read_text()
    model_cpp = (src / "src/llama-model.cpp").read_text()

    names = dict(re.findall(r"\{\s*(LLM_ARCH_\w+),\s*\"([^\"]+)\"\s*\}", arch_cpp))
    kv_names = dict(re.findall(r"\{\s*(LLM_KV_\w+),\s*\"([^\"]+)\"\s*\}", arch_cpp))

    def arch_set(func: str) -> set[str]:
        m = re.search(r"bool " + func + r"\(const llm_arch & arch\)", arch_cpp)
        return set(switch_cases(func_body(arch_cpp, m.end())))

    recurrent = arch_set("llm_arch_is_recurrent")
    diffusion = arch_set("llm_arch_is_diffusion")
    hybrid = arch_set("llm_arch_is_hybrid")

    mapping_body = func_body(model_cpp, model_cpp.index("static llama_model * llama_model_mapping("))
    classes: dict[str, str] = {}
    pending: list[str] = []
    for line in mapping_body.splitlines():
        for a in re.findall(r"case (LLM_ARCH_\w+):", line):
            pending.append(a)
        m = re.search(r"return new (llama_model_\w+)\(", line)
        if m:
            for a in pending:
                classes[a] = m.group(1)
            pending = []

    cm = model_cpp.index("llama_memory_i * llama_model::create_memory(")
    cm_body = func_body(model_cpp, cm)
    # The case labels before `res = nullptr`: models without a cache.
    no_cache: set[str] = set()
    special: set[str] = set()
    top = cm_body[cm_body.index("switch (arch)"):cm_body.index("default:")]
    groups = list(re.finditer(r"((?:\s*case LLM_ARCH_\w+:)+)\s*\{", top))
    for i, g in enumerate(groups):
        labels = re.findall(r"case (LLM_ARCH_\w+):", g.group(1))
        blk = top[g.end(): groups[i + 1].start() if i + 1 < len(groups) else len(top)]
        first = blk.split("break;", 1)[0]
        if "res = nullptr" in first and "new " not in first:
            no_cache.update(labels)
        else:
            special.update(labels)
    default_part = cm_body[cm_body.index("default:"):]
    falcon_all = "LLM_ARCH_FALCON_H1" if re.search(r"arch == LLM_ARCH_FALCON_H1\)\s*\{\s*filter_attn = \[&\]\(uint32_t\) \{ return true; \}", default_part) else None
    nemo = set(re.findall(r"(LLM_ARCH_NEMOTRON_H\w*)", default_part.split("filter_attn = [&](uint32_t il) {\n                            return !hparams.is_recr(il) && hparams.n_ff(il) == 0;")[0][-300:]))
    reuse_archs = set(re.findall(r"arch == (LLM_ARCH_\w+)", default_part[default_part.index("reuse = nullptr"):default_part.index("reuse = [&]")]))

    model_files = [(f, f.read_text()) for f in sorted((src / "src/models").glob("*.cpp"))]
    models_h = (src / "src/models/models.h").read_text()
    parents = dict(re.findall(r"struct (llama_model_\w+)\s*:\s*public (llama_model_\w+)", (src / "src/models/models.h").read_text()))
    rows = []
    for arch, name in names.items():
        if arch in ("LLM_ARCH_UNKNOWN",):
            continue
        cls = classes.get(arch)
        row = dict(name=name, cls=cls, memory="kv", swa="none", swa_ty="None", period=0, dense_first=False,
                   window_default=None, swa_cond=False, recr="none", interval_default=0,
                   kv_from_start="none", kv_from_start_n=0, causal=True, la_head_k=False, no_cache_graph=False, diffusion=False, reads=[], window_fixed=False, loops=False, exotic=[])
        if cls is None:
            row["memory"] = "unsupported"
            rows.append(row)
            continue
        if arch in no_cache:
            row["memory"] = "none"
        elif arch in special:
            row["memory"] = "special"
        elif arch in recurrent:
            row["memory"] = "recurrent"
        elif arch in hybrid:
            row["memory"] = "hybrid"
        if arch in recurrent:
            row["recr"] = "all"
        row["no_cache_graph"] = no_cache_graph(cls, models_h, model_files, parents)
        row["diffusion"] = arch in diffusion
        if row["memory"] == "hybrid":
            if arch == falcon_all:
                row["hybrid"] = "all_both"
            elif arch in nemo:
                row["hybrid"] = "no_ffn_only"
            else:
                row["hybrid"] = "by_recurrent"
        # the class's load_arch_hparams (a class may be shared by several architectures)
        stem = cls[len("llama_model_"):]
        body = None
        look = cls
        while body is None and look:
            for f, t in model_files:
                m = re.search(r"void " + look + r"::load_arch_hparams\(", t)
                if m:
                    body = func_body(t, m.end())
                    row["file"] = f.name
                    break
            look = parents.get(look) if body is None else look
        if body is None:
            row["exotic"].append(f"no load_arch_hparams for {cls}")
            rows.append(row)
            continue
        code = re.sub(r"//[^\n]*", "", body)
        tys = re.findall(r"swa_type\s*=\s*LLAMA_SWA_TYPE_(STANDARD|CHUNKED|SYMMETRIC)", code)
        if tys:
            row["swa_ty"] = tys[0].capitalize()
            pat = re.search(r"load_swa_pattern\(ml,\s*(\d+)\s*(?:,\s*(?:/\*[^*]*\*/\s*)?(true|false))?\)", code)
            if pat:
                row["swa"] = "pattern"
                row["period"] = int(pat.group(1))
                row["dense_first"] = pat.group(2) == "true"
            elif re.search(r"get_arr\(LLM_KV_ATTENTION_SLIDING_WINDOW_PATTERN,\s*hparams\.is_swa_impl\)", code):
                row["swa"] = "array"
            elif re.search(r"set_swa_pattern\(0\)", code):
                row["swa"] = "all"
            elif re.search(r"is_swa_impl\[il\]\s*=\s*!hparams\.is_recr_impl\[il\]", code):
                row["swa"] = "not_recurrent"
            else:
                row["exotic"].append("sliding-window layers set in code")
                row["swa"] = "unknown"
            d = re.search(r"hparams\.n_swa\s*=\s*(\d+)", code)
            if d and int(d.group(1)) > 0:
                row["window_default"] = int(d.group(1))
                keys = [m.start() for m in re.finditer(r"get_key\(LLM_KV_ATTENTION_SLIDING_WINDOW,", code)]
                # assigned after the key was read: the key only switches sliding on or off (Llama 4)
                row["window_fixed"] = bool(keys) and d.start() > max(keys)
            row["swa_cond"] = bool(re.search(r"n_swa\s*>\s*0", code))
            if re.search(r"n_swa\s*==\s*0", code) and row["swa_ty"] == "Chunked":
                row["swa_cond"] = "zero_disables"
            lc = re.search(r"if \(hparams\.n_layer\(\) == (\d+)\)\s*\{[^}]*swa_type", code)
            if lc:
                row["swa_cond"] = ("layer_count", int(lc.group(1)))
        if re.search(r"is_recr_impl\[\w+\]\s*=\s*(?:\(?\w+ < hparams\.n_layer\(\)\s*&&\s*)?hparams\.n_head_kv\(\w+\)\s*==\s*0\s*&&\s*hparams\.n_ff", code):
            row["recr"] = "kv_heads_and_ff_zero"
        elif re.search(r"is_recr_impl\[\w+\]\s*=\s*hparams\.n_head_kv\(\w+\)\s*==\s*0", code):
            row["recr"] = "kv_heads_zero"
        elif "LLM_KV_ATTENTION_RECURRENT_LAYERS" in code:
            row["recr"] = "interval"
            d = re.search(r"full_attn_interval\s*=\s*(\d+)", code)
            row["interval_default"] = int(d.group(1)) if d else 4
        elif re.search(r"std::fill\(hparams\.is_recr_impl\.begin\(\),\s*hparams\.is_recr_impl\.end\(\),\s*true\)", code):
            row["recr"] = "all"
        elif "LLM_KV_NUM_LOOPS" in code and "is_recr_impl[dst]" in code:
            row["loops"] = True
        elif "is_recr_impl" in code:
            row["exotic"].append("recurrent layers set in code")
        k = re.search(r"n_layer_kv_from_start\s*=\s*(\d+)\s*;", code)
        if k:
            row["kv_from_start"], row["kv_from_start_n"] = "fixed", int(k.group(1))
        elif "n_layer_kv_from_start" in code:
            row["kv_from_start"] = "shared_key" if "n_kv_shared_layers" in code else "unknown"
        state_keys = ["LLM_KV_WKV_HEAD_SIZE", "LLM_KV_TOKEN_SHIFT_COUNT", "LLM_KV_SHORTCONV_L_CACHE", "LLM_KV_KDA_HEAD_DIM",
                      "LLM_KV_SSM_CONV_KERNEL", "LLM_KV_SSM_INNER_SIZE", "LLM_KV_SSM_STATE_SIZE", "LLM_KV_SSM_GROUP_COUNT",
                      "LLM_KV_SSM_TIME_STEP_RANK", "LLM_KV_ATTENTION_KEY_LENGTH_MLA", "LLM_KV_ATTENTION_VALUE_LENGTH_MLA"]
        row["reads"] = [kv_names[k].replace("%s.", "") for k in state_keys if re.search(k + r"\b", code) and k in kv_names]
        if re.search(r"causal_attn\s*=\s*false", code):
            row["causal"] = False
        if re.search(r"n_embd_head_la\s*=\s*hparams\.n_embd_head_k_full", code):
            row["la_head_k"] = True
        if row["kv_from_start"] != "none" and arch not in reuse_archs:
            row["exotic"].append("kv_from_start without reuse")
        rows.append(row)

    emit(rows, kv_names)


def emit(rows, kv_names) -> None:
    def opt(v):
        return "None" if v is None else f"Some({v})"

    out = [
        "// Generated by scripts/gen_arch_rules.py from llama.cpp's source. Do not edit: rerun the script.",
        "//! llama.cpp's memory rules per architecture (see `scripts/gen_arch_rules.py` for what each field means).",
        "",
        "use super::rules::{Hybrid, Memory, Recr, Rule, Swa, SwaType};",
        "",
        "/// One entry per architecture llama.cpp knows, sorted by name (one line each, as generated: rustfmt",
        "/// leaves it so that rerunning the script diffs cleanly).",
        "#[rustfmt::skip]",
        "pub const RULES: &[Rule] = &[",
    ]
    for r in sorted(rows, key=lambda r: r["name"]):
        mem = {"kv": "Memory::Kv", "none": "Memory::None", "recurrent": "Memory::Recurrent",
               "special": "Memory::Special", "unsupported": "Memory::Unsupported"}.get(r["memory"])
        if r["memory"] == "hybrid":
            mem = {"all_both": "Memory::Hybrid(Hybrid::AllBoth)", "no_ffn_only": "Memory::Hybrid(Hybrid::NoFfnOnly)",
                   "by_recurrent": "Memory::Hybrid(Hybrid::ByRecurrent)"}[r["hybrid"]]
        swa = {
            "none": "Swa::None",
            "pattern": f"Swa::Pattern {{ period: {r['period']}, dense_first: {str(r['dense_first']).lower()} }}",
            "array": "Swa::Array",
            "all": "Swa::All",
            "not_recurrent": "Swa::NotRecurrent",
            "unknown": "Swa::Unknown",
        }[r["swa"]]
        recr = {"none": "Recr::None", "all": "Recr::All", "kv_heads_zero": "Recr::KvHeadsZero",
                "kv_heads_and_ff_zero": "Recr::KvHeadsAndFfZero",
                "interval": f"Recr::Interval({r['interval_default']})"}[r["recr"]]
        kvs = {"none": "None", "fixed": f"Some(KvFromStart::Fixed({r['kv_from_start_n']}))",
               "shared_key": "Some(KvFromStart::SharedKey)", "unknown": "None"}[r["kv_from_start"]]
        cond = r["swa_cond"]
        if isinstance(cond, tuple):
            cond_s = f"SwaSwitch::LayerCount({cond[1]})"
        else:
            cond_s = "SwaSwitch::ZeroDisables" if cond == "zero_disables" else ("SwaSwitch::PositiveWindow" if cond else "SwaSwitch::Always")
        out.append(
            f"    Rule {{ arch: {r['name']!r}, memory: {mem}, swa_type: SwaType::{r['swa_ty']}, swa: {swa}, "
            f"swa_switch: {cond_s}, window_default: {opt(r['window_default'])}, window_fixed: {str(r['window_fixed']).lower()}, "
            f"recr: {recr}, kv_from_start: {kvs}, causal: {str(r['causal']).lower()}, "
            f"la_head_k: {str(r['la_head_k']).lower()}, no_cache_graph: {str(r['no_cache_graph']).lower()}, diffusion: {str(r['diffusion']).lower()}, reads: &[{', '.join(chr(34) + k + chr(34) for k in r['reads'])}], loops: {str(r['loops']).lower()}, exotic: {str(bool(r['exotic'])).lower()} }},".replace("'", '"'))
    out.append("];")
    text = "\n".join(out) + "\n"
    text = text.replace("use super::rules::{Hybrid, Memory, Recr, Rule, Swa, SwaType};",
                        "use super::rules::{Hybrid, KvFromStart, Memory, Recr, Rule, Swa, SwaSwitch, SwaType};")
    OUT.write_text(text)
    print(f"wrote {OUT} ({len(rows)} architectures)", file=sys.stderr)
    for r in rows:
        if r["exotic"]:
            print(f"  {r['name']}: {', '.join(r['exotic'])}", file=sys.stderr)


if __name__ == "__main__":
    main()
