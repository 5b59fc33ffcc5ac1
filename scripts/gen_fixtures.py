#!/usr/bin/env python3
"""Generate header-only GGUF fixtures for gguf-meter.

Run:  python3 scripts/gen_fixtures.py          (writes into fixtures/ next to this script's parent)

Every "good" fixture carries the metadata keys, tensor names, shapes and ggml types a real
file of that model would have, and tensor-info offsets laid out exactly as a real writer does
(each tensor at the previous offset + size padded to general.alignment, default 32).  The file
ends right after the header plus its padding to the alignment, i.e. where the tensor data would
begin - like a download that has just started.  There is NO tensor data.

Deliberate simplifications (documented in fixtures/README.md):
  * tokenizer.ggml.tokens holds only 8 tokens (real vocab arrays are MBs); the real vocabulary
    size is visible in the token_embd / output tensor shapes (and in {arch}.vocab_size where the
    real converter writes that key).  No token_type / scores / merges arrays, no chat template.
  * general.* metadata is reduced to a few keys.

Sources for geometry (llama.cpp tree vendored in llama-cpp-python 0.3.36, called "llama.cpp/"):
  * tensor names / key strings : llama.cpp/src/llama-arch.cpp
  * tensor shapes              : llama.cpp/src/models/<arch>.cpp (load_arch_tensors)
  * which tensors/keys are written, converter dtypes: llama.cpp/conversion/*.py, base.py
  * quantization mix           : llama.cpp/src/llama-quant.cpp (Q4_K_M, Q8_0, MXFP4_MOE rules)
  * tensor order in a quantized file: llama-quantize iterates llama_model_loader::weights_map,
    a std::map ordered by weight_name_comparer (layer number, then name); non-block tensors
    (layer -1) first.  llama-model-loader.h.
  * KV order in a quantized file: gguf_set_val_* removes then appends a key, so
    general.quantization_version and general.file_type end up last (llama-quant.cpp, gguf.cpp).
  * split files: tools/gguf-split/gguf-split.cpp.
Hyperparameters: published HF config.json values (cited per model below).

The script is deterministic: no timestamps, no randomness, fixed ordering.
"""
from __future__ import annotations

import os
import re
import struct
import sys
from dataclasses import dataclass, field

from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType as T

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures")
BROKEN = os.path.join(OUT, "broken")

# --------------------------------------------------------------------------------------------
# GGUF value types (gguf.cpp / gguf-py constants)
U8, I8, U16, I16, U32, I32, F32V, BOOL, STR, ARR, U64, I64, F64 = range(13)

ALIGN = 32  # GGUF_DEFAULT_ALIGNMENT

# llama_ftype values (include/llama.h)
FTYPE_F16 = 1
FTYPE_Q4_0 = 2
FTYPE_Q8_0 = 7
FTYPE_Q4_K_M = 15
FTYPE_MXFP4_MOE = 38
GGML_QNT_VERSION = 2


@dataclass
class TI:
    name: str
    ne: list[int]          # ggml order: ne[0] is the row length
    type: int = 0
    offset: int = 0


@dataclass
class GGUF:
    kv: list = field(default_factory=list)      # (key, vtype, value) ; arrays: (key, ARR, (elem_vtype, [values]))
    tensors: list = field(default_factory=list)
    version: int = 3
    endian: str = "<"
    alignment: int = ALIGN

    def add(self, key, vtype, value):
        for i, (k, _, _) in enumerate(self.kv):
            if k == key:
                raise ValueError(f"duplicate key {key}")
        self.kv.append((key, vtype, value))

    def set_append(self, key, vtype, value):
        """gguf_set_val_* semantics: remove the key if present, then append it at the end."""
        self.kv = [e for e in self.kv if e[0] != key]
        self.kv.append((key, vtype, value))


def tensor_nbytes(ne, ttype):
    blk, tsz = GGML_QUANT_SIZES[T(ttype)]
    assert ne[0] % blk == 0, (ne, ttype)
    n = ne[0] // blk * tsz
    for d in ne[1:]:
        n *= d
    return n


def pad(n, a):
    return (n + a - 1) // a * a


# ---------------------------------------------------------------------------- serialisation
class W:
    def __init__(self, endian="<"):
        self.e = endian
        self.b = bytearray()

    def p(self, fmt, *v):
        self.b += struct.pack(self.e + fmt, *v)

    def s(self, x: str | bytes):
        x = x.encode() if isinstance(x, str) else x
        self.p("Q", len(x))
        self.b += x

    def val(self, vt, v):
        if vt == STR:
            self.s(v)
        elif vt == ARR:
            et, items = v
            self.p("I", et)
            self.p("Q", len(items))
            for it in items:
                self.val(et, it)
        else:
            fmt = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32V: "f",
                   BOOL: "?", U64: "Q", I64: "q", F64: "d"}[vt]
            self.p(fmt, v)


def layout(g: GGUF):
    """Assign offsets exactly as gguf writers do: sequential, each padded to the alignment."""
    off = 0
    for t in g.tensors:
        t.offset = off
        off += pad(tensor_nbytes(t.ne, t.type), g.alignment)
    return off  # total size of the data section


def serialize(g: GGUF, do_layout=True, marks=None):
    """Return header bytes (incl. padding to the alignment).  marks: dict filled with byte
    positions of interesting fields (used to document the broken fixtures)."""
    if do_layout:
        layout(g)
    w = W(g.endian)
    w.b += b"GGUF"                       # magic is always the 4 bytes 'G','G','U','F'
    w.p("I", g.version)
    w.p("Q", len(g.tensors))
    w.p("Q", len(g.kv))
    if marks is not None:
        marks["kv_start"] = len(w.b)
    for i, (k, vt, v) in enumerate(g.kv):
        if marks is not None:
            marks[f"kv{i}"] = len(w.b)
        w.s(k)
        if marks is not None:
            marks[f"kv{i}_type"] = len(w.b)
        w.p("I", vt)
        w.val(vt, v)
    if marks is not None:
        marks["ti_start"] = len(w.b)
    for i, t in enumerate(g.tensors):
        if marks is not None:
            marks[f"ti{i}"] = len(w.b)
        w.s(t.name)
        if marks is not None:
            marks[f"ti{i}_ndims"] = len(w.b)
        w.p("I", len(t.ne))
        for d in t.ne:
            w.p("Q", d)
        if marks is not None:
            marks[f"ti{i}_type"] = len(w.b)
        w.p("I", t.type)
        if marks is not None:
            marks[f"ti{i}_offset"] = len(w.b)
        w.p("Q", t.offset)
    if marks is not None:
        marks["ti_end"] = len(w.b)
    w.b += b"\x00" * (pad(len(w.b), g.alignment) - len(w.b))
    return bytes(w.b)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


# ---------------------------------------------------------------------------- quant rules
def layer_of(name):
    m = re.match(r"blk\.(\d+)\.", name)
    return int(m.group(1)) if m else -1


def sort_like_llama_quantize(tensors):
    # llama-model-loader.h weight_name_comparer: by layer number (-1 for non-block), then name
    return sorted(tensors, key=lambda t: (layer_of(t.name), t.name))


def converter_type(name, ne, float_type=T.BF16):
    """Type the HF->GGUF converter gives a tensor (conversion/base.py prepare_tensors):
    1-D and *_norm.weight -> F32; router / conv1d / position embeddings / non-.weight -> F32;
    everything else -> the chosen float type (BF16 source for the quantized models)."""
    if len(ne) <= 1 or name.endswith("_norm.weight"):
        return T.F32
    if any(s in name for s in ("ffn_gate_inp.", "ffn_gate_inp_shexp.", "ssm_conv1d.", "position_embd.")):
        return T.F32
    if not name.endswith(".weight"):
        return T.F32
    return float_type


def allows_quant(name, ne):
    """llama-quant.cpp tensor_allows_quantization (the parts relevant to our models)."""
    if len([d for d in ne]) < 2 or all(d == 1 for d in ne[1:]):
        return False   # ggml_n_dims < 2
    if not name.endswith("weight"):
        return False
    for s in ("_norm.weight", "ffn_gate_inp.weight", "ssm_conv1d", ".position_embd", ".patch_embd"):
        if s in name:
            return False
    return True


def category(name):
    if name == "output.weight":
        return "OUTPUT"
    if name in ("token_embd.weight", "per_layer_token_embd.weight"):
        return "TOKEN_EMBD"
    for s, c in (("attn_qkv.weight", "ATTN_QKV"), ("attn_kv_b.weight", "ATTN_KV_B"),
                 ("attn_v.weight", "ATTN_V"), ("attn_k.weight", "ATTN_K"), ("attn_q.weight", "ATTN_Q"),
                 ("attn_output.weight", "ATTN_OUT"), ("ffn_up", "FFN_UP"), ("ffn_gate", "FFN_GATE"),
                 ("ffn_down", "FFN_DOWN")):
        if s in name:
            return c
    return "OTHER"


def use_more_bits(i, n):
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def fallback(ne0, t):
    blk = GGML_QUANT_SIZES[T(t)][0]
    if ne0 % blk == 0:
        return t
    r = {T.Q4_K: T.Q5_0, T.Q5_K: T.Q5_1, T.Q6_K: T.Q8_0, T.Q2_K: T.Q4_0, T.Q3_K: T.Q4_0}.get(T(t), t)
    if ne0 % GGML_QUANT_SIZES[T(r)][0] != 0:
        r = T.F16
    return r


def quantize(tensors, ftype, n_expert, n_layer_all):
    """Emulate llama-quantize: order the tensors as it does and choose each tensor's type with the
    rules of llama-quant.cpp (llama_tensor_get_type_impl + tensor_type_fallback)."""
    tensors = sort_like_llama_quantize(tensors)
    default = {FTYPE_Q4_K_M: T.Q4_K, FTYPE_Q8_0: T.Q8_0, FTYPE_Q4_0: T.Q4_0, FTYPE_MXFP4_MOE: T.MXFP4}[ftype]
    tied = not any(t.name == "output.weight" for t in tensors)
    n_wv = sum(1 for t in tensors if category(t.name) in ("ATTN_V", "ATTN_QKV", "ATTN_KV_B"))
    i_wv = 0
    i_down = 0
    n_down = n_layer_all
    for t in tensors:
        if not allows_quant(t.name, t.ne):
            continue  # keeps the converter's type
        cat = category(t.name)
        nt = default
        if cat == "OUTPUT" or (tied and cat == "TOKEN_EMBD"):
            if ftype == FTYPE_MXFP4_MOE or t.ne[0] % GGML_QUANT_SIZES[T(nt)][0] != 0:
                nt = T.Q8_0
            elif nt != T.Q8_0:
                nt = T.Q6_K
        elif ftype == FTYPE_MXFP4_MOE:
            nt = T.MXFP4 if len(t.ne) > 2 and t.ne[2] > 1 else T.Q8_0
        elif cat == "TOKEN_EMBD":
            pass
        elif cat in ("ATTN_V", "ATTN_QKV", "ATTN_KV_B"):
            if ftype == FTYPE_Q4_K_M and use_more_bits(i_wv, n_wv):
                nt = T.Q6_K
            if n_expert == 8:
                nt = T.Q8_0
            i_wv += 1
        elif cat == "ATTN_K":
            if n_expert == 8:
                nt = T.Q8_0
        elif cat == "FFN_DOWN":
            il = layer_of(t.name) if n_expert > 1 else i_down
            if ftype == FTYPE_Q4_K_M and use_more_bits(il, n_down):
                nt = T.Q6_K
            i_down += 1
        elif cat == "ATTN_OUT":
            if n_expert == 8 and ftype == FTYPE_Q4_K_M:
                nt = T.Q5_K
        t.type = fallback(t.ne[0], nt)
    return tensors


