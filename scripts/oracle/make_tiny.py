#!/usr/bin/env python3
"""Generate tiny synthetic GGUF models (zero weights, llama.cpp-valid structure).

    python3 scripts/oracle/make_tiny.py [--out DIR] [--only ARCH ...]

One file per architecture family gguf-meter has to model:

    tiny-llama        llama        dense GQA
    tiny-gemma3       gemma3       SWA (5 sliding : 1 global), head_dim 256 != n_embd/n_head
    tiny-qwen35       qwen35       hybrid: Gated DeltaNet + gated attention, full_attention_interval 4
    tiny-qwen35moe    qwen35moe    same + routed experts + shared expert
    tiny-deepseek2    deepseek2    MLA (q_lora + kv_lora), 1 leading dense layer, MoE + shared expert
    tiny-mamba2       mamba2       pure recurrent (SSM)
    tiny-gpt-oss      gpt-oss      SWA (alternating) + MoE, experts in MXFP4, attention sinks
    tiny-granitehybrid granitehybrid  mamba2 layers + a few attention layers (head_count_kv == 0 marks SSM)

Tensor names/shapes and required hparam keys follow the vendored llama.cpp
(src/models/<arch>.cpp load_arch_hparams/load_arch_tensors, src/llama-arch.cpp).
Weights are all zero (norms one): only the structure matters for memory.
2-D/3-D matrices are Q8_0 (gpt-oss experts MXFP4), everything 1-D is F32.
The tokenizer is a minimal SentencePiece ("llama") vocab: <unk>,<s>,</s>,
256 byte tokens and filler pieces.

gguf-py is taken from the vendored llama.cpp (it knows the newest arch
names); the tree is found via LLAMA_CPP_SRC or the build.sh cache
(GGUF_METER_LLAMA_CACHE, default ~/.cache/gguf-meter/llama.cpp).
Output defaults to $GGUF_METER_TINY_DIR or ~/.cache/gguf-meter/tiny.
Generation is deterministic (same bytes every run).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

SDIST_VERSION = "0.3.36"


def llama_cpp_src() -> Path:
    if os.environ.get("LLAMA_CPP_SRC"):
        return Path(os.environ["LLAMA_CPP_SRC"])
    cache = Path(os.environ.get("GGUF_METER_LLAMA_CACHE", Path.home() / ".cache/gguf-meter/llama.cpp"))
    return cache / f"src/llama_cpp_python-{SDIST_VERSION}/vendor/llama.cpp"


_gguf_py = llama_cpp_src() / "gguf-py"
if _gguf_py.is_dir():
    sys.path.insert(0, str(_gguf_py))
else:
    print(f"warning: {_gguf_py} not found (run build.sh first); using installed gguf", file=sys.stderr)

import numpy as np  # noqa: E402
import gguf  # noqa: E402
from gguf import GGMLQuantizationType as QT  # noqa: E402
from gguf.quants import quant_shape_to_byte_shape  # noqa: E402

F32, F16, Q8_0, MXFP4 = QT.F32, QT.F16, QT.Q8_0, QT.MXFP4


class Model:
    """Collects metadata + tensors; shapes are given in ggml order (ne0, ne1, ...)."""

    def __init__(self, name: str, arch: str):
        self.name = name
        self.arch = arch
        self.kv: list[tuple[str, object, str]] = []
        self.tensors: list[tuple[str, tuple[int, ...], QT, float]] = []

    # metadata -------------------------------------------------------------
    def u32(self, key, v):  self.kv.append((self._k(key), int(v), "u32"))
    def f32(self, key, v):  self.kv.append((self._k(key), float(v), "f32"))
    def bool(self, key, v): self.kv.append((self._k(key), bool(v), "bool"))
    def str(self, key, v):  self.kv.append((self._k(key), str(v), "str"))
    def arr(self, key, v):  self.kv.append((self._k(key), list(v), "arr"))
    def arr_u32(self, key, v): self.kv.append((self._k(key), [int(x) for x in v], "arr_u32"))

    def _k(self, key: str) -> str:
        return key.replace("{arch}", self.arch)

    # tensors --------------------------------------------------------------
    def t(self, name: str, ne, qtype: QT | None = None, fill: float = 0.0):
        ne = tuple(int(x) for x in ne)
        if qtype is None:
            qtype = F32 if len(ne) == 1 else Q8_0
        blk = gguf.GGML_QUANT_SIZES[qtype][0]
        if ne[0] % blk != 0:
            qtype = F16 if len(ne) > 1 else F32
        self.tensors.append((name, ne, qtype, fill))

    def write(self, path: Path):
        w = gguf.GGUFWriter(str(path), self.arch)
        w.add_name(self.name)
        w.add_type(gguf.GGUFType.MODEL)
        for key, v, kind in self.kv:
            if kind == "u32":
                w.add_uint32(key, v)
            elif kind == "f32":
                w.add_float32(key, v)
            elif kind == "bool":
                w.add_bool(key, v)
            elif kind == "str":
                w.add_string(key, v)
            elif kind == "arr_u32":
                w.add_key_value(key, v, gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.UINT32)
            else:
                w.add_array(key, v)
        for name, ne, qtype, fill in self.tensors:
            np_shape = tuple(reversed(ne))
            if qtype == F32:
                w.add_tensor(name, np.full(np_shape, fill, dtype=np.float32))
            elif qtype == F16:
                w.add_tensor(name, np.full(np_shape, fill, dtype=np.float16))
            else:
                w.add_tensor(name, np.zeros(quant_shape_to_byte_shape(np_shape, qtype), dtype=np.uint8), raw_dtype=qtype)
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()


# ---------------------------------------------------------------- shared bits

def add_vocab(m: Model, n_vocab: int):
    """Minimal SentencePiece vocab llama.cpp accepts (needs <0x0A> for the linefeed token)."""
    toks = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)]
    toks += [f"\u2581t{i}" for i in range(n_vocab - len(toks))]
    assert len(toks) == n_vocab
    types = [2, 3, 3] + [6] * 256 + [1] * (n_vocab - 259)   # unknown, control, byte, normal
    m.str("tokenizer.ggml.model", "llama")
    m.arr("tokenizer.ggml.tokens", toks)
    m.arr("tokenizer.ggml.scores", [float(-i) for i in range(n_vocab)])
    m.arr("tokenizer.ggml.token_type", types)
    m.u32("tokenizer.ggml.bos_token_id", 1)
    m.u32("tokenizer.ggml.eos_token_id", 2)
    m.u32("tokenizer.ggml.unknown_token_id", 0)


def add_common(m: Model, *, n_ctx_train, n_embd, n_layer, n_vocab, n_ff=None, n_head=None, n_head_kv=None,
               rms_eps=1e-6, rope_base=None):
    m.u32("{arch}.context_length", n_ctx_train)
    m.u32("{arch}.embedding_length", n_embd)
    m.u32("{arch}.block_count", n_layer)
    if n_ff is not None:
        m.u32("{arch}.feed_forward_length", n_ff)
    if n_head is not None:
        m.u32("{arch}.attention.head_count", n_head)
    if n_head_kv is not None:
        if isinstance(n_head_kv, list):
            m.arr_u32("{arch}.attention.head_count_kv", n_head_kv)
        else:
            m.u32("{arch}.attention.head_count_kv", n_head_kv)
    m.f32("{arch}.attention.layer_norm_rms_epsilon", rms_eps)
    if rope_base is not None:
        m.f32("{arch}.rope.freq_base", rope_base)
    m.u32("{arch}.vocab_size", n_vocab)
    add_vocab(m, n_vocab)


def embd_out(m: Model, n_embd, n_vocab, tied=True):
    m.t("token_embd.weight", (n_embd, n_vocab))
    m.t("output_norm.weight", (n_embd,), fill=1.0)
    if not tied:
        m.t("output.weight", (n_embd, n_vocab))


def dense_ffn(m: Model, i, n_embd, n_ff):
    m.t(f"blk.{i}.ffn_gate.weight", (n_embd, n_ff))
    m.t(f"blk.{i}.ffn_up.weight", (n_embd, n_ff))
    m.t(f"blk.{i}.ffn_down.weight", (n_ff, n_embd))


def attn_qkvo(m: Model, i, n_embd, n_q, n_k, n_v, n_o_in):
    m.t(f"blk.{i}.attn_q.weight", (n_embd, n_q))
    m.t(f"blk.{i}.attn_k.weight", (n_embd, n_k))
    m.t(f"blk.{i}.attn_v.weight", (n_embd, n_v))
    m.t(f"blk.{i}.attn_output.weight", (n_o_in, n_embd))


# ---------------------------------------------------------------- architectures

def make_llama() -> Model:
    m = Model("tiny-llama", "llama")
    n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, hd = 512, 512, 4, 8, 2, 1536, 64
    add_common(m, n_ctx_train=8192, n_embd=n_embd, n_layer=n_layer, n_vocab=n_vocab, n_ff=n_ff,
               n_head=n_head, n_head_kv=n_head_kv, rms_eps=1e-5, rope_base=500000.0)
    m.u32("{arch}.rope.dimension_count", hd)
    embd_out(m, n_embd, n_vocab, tied=False)
    for i in range(n_layer):
        m.t(f"blk.{i}.attn_norm.weight", (n_embd,), fill=1.0)
        attn_qkvo(m, i, n_embd, n_head * hd, n_head_kv * hd, n_head_kv * hd, n_head * hd)
        m.t(f"blk.{i}.ffn_norm.weight", (n_embd,), fill=1.0)
        dense_ffn(m, i, n_embd, n_ff)
    return m


def make_gemma3() -> Model:
    m = Model("tiny-gemma3", "gemma3")
    n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, hd = 512, 640, 12, 4, 1, 2048, 256
    add_common(m, n_ctx_train=32768, n_embd=n_embd, n_layer=n_layer, n_vocab=n_vocab, n_ff=n_ff,
               n_head=n_head, n_head_kv=n_head_kv, rope_base=1000000.0)
    m.u32("{arch}.attention.key_length", hd)
    m.u32("{arch}.attention.value_length", hd)
    m.u32("{arch}.attention.sliding_window", 512)
    m.f32("{arch}.rope.freq_base_swa", 10000.0)
    embd_out(m, n_embd, n_vocab)
    for i in range(n_layer):
        m.t(f"blk.{i}.attn_norm.weight", (n_embd,), fill=1.0)
        attn_qkvo(m, i, n_embd, n_head * hd, n_head_kv * hd, n_head_kv * hd, n_head * hd)
        m.t(f"blk.{i}.post_attention_norm.weight", (n_embd,), fill=1.0)
        m.t(f"blk.{i}.attn_q_norm.weight", (hd,), fill=1.0)
        m.t(f"blk.{i}.attn_k_norm.weight", (hd,), fill=1.0)
        m.t(f"blk.{i}.ffn_norm.weight", (n_embd,), fill=1.0)
        dense_ffn(m, i, n_embd, n_ff)
        m.t(f"blk.{i}.post_ffw_norm.weight", (n_embd,), fill=1.0)
    return m


def _qwen35_common(m: Model, n_layer, moe: bool):
    n_vocab, n_embd, n_head, n_head_kv, hd = 512, 512, 4, 1, 128
    d_conv, d_state, n_group, dt_rank = 4, 128, 2, 4   # head_k_dim = head_v_dim = d_state
    add_common(m, n_ctx_train=262144, n_embd=n_embd, n_layer=n_layer, n_vocab=n_vocab,
               n_ff=None if moe else 1536, n_head=n_head, n_head_kv=n_head_kv, rope_base=10000000.0)
    m.u32("{arch}.attention.key_length", hd)
    m.u32("{arch}.attention.value_length", hd)
    m.u32("{arch}.rope.dimension_count", 32)          # partial rotary 0.25
    m.arr_u32("{arch}.rope.dimension_sections", [6, 5, 5, 0])
    m.u32("{arch}.ssm.conv_kernel", d_conv)
    m.u32("{arch}.ssm.state_size", d_state)
    m.u32("{arch}.ssm.group_count", n_group)
    m.u32("{arch}.ssm.time_step_rank", dt_rank)
    m.u32("{arch}.ssm.inner_size", d_state * dt_rank)
    m.u32("{arch}.full_attention_interval", 4)
    embd_out(m, n_embd, n_vocab, tied=False)
    key_dim, value_dim = d_state * n_group, d_state * dt_rank
    conv_dim = 2 * key_dim + value_dim
    for i in range(n_layer):
        m.t(f"blk.{i}.attn_norm.weight", (n_embd,), fill=1.0)
        m.t(f"blk.{i}.post_attention_norm.weight", (n_embd,), fill=1.0)
        if (i + 1) % 4 == 0:   # full (gated) attention layer: q proj carries the gate -> 2x
            attn_qkvo(m, i, n_embd, hd * n_head * 2, hd * n_head_kv, hd * n_head_kv, hd * n_head)
            m.t(f"blk.{i}.attn_q_norm.weight", (hd,), fill=1.0)
            m.t(f"blk.{i}.attn_k_norm.weight", (hd,), fill=1.0)
        else:                  # Gated DeltaNet layer
            m.t(f"blk.{i}.attn_qkv.weight", (n_embd, conv_dim))
            m.t(f"blk.{i}.attn_gate.weight", (n_embd, value_dim))
            m.t(f"blk.{i}.ssm_conv1d.weight", (d_conv, conv_dim), F32)
            m.t(f"blk.{i}.ssm_dt.bias", (dt_rank,))
            m.t(f"blk.{i}.ssm_a", (dt_rank,), fill=-1.0)
            m.t(f"blk.{i}.ssm_beta.weight", (n_embd, dt_rank))
            m.t(f"blk.{i}.ssm_alpha.weight", (n_embd, dt_rank))
            m.t(f"blk.{i}.ssm_norm.weight", (d_state,), fill=1.0)
            m.t(f"blk.{i}.ssm_out.weight", (value_dim, n_embd))
    return n_embd


def make_qwen35() -> Model:
    m = Model("tiny-qwen35", "qwen35")
    n_layer = 8
    n_embd = _qwen35_common(m, n_layer, moe=False)
    for i in range(n_layer):
        dense_ffn(m, i, n_embd, 1536)
    return m


def make_qwen35moe() -> Model:
    m = Model("tiny-qwen35moe", "qwen35moe")
    n_layer, n_expert, n_used, n_ff_exp, n_ff_sh = 8, 8, 2, 256, 256
    m.u32("{arch}.expert_count", n_expert)
    m.u32("{arch}.expert_used_count", n_used)
    m.u32("{arch}.expert_feed_forward_length", n_ff_exp)
    m.u32("{arch}.expert_shared_feed_forward_length", n_ff_sh)
    n_embd = _qwen35_common(m, n_layer, moe=True)
    for i in range(n_layer):
        m.t(f"blk.{i}.ffn_gate_inp.weight", (n_embd, n_expert), F32)
        m.t(f"blk.{i}.ffn_gate_exps.weight", (n_embd, n_ff_exp, n_expert))
        m.t(f"blk.{i}.ffn_up_exps.weight", (n_embd, n_ff_exp, n_expert))
        m.t(f"blk.{i}.ffn_down_exps.weight", (n_ff_exp, n_embd, n_expert))
        m.t(f"blk.{i}.ffn_gate_inp_shexp.weight", (n_embd,))
        m.t(f"blk.{i}.ffn_gate_shexp.weight", (n_embd, n_ff_sh))
        m.t(f"blk.{i}.ffn_up_shexp.weight", (n_embd, n_ff_sh))
        m.t(f"blk.{i}.ffn_down_shexp.weight", (n_ff_sh, n_embd))
    return m


def make_deepseek2() -> Model:
    m = Model("tiny-deepseek2", "deepseek2")
    n_vocab, n_embd, n_layer, n_head = 512, 512, 4, 4
    q_lora, kv_lora, rope, nope, v_mla = 192, 256, 64, 64, 64
    n_expert, n_used, n_shared, n_ff_exp, n_ff = 8, 2, 1, 256, 1024
    # MLA as written by current convert_hf_to_gguf: MQA over the compressed latent
    add_common(m, n_ctx_train=163840, n_embd=n_embd, n_layer=n_layer, n_vocab=n_vocab, n_ff=n_ff,
               n_head=n_head, n_head_kv=1, rope_base=10000.0)
    m.u32("{arch}.attention.key_length", kv_lora + rope)
    m.u32("{arch}.attention.value_length", kv_lora)
    m.u32("{arch}.attention.key_length_mla", nope + rope)
    m.u32("{arch}.attention.value_length_mla", v_mla)
    m.u32("{arch}.attention.q_lora_rank", q_lora)
    m.u32("{arch}.attention.kv_lora_rank", kv_lora)
    m.u32("{arch}.rope.dimension_count", rope)
    m.u32("{arch}.leading_dense_block_count", 1)
    m.u32("{arch}.expert_count", n_expert)
    m.u32("{arch}.expert_used_count", n_used)
    m.u32("{arch}.expert_shared_count", n_shared)
    m.u32("{arch}.expert_feed_forward_length", n_ff_exp)
    m.f32("{arch}.expert_weights_scale", 2.5)
    m.bool("{arch}.expert_weights_norm", True)
    m.u32("{arch}.expert_gating_func", 2)   # sigmoid
    embd_out(m, n_embd, n_vocab, tied=False)
    for i in range(n_layer):
        m.t(f"blk.{i}.attn_norm.weight", (n_embd,), fill=1.0)
        m.t(f"blk.{i}.attn_q_a_norm.weight", (q_lora,), fill=1.0)
        m.t(f"blk.{i}.attn_kv_a_norm.weight", (kv_lora,), fill=1.0)
        m.t(f"blk.{i}.attn_q_a.weight", (n_embd, q_lora))
        m.t(f"blk.{i}.attn_q_b.weight", (q_lora, n_head * (nope + rope)))
        m.t(f"blk.{i}.attn_kv_a_mqa.weight", (n_embd, kv_lora + rope))
        m.t(f"blk.{i}.attn_k_b.weight", (nope, kv_lora, n_head))
        m.t(f"blk.{i}.attn_v_b.weight", (kv_lora, v_mla, n_head))
        m.t(f"blk.{i}.attn_output.weight", (n_head * v_mla, n_embd))
        m.t(f"blk.{i}.ffn_norm.weight", (n_embd,), fill=1.0)
        if i < 1:
            dense_ffn(m, i, n_embd, n_ff)
        else:
            m.t(f"blk.{i}.ffn_gate_inp.weight", (n_embd, n_expert), F32)
            m.t(f"blk.{i}.exp_probs_b.bias", (n_expert,))
            m.t(f"blk.{i}.ffn_gate_exps.weight", (n_embd, n_ff_exp, n_expert))
            m.t(f"blk.{i}.ffn_up_exps.weight", (n_embd, n_ff_exp, n_expert))
            m.t(f"blk.{i}.ffn_down_exps.weight", (n_ff_exp, n_embd, n_expert))
            m.t(f"blk.{i}.ffn_gate_shexp.weight", (n_embd, n_ff_exp * n_shared))
            m.t(f"blk.{i}.ffn_up_shexp.weight", (n_embd, n_ff_exp * n_shared))
            m.t(f"blk.{i}.ffn_down_shexp.weight", (n_ff_exp * n_shared, n_embd))
    return m


def _mamba2_layer(m: Model, i, n_embd, d_conv, d_inner, d_state, n_group, n_heads, in_proj, conv_bias=True):
    conv_dim = d_inner + 2 * n_group * d_state
    m.t(f"blk.{i}.ssm_in.weight", (n_embd, in_proj))
    m.t(f"blk.{i}.ssm_conv1d.weight", (d_conv, conv_dim), F32)
    if conv_bias:
        m.t(f"blk.{i}.ssm_conv1d.bias", (conv_dim,))
    m.t(f"blk.{i}.ssm_dt.bias", (n_heads,))
    m.t(f"blk.{i}.ssm_a", (1, n_heads), F32, fill=-1.0)
    m.t(f"blk.{i}.ssm_d", (1, n_heads), F32, fill=1.0)
    m.t(f"blk.{i}.ssm_norm.weight", (d_inner // n_group, n_group), F32, fill=1.0)
    m.t(f"blk.{i}.ssm_out.weight", (d_inner, n_embd))


def make_mamba2() -> Model:
    m = Model("tiny-mamba2", "mamba2")
    n_vocab, n_embd, n_layer = 512, 512, 4
    d_conv, d_inner, d_state, n_group, head_dim = 4, 1024, 128, 1, 64
    n_heads = d_inner // head_dim
    # as conversion/mamba.py writes it: ff length 0, head count 0
    add_common(m, n_ctx_train=2 ** 20, n_embd=n_embd, n_layer=n_layer, n_vocab=n_vocab, n_ff=0, n_head=0,
               rms_eps=1e-5)
    m.u32("{arch}.ssm.conv_kernel", d_conv)
    m.u32("{arch}.ssm.inner_size", d_inner)
    m.u32("{arch}.ssm.state_size", d_state)
    m.u32("{arch}.ssm.time_step_rank", n_heads)
    m.u32("{arch}.ssm.group_count", n_group)
    embd_out(m, n_embd, n_vocab)
    conv_dim = d_inner + 2 * n_group * d_state
    for i in range(n_layer):
        m.t(f"blk.{i}.attn_norm.weight", (n_embd,), fill=1.0)
        _mamba2_layer(m, i, n_embd, d_conv, d_inner, d_state, n_group, n_heads, d_inner + conv_dim + n_heads)
    return m


def make_gpt_oss() -> Model:
    m = Model("tiny-gpt-oss", "gpt-oss")
    n_vocab, n_embd, n_layer, n_head, n_head_kv, hd = 512, 512, 4, 8, 2, 64
    n_expert, n_used, n_ff_exp = 8, 2, 512
    add_common(m, n_ctx_train=131072, n_embd=n_embd, n_layer=n_layer, n_vocab=n_vocab, n_ff=n_ff_exp,
               n_head=n_head, n_head_kv=n_head_kv, rms_eps=1e-5, rope_base=150000.0)
    m.u32("{arch}.attention.key_length", hd)
    m.u32("{arch}.attention.value_length", hd)
    m.u32("{arch}.rope.dimension_count", hd)
    m.u32("{arch}.attention.sliding_window", 128)
    m.u32("{arch}.expert_count", n_expert)
    m.u32("{arch}.expert_used_count", n_used)
    m.u32("{arch}.expert_feed_forward_length", n_ff_exp)
    m.str("{arch}.rope.scaling.type", "yarn")
    m.f32("{arch}.rope.scaling.factor", 32.0)
    m.u32("{arch}.rope.scaling.original_context_length", 4096)
    embd_out(m, n_embd, n_vocab, tied=False)
    for i in range(n_layer):
        m.t(f"blk.{i}.attn_norm.weight", (n_embd,), fill=1.0)
        m.t(f"blk.{i}.post_attention_norm.weight", (n_embd,), fill=1.0)
        attn_qkvo(m, i, n_embd, n_head * hd, n_head_kv * hd, n_head_kv * hd, n_head * hd)
        m.t(f"blk.{i}.attn_q.bias", (n_head * hd,))
        m.t(f"blk.{i}.attn_k.bias", (n_head_kv * hd,))
        m.t(f"blk.{i}.attn_v.bias", (n_head_kv * hd,))
        m.t(f"blk.{i}.attn_output.bias", (n_embd,))
        m.t(f"blk.{i}.attn_sinks.weight", (n_head,))
        m.t(f"blk.{i}.ffn_gate_inp.weight", (n_embd, n_expert), F32)
        m.t(f"blk.{i}.ffn_gate_inp.bias", (n_expert,))
        m.t(f"blk.{i}.ffn_gate_exps.weight", (n_embd, n_ff_exp, n_expert), MXFP4)
        m.t(f"blk.{i}.ffn_up_exps.weight", (n_embd, n_ff_exp, n_expert), MXFP4)
        m.t(f"blk.{i}.ffn_down_exps.weight", (n_ff_exp, n_embd, n_expert), MXFP4)
        m.t(f"blk.{i}.ffn_gate_exps.bias", (n_ff_exp, n_expert), F32)
        m.t(f"blk.{i}.ffn_up_exps.bias", (n_ff_exp, n_expert), F32)
        m.t(f"blk.{i}.ffn_down_exps.bias", (n_embd, n_expert), F32)
    return m


def make_granitehybrid() -> Model:
    m = Model("tiny-granitehybrid", "granitehybrid")
    n_vocab, n_embd, n_layer, n_head, n_ff = 512, 512, 8, 8, 1024
    d_conv, d_inner, d_state, n_group, head_dim = 4, 1024, 128, 1, 64
    n_heads = d_inner // head_dim
    attn_layers = {3, 7}
    head_kv = [2 if i in attn_layers else 0 for i in range(n_layer)]   # 0 => mamba2 layer
    add_common(m, n_ctx_train=131072, n_embd=n_embd, n_layer=n_layer, n_vocab=n_vocab, n_ff=n_ff,
               n_head=n_head, n_head_kv=head_kv, rms_eps=1e-5, rope_base=10000.0)
    m.u32("{arch}.ssm.conv_kernel", d_conv)
    m.u32("{arch}.ssm.inner_size", d_inner)
    m.u32("{arch}.ssm.state_size", d_state)
    m.u32("{arch}.ssm.time_step_rank", n_heads)
    m.u32("{arch}.ssm.group_count", n_group)
    m.bool("{arch}.rope.scaling.finetuned", False)  # granite-4.0-h: NoPE
    m.f32("{arch}.logit_scale", 8.0)
    m.f32("{arch}.residual_scale", 0.22)
    m.f32("{arch}.embedding_scale", 12.0)
    m.f32("{arch}.attention.scale", 0.015625)
    embd_out(m, n_embd, n_vocab)
    hd = n_embd // n_head
    for i in range(n_layer):
        m.t(f"blk.{i}.attn_norm.weight", (n_embd,), fill=1.0)
        if i in attn_layers:
            attn_qkvo(m, i, n_embd, n_head * hd, head_kv[i] * hd, head_kv[i] * hd, n_head * hd)
        else:
            _mamba2_layer(m, i, n_embd, d_conv, d_inner, d_state, n_group, n_heads,
                          2 * d_inner + 2 * n_group * d_state + n_heads)
        m.t(f"blk.{i}.ffn_norm.weight", (n_embd,), fill=1.0)
        dense_ffn(m, i, n_embd, n_ff)
    return m


MODELS = {
    "llama": make_llama,
    "gemma3": make_gemma3,
    "qwen35": make_qwen35,
    "qwen35moe": make_qwen35moe,
    "deepseek2": make_deepseek2,
    "mamba2": make_mamba2,
    "gpt-oss": make_gpt_oss,
    "granitehybrid": make_granitehybrid,
}


def default_out() -> Path:
    return Path(os.environ.get("GGUF_METER_TINY_DIR", Path.home() / ".cache/gguf-meter/tiny"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=default_out())
    ap.add_argument("--only", nargs="*", choices=sorted(MODELS), help="subset of architectures")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for key in args.only or MODELS:
        m = MODELS[key]()
        path = args.out / f"{m.name}.gguf"
        m.write(path)
        print(f"{path}\t{path.stat().st_size}")


if __name__ == "__main__":
    main()