def typed(tensors, float_type=T.BF16):
    for t in tensors:
        t.type = converter_type(t.name, t.ne, float_type)
    return tensors


# ---------------------------------------------------------------------------- common metadata
def tok_kv(g, model, pre, tokens=None, bos=None, eos=None):
    g.add("tokenizer.ggml.model", STR, model)
    if pre is not None:
        g.add("tokenizer.ggml.pre", STR, pre)
    toks = tokens or ["<unk>", "<s>", "</s>", "!", "\"", "#", "$", "%"]
    assert len(toks) == 8
    g.add("tokenizer.ggml.tokens", ARR, (STR, toks))
    if bos is not None:
        g.add("tokenizer.ggml.bos_token_id", U32, bos)
    if eos is not None:
        g.add("tokenizer.ggml.eos_token_id", U32, eos)


def general_kv(g, arch, name, basename, size_label, license_=None, type_="model"):
    g.add("general.architecture", STR, arch)
    g.add("general.type", STR, type_)
    g.add("general.name", STR, name)
    g.add("general.basename", STR, basename)
    g.add("general.size_label", STR, size_label)
    if license_:
        g.add("general.license", STR, license_)


def finish_quant(g, ftype):
    # llama-quant.cpp: gguf_set_val_u32(quantization_version) then gguf_set_val_u32(file_type);
    # set_val removes and re-appends, so both end up last in this order.
    g.set_append("general.quantization_version", U32, GGML_QNT_VERSION)
    g.set_append("general.file_type", U32, ftype)


# ============================================================================ Qwen3.5 family
# source: /work/shared/reference/qwen35-and-llama-cpp.md (HF configs Qwen/Qwen3.5-27B, -35B-A3B,
#         -122B-A10B, -397B-A17B, text_config); llama.cpp src/models/qwen35.cpp, qwen35moe.cpp;
#         conversion/qwen.py (Qwen3NextModel.set_gguf_parameters, _QwenMtpMixin, _Qwen35MRopeMixin).
QWEN35 = {
    "27B":       dict(arch="qwen35",    n_embd=5120, n_layer=64, n_head=24, n_kv=4, hk=16, hv=48, n_ff=17408),
    "35B-A3B":   dict(arch="qwen35moe", n_embd=2048, n_layer=40, n_head=16, n_kv=2, hk=16, hv=32,
                      n_exp=256, n_used=8, ff_exp=512, ff_sh=512),
    "122B-A10B": dict(arch="qwen35moe", n_embd=3072, n_layer=48, n_head=32, n_kv=2, hk=16, hv=64,
                      n_exp=256, n_used=8, ff_exp=1024, ff_sh=1024),
    "397B-A17B": dict(arch="qwen35moe", n_embd=4096, n_layer=60, n_head=32, n_kv=2, hk=16, hv=64,
                      n_exp=512, n_used=10, ff_exp=1024, ff_sh=1024),
}
QWEN35_VOCAB = 248320
QWEN35_HEAD_DIM = 256
QWEN35_SSM_D = 128  # linear_key_head_dim == linear_value_head_dim


def qwen_gdn_tensors(i, E, hk, hv, d=128, conv=4, fused_qkvz=False):
    key_dim, value_dim = d * hk, d * hv
    conv_dim = 2 * key_dim + value_dim
    ts = []
    if fused_qkvz:  # (not used: current converter splits in_proj_qkvz into attn_qkv + attn_gate)
        ts.append(TI(f"blk.{i}.ssm_in.weight", [E, 2 * key_dim + 2 * value_dim]))
    else:
        ts.append(TI(f"blk.{i}.attn_qkv.weight", [E, conv_dim]))
        ts.append(TI(f"blk.{i}.attn_gate.weight", [E, value_dim]))
    ts += [
        TI(f"blk.{i}.ssm_conv1d.weight", [conv, conv_dim]),
        TI(f"blk.{i}.ssm_dt.bias", [hv]),
        TI(f"blk.{i}.ssm_a", [hv]),
        TI(f"blk.{i}.ssm_norm.weight", [d]),
        TI(f"blk.{i}.ssm_out.weight", [value_dim, E]),
    ]
    return ts


def qwen_fullattn_tensors(i, E, n_head, n_kv, hd=256):
    return [
        TI(f"blk.{i}.attn_q.weight", [E, hd * n_head * 2]),   # q and output gate interleaved
        TI(f"blk.{i}.attn_k.weight", [E, hd * n_kv]),
        TI(f"blk.{i}.attn_v.weight", [E, hd * n_kv]),
        TI(f"blk.{i}.attn_output.weight", [hd * n_head, E]),
        TI(f"blk.{i}.attn_q_norm.weight", [hd]),
        TI(f"blk.{i}.attn_k_norm.weight", [hd]),
    ]


def qwen_moe_ffn(i, E, n_exp, ff_exp, ff_sh):
    return [
        TI(f"blk.{i}.ffn_gate_inp.weight", [E, n_exp]),
        TI(f"blk.{i}.ffn_gate_exps.weight", [E, ff_exp, n_exp]),
        TI(f"blk.{i}.ffn_up_exps.weight", [E, ff_exp, n_exp]),
        TI(f"blk.{i}.ffn_down_exps.weight", [ff_exp, E, n_exp]),
        TI(f"blk.{i}.ffn_gate_inp_shexp.weight", [E]),   # HF Linear(E,1); ggml_n_dims trims to 1-D
        TI(f"blk.{i}.ffn_gate_shexp.weight", [E, ff_sh]),
        TI(f"blk.{i}.ffn_up_shexp.weight", [E, ff_sh]),
        TI(f"blk.{i}.ffn_down_shexp.weight", [ff_sh, E]),
    ]


def qwen35(size, mtp: bool, recurrent_array: bool, ftype=FTYPE_Q4_K_M):
    c = QWEN35[size]
    arch, E, L = c["arch"], c["n_embd"], c["n_layer"]
    moe = arch == "qwen35moe"
    n_mtp = 1 if mtp else 0
    L_all = L + n_mtp
    g = GGUF()
    general_kv(g, arch, f"Qwen3.5 {size}", "Qwen3.5", size, "apache-2.0")
    a = arch
    g.add(f"{a}.block_count", U32, L_all)
    g.add(f"{a}.context_length", U32, 262144)
    g.add(f"{a}.embedding_length", U32, E)
    if not moe:
        g.add(f"{a}.feed_forward_length", U32, c["n_ff"])
    g.add(f"{a}.attention.head_count", U32, c["n_head"])
    g.add(f"{a}.attention.head_count_kv", U32, c["n_kv"])
    g.add(f"{a}.rope.dimension_sections", ARR, (I32, [11, 11, 10, 0]))
    g.add(f"{a}.rope.freq_base", F32V, 10000000.0)
    g.add(f"{a}.attention.layer_norm_rms_epsilon", F32V, 1e-6)
    if moe:
        g.add(f"{a}.expert_count", U32, c["n_exp"])
        g.add(f"{a}.expert_used_count", U32, c["n_used"])
    g.add(f"{a}.attention.key_length", U32, QWEN35_HEAD_DIM)
    g.add(f"{a}.attention.value_length", U32, QWEN35_HEAD_DIM)
    g.add("general.file_type", U32, 32)  # BF16 source file; replaced by llama-quantize below
    if moe:
        g.add(f"{a}.expert_feed_forward_length", U32, c["ff_exp"])
        g.add(f"{a}.expert_shared_feed_forward_length", U32, c["ff_sh"])
    g.add(f"{a}.ssm.conv_kernel", U32, 4)
    g.add(f"{a}.ssm.state_size", U32, QWEN35_SSM_D)
    g.add(f"{a}.ssm.group_count", U32, c["hk"])
    g.add(f"{a}.ssm.time_step_rank", U32, c["hv"])
    g.add(f"{a}.ssm.inner_size", U32, QWEN35_SSM_D * c["hv"])
    is_recr = [((i + 1) % 4 != 0) for i in range(L)] + [False] * n_mtp
    if recurrent_array:
        # written by the newest converter when config.json has layer_types
        g.add(f"{a}.attention.recurrent_layers", ARR, (BOOL, is_recr))
    g.add(f"{a}.full_attention_interval", U32, 4)
    g.add(f"{a}.rope.dimension_count", U32, 64)   # head_dim 256 * partial_rotary_factor 0.25
    if mtp:
        g.add(f"{a}.nextn_predict_layers", U32, n_mtp)
    tok_kv(g, "gpt2", "qwen35")  # special-token ids omitted (not verified)

    ts = [TI("token_embd.weight", [E, QWEN35_VOCAB]), TI("output_norm.weight", [E]),
          TI("output.weight", [E, QWEN35_VOCAB])]
    for i in range(L_all):
        ts += [TI(f"blk.{i}.attn_norm.weight", [E]), TI(f"blk.{i}.post_attention_norm.weight", [E])]
        if is_recr[i]:
            ts += qwen_gdn_tensors(i, E, c["hk"], c["hv"])
            # Qwen3.5 has separate in_proj_b / in_proj_a -> ssm_beta / ssm_alpha
            ts += [TI(f"blk.{i}.ssm_beta.weight", [E, c["hv"]]), TI(f"blk.{i}.ssm_alpha.weight", [E, c["hv"]])]
        else:
            ts += qwen_fullattn_tensors(i, E, c["n_head"], c["n_kv"])
        if moe:
            ts += qwen_moe_ffn(i, E, c["n_exp"], c["ff_exp"], c["ff_sh"])
        else:
            ts += [TI(f"blk.{i}.ffn_gate.weight", [E, c["n_ff"]]), TI(f"blk.{i}.ffn_up.weight", [E, c["n_ff"]]),
                   TI(f"blk.{i}.ffn_down.weight", [c["n_ff"], E])]
        if i >= L:  # MTP block: conversion/qwen.py remaps mtp.fc/pre_fc_norm_*/norm
            ts += [TI(f"blk.{i}.nextn.eh_proj.weight", [2 * E, E]), TI(f"blk.{i}.nextn.enorm.weight", [E]),
                   TI(f"blk.{i}.nextn.hnorm.weight", [E]), TI(f"blk.{i}.nextn.shared_head_norm.weight", [E])]
    typed(ts)
    g.tensors = quantize(ts, ftype, c.get("n_exp", 0), L_all)
    finish_quant(g, ftype)
    return g


# ============================================================================ Llama 3.1 8B
# source: HF config meta-llama/Llama-3.1-8B-Instruct (hidden 4096, 32 layers, 32 heads, 8 KV heads,
#         intermediate 14336, vocab 128256, max_position_embeddings 131072, rope_theta 500000,
#         rms_norm_eps 1e-5, rope_scaling llama3 factor 8); llama.cpp src/models/llama.cpp;
#         conversion/llama.py (rope_freqs.weight generated for llama3 rope scaling).
def llama31_8b(ftype=FTYPE_Q4_K_M):
    E, L, H, KV, FF, V, HD = 4096, 32, 32, 8, 14336, 128256, 128
    g = GGUF()
    general_kv(g, "llama", "Meta Llama 3.1 8B Instruct", "Meta-Llama-3.1", "8B", "llama3.1")
    g.add("llama.block_count", U32, L)
    g.add("llama.context_length", U32, 131072)
    g.add("llama.embedding_length", U32, E)
    g.add("llama.feed_forward_length", U32, FF)
    g.add("llama.attention.head_count", U32, H)
    g.add("llama.attention.head_count_kv", U32, KV)
    g.add("llama.rope.freq_base", F32V, 500000.0)
    g.add("llama.attention.layer_norm_rms_epsilon", F32V, 1e-5)
    g.add("general.file_type", U32, 32)
    g.add("llama.vocab_size", U32, V)
    g.add("llama.rope.dimension_count", U32, HD)
    tok_kv(g, "gpt2", "llama-bpe", bos=128000, eos=128009)
    ts = [TI("token_embd.weight", [E, V]), TI("rope_freqs.weight", [HD // 2])]
    for i in range(L):
        ts += [TI(f"blk.{i}.attn_norm.weight", [E]), TI(f"blk.{i}.attn_q.weight", [E, H * HD]),
               TI(f"blk.{i}.attn_k.weight", [E, KV * HD]), TI(f"blk.{i}.attn_v.weight", [E, KV * HD]),
               TI(f"blk.{i}.attn_output.weight", [H * HD, E]), TI(f"blk.{i}.ffn_norm.weight", [E]),
               TI(f"blk.{i}.ffn_gate.weight", [E, FF]), TI(f"blk.{i}.ffn_up.weight", [E, FF]),
               TI(f"blk.{i}.ffn_down.weight", [FF, E])]
    ts += [TI("output_norm.weight", [E]), TI("output.weight", [E, V])]
    typed(ts)
    g.tensors = quantize(ts, ftype, 0, L)
    finish_quant(g, ftype)
    return g


# ============================================================================ Gemma 3 4B
# source: HF config google/gemma-3-4b-it text_config (hidden 2560, 34 layers, 8 heads, 4 KV heads,
#         head_dim 256, intermediate 10240, sliding_window 1024, sliding_window_pattern 6,
#         rope_theta 1e6, rope_scaling linear factor 8, rms 1e-6, tied embeddings);
#         token_embd trimmed to the 262144 real tokens (conversion/gemma.py Gemma3Model.modify_tensors);
#         llama.cpp src/models/gemma3.cpp (no pattern key -> load_swa_pattern default 6: every 6th
#         layer global, i.e. 5 local : 1 global).
def gemma3_4b():
    E, L, H, KV, HD, FF, V = 2560, 34, 8, 4, 256, 10240, 262144
    g = GGUF()
    general_kv(g, "gemma3", "Gemma 3 4b It", "gemma-3", "4B", "gemma")
    g.add("gemma3.block_count", U32, L)
    g.add("gemma3.context_length", U32, 131072)
    g.add("gemma3.embedding_length", U32, E)
    g.add("gemma3.feed_forward_length", U32, FF)
    g.add("gemma3.attention.head_count", U32, H)
    g.add("gemma3.attention.head_count_kv", U32, KV)
    g.add("gemma3.rope.scaling.type", STR, "linear")
    g.add("gemma3.rope.scaling.factor", F32V, 8.0)
    g.add("gemma3.rope.freq_base", F32V, 1000000.0)
    g.add("gemma3.attention.layer_norm_rms_epsilon", F32V, 1e-6)
    g.add("gemma3.attention.key_length", U32, HD)
    g.add("gemma3.attention.value_length", U32, HD)
    g.add("general.file_type", U32, 32)
    g.add("gemma3.attention.sliding_window", U32, 1024)
    tok_kv(g, "llama", "default", tokens=["<pad>", "<eos>", "<bos>", "<unk>", "<mask>", "[multimodal]", "<unused0>", "<unused1>"], bos=2, eos=1)
    g.add("tokenizer.ggml.add_space_prefix", BOOL, False)
    ts = [TI("token_embd.weight", [E, V])]
    for i in range(L):
        ts += [TI(f"blk.{i}.attn_norm.weight", [E]), TI(f"blk.{i}.attn_q.weight", [E, H * HD]),
               TI(f"blk.{i}.attn_k.weight", [E, KV * HD]), TI(f"blk.{i}.attn_v.weight", [E, KV * HD]),
               TI(f"blk.{i}.attn_output.weight", [H * HD, E]), TI(f"blk.{i}.post_attention_norm.weight", [E]),
               TI(f"blk.{i}.attn_k_norm.weight", [HD]), TI(f"blk.{i}.attn_q_norm.weight", [HD]),
               TI(f"blk.{i}.ffn_norm.weight", [E]), TI(f"blk.{i}.ffn_gate.weight", [E, FF]),
               TI(f"blk.{i}.ffn_up.weight", [E, FF]), TI(f"blk.{i}.ffn_down.weight", [FF, E]),
               TI(f"blk.{i}.post_ffw_norm.weight", [E])]
    ts += [TI("output_norm.weight", [E])]
    typed(ts)
    g.tensors = quantize(ts, FTYPE_Q4_K_M, 0, L)   # tied: token_embd gets the output rule -> Q6_K
    finish_quant(g, FTYPE_Q4_K_M)
    return g


# ============================================================================ DeepSeek-V3
# source: HF config deepseek-ai/DeepSeek-V3 (hidden 7168, intermediate 18432, moe_intermediate 2048,
#         61 layers, 128 heads, q_lora_rank 1536, kv_lora_rank 512, qk_nope 128, qk_rope 64, v_head 128,
#         n_routed_experts 256, num_experts_per_tok 8, n_shared_experts 1, first_k_dense_replace 3,
#         n_group 8, topk_group 4, scoring_func sigmoid, routed_scaling_factor 2.5, norm_topk_prob true,
#         vocab 129280, max_position_embeddings 163840, rope_theta 10000, yarn factor 40 / orig 4096 /
#         beta_fast 32 / beta_slow 1 / mscale_all_dim 1.0, rms 1e-6);
#         conversion/deepseek.py DeepseekV2Model (MLA -> head_count_kv 1, kv_b split into attn_k_b /
#         attn_v_b, MTP layer 61 skipped: skip_mtp = True); llama.cpp src/models/deepseek2.cpp.
def deepseek_v3():
    E, L, H, FF, FFE, V = 7168, 61, 128, 18432, 2048, 129280
    QL, KVL, NOPE, ROPE, VH, NE, NU, NS, DENSE = 1536, 512, 128, 64, 128, 256, 8, 1, 3
    a = "deepseek2"
    g = GGUF()
    general_kv(g, a, "DeepSeek V3", "DeepSeek-V3", "256x20B", "mit")
    g.add(f"{a}.block_count", U32, L)
    g.add(f"{a}.context_length", U32, 163840)
    g.add(f"{a}.embedding_length", U32, E)
    g.add(f"{a}.feed_forward_length", U32, FF)
    g.add(f"{a}.attention.head_count", U32, H)
    g.add(f"{a}.attention.head_count_kv", U32, 1)
    g.add(f"{a}.rope.scaling.type", STR, "yarn")
    g.add(f"{a}.rope.scaling.factor", F32V, 40.0)
    g.add(f"{a}.rope.scaling.original_context_length", U32, 4096)
    g.add(f"{a}.rope.scaling.yarn_beta_fast", F32V, 32.0)
    g.add(f"{a}.rope.scaling.yarn_beta_slow", F32V, 1.0)
    g.add(f"{a}.rope.freq_base", F32V, 10000.0)
    g.add(f"{a}.attention.layer_norm_rms_epsilon", F32V, 1e-6)
    g.add(f"{a}.expert_count", U32, NE)
    g.add(f"{a}.expert_used_count", U32, NU)
    g.add(f"{a}.expert_group_count", U32, 8)
    g.add(f"{a}.expert_group_used_count", U32, 4)
    g.add(f"{a}.expert_gating_func", U32, 2)   # sigmoid
    g.add("general.file_type", U32, 32)
    g.add(f"{a}.leading_dense_block_count", U32, DENSE)
    g.add(f"{a}.vocab_size", U32, V)
    g.add(f"{a}.attention.q_lora_rank", U32, QL)
    g.add(f"{a}.attention.kv_lora_rank", U32, KVL)
    g.add(f"{a}.attention.key_length", U32, KVL + ROPE)      # 576: MLA cache row (latent + rope)
    g.add(f"{a}.attention.value_length", U32, KVL)           # 512
    g.add(f"{a}.attention.key_length_mla", U32, NOPE + ROPE)  # 192
    g.add(f"{a}.attention.value_length_mla", U32, VH)         # 128
    g.add(f"{a}.expert_feed_forward_length", U32, FFE)
    g.add(f"{a}.expert_shared_count", U32, NS)
    g.add(f"{a}.expert_weights_scale", F32V, 2.5)
    g.add(f"{a}.expert_weights_norm", BOOL, True)
    g.add(f"{a}.rope.dimension_count", U32, ROPE)
    g.add(f"{a}.rope.scaling.yarn_log_multiplier", F32V, 0.1)
    tok_kv(g, "gpt2", "deepseek-v3", bos=0, eos=1)
    ts = [TI("token_embd.weight", [E, V])]
    for i in range(L):
        ts += [TI(f"blk.{i}.attn_norm.weight", [E]), TI(f"blk.{i}.attn_q_a_norm.weight", [QL]),
               TI(f"blk.{i}.attn_kv_a_norm.weight", [KVL]), TI(f"blk.{i}.attn_q_a.weight", [E, QL]),
               TI(f"blk.{i}.attn_q_b.weight", [QL, H * (NOPE + ROPE)]),
               TI(f"blk.{i}.attn_kv_a_mqa.weight", [E, KVL + ROPE]),
               TI(f"blk.{i}.attn_k_b.weight", [NOPE, KVL, H]), TI(f"blk.{i}.attn_v_b.weight", [KVL, VH, H]),
               TI(f"blk.{i}.attn_output.weight", [H * VH, E]), TI(f"blk.{i}.ffn_norm.weight", [E])]
        if i < DENSE:
            ts += [TI(f"blk.{i}.ffn_gate.weight", [E, FF]), TI(f"blk.{i}.ffn_up.weight", [E, FF]),
                   TI(f"blk.{i}.ffn_down.weight", [FF, E])]
        else:
            ts += [TI(f"blk.{i}.ffn_gate_inp.weight", [E, NE]), TI(f"blk.{i}.exp_probs_b.bias", [NE]),
                   TI(f"blk.{i}.ffn_gate_exps.weight", [E, FFE, NE]), TI(f"blk.{i}.ffn_up_exps.weight", [E, FFE, NE]),
                   TI(f"blk.{i}.ffn_down_exps.weight", [FFE, E, NE]),
                   TI(f"blk.{i}.ffn_gate_shexp.weight", [E, FFE * NS]), TI(f"blk.{i}.ffn_up_shexp.weight", [E, FFE * NS]),
                   TI(f"blk.{i}.ffn_down_shexp.weight", [FFE * NS, E])]
    ts += [TI("output_norm.weight", [E]), TI("output.weight", [E, V])]
    typed(ts)
    g.tensors = quantize(ts, FTYPE_Q4_K_M, NE, L)   # attn_k_b rows of 128 -> Q4_K falls back to Q5_0
    finish_quant(g, FTYPE_Q4_K_M)
    return g


# ============================================================================ Mamba2 2.7B (F16)
# source: HF config state-spaces/mamba2-2.7b (d_model 2560, n_layer 64, vocab_size 50277 padded to
#         a multiple of 16 -> 50288, ssm defaults d_state 128 / headdim 64 / ngroups 1 / expand 2 /
#         d_conv 4, tie_embeddings true); conversion/mamba.py Mamba2Model; src/models/mamba2.cpp.
#         Converter output (--outtype f16), tensors in converter order.
def mamba2_27b():
    E, L, V = 2560, 64, 50288
    d_inner, d_state, n_group, head_dim, d_conv = 2 * E, 128, 1, 64, 4
    dt_rank = d_inner // head_dim                       # 80 heads
    conv_dim = d_inner + 2 * n_group * d_state          # 5376
    d_in_proj = d_inner + conv_dim + dt_rank            # 10576 (z, xBC, dt)
    a = "mamba2"
    g = GGUF()
    general_kv(g, a, "Mamba2 2.7b", "mamba2", "2.7B", "apache-2.0")
    g.add(f"{a}.context_length", U32, 2 ** 20)
    g.add(f"{a}.embedding_length", U32, E)
    g.add(f"{a}.feed_forward_length", U32, 0)
    g.add(f"{a}.attention.head_count", U32, 0)
    g.add(f"{a}.block_count", U32, L)
    g.add(f"{a}.ssm.conv_kernel", U32, d_conv)
    g.add(f"{a}.ssm.inner_size", U32, d_inner)
    g.add(f"{a}.ssm.state_size", U32, d_state)
    g.add(f"{a}.ssm.time_step_rank", U32, dt_rank)
    g.add(f"{a}.ssm.group_count", U32, n_group)
    g.add(f"{a}.attention.layer_norm_rms_epsilon", F32V, 1e-5)
    g.add("general.file_type", U32, FTYPE_F16)
    tok_kv(g, "gpt2", "olmo", tokens=["<|endoftext|>", "<|padding|>", "!", "\"", "#", "$", "%", "&"], bos=0, eos=0)
    ts = [TI("token_embd.weight", [E, V])]
    for i in range(L):
        ts += [TI(f"blk.{i}.attn_norm.weight", [E]), TI(f"blk.{i}.ssm_in.weight", [E, d_in_proj]),
               TI(f"blk.{i}.ssm_conv1d.weight", [d_conv, conv_dim]), TI(f"blk.{i}.ssm_conv1d.bias", [conv_dim]),
               TI(f"blk.{i}.ssm_dt.bias", [dt_rank]), TI(f"blk.{i}.ssm_a", [1, dt_rank]),
               TI(f"blk.{i}.ssm_d", [1, dt_rank]), TI(f"blk.{i}.ssm_norm.weight", [d_inner // n_group, n_group]),
               TI(f"blk.{i}.ssm_out.weight", [d_inner, E])]
    ts += [TI("output_norm.weight", [E])]
    g.tensors = typed(ts, T.F16)
    return g


# ============================================================================ gpt-oss-20b (MXFP4)
# source: HF config openai/gpt-oss-20b (hidden 2880, 24 layers, 64 heads, 8 KV heads, head_dim 64,
#         intermediate 2880, 32 local experts, 4 per token, sliding_window 128, alternating
#         sliding/full attention, vocab 201088, max_position_embeddings 131072, rope_theta 150000,
#         yarn factor 32 / original 4096, rms 1e-5, attention_bias true); conversion/gpt_oss.py;
#         src/models/openai-moe.cpp (no pattern key -> load_swa_pattern(ml, 2): even layers SWA).
#         Types follow llama-quant.cpp's MOSTLY_MXFP4_MOE rule: 3-D expert tensors MXFP4, all other
#         quantizable 2-D tensors (incl. token_embd/output) Q8_0.
def gpt_oss_20b():
    E, L, H, KV, HD, FF, NE, NU, V = 2880, 24, 64, 8, 64, 2880, 32, 4, 201088
    a = "gpt-oss"
    g = GGUF()
    general_kv(g, a, "Gpt Oss 20b", "gpt-oss", "20B", "apache-2.0")
    g.add(f"{a}.block_count", U32, L)
    g.add(f"{a}.context_length", U32, 131072)
    g.add(f"{a}.embedding_length", U32, E)
    g.add(f"{a}.feed_forward_length", U32, FF)
    g.add(f"{a}.attention.head_count", U32, H)
    g.add(f"{a}.attention.head_count_kv", U32, KV)
    g.add(f"{a}.rope.scaling.type", STR, "yarn")
    g.add(f"{a}.rope.scaling.factor", F32V, 32.0)
    g.add(f"{a}.rope.scaling.original_context_length", U32, 4096)
    g.add(f"{a}.rope.freq_base", F32V, 150000.0)
    g.add(f"{a}.attention.layer_norm_rms_epsilon", F32V, 1e-5)
    g.add(f"{a}.expert_count", U32, NE)
    g.add(f"{a}.expert_used_count", U32, NU)
    g.add(f"{a}.attention.key_length", U32, HD)
    g.add(f"{a}.attention.value_length", U32, HD)
    g.add("general.file_type", U32, 32)
    g.add(f"{a}.attention.sliding_window", U32, 128)
    g.add(f"{a}.expert_feed_forward_length", U32, FF)
    tok_kv(g, "gpt2", "gpt-4o", tokens=["!", "\"", "#", "$", "%", "&", "'", "("], bos=199998, eos=200002)
    ts = [TI("token_embd.weight", [E, V])]
    for i in range(L):
        ts += [TI(f"blk.{i}.attn_norm.weight", [E]), TI(f"blk.{i}.post_attention_norm.weight", [E]),
               TI(f"blk.{i}.attn_q.weight", [E, H * HD]), TI(f"blk.{i}.attn_q.bias", [H * HD]),
               TI(f"blk.{i}.attn_k.weight", [E, KV * HD]), TI(f"blk.{i}.attn_k.bias", [KV * HD]),
               TI(f"blk.{i}.attn_v.weight", [E, KV * HD]), TI(f"blk.{i}.attn_v.bias", [KV * HD]),
               TI(f"blk.{i}.attn_output.weight", [H * HD, E]), TI(f"blk.{i}.attn_output.bias", [E]),
               TI(f"blk.{i}.attn_sinks.weight", [H]),
               TI(f"blk.{i}.ffn_gate_inp.weight", [E, NE]), TI(f"blk.{i}.ffn_gate_inp.bias", [NE]),
               TI(f"blk.{i}.ffn_gate_exps.weight", [E, FF, NE]), TI(f"blk.{i}.ffn_gate_exps.bias", [FF, NE]),
               TI(f"blk.{i}.ffn_up_exps.weight", [E, FF, NE]), TI(f"blk.{i}.ffn_up_exps.bias", [FF, NE]),
               TI(f"blk.{i}.ffn_down_exps.weight", [FF, E, NE]), TI(f"blk.{i}.ffn_down_exps.bias", [E, NE])]
    ts += [TI("output_norm.weight", [E]), TI("output.weight", [E, V])]
    typed(ts)
    g.tensors = quantize(ts, FTYPE_MXFP4_MOE, NE, L)
    finish_quant(g, FTYPE_MXFP4_MOE)
    return g


# ============================================================================ Qwen3-Next-80B-A3B
# source: HF config Qwen/Qwen3-Next-80B-A3B-Instruct (hidden 2048, 48 layers, 16 heads, 2 KV heads,
#         head_dim 256, linear_num_key_heads 16, linear_num_value_heads 32, linear key/value head dim
#         128, conv kernel 4, 512 experts, 10 per token, moe_intermediate 512, shared 512,
#         intermediate 5120, full_attention_interval 4, partial_rotary_factor 0.25, vocab 151936,
#         max_position_embeddings 262144, rope_theta 1e7, rms 1e-6); src/models/qwen3next.cpp;
#         conversion/qwen.py Qwen3NextModel (in_proj_qkvz -> attn_qkv + attn_gate, in_proj_ba -> ssm_ba).
#         Written without the MTP block (older conversion).
def qwen3next_80b():
    E, L, H, KV, HD, hk, hv, d, NE, NU, FFE, FFS, FF, V = 2048, 48, 16, 2, 256, 16, 32, 128, 512, 10, 512, 512, 5120, 151936
    a = "qwen3next"
    g = GGUF()
    general_kv(g, a, "Qwen3 Next 80B A3B Instruct", "Qwen3-Next", "80B-A3B", "apache-2.0")
    g.add(f"{a}.block_count", U32, L)
    g.add(f"{a}.context_length", U32, 262144)
    g.add(f"{a}.embedding_length", U32, E)
    g.add(f"{a}.feed_forward_length", U32, FF)
    g.add(f"{a}.attention.head_count", U32, H)
    g.add(f"{a}.attention.head_count_kv", U32, KV)
    g.add(f"{a}.rope.freq_base", F32V, 10000000.0)
    g.add(f"{a}.attention.layer_norm_rms_epsilon", F32V, 1e-6)
    g.add(f"{a}.expert_count", U32, NE)
    g.add(f"{a}.expert_used_count", U32, NU)
    g.add(f"{a}.attention.key_length", U32, HD)
    g.add(f"{a}.attention.value_length", U32, HD)
    g.add("general.file_type", U32, 32)
    g.add(f"{a}.expert_feed_forward_length", U32, FFE)
    g.add(f"{a}.expert_shared_feed_forward_length", U32, FFS)
    g.add(f"{a}.ssm.conv_kernel", U32, 4)
    g.add(f"{a}.ssm.state_size", U32, d)
    g.add(f"{a}.ssm.group_count", U32, hk)
    g.add(f"{a}.ssm.time_step_rank", U32, hv)
    g.add(f"{a}.ssm.inner_size", U32, d * hv)
    g.add(f"{a}.full_attention_interval", U32, 4)
    g.add(f"{a}.rope.dimension_count", U32, 64)
    tok_kv(g, "gpt2", "qwen2", tokens=["!", "\"", "#", "$", "%", "&", "'", "("], eos=151645)
    ts = [TI("token_embd.weight", [E, V]), TI("output_norm.weight", [E]), TI("output.weight", [E, V])]
    for i in range(L):
        ts += [TI(f"blk.{i}.attn_norm.weight", [E]), TI(f"blk.{i}.post_attention_norm.weight", [E])]
        if (i + 1) % 4 != 0:
            ts += qwen_gdn_tensors(i, E, hk, hv, d)
            ts += [TI(f"blk.{i}.ssm_ba.weight", [E, 2 * hv])]
        else:
            ts += qwen_fullattn_tensors(i, E, H, KV, HD)
        ts += qwen_moe_ffn(i, E, NE, FFE, FFS)
    typed(ts)
    g.tensors = quantize(ts, FTYPE_Q4_K_M, NE, L)
    finish_quant(g, FTYPE_Q4_K_M)
    return g


# ============================================================================ Mixtral 8x7B
# source: HF config mistralai/Mixtral-8x7B-Instruct-v0.1 (hidden 4096, 32 layers, 32 heads, 8 KV heads,
#         intermediate 14336, 8 local experts, 2 per token, vocab 32000, max_position_embeddings 32768,
#         rope_theta 1e6, rms 1e-5); arch "llama" with experts (src/models/llama.cpp).
#         n_expert == 8 triggers llama-quant.cpp's special cases: attn_v/attn_k Q8_0, attn_output Q5_K.
def mixtral_8x7b():
    E, L, H, KV, HD, FF, NE, NU, V = 4096, 32, 32, 8, 128, 14336, 8, 2, 32000
    g = GGUF()
    general_kv(g, "llama", "Mixtral 8x7B Instruct v0.1", "Mixtral", "8x7B", "apache-2.0")
    g.add("llama.block_count", U32, L)
    g.add("llama.context_length", U32, 32768)
    g.add("llama.embedding_length", U32, E)
    g.add("llama.feed_forward_length", U32, FF)
    g.add("llama.attention.head_count", U32, H)
    g.add("llama.attention.head_count_kv", U32, KV)
    g.add("llama.rope.freq_base", F32V, 1000000.0)
    g.add("llama.attention.layer_norm_rms_epsilon", F32V, 1e-5)
    g.add("llama.expert_count", U32, NE)
    g.add("llama.expert_used_count", U32, NU)
    g.add("general.file_type", U32, 1)
    g.add("llama.vocab_size", U32, V)
    g.add("llama.rope.dimension_count", U32, HD)
    tok_kv(g, "llama", "default", bos=1, eos=2)
    ts = [TI("token_embd.weight", [E, V])]
    for i in range(L):
        ts += [TI(f"blk.{i}.attn_norm.weight", [E]), TI(f"blk.{i}.attn_q.weight", [E, H * HD]),
               TI(f"blk.{i}.attn_k.weight", [E, KV * HD]), TI(f"blk.{i}.attn_v.weight", [E, KV * HD]),
               TI(f"blk.{i}.attn_output.weight", [H * HD, E]), TI(f"blk.{i}.ffn_norm.weight", [E]),
               TI(f"blk.{i}.ffn_gate_inp.weight", [E, NE]), TI(f"blk.{i}.ffn_gate_exps.weight", [E, FF, NE]),
               TI(f"blk.{i}.ffn_up_exps.weight", [E, FF, NE]), TI(f"blk.{i}.ffn_down_exps.weight", [FF, E, NE])]
    ts += [TI("output_norm.weight", [E]), TI("output.weight", [E, V])]
    typed(ts, T.F16)
    g.tensors = quantize(ts, FTYPE_Q4_K_M, NE, L)
    finish_quant(g, FTYPE_Q4_K_M)
    return g


# ============================================================================ Qwen3-30B-A3B
# source: HF config Qwen/Qwen3-30B-A3B (hidden 2048, 48 layers, 32 heads, 4 KV heads, head_dim 128,
#         intermediate 6144, 128 experts, 8 per token, moe_intermediate 768, vocab 151936,
#         max_position_embeddings 40960, rope_theta 1e6, rms 1e-6); src/models/qwen3moe.cpp.
def qwen3_30b_a3b():
    E, L, H, KV, HD, FF, NE, NU, FFE, V = 2048, 48, 32, 4, 128, 6144, 128, 8, 768, 151936
    a = "qwen3moe"
    g = GGUF()
    general_kv(g, a, "Qwen3 30B A3B", "Qwen3", "30B-A3B", "apache-2.0")
    g.add(f"{a}.block_count", U32, L)
    g.add(f"{a}.context_length", U32, 40960)
    g.add(f"{a}.embedding_length", U32, E)
    g.add(f"{a}.feed_forward_length", U32, FF)
    g.add(f"{a}.attention.head_count", U32, H)
    g.add(f"{a}.attention.head_count_kv", U32, KV)
    g.add(f"{a}.rope.freq_base", F32V, 1000000.0)
    g.add(f"{a}.attention.layer_norm_rms_epsilon", F32V, 1e-6)
    g.add(f"{a}.expert_count", U32, NE)
    g.add(f"{a}.expert_used_count", U32, NU)
    g.add(f"{a}.attention.key_length", U32, HD)
    g.add(f"{a}.attention.value_length", U32, HD)
    g.add("general.file_type", U32, 32)
    g.add(f"{a}.expert_feed_forward_length", U32, FFE)
    tok_kv(g, "gpt2", "qwen2", tokens=["!", "\"", "#", "$", "%", "&", "'", "("], eos=151645)
    ts = [TI("token_embd.weight", [E, V])]
    for i in range(L):
        ts += [TI(f"blk.{i}.attn_norm.weight", [E]), TI(f"blk.{i}.attn_q.weight", [E, H * HD]),
               TI(f"blk.{i}.attn_k.weight", [E, KV * HD]), TI(f"blk.{i}.attn_v.weight", [E, KV * HD]),
               TI(f"blk.{i}.attn_output.weight", [H * HD, E]), TI(f"blk.{i}.attn_k_norm.weight", [HD]),
               TI(f"blk.{i}.attn_q_norm.weight", [HD]), TI(f"blk.{i}.ffn_norm.weight", [E]),
               TI(f"blk.{i}.ffn_gate_inp.weight", [E, NE]), TI(f"blk.{i}.ffn_gate_exps.weight", [E, FFE, NE]),
               TI(f"blk.{i}.ffn_up_exps.weight", [E, FFE, NE]), TI(f"blk.{i}.ffn_down_exps.weight", [FFE, E, NE])]
    ts += [TI("output_norm.weight", [E]), TI("output.weight", [E, V])]
    typed(ts)
    g.tensors = quantize(ts, FTYPE_Q4_K_M, NE, L)
    finish_quant(g, FTYPE_Q4_K_M)
    return g


# ============================================================================ Qwen2.5-7B
# source: HF config Qwen/Qwen2.5-7B-Instruct (hidden 3584, 28 layers, 28 heads, 4 KV heads,
#         intermediate 18944, vocab 152064, max_position_embeddings 32768, rope_theta 1e6, rms 1e-6,
#         q/k/v biases, untied); src/models/qwen2.cpp.  This fixture also writes general.alignment=32
#         explicitly (same value as the default) so that the key is exercised.
def qwen25_7b():
    E, L, H, KV, HD, FF, V = 3584, 28, 28, 4, 128, 18944, 152064
    a = "qwen2"
    g = GGUF()
    general_kv(g, a, "Qwen2.5 7B Instruct", "Qwen2.5", "7B", "apache-2.0")
    g.add("general.alignment", U32, 32)
    g.add(f"{a}.block_count", U32, L)
    g.add(f"{a}.context_length", U32, 32768)
    g.add(f"{a}.embedding_length", U32, E)
    g.add(f"{a}.feed_forward_length", U32, FF)
    g.add(f"{a}.attention.head_count", U32, H)
    g.add(f"{a}.attention.head_count_kv", U32, KV)
    g.add(f"{a}.rope.freq_base", F32V, 1000000.0)
    g.add(f"{a}.attention.layer_norm_rms_epsilon", F32V, 1e-6)
    g.add("general.file_type", U32, 32)
    tok_kv(g, "gpt2", "qwen2", tokens=["!", "\"", "#", "$", "%", "&", "'", "("], eos=151645)
    ts = [TI("token_embd.weight", [E, V])]
    for i in range(L):
        ts += [TI(f"blk.{i}.attn_norm.weight", [E]),
               TI(f"blk.{i}.attn_q.weight", [E, H * HD]), TI(f"blk.{i}.attn_q.bias", [H * HD]),
               TI(f"blk.{i}.attn_k.weight", [E, KV * HD]), TI(f"blk.{i}.attn_k.bias", [KV * HD]),
               TI(f"blk.{i}.attn_v.weight", [E, KV * HD]), TI(f"blk.{i}.attn_v.bias", [KV * HD]),
               TI(f"blk.{i}.attn_output.weight", [H * HD, E]), TI(f"blk.{i}.ffn_norm.weight", [E]),
               TI(f"blk.{i}.ffn_gate.weight", [E, FF]), TI(f"blk.{i}.ffn_up.weight", [E, FF]),
               TI(f"blk.{i}.ffn_down.weight", [FF, E])]
    ts += [TI("output_norm.weight", [E]), TI("output.weight", [E, V])]
    typed(ts)
    g.tensors = quantize(ts, FTYPE_Q4_K_M, 0, L)
    finish_quant(g, FTYPE_Q4_K_M)
    return g


# ============================================================================ Granite-4.0-H-Tiny
# source: HF config ibm-granite/granite-4.0-h-tiny as quoted in two independent public test files
#         (hidden 1536, 40 layers, 12 heads, 4 KV heads, intermediate 512, shared_intermediate 1024,
#         64 local experts, 6 per token, vocab 100352, tied, mamba d_state 128 / n_groups 1 /
#         n_heads 48 / d_head 64 / expand 2 / d_conv 4, max_position_embeddings 131072,
#         layer_types: attention at layers 5, 15, 25, 35, position_embedding_type "nope");
#         conversion/granite.py GraniteHybridModel (per-layer head_count_kv array with 0 for Mamba
#         layers, rope.scaling.finetuned=false and context_length 2^20 when there is no RoPE);
#         src/models/granite-hybrid.cpp.  The four *_scale values are from memory (unverified).
def granite4_h_tiny():
    E, L, H, KV, HD, FF, FFS, NE, NU, V = 1536, 40, 12, 4, 128, 512, 1024, 64, 6, 100352
    d_inner, d_state, n_group, n_ssm_head, d_conv = 2 * E, 128, 1, 48, 4
    conv_dim = d_inner + 2 * n_group * d_state               # 3328
    d_in_proj = 2 * d_inner + 2 * n_group * d_state + n_ssm_head  # 6448
    attn = {5, 15, 25, 35}
    a = "granitehybrid"
    g = GGUF()
    general_kv(g, a, "Granite 4.0 H Tiny", "granite-4.0-h", "tiny", "apache-2.0")
    g.add(f"{a}.block_count", U32, L)
    g.add(f"{a}.context_length", U32, 2 ** 20)   # 131072 first, overwritten in place (no RoPE)
    g.add(f"{a}.embedding_length", U32, E)
    g.add(f"{a}.feed_forward_length", U32, FF)
    g.add(f"{a}.attention.head_count", U32, H)
    g.add(f"{a}.attention.head_count_kv", ARR, (I32, [KV if i in attn else 0 for i in range(L)]))
    g.add(f"{a}.rope.freq_base", F32V, 10000.0)
    g.add(f"{a}.attention.layer_norm_rms_epsilon", F32V, 1e-5)
    g.add(f"{a}.expert_count", U32, NE)
    g.add(f"{a}.expert_used_count", U32, NU)
    g.add("general.file_type", U32, 32)
    g.add(f"{a}.attention.scale", F32V, 0.0078125)
    g.add(f"{a}.embedding_scale", F32V, 12.0)
    g.add(f"{a}.residual_scale", F32V, 0.22)
    g.add(f"{a}.logit_scale", F32V, 6.0)
    g.add(f"{a}.expert_shared_feed_forward_length", U32, FFS)
    g.add(f"{a}.ssm.conv_kernel", U32, d_conv)
    g.add(f"{a}.ssm.state_size", U32, d_state)
    g.add(f"{a}.ssm.group_count", U32, n_group)
    g.add(f"{a}.ssm.inner_size", U32, d_inner)
    g.add(f"{a}.ssm.time_step_rank", U32, n_ssm_head)
    g.add(f"{a}.rope.scaling.finetuned", BOOL, False)
    tok_kv(g, "gpt2", "dbrx", tokens=["!", "\"", "#", "$", "%", "&", "'", "("], bos=100257, eos=100257)
    ts = [TI("token_embd.weight", [E, V])]
    for i in range(L):
        ts += [TI(f"blk.{i}.attn_norm.weight", [E])]
        if i in attn:
            ts += [TI(f"blk.{i}.attn_q.weight", [E, H * HD]), TI(f"blk.{i}.attn_k.weight", [E, KV * HD]),
                   TI(f"blk.{i}.attn_v.weight", [E, KV * HD]), TI(f"blk.{i}.attn_output.weight", [H * HD, E])]
        else:
            ts += [TI(f"blk.{i}.ssm_in.weight", [E, d_in_proj]), TI(f"blk.{i}.ssm_conv1d.weight", [d_conv, conv_dim]),
                   TI(f"blk.{i}.ssm_conv1d.bias", [conv_dim]), TI(f"blk.{i}.ssm_dt.bias", [n_ssm_head]),
                   TI(f"blk.{i}.ssm_a", [1, n_ssm_head]), TI(f"blk.{i}.ssm_d", [1, n_ssm_head]),
                   TI(f"blk.{i}.ssm_norm.weight", [d_inner // n_group, n_group]),
                   TI(f"blk.{i}.ssm_out.weight", [d_inner, E])]
        ts += [TI(f"blk.{i}.ffn_norm.weight", [E]), TI(f"blk.{i}.ffn_gate_inp.weight", [E, NE]),
               TI(f"blk.{i}.ffn_gate_exps.weight", [E, FF, NE]), TI(f"blk.{i}.ffn_up_exps.weight", [E, FF, NE]),
               TI(f"blk.{i}.ffn_down_exps.weight", [FF, E, NE]),
               TI(f"blk.{i}.ffn_gate_shexp.weight", [E, FFS]), TI(f"blk.{i}.ffn_up_shexp.weight", [E, FFS]),
               TI(f"blk.{i}.ffn_down_shexp.weight", [FFS, E])]
    ts += [TI("output_norm.weight", [E])]
    typed(ts)
    g.tensors = quantize(ts, FTYPE_Q4_K_M, NE, L)
    finish_quant(g, FTYPE_Q4_K_M)
    return g


# ============================================================================ mmproj (Qwen3.5 vision)
# source: HF config Qwen/Qwen3.5-35B-A3B vision_config (depth 27, hidden_size 1152, intermediate 4304,
#         num_heads 16, patch_size 16, temporal_patch_size 2, spatial_merge_size 2,
#         num_position_embeddings 2304 -> image_size 48*16 = 768, out_hidden_size = text hidden 2048);
#         image_mean/std 0.5; conversion/qwen3vl.py Qwen3VLVisionModel + base.py MmprojModel;
#         tools/mtmd/clip-impl.h tensor names.  F16 converter output (patch_embd forced F16,
#         position_embd F32, 1-D F32).
def mmproj_qwen35(n_embd_text=2048):
    W_, L, FF, NH, P, MERGE = 1152, 27, 4304, 16, 16, 2
    NPOS = 2304
    g = GGUF()
    g.add("general.architecture", STR, "clip")
    g.add("general.type", STR, "mmproj")
    g.add("general.name", STR, "Qwen3.5 35B A3B")
    g.add("general.file_type", U32, FTYPE_F16)
    g.add("clip.has_vision_encoder", BOOL, True)
    g.add("clip.vision.projection_dim", U32, n_embd_text)
    g.add("clip.vision.image_size", U32, 768)
    g.add("clip.vision.patch_size", U32, P)
    g.add("clip.vision.embedding_length", U32, W_)
    g.add("clip.vision.feed_forward_length", U32, FF)
    g.add("clip.vision.block_count", U32, L)
    g.add("clip.vision.attention.head_count", U32, NH)
    g.add("clip.vision.image_mean", ARR, (F32V, [0.5, 0.5, 0.5]))
    g.add("clip.vision.image_std", ARR, (F32V, [0.5, 0.5, 0.5]))
    g.add("clip.projector_type", STR, "qwen3vl_merger")
    g.add("clip.use_gelu", BOOL, True)
    g.add("clip.vision.spatial_merge_size", U32, MERGE)
    g.add("clip.vision.attention.layer_norm_epsilon", F32V, 1e-6)
    g.add("clip.vision.is_deepstack_layers", ARR, (BOOL, [False] * L))
    ts = []
    for i in range(L):
        ts += [TI(f"v.blk.{i}.attn_qkv.weight", [W_, 3 * W_]), TI(f"v.blk.{i}.attn_qkv.bias", [3 * W_]),
               TI(f"v.blk.{i}.attn_out.weight", [W_, W_]), TI(f"v.blk.{i}.attn_out.bias", [W_]),
               TI(f"v.blk.{i}.ffn_up.weight", [W_, FF]), TI(f"v.blk.{i}.ffn_up.bias", [FF]),
               TI(f"v.blk.{i}.ffn_down.weight", [FF, W_]), TI(f"v.blk.{i}.ffn_down.bias", [W_]),
               TI(f"v.blk.{i}.ln1.weight", [W_]), TI(f"v.blk.{i}.ln1.bias", [W_]),
               TI(f"v.blk.{i}.ln2.weight", [W_]), TI(f"v.blk.{i}.ln2.bias", [W_])]
    M = W_ * MERGE * MERGE  # 4608
    ts += [TI("mm.0.weight", [M, M]), TI("mm.0.bias", [M]), TI("mm.2.weight", [M, n_embd_text]),
           TI("mm.2.bias", [n_embd_text]), TI("v.post_ln.weight", [W_]), TI("v.post_ln.bias", [W_]),
           TI("v.patch_embd.weight", [P, P, 3, W_]), TI("v.patch_embd.weight.1", [P, P, 3, W_]),
           TI("v.patch_embd.bias", [W_]), TI("v.position_embd.weight", [W_, NPOS])]
    for t in ts:
        t.type = converter_type(t.name, t.ne, T.F16)
        if ".patch_embd.weight" in t.name:
            t.type = T.F16
    g.tensors = ts
    return g


# ============================================================================ small llama (TinyLlama)
# source: HF config TinyLlama/TinyLlama-1.1B-Chat-v1.0 (hidden 2048, 22 layers, 32 heads, 4 KV heads,
#         intermediate 5632, vocab 32000, max_position_embeddings 2048, rope_theta 10000, rms 1e-5).
def tinyllama(ftype, version=3, endian="<"):
    E, L, H, KV, HD, FF, V = 2048, 22, 32, 4, 64, 5632, 32000
    g = GGUF(version=version, endian=endian)
    general_kv(g, "llama", "TinyLlama 1.1B Chat v1.0", "TinyLlama", "1.1B", "apache-2.0")
    g.add("llama.block_count", U32, L)
    g.add("llama.context_length", U32, 2048)
    g.add("llama.embedding_length", U32, E)
    g.add("llama.feed_forward_length", U32, FF)
    g.add("llama.attention.head_count", U32, H)
    g.add("llama.attention.head_count_kv", U32, KV)
    g.add("llama.rope.freq_base", F32V, 10000.0)
    g.add("llama.attention.layer_norm_rms_epsilon", F32V, 1e-5)
    g.add("general.file_type", U32, ftype if ftype == FTYPE_F16 else 1)
    g.add("llama.vocab_size", U32, V)
    g.add("llama.rope.dimension_count", U32, HD)
    tok_kv(g, "llama", "default", bos=1, eos=2)
    ts = [TI("token_embd.weight", [E, V])]
    for i in range(L):
        ts += [TI(f"blk.{i}.attn_norm.weight", [E]), TI(f"blk.{i}.attn_q.weight", [E, H * HD]),
               TI(f"blk.{i}.attn_k.weight", [E, KV * HD]), TI(f"blk.{i}.attn_v.weight", [E, KV * HD]),
               TI(f"blk.{i}.attn_output.weight", [H * HD, E]), TI(f"blk.{i}.ffn_norm.weight", [E]),
               TI(f"blk.{i}.ffn_gate.weight", [E, FF]), TI(f"blk.{i}.ffn_up.weight", [E, FF]),
               TI(f"blk.{i}.ffn_down.weight", [FF, E])]
    ts += [TI("output_norm.weight", [E]), TI("output.weight", [E, V])]
    typed(ts, T.F16)
    if ftype == FTYPE_F16:
        g.tensors = ts
    else:
        g.tensors = quantize(ts, ftype, 0, L)
        finish_quant(g, ftype)
    return g


# ============================================================================ split
def split_gguf(g: GGUF, max_bytes: int):
    """tools/gguf-split/gguf-split.cpp, --split-max-size mode:
    * shard 0 gets all KV pairs of the input; every shard then gets split.no (u16),
      split.count (u16, placeholder 0), split.tensors.count (i32 = total tensors);
      at the end split.count is set again (gguf_set_val removes + appends, so it moves last).
    * tensors in input order; a new shard starts when the running sum of
      GGML_PAD(nbytes, 32) would exceed max_bytes.
    * each shard has its own data section; offsets restart at 0."""
    layout(g)
    groups = [[]]
    cur_size = 0
    for i, t in enumerate(g.tensors):
        nb = pad(tensor_nbytes(t.ne, t.type), ALIGN)
        if cur_size + nb > max_bytes and groups[-1]:
            groups.append([])
            cur_size = nb
        else:
            cur_size += nb
        groups[-1].append(TI(t.name, list(t.ne), t.type))
    shards = []
    for si, ts in enumerate(groups):
        s = GGUF()
        if si == 0:
            s.kv = list(g.kv)
        s.set_append("split.no", U16, si)
        s.set_append("split.count", U16, 0)
        s.set_append("split.tensors.count", I32, len(g.tensors))
        s.tensors = ts
        shards.append(s)
    for s in shards:
        s.set_append("split.count", U16, len(shards))
    return shards


# ============================================================================ broken files
def tiny_base():
    """A small valid file used as the base of the broken fixtures (3 KVs, 3 tensors)."""
    g = GGUF()
    g.add("general.architecture", STR, "llama")
    g.add("general.name", STR, "broken-base")
    g.add("llama.block_count", U32, 1)
    g.tensors = [TI("token_embd.weight", [64, 32], T.F32), TI("blk.0.attn_q.weight", [64, 64], T.F16),
                 TI("output.weight", [64, 32], T.Q8_0)]
    return g


def broken_files():
    """Returns list of (filename, bytes, description).  Byte offsets are computed from the real
    serialisation (serialize(..., marks=...)) and reported in README.md; the comments say which
    field is corrupted."""
    out = []

    def base():
        m = {}
        g = tiny_base()
        b = bytearray(serialize(g, marks=m))
        return g, b, m

    # bad-magic: bytes 0..3 are "GGUX" instead of "GGUF" (byte 3 changed).
    g, b, m = base()
    b[0:4] = b"GGUX"
    out.append(("bad-magic.gguf", bytes(b), "magic at byte 0 is 'GGUX'"))

    # bad-version: u32 version at byte 4 is 7.
    g, b, m = base()
    b[4:8] = struct.pack("<I", 7)
    out.append(("bad-version.gguf", bytes(b), "version (u32 at byte 4) = 7"))

    # truncated-preamble: only 10 bytes (magic + version + 2 bytes of n_tensors).
    g, b, m = base()
    out.append(("truncated-preamble.gguf", bytes(b[:10]), "file is 10 bytes long: ends inside n_tensors (u64 at byte 8)"))

    # cut-mid-header: file ends in the middle of the value of KV #1 (general.name string).
    g, b, m = base()
    cut = m["kv1_type"] + 4 + 8 + 3    # after type, after string length, 3 bytes into the string
    out.append(("cut-mid-header.gguf", bytes(b[:cut]), f"file ends at byte {cut}, 3 bytes into the value string of KV #1 (general.name)"))

    # cut-mid-tensor-info: file ends inside the dims of tensor info #1.
    g, b, m = base()
    cut = m["ti1_ndims"] + 4 + 5
    out.append(("cut-mid-tensor-info.gguf", bytes(b[:cut]), f"file ends at byte {cut}, inside ne[0] of tensor info #1 (blk.0.attn_q.weight)"))

    # offset-out-of-range: tensor #2 offset = 0xFFFFFFFFFFFFFFE0 (aligned); offset + size overflows u64.
    g, b, m = base()
    o = m["ti2_offset"]
    b[o:o + 8] = struct.pack("<Q", 0xFFFFFFFFFFFFFFE0)
    out.append(("offset-out-of-range.gguf", bytes(b), f"tensor #2 (output.weight) offset (u64 at byte {o}) = 0xFFFFFFFFFFFFFFE0; offset+size overflows u64"))

    # overlapping-tensors: tensor #1 offset = 32, inside tensor #0 (which spans [0, 8192)).
    g, b, m = base()
    o = m["ti1_offset"]
    b[o:o + 8] = struct.pack("<Q", 32)
    out.append(("overlapping-tensors.gguf", bytes(b), f"tensor #1 offset (u64 at byte {o}) = 32, overlapping tensor #0 [0, 8192)"))

    # misaligned-offset: tensor #1 offset = 8193 (not a multiple of 32).
    g, b, m = base()
    o = m["ti1_offset"]
    b[o:o + 8] = struct.pack("<Q", 8193)
    out.append(("misaligned-offset.gguf", bytes(b), f"tensor #1 offset (u64 at byte {o}) = 8193, not a multiple of 32"))

    # absurd-tensor-count: n_tensors (u64 at byte 8) = 2^60.
    g, b, m = base()
    b[8:16] = struct.pack("<Q", 1 << 60)
    out.append(("absurd-tensor-count.gguf", bytes(b), "n_tensors (u64 at byte 8) = 2^60"))

    # absurd-kv-count: n_kv (u64 at byte 16) = 2^60.
    g, b, m = base()
    b[16:24] = struct.pack("<Q", 1 << 60)
    out.append(("absurd-kv-count.gguf", bytes(b), "n_kv (u64 at byte 16) = 2^60"))

    # absurd-string-length: key length of KV #0 (u64 at byte 24) = 2^62.
    g, b, m = base()
    b[24:32] = struct.pack("<Q", 1 << 62)
    out.append(("absurd-string-length.gguf", bytes(b), "length of the key of KV #0 (u64 at byte 24) = 2^62"))

    # unknown-value-type: value type of KV #2 (llama.block_count) = 99.
    g, b, m = base()
    o = m["kv2_type"]
    b[o:o + 4] = struct.pack("<I", 99)
    out.append(("unknown-value-type.gguf", bytes(b), f"value type of KV #2 (u32 at byte {o}) = 99"))

    # duplicate-tensor-name: tensor #2 is named like tensor #1 (names have equal length here).
    g = tiny_base()
    g.tensors[2].name = "blk.0.attn_q.weight"
    m = {}
    b = serialize(g, marks=m)
    out.append(("duplicate-tensor-name.gguf", b, f"tensor infos #1 (byte {m['ti1']}) and #2 (byte {m['ti2']}) are both 'blk.0.attn_q.weight'"))

    # duplicate-key: KV #2 repeats the key 'general.name'.
    g = tiny_base()
    g.kv[2] = ("general.name", STR, "again")
    m = {}
    b = serialize(g, marks=m)
    out.append(("duplicate-key.gguf", b, f"KV #2 (byte {m['kv2']}) repeats key 'general.name'"))

    # too-many-dims: tensor #1 n_dims (u32) = 9 (GGML_MAX_DIMS is 4); 9 dims of 1 follow.
    g = tiny_base()
    g.tensors[1].ne = [64, 64, 1, 1, 1, 1, 1, 1, 1]
    m = {}
    b = serialize(g, marks=m)
    out.append(("too-many-dims.gguf", b, f"tensor #1 n_dims (u32 at byte {m['ti1_ndims']}) = 9"))

    # unknown-tensor-type: the last tensor has ggml type 250 (a future/unknown type).  Everything
    # else is valid; a good parser reports the type as unknown (size unknown) instead of failing.
    g = tiny_base()
    g.tensors.append(TI("blk.0.future.weight", [64, 64], T.F16))
    layout(g)
    m = {}
    b = bytearray(serialize(g, do_layout=False, marks=m))
    o = m["ti3_type"]
    b[o:o + 4] = struct.pack("<I", 250)
    out.append(("unknown-tensor-type.gguf", bytes(b), f"tensor #3 (blk.0.future.weight) ggml type (u32 at byte {o}) = 250; otherwise valid"))

    # dim-product-overflow: tensor #1 dims [2^32, 2^32, 2^8] (F32): element count 2^72 overflows u64.
    g = tiny_base()
    layout(g)
    g.tensors[1].ne = [1 << 32, 1 << 32, 1 << 8]
    g.tensors[1].type = T.F32
    m = {}
    b = serialize(g, do_layout=False, marks=m)
    out.append(("dim-product-overflow.gguf", b, f"tensor #1 dims [2^32, 2^32, 2^8] (at byte {m['ti1_ndims'] + 4}): element count overflows u64"))

    # negative-dim: tensor #1 ne[1] = 0xFFFFFFFFFFFFFFFF (-1 as int64; gguf.cpp rejects ne < 0).
    g = tiny_base()
    layout(g)
    g.tensors[1].ne = [64, 0xFFFFFFFFFFFFFFFF]
    m = {}
    b = serialize(g, do_layout=False, marks=m)
    out.append(("negative-dim.gguf", b, f"tensor #1 ne[1] (u64 at byte {m['ti1_ndims'] + 12}) = 0xFFFFFFFFFFFFFFFF (-1 as int64)"))

    # empty.gguf: zero bytes.
    out.append(("empty.gguf", b"", "zero-length file"))
    return out


# ============================================================================ main
GOOD = []   # (filename, GGUF or bytes, description, geometry source, covers)


def main():
    os.makedirs(OUT, exist_ok=True)
    os.makedirs(BROKEN, exist_ok=True)
    made = []

    def emit(fname, g, what, source, covers):
        data = serialize(g)
        write(os.path.join(OUT, fname), data)
        data_size = layout(g) if g.tensors else 0
        made.append((fname, len(data), len(g.tensors), len(data) + data_size, what, source, covers))

    emit("qwen35-27b-q4km.gguf", qwen35("27B", mtp=True, recurrent_array=False),
         "Qwen3.5-27B Q4_K_M (dense hybrid: 48 Gated DeltaNet + 16 attention) with MTP block (blk.64)",
         "HF Qwen/Qwen3.5-27B; src/models/qwen35.cpp", "qwen35 arch, hybrid recurrent, MTP dense, full_attention_interval only")
    emit("qwen35-35b-a3b-q4km.gguf", qwen35("35B-A3B", mtp=True, recurrent_array=True),
         "Qwen3.5-35B-A3B Q4_K_M, MoE 256x512 + shared, MTP block (blk.40), recurrent_layers array",
         "HF Qwen/Qwen3.5-35B-A3B; src/models/qwen35moe.cpp", "qwen35moe, MTP MoE block, attention.recurrent_layers bool array")
    emit("qwen35-122b-a10b-q4km.gguf", qwen35("122B-A10B", mtp=False, recurrent_array=False),
         "Qwen3.5-122B-A10B Q4_K_M, no MTP",
         "HF Qwen/Qwen3.5-122B-A10B; src/models/qwen35moe.cpp", "qwen35moe without MTP (block_count == layers)")
    emit("qwen35-397b-a17b-q4km.gguf", qwen35("397B-A17B", mtp=False, recurrent_array=False),
         "Qwen3.5-397B-A17B Q4_K_M, 512 experts, 10 used, no MTP",
         "HF Qwen/Qwen3.5-397B-A17B; src/models/qwen35moe.cpp", "largest MoE, 512 experts")
    emit("llama3-8b-q4km.gguf", llama31_8b(),
         "Llama-3.1-8B-Instruct Q4_K_M", "HF meta-llama/Llama-3.1-8B-Instruct; src/models/llama.cpp",
         "classic GQA (32 heads / 8 KV), rope_freqs tensor, use_more_bits Q6_K on attn_v/ffn_down")
    emit("llama3-8b-q8_0.gguf", llama31_8b(FTYPE_Q8_0),
         "Llama-3.1-8B-Instruct Q8_0", "as above", "Q8_0 ftype (7): all 2-D weights Q8_0")
    emit("gemma3-4b-q4km.gguf", gemma3_4b(),
         "Gemma-3-4B-it (text) Q4_K_M", "HF google/gemma-3-4b-it; src/models/gemma3.cpp",
         "SWA 1024, 5 local : 1 global via default pattern 6 (no pattern key), tied embeddings (token_embd Q6_K), head_dim 256 != n_embd/n_head")
    emit("deepseek-v3-q4km.gguf", deepseek_v3(),
         "DeepSeek-V3 Q4_K_M (671B)", "HF deepseek-ai/DeepSeek-V3; src/models/deepseek2.cpp; conversion/deepseek.py",
         "MLA (kv_lora 512, q_lora 1536, key_length 576 / value_length 512, *_mla keys), 3 dense + 58 MoE layers, shared expert, Q5_0 fallback on attn_k_b (ne0=128), 1,086 tensors, MTP layer not written (converter skips it)")
    emit("mamba2-2.7b.gguf", mamba2_27b(),
         "Mamba2-2.7B F16 (converter output)", "HF state-spaces/mamba2-2.7b; src/models/mamba2.cpp; conversion/mamba.py",
         "pure recurrent (no KV cache), head_count 0, F16 file type, 2-D F32 ssm_a/ssm_d")
    emit("gpt-oss-20b-mxfp4.gguf", gpt_oss_20b(),
         "gpt-oss-20b MXFP4 experts + Q8_0 rest", "HF openai/gpt-oss-20b; src/models/openai-moe.cpp; llama-quant.cpp MXFP4_MOE",
         "SWA 128 alternating (default pattern 2), MoE 32x4, MXFP4 (type 39), biases, attn_sinks, n_embd 2880 not a multiple of 256")
    emit("qwen3-next-80b-a3b-q4km.gguf", qwen3next_80b(),
         "Qwen3-Next-80B-A3B Q4_K_M", "HF Qwen/Qwen3-Next-80B-A3B-Instruct; src/models/qwen3next.cpp",
         "qwen3next hybrid (36 GDN + 12 attention), 512 experts, ssm_ba fused tensor")
    emit("mixtral-8x7b-q4km.gguf", mixtral_8x7b(),
         "Mixtral-8x7B-Instruct-v0.1 Q4_K_M", "HF mistralai/Mixtral-8x7B-Instruct-v0.1; src/models/llama.cpp",
         "llama arch with experts; n_expert==8 rules: attn_k/attn_v Q8_0, attn_output Q5_K")
    emit("qwen3-30b-a3b-q4km.gguf", qwen3_30b_a3b(),
         "Qwen3-30B-A3B Q4_K_M", "HF Qwen/Qwen3-30B-A3B; src/models/qwen3moe.cpp",
         "qwen3moe, 128 experts, head_dim 128 with n_embd 2048 (q dim 4096 != n_embd)")
    emit("qwen2.5-7b-q4km.gguf", qwen25_7b(),
         "Qwen2.5-7B-Instruct Q4_K_M", "HF Qwen/Qwen2.5-7B-Instruct; src/models/qwen2.cpp",
         "qwen2 arch, q/k/v biases, explicit general.alignment = 32")
    emit("granite-4.0-h-tiny-q4km.gguf", granite4_h_tiny(),
         "Granite-4.0-H-Tiny Q4_K_M (36 Mamba2 + 4 attention, MoE 64x6 + shared)",
         "HF ibm-granite/granite-4.0-h-tiny (via secondary copies); src/models/granite-hybrid.cpp",
         "granitehybrid: per-layer head_count_kv INT32 array (0 = recurrent layer), no RoPE, tied embeddings")
    emit("mmproj-qwen35-f16.gguf", mmproj_qwen35(2048),
         "Qwen3.5-35B-A3B vision tower mmproj F16", "HF Qwen/Qwen3.5-35B-A3B vision_config; conversion/qwen3vl.py; tools/mtmd",
         "clip arch, general.type mmproj, projector qwen3vl_merger, 4-D patch_embd tensors, projection_dim 2048")
    emit("bigendian-llama.gguf", tinyllama(FTYPE_F16, endian=">"),
         "TinyLlama-1.1B F16, big-endian GGUF v3", "HF TinyLlama/TinyLlama-1.1B-Chat-v1.0",
         "big-endian byte order for every header field (magic bytes unchanged)")
    emit("tinyllama-v2-q4_0.gguf", tinyllama(FTYPE_Q4_0, version=2),
         "TinyLlama-1.1B Q4_0, GGUF version 2", "HF TinyLlama/TinyLlama-1.1B-Chat-v1.0",
         "GGUF v2 (same layout as v3, little-endian), Q4_0 with output Q6_K")

    # split set of the 35B-A3B file (gguf-split --split-max-size 8G: 8*1000^3 bytes)
    full = qwen35("35B-A3B", mtp=True, recurrent_array=True)
    shards = split_gguf(full, 8 * 1000 ** 3)
    assert len(shards) == 3, len(shards)
    for si, s in enumerate(shards):
        emit(f"qwen35-35b-a3b-q4km-{si + 1:05d}-of-{len(shards):05d}.gguf", s,
             f"shard {si + 1}/3 of qwen35-35b-a3b-q4km (gguf-split --split-max-size 8G)",
             "tools/gguf-split/gguf-split.cpp", "split.no / split.count / split.tensors.count; metadata only in shard 1; per-shard offsets")

    broken = broken_files()
    for fname, data, desc in broken:
        write(os.path.join(BROKEN, fname), data)

    write_readme(made, broken)
    for r in made:
        print(f"{r[0]:45s} {r[1]:8d} B  tensors={r[2]:5d}  full-size={r[3]}")
    for fname, data, desc in broken:
        print(f"broken/{fname:38s} {len(data):8d} B  {desc}")


def human(n):
    for u in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or u == "TiB":
            return f"{n:.2f} {u}" if u != "B" else f"{n} B"
        n /= 1024


def write_readme(made, broken):
    L = []
    L.append("# Test fixtures\n")
    L.append("Generated by `python3 scripts/gen_fixtures.py` (deterministic; re-running gives identical bytes).\n")
    L.append("Every good fixture is **header-only**: magic, version, counts, all KV pairs, all tensor infos and the")
    L.append("padding up to the alignment (32), and then the file ends where tensor data would start, like a download")
    L.append("that has just begun. The tensor-info offsets are those a real file has (sequential, each tensor padded to")
    L.append("32 bytes), so `data_start + last.offset + last.size` is the full size the real file would have")
    L.append("(\"full size\" below). Tools must not expect tensor data to be present.\n")
    L.append("Simplifications: `tokenizer.ggml.tokens` has only 8 entries (the real vocabulary size is the second")
    L.append("dimension of `token_embd.weight`, and `{arch}.vocab_size` where the real converter writes it); no")
    L.append("token types / scores / merges / chat template; `general.*` reduced to a few keys. Tensor names, shapes,")
    L.append("ggml types, order and KV keys follow llama.cpp (vendored in llama-cpp-python 0.3.36): loaders in")
    L.append("`src/models/<arch>.cpp`, names in `src/llama-arch.cpp`, converter in `conversion/*.py`, quant mix in")
    L.append("`src/llama-quant.cpp` (emulated in the generator: same ordering as llama-quantize, same counters for")
    L.append("`use_more_bits`, same fallbacks), split layout in `tools/gguf-split/gguf-split.cpp`.\n")
    L.append("gguf-py's `GGUFReader` refuses header-only files (it maps every tensor's data and the file is too short);")
    L.append("to inspect one with `gguf-dump`, make a sparse full-length copy first:")
    L.append("`cp f.gguf /tmp/x.gguf && truncate -s <full size> /tmp/x.gguf && gguf-dump /tmp/x.gguf`.\n")
    L.append("## Good fixtures\n")
    L.append("| file | bytes | tensors | full size of real file | what | geometry source | covers |")
    L.append("|---|---:|---:|---:|---|---|---|")
    for f, n, nt, full, what, src, cov in made:
        L.append(f"| `{f}` | {n} | {nt} | {full} ({human(full)}) | {what} | {src} | {cov} |")
    L.append("\n## Broken fixtures (`broken/`)\n")
    L.append("All except `empty.gguf` are derived from one small valid little-endian v3 file (3 KVs: general.architecture,")
    L.append("general.name, llama.block_count; 3 tensors: token_embd.weight F32 [64,32], blk.0.attn_q.weight F16 [64,64],")
    L.append("output.weight Q8_0 [64,32]). Byte offsets are positions in the file.\n")
    L.append("| file | bytes | what is wrong |")
    L.append("|---|---:|---|")
    for f, data, desc in broken:
        L.append(f"| `broken/{f}` | {len(data)} | {desc} |")
    L.append("")
    L.append("## Known limits of the geometry\n")
    L.append("- Types are what llama-quantize's *rules* give (llama-quant.cpp of llama.cpp vendored in llama-cpp-python")
    L.append("  0.3.36). Published files made by older llama.cpp versions or by Unsloth/bartowski imatrix/dynamic recipes")
    L.append("  can differ (e.g. the 2023 TheBloke Mixtral-8x7B Q4_K_M is 26.44 GB, this layout gives 28.45 GB).")
    L.append("- gpt-oss-20b uses the MXFP4_MOE rule (experts MXFP4, everything else Q8_0); the ggml-org converter-made")
    L.append("  file may keep non-expert tensors in another float type.")
    L.append("- Qwen3.5: no `feed_forward_length` key on the MoE models (not certain the HF text_config has intermediate_size);")
    L.append("  the vision tower is assumed to have no deepstack layers (all-false `clip.vision.is_deepstack_layers`).")
    L.append("- Granite-4.0-H-Tiny's geometry comes from copies of its config.json in public test files, and its four")
    L.append("  `*_scale` values are unverified; they do not affect shapes.")
    L.append("- Special-token ids are only given where known; the Qwen3.5 files have none.")
    L.append("")
    with open(os.path.join(OUT, "README.md"), "w") as fh:
        fh.write("\n".join(L) + "\n")


if __name__ == "__main__":
    main()
