#!/usr/bin/env python3
"""Synthetic header-only mmproj files for llama.cpp's projector types, and their oracle records.

For each projector type in tools/mtmd/clip-impl.h this writes a small mmproj GGUF whose
hyperparameters and tensors are what clip.cpp's loader asks for: the tensor names come from
the loader itself (oracle_mmproj --requests lists every name clip_model_loader::load_tensors
looked up, and a missing required tensor or key is named in its error; the script adds it and
tries again), the shapes from the graph builders (tools/mtmd/clip.cpp build_vit/build_inp and
models/*.cpp), written down in vit_shape() / spec() below beside the graph code they follow.
A spec is proven when mtmd builds and reserves its graph (the warm-up) without an assertion.

Then oracle_mmproj records each file (flash attention on / off / auto, the warm-up input and
the largest image clip accepts) into fixtures/oracle/mmproj-type-<type>.json, and the headers
are kept as fixtures/mmproj/<type>.gguf (header only: the loader never reads tensor data in
no_alloc mode, so a sparse copy of the header is what the oracle loads).

`FULL` adds full-size geometries of published projectors (from their HF configs) under the same
specs: fixtures/mmproj/full-<name>.gguf and fixtures/oracle/mmproj-full-<name>.json.

    python3 scripts/oracle/mmproj_types.py                 # every spec, record all
    python3 scripts/oracle/mmproj_types.py --only gemma3   # one type
    python3 scripts/oracle/mmproj_types.py --discover      # print what the loader asks each type for
"""
import argparse
import json
import math
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CACHE = Path(os.environ.get("GGUF_METER_LLAMA_CACHE", Path.home() / ".cache/gguf-meter/llama.cpp"))
ORACLE = Path(os.environ.get("ORACLE_MMPROJ", CACHE / "build-0.3.36/oracle_mmproj"))
LLAMA = CACHE / "src/llama_cpp_python-0.3.36/vendor/llama.cpp"
FIXTURES = REPO / "fixtures/mmproj"
RECORDS = REPO / "fixtures/oracle"
WORK = Path(os.environ.get("GGUF_METER_TINY_DIR", "/tmp/gguf-meter-mmproj"))

F32, F16 = 0, 1
GGUF_STR, GGUF_U32, GGUF_F32, GGUF_BOOL, GGUF_ARR, GGUF_I32 = 8, 4, 6, 7, 9, 5


def projector_names():
    """Every projector type name mtmd knows (clip-impl.h PROJECTOR_TYPE_NAMES)."""
    src = (LLAMA / "tools/mtmd/clip-impl.h").read_text()
    return re.findall(r'\{\s*PROJECTOR_TYPE_\w+,\s*"([^"]+)"\s*\}', src)


# ------------------------------------------------------------------ GGUF writing (header only)

class I32:
    """A metadata value clip.cpp reads with get_i32."""

    def __init__(self, v):
        self.v = v


def _kv(key, value):
    k = key.encode()
    out = struct.pack("<Q", len(k)) + k
    if isinstance(value, bool):
        return out + struct.pack("<IB", GGUF_BOOL, value)
    if isinstance(value, str):
        v = value.encode()
        return out + struct.pack("<IQ", GGUF_STR, len(v)) + v
    if isinstance(value, float):
        return out + struct.pack("<If", GGUF_F32, value)
    if isinstance(value, I32):
        return out + struct.pack("<Ii", GGUF_I32, value.v)
    if isinstance(value, int):
        return out + struct.pack("<II", GGUF_U32, value)
    if isinstance(value, list):
        if value and isinstance(value[0], float):
            return out + struct.pack("<IIQ", GGUF_ARR, GGUF_F32, len(value)) + struct.pack(f"<{len(value)}f", *value)
        if value and isinstance(value[0], bool):
            return out + struct.pack("<IIQ", GGUF_ARR, GGUF_BOOL, len(value)) + bytes(int(b) for b in value)
        return out + struct.pack("<IIQ", GGUF_ARR, GGUF_I32, len(value)) + struct.pack(f"<{len(value)}i", *value)
    raise TypeError(key)


def write_gguf(path: Path, kvs: dict, tensors: list, sparse: bool) -> int:
    """tensors: [(name, ne, type)]; returns the full file size. Header-only unless sparse."""
    align = 32
    infos, off = [], 0
    for name, ne, ty in tensors:
        n = math.prod(ne)
        nb = n * (4 if ty == F32 else 2)
        nm = name.encode()
        infos.append(struct.pack("<Q", len(nm)) + nm + struct.pack("<I", len(ne)) +
                     struct.pack(f"<{len(ne)}Q", *ne) + struct.pack("<IQ", ty, off))
        off += -(-nb // align) * align
    hdr = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(infos), len(kvs)))
    for k, v in kvs.items():
        hdr += _kv(k, v)
    for i in infos:
        hdr += i
    hdr += b"\0" * (-len(hdr) % align)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(hdr)
        if sparse:
            f.truncate(len(hdr) + off)
    return len(hdr) + off


# ------------------------------------------------------------------ shapes

class G:
    """A projector's geometry: the hparams written and the shapes derived from them."""

    def __init__(self, **kw):
        self.E = kw.get("E", 64)          # encoder width
        self.H = kw.get("H", 4)           # heads
        self.HKV = kw.get("HKV", self.H)  # kv heads
        self.F = kw.get("F", 128)         # encoder FFN width
        self.L = kw.get("L", 2)           # blocks
        self.P = kw.get("P", 96)          # projection (text model) width
        self.img = kw.get("img", 64)      # image side
        self.patch = kw.get("patch", 8)
        self.merge = kw.get("merge", 1)   # spatial merge / scale factor written (1: not written)
        self.mel = kw.get("mel", 128)
        self.stack = kw.get("stack", 8)
        self.FP = kw.get("FP", self.P)    # projector MLP width
        self.extra = kw.get("extra", {})
        self.cls = kw.get("cls", False)   # position embedding has a class row
        self.pos = kw.get("pos", None)    # position embedding rows (default: patches (+1))

    @property
    def d(self):
        return self.E // self.H

    @property
    def n_pos(self):
        if self.pos is not None:
            return self.pos
        return (self.img // self.patch) ** 2 + (1 if self.cls else 0)


def vit_shape(g: G, name: str, audio: bool):
    """Shape of a standard encoder tensor (clip.cpp build_vit / build_inp), or None."""
    E, F = g.E, g.F
    kv = g.HKV * g.d
    m = re.match(r"^[va]\.blk\.\d+\.(.+)$", name)
    if m:
        t = m.group(1)
        table = {
            "attn_q.weight": [E, E], "attn_q.bias": [E],
            "attn_k.weight": [E, kv], "attn_k.bias": [kv],
            "attn_v.weight": [E, kv], "attn_v.bias": [kv],
            "attn_qkv.weight": [E, E + 2 * kv], "attn_qkv.bias": [E + 2 * kv],
            "attn_out.weight": [E, E], "attn_out.bias": [E],
            "ln1.weight": [E], "ln1.bias": [E], "ln2.weight": [E], "ln2.bias": [E],
            "ls1.weight": [E], "ls2.weight": [E],
            "ffn_up.weight": [E, F], "ffn_up.bias": [F],
            "ffn_gate.weight": [E, F], "ffn_gate.bias": [F],
            "ffn_down.weight": [F, E], "ffn_down.bias": [E],
            "attn_q_norm.weight": [g.d], "attn_k_norm.weight": [g.d],
            "attn_post_norm.weight": [E], "ffn_post_norm.weight": [E],
        }
        return table.get(t)
    p = "a" if audio else "v"
    table = {
        "v.patch_embd.weight": [g.patch, g.patch, 3, E],
        "v.patch_embd.weight.1": [g.patch, g.patch, 3, E],
        "v.patch_embd.bias": [E],
        "v.class_embd": [E],
        f"{p}.position_embd.weight": [E, g.n_pos],
        f"{p}.pre_ln.weight": [E], f"{p}.pre_ln.bias": [E],
        f"{p}.post_ln.weight": [E], f"{p}.post_ln.bias": [E],
        # whisper encoder (models/whisper-enc.cpp): conv1d k=3 over the mel bins, then k=3 stride 2
        # (convert_hf_to_gguf.py unsqueezes conv biases: [1, E], so they broadcast over frames)
        "a.conv1d.1.weight": [3, g.mel, E], "a.conv1d.1.bias": [1, E],
        "a.conv1d.2.weight": [3, E, E], "a.conv1d.2.bias": [1, E],
    }
    return table.get(name)


def base_keys(g: G, proj: str, audio=False, vision=True):
    k = {"general.architecture": "clip", "general.name": f"synthetic {proj}",
         "clip.projector_type": proj, "clip.has_vision_encoder": vision, "clip.has_audio_encoder": audio}
    for mod in (["vision"] if vision else []) + (["audio"] if audio else []):
        k.update({f"clip.{mod}.embedding_length": g.E, f"clip.{mod}.feed_forward_length": g.F,
                  f"clip.{mod}.block_count": g.L, f"clip.{mod}.attention.head_count": g.H,
                  f"clip.{mod}.projection_dim": g.P, f"clip.{mod}.attention.layer_norm_epsilon": 1e-6})
        if g.HKV != g.H:
            k[f"clip.{mod}.attention.head_count_kv"] = g.HKV
    if vision:
        k.update({"clip.vision.image_size": g.img, "clip.vision.patch_size": g.patch,
                  "clip.vision.image_mean": [0.5, 0.5, 0.5], "clip.vision.image_std": [0.5, 0.5, 0.5]})
    if audio:
        k["clip.audio.num_mel_bins"] = g.mel
    return k


def layer(prefix, i, *names):
    return [f"{prefix}.blk.{i}.{n}" for n in names]


VIT_BIAS = ("attn_q.weight", "attn_q.bias", "attn_k.weight", "attn_k.bias", "attn_v.weight", "attn_v.bias",
            "attn_out.weight", "attn_out.bias", "ln1.weight", "ln1.bias", "ln2.weight", "ln2.bias",
            "ffn_up.weight", "ffn_up.bias", "ffn_down.weight", "ffn_down.bias")
VIT_QKV = ("attn_qkv.weight", "attn_qkv.bias", "attn_out.weight", "attn_out.bias", "ln1.weight", "ln2.weight",
           "ffn_gate.weight", "ffn_gate.bias", "ffn_up.weight", "ffn_up.bias", "ffn_down.weight", "ffn_down.bias")
VIT_RMS_GATED = ("attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_out.weight", "ln1.weight", "ln2.weight",
                 "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight")


def blocks(g, prefix, names):
    return [n for i in range(g.L) for n in layer(prefix, i, *names)]


# A spec: (geometry, extra keys, optional tensors to include, projector tensor shapes).
# Required tensors are found by the loader; optional ones (get_tensor(..., false)) are listed
# here because the loader cannot say which a real file carries: these follow convert_hf_to_gguf.py.
def spec(proj, g=None):
    g = g or G()
    E, F, P, FP = g.E, g.F, g.P, g.FP
    keys, opt, shapes = {}, [], {}
    vit_siglip = ["v.patch_embd.bias", "v.position_embd.weight", "v.post_ln.weight", "v.post_ln.bias"] + blocks(g, "v", VIT_BIAS)
    s = g.merge
    if proj == "gemma3":
        # models/siglip.cpp: pool2d by n_merge (4), rms norm, mul_mat(transpose(input_proj), cur)
        opt = vit_siglip
        shapes = {"mm.input_projection.weight": [P, E], "mm.soft_emb_norm.weight": [E]}
        keys["clip.use_gelu"] = True
    elif proj == "idefics3":
        # siglip.cpp: build_patch_merge_permute(scale_factor) then mm.model.fc [E*s*s, P]
        opt = vit_siglip
        keys["clip.vision.projector.scale_factor"] = s
        shapes = {"mm.model.fc.weight": [E * s * s, P]}
        keys["clip.use_gelu"] = True
    elif proj == "lfm2":
        opt = vit_siglip + ["mm.input_norm.weight", "mm.input_norm.bias"]
        keys["clip.vision.projector.scale_factor"] = s
        shapes = {"mm.input_norm.weight": [E * s * s], "mm.input_norm.bias": [E * s * s],
                  "mm.1.weight": [E * s * s, FP], "mm.1.bias": [FP], "mm.2.weight": [FP, P], "mm.2.bias": [P]}
        keys["clip.use_gelu"] = True
    elif proj == "phi4":
        opt = vit_siglip
        keys.update({"clip.vision.image_min_pixels": (g.img // 2) ** 2, "clip.vision.image_max_pixels": g.img ** 2})
        shapes = {"mm.0.weight": [E, FP], "mm.0.bias": [FP], "mm.2.weight": [FP, P], "mm.2.bias": [P]}
    elif proj == "janus_pro":
        opt = vit_siglip
        shapes = {"mm.0.weight": [E, FP], "mm.0.bias": [FP], "mm.1.weight": [FP, P], "mm.1.bias": [P]}
    elif proj in ("pixtral", "lightonocr"):
        # models/pixtral.cpp: rms-norm ViT, 2D rope, optional patch merger (Mistral Small 3.1), GELU MLP mm.1/mm.2
        opt = ["v.pre_ln.weight"] + blocks(g, "v", VIT_RMS_GATED)
        if s > 1:
            keys["clip.vision.spatial_merge_size"] = s
            opt += ["mm.input_norm.weight", "mm.patch_merger.weight"]
        shapes = {"mm.1.weight": [E, P], "mm.1.bias": [P], "mm.2.weight": [P, P], "mm.2.bias": [P],
                  "v.token_embd.img_break": [P], "mm.input_norm.weight": [E], "mm.patch_merger.weight": [E * s * s, E]}
        opt += ["mm.1.bias", "mm.2.bias"]
        keys["clip.use_silu"] = True
    elif proj in ("qwen2vl_merger", "qwen2.5vl_merger"):
        # models/qwen2vl.cpp: two patch-embedding convs (temporal pair), 2x2 merge then mm.0 [4E, 4E], mm.2 [4E, P]
        q25 = proj == "qwen2.5vl_merger"
        opt = ["v.patch_embd.weight.1"] + blocks(g, "v", (VIT_RMS_GATED + ("attn_q.bias", "attn_k.bias", "attn_v.bias", "attn_out.bias", "ffn_gate.bias", "ffn_up.bias", "ffn_down.bias")) if q25 else VIT_BIAS)
        opt += ["v.post_ln.weight"] + (["v.post_ln.bias"] if not q25 else [])
        if q25:
            keys["clip.vision.n_wa_pattern"] = 2
            keys["clip.use_silu"] = True
        shapes = {"mm.0.weight": [4 * E, 4 * E], "mm.0.bias": [4 * E], "mm.2.weight": [4 * E, P], "mm.2.bias": [P]}
    elif proj == "qwen3vl_merger":
        opt = ["v.patch_embd.weight.1", "v.patch_embd.bias", "v.position_embd.weight"] + blocks(g, "v", VIT_QKV[:2] + ("attn_out.weight", "attn_out.bias", "ln1.weight", "ln1.bias", "ln2.weight", "ln2.bias", "ffn_up.weight", "ffn_up.bias", "ffn_down.weight", "ffn_down.bias"))
        opt += ["v.post_ln.weight", "v.post_ln.bias"]
        keys["clip.vision.spatial_merge_size"] = 2
        keys["clip.use_gelu"] = True
        shapes = {"mm.0.weight": [4 * E, 4 * E], "mm.0.bias": [4 * E], "mm.2.weight": [4 * E, P], "mm.2.bias": [P]}
    elif proj == "ling3vl":
        # models/ling3vl.cpp: temporal patch pair in merge order, resized learned positions in merge
        # order, M-RoPE ViT (layer norm), merger norm, 2x2 rows, GELU MLP mm.0 / mm.2
        opt = ["v.patch_embd.weight.1", "v.patch_embd.bias", "v.position_embd.weight"] + blocks(g, "v", VIT_QKV[:2] + ("attn_out.weight", "attn_out.bias", "ln1.weight", "ln1.bias", "ln2.weight", "ln2.bias", "ffn_up.weight", "ffn_up.bias", "ffn_down.weight", "ffn_down.bias"))
        keys["clip.vision.spatial_merge_size"] = 2
        keys["clip.use_gelu"] = True
        shapes = {"mm.input_norm.weight": [E], "mm.input_norm.bias": [E], "mm.0.weight": [4 * E, 4 * E], "mm.0.bias": [4 * E],
                  "mm.2.weight": [4 * E, P], "mm.2.bias": [P]}
    elif proj == "muse-glimmer":
        # models/muse-glimmer.cpp: resized positions, sparse-attention permutation and mask (every
        # 4th and the last block global), 2-D rope, un-permute, 2x2 grouping, 3-matrix GELU-erf MLP
        opt = ["v.patch_embd.bias", "v.position_embd.weight"] + blocks(g, "v", VIT_BIAS)
        shapes = {"mm.0.weight": [4 * E, FP], "mm.1.weight": [FP, FP], "mm.2.weight": [FP, P]}
    elif proj == "mimovl":
        # models/mimovl.cpp: temporal patch pair in merge order, GQA fused QKV, per-block full /
        # row-window / column-window attention (mask, sinks, merge-unit reorders), RMS norms,
        # gated FFN with biases, post layer norm, 2x2 rows, GELU MLP mm.0 / mm.2 (no biases)
        g.HKV = 2
        g.L = 4
        opt = ["v.patch_embd.weight.1", "v.post_ln.weight", "v.post_ln.bias"] + blocks(g, "v", ("attn_qkv.weight", "attn_qkv.bias", "attn_out.weight", "attn_out.bias", "ln1.weight", "ln2.weight", "ffn_gate.weight", "ffn_gate.bias", "ffn_up.weight", "ffn_up.bias", "ffn_down.weight", "ffn_down.bias"))
        opt += [f"v.blk.{i}.attn_sinks" for i in range(g.L)]
        shapes = {f"v.blk.{i}.attn_sinks": [g.H] for i in range(g.L)}
        keys.update({"clip.vision.window_size": 8, "clip.vision.wa_pattern_mode": [0, 1, 1, -1],
                     "clip.vision.image_min_pixels": (g.img // 2) ** 2, "clip.vision.image_max_pixels": g.img ** 2})
        keys["clip.use_silu"] = True
        shapes.update({"mm.0.weight": [4 * E, 4 * E], "mm.2.weight": [4 * E, P]})
    elif proj == "internvl":
        # models/internvl.cpp: class token, learned positions, pixel shuffle by scale factor, norm mm.0, MLP mm.1/mm.3
        g.cls = True
        opt = ["v.class_embd", "v.patch_embd.bias", "v.position_embd.weight"] + blocks(g, "v", VIT_BIAS + ("ls1.weight", "ls2.weight"))
        keys["clip.vision.projector.scale_factor"] = s
        shapes = {"mm.model.mlp.0.weight": [E * s * s], "mm.model.mlp.0.bias": [E * s * s],
                  "mm.model.mlp.1.weight": [E * s * s, P], "mm.model.mlp.1.bias": [P],
                  "mm.model.mlp.3.weight": [P, P], "mm.model.mlp.3.bias": [P]}
        keys["clip.use_gelu"] = True
    elif proj == "llama4":
        # models/llama4.cpp: class token, positions (patches + 1), 2D rope, pixel shuffle, MLP
        g.cls = True
        opt = ["v.class_embd", "v.position_embd.weight", "v.pre_ln.weight", "v.pre_ln.bias", "v.post_ln.weight", "v.post_ln.bias"] + blocks(g, "v", VIT_BIAS)
        keys["clip.vision.projector.scale_factor"] = s
        shapes = {"v.patch_embd.weight": [g.patch * g.patch * 3, E]}
        shapes.update({"mm.model.mlp.1.weight": [E * s * s, FP], "mm.model.mlp.2.weight": [FP, FP], "mm.model.fc.weight": [FP, P]})
        keys["clip.use_gelu"] = True
    elif proj == "kimivl":
        opt = ["v.patch_embd.bias", "v.position_embd.weight", "v.post_ln.weight", "v.post_ln.bias"] + blocks(g, "v", VIT_BIAS)
        keys["clip.vision.projector.scale_factor"] = s
        shapes = {"mm.input_norm.weight": [E], "mm.input_norm.bias": [E],
                  "mm.1.weight": [E * s * s, E * s * s], "mm.1.bias": [E * s * s], "mm.2.weight": [E * s * s, P], "mm.2.bias": [P]}
        keys["clip.use_gelu"] = True
    elif proj in ("glm4v", "glm5v"):
        # glm5v: the glm4v tower and graph, a clamped SwiGLU (clip.vision.swiglu_clamp) and its
        # own pixel budget (load_hparams reads both, required)
        if proj == "glm5v":
            keys.update({"clip.vision.swiglu_clamp": 50.0, "clip.vision.image_min_pixels": (g.img // 2) ** 2,
                         "clip.vision.image_max_pixels": g.img ** 2})
        opt = ["v.patch_embd.weight.1", "v.patch_embd.bias", "v.position_embd.weight", "v.post_ln.weight"] + blocks(g, "v", VIT_RMS_GATED + ("attn_q.bias", "attn_k.bias", "attn_v.bias"))
        keys["clip.vision.spatial_merge_size"] = 2
        keys["clip.use_silu"] = True
        shapes = {"mm.model.fc.weight": [E * 4, P] if False else None}
        shapes = {"mm.patch_merger.weight": [2, 2, E, P], "mm.patch_merger.bias": [P], "mm.model.fc.weight": [P, P],
                  "mm.post_norm.weight": [P], "mm.post_norm.bias": [P],
                  "mm.up.weight": [P, FP], "mm.gate.weight": [P, FP], "mm.down.weight": [FP, P]}
        opt += ["mm.post_norm.bias"]
    elif proj == "resampler":
        # models/minicpmv.cpp: resampler with minicpmv_query_num queries of width P
        opt = vit_siglip
        keys["clip.minicpmv_version"] = I32(5)
        keys["clip.minicpmv_query_num"] = 64
        shapes = {"resampler.pos_embed_k": [P, g.n_pos], "resampler.query": [P, 64], "resampler.proj.weight": [P, P],
                  "resampler.kv.weight": [E, P]}
        for a in ("q", "k", "v", "out"):
            shapes[f"resampler.attn.{a}.weight"] = [P, P]
            shapes[f"resampler.attn.{a}.bias"] = [P]
        for a in ("q", "kv", "post"):
            shapes[f"resampler.ln_{a}.weight"] = [P]
            shapes[f"resampler.ln_{a}.bias"] = [P]
        keys["clip.use_gelu"] = True
    elif proj in ("ultravox", "voxtral", "qwen2a", "meralion", "musicflamingo", "glma", "qwen3a", "lfm2a", "gemma4a", "parakeet", "granite_speech", "dots3note_a", "qwen3tts_spkenc"):
        return audio_spec(proj, g)
    elif proj in ("qwen3tts_gen", "pockettts_gen"):
        return gen_spec(proj, g)
    elif proj == "qwen2.5o":
        # Qwen2.5-Omni's one file: clip.cpp reads it as a qwen2.5vl_merger vision encoder and a
        # qwen2a audio encoder (load_hparams, "legacy method")
        gv, kv_, ov, sv, _ = spec("qwen2.5vl_merger", G(**{k: v for k, v in g.__dict__.items() if k in ("E", "H", "F", "L", "P", "img", "patch", "mel")}))
        ga, ka, oa, sa, _ = audio_spec("qwen2a", G(**{k: v for k, v in g.__dict__.items() if k in ("E", "H", "F", "L", "P", "img", "patch", "mel")}))
        g.pos = ga.pos
        keys = {**kv_, **ka}
        return g, keys, ov + oa, {**sv, **sa}, "both"
    elif proj in ("exaone4_5",):
        # exaone4_5.cpp: the Qwen2.5-VL tower with fused QKV (temporal patch pair) and merger MLP
        opt = ["v.patch_embd.weight.1"] + blocks(g, "v", ("attn_qkv.weight", "attn_qkv.bias", "attn_out.weight", "attn_out.bias", "ln1.weight", "ln2.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"))
        opt += ["v.post_ln.weight"]
        keys.update({"clip.vision.image_min_pixels": (g.img // 2) ** 2, "clip.vision.image_max_pixels": g.img ** 2})
        keys["clip.use_silu"] = True
        keys["clip.vision.attention.head_count_kv"] = g.H
        shapes = {"mm.0.weight": [4 * E, 4 * E], "mm.0.bias": [4 * E], "mm.2.weight": [4 * E, P], "mm.2.bias": [P],
                  "mm.input_norm.weight": [E], "mm.input_norm.bias": [E]}
    elif proj in ("kimik25", "paddleocr"):
        opt = ["v.patch_embd.bias", "v.position_embd.weight", "v.post_ln.weight", "v.post_ln.bias"] + blocks(g, "v", VIT_BIAS)
        keys["clip.vision.projector.scale_factor"] = s
        keys.update({"clip.vision.image_min_pixels": (g.img // 2) ** 2, "clip.vision.image_max_pixels": g.img ** 2})
        np_ = g.img // g.patch
        shapes = {} if proj == "paddleocr" else {"v.position_embd.weight": [E, np_, np_]}  # kimik25.cpp: a 3-D [C, W, H] table
        shapes.update({"mm.input_norm.weight": [E], "mm.input_norm.bias": [E],
                  "mm.1.weight": [E * s * s, E * s * s], "mm.1.bias": [E * s * s], "mm.2.weight": [E * s * s, P], "mm.2.bias": [P]})
        keys["clip.use_gelu"] = True
    elif proj == "nemotron_v2_vl":
        # nemotron-v2-vl.cpp: register tokens (class_embd [E, n_registers]) before the patches
        opt = ["v.class_embd", "v.patch_embd.bias", "v.position_embd.weight"] + blocks(g, "v", VIT_BIAS)
        keys["clip.vision.projector.scale_factor"] = s
        shapes = {"v.class_embd": [E, 4], "mm.model.mlp.0.weight": [E * s * s], "mm.model.mlp.1.weight": [E * s * s, P], "mm.model.mlp.3.weight": [P, P]}
        keys["clip.use_gelu"] = True
    elif proj in ("dots_ocr", "dots3note_v"):
        # models/dotsocr.cpp: RMS-norm ViT with M-RoPE, no learned positions, post-trunk norm
        # mm.post_norm, layer norm, pixel shuffle by scale_factor, GELU-erf MLP mm.0 / mm.2
        opt = blocks(g, "v", VIT_RMS_GATED)
        if proj == "dots3note_v":
            # the pyramid: block 1 is a sigmoid-routed MoE (build_moe_ffn) instead of the dense FFN
            NE = 4
            opt = [n for n in opt if not re.match(r"v\.blk\.1\.ffn_", n)]
            opt += ["v.blk.1.ffn_gate_inp.weight", "v.blk.1.ffn_gate_exps.weight", "v.blk.1.ffn_up_exps.weight",
                    "v.blk.1.ffn_down_exps.weight", "v.blk.1.exp_probs_b.weight"]
            shapes.update({"v.blk.1.ffn_gate_inp.weight": [E, NE], "v.blk.1.ffn_gate_exps.weight": [E, F, NE],
                           "v.blk.1.ffn_up_exps.weight": [E, F, NE], "v.blk.1.ffn_down_exps.weight": [F, E, NE],
                           "v.blk.1.exp_probs_b.weight": [NE]})
            keys["clip.vision.spatial_merge_size"] = s
            keys["clip.vision.expert_used_count"] = 2
        else:
            keys["clip.vision.projector.scale_factor"] = s
        keys.update({"clip.vision.image_min_pixels": (g.img // 2) ** 2, "clip.vision.image_max_pixels": g.img ** 2})
        keys["clip.use_silu"] = True
        shapes.update({"mm.post_norm.weight": [E], "mm.input_norm.weight": [E], "mm.input_norm.bias": [E],
                       "mm.0.weight": [E * s * s, FP], "mm.0.bias": [FP], "mm.2.weight": [FP, P], "mm.2.bias": [P]})
    elif proj == "hunyuanvl":
        # models/hunyuanvl.cpp: ViT with CPU-filled positions, RMS norm, conv k=merge (mm.0) + GELU,
        # 1x1 conv (mm.2), a newline column, linear mm.model.fc, begin / end rows, RMS norm
        opt = ["v.patch_embd.bias"] + blocks(g, "v", VIT_BIAS)
        m = 2
        shapes = {"mm.0.weight": [m, m, E, FP], "mm.0.bias": [FP], "mm.2.weight": [1, 1, FP, 2 * FP], "mm.2.bias": [2 * FP],
                  "mm.model.fc.weight": [2 * FP, P], "mm.model.fc.bias": [P], "mm.pre_norm.weight": [E], "mm.post_norm.weight": [P],
                  "mm.image_begin": [P], "mm.image_end": [P], "v.image_newline": [2 * FP]}
        keys["clip.use_gelu"] = True
        # the default budget (16384 tokens) makes the no-flash-attention score matrix 64 GiB,
        # which ggml-alloc refuses (the oracle records 0); the file's own limit keeps it measurable
        keys.update({"clip.vision.image_min_pixels": g.img ** 2, "clip.vision.image_max_pixels": 768 ** 2})
    elif proj == "minimax_m3":
        # models/minimax-m3.cpp: temporal patch pair without bias, 2x2 merge order, 3-axis rope,
        # per-patch GELU-erf MLP mm.1 / mm.2, then the merge MLP mm.merger.fc1 / fc2 over 4 patches
        opt = ["v.patch_embd.weight.1"] + blocks(g, "v", VIT_BIAS)
        shapes = {"mm.1.weight": [E, FP], "mm.1.bias": [FP], "mm.2.weight": [FP, P], "mm.2.bias": [P],
                  "mm.merger.fc1.weight": [4 * P, FP], "mm.merger.fc1.bias": [FP],
                  "mm.merger.fc2.weight": [FP, P], "mm.merger.fc2.bias": [P]}
    elif proj == "gemma4v":
        # models/gemma4v.cpp: conv patches (no bias), x / y position tables, RMS ViT with per-head
        # Q/K norms, post-attention / post-FFN norms, gated GELU FFN; pool by 3, std scale, RMS
        # norm, input projection (every matmul clamped: Gemma4ClippableLinear)
        opt = ["v.position_embd.weight", "v.std_bias", "v.std_scale"] + blocks(g, "v", VIT_RMS_GATED + ("attn_q_norm.weight", "attn_k_norm.weight", "attn_post_norm.weight", "ffn_post_norm.weight"))
        shapes = {"v.position_embd.weight": [E, 64, 2], "v.std_bias": [E], "v.std_scale": [E], "mm.input_projection.weight": [E, P]}
        keys["clip.use_gelu"] = True
    elif proj == "cogvlm":
        # models/cogvlm.cpp: class token, learned positions, fused QKV, post-norm blocks (ln1 after
        # attention, ln2 after the FFN), CLS dropped, linear + norm + GELU, SwiGLU, BOI / EOI rows
        g.cls = True
        opt = ["v.class_embd", "v.patch_embd.bias", "v.position_embd.weight"] + blocks(g, "v", ("attn_qkv.weight", "attn_qkv.bias", "attn_out.weight", "attn_out.bias", "ln1.weight", "ln1.bias", "ln2.weight", "ln2.bias", "ffn_up.weight", "ffn_up.bias", "ffn_down.weight", "ffn_down.bias"))
        shapes = {"mm.model.fc.weight": [E, P], "mm.post_fc_norm.weight": [P], "mm.post_fc_norm.bias": [P],
                  "mm.up.weight": [P, FP], "mm.gate.weight": [P, FP], "mm.down.weight": [FP, P], "v.boi": [P], "v.eoi": [P]}
        keys["clip.use_gelu"] = True
    elif proj == "step3vl":
        # models/step3vl.cpp: learned positions (resized), 2-D rope, then two k=3 s=2 p=1 convs
        # with per-channel bias (mm.0, mm.1) and a linear mm.model.fc
        opt = ["v.patch_embd.bias", "v.position_embd.weight", "mm.0.bias", "mm.1.bias"] + blocks(g, "v", VIT_BIAS)
        shapes = {"mm.0.weight": [3, 3, E, 2 * E], "mm.0.bias": [2 * E], "mm.1.weight": [3, 3, 2 * E, 4 * E], "mm.1.bias": [4 * E],
                  "mm.model.fc.weight": [4 * E, P]}
        keys["clip.use_gelu"] = True
    elif proj == "youtuvl":
        # models/youtuvl.cpp: patches gathered in 2x2 merge order and one matmul, M-RoPE, windowed
        # attention (mask) except in wa_layer_indexes, window reorder in and out, RMS norm, MLP
        opt = ["v.patch_embd.bias"] + blocks(g, "v", VIT_BIAS)
        keys["clip.vision.window_size"] = 2 * g.patch * 2
        keys["clip.vision.wa_layer_indexes"] = [0]  # block 0 full attention, block 1 windowed
        shapes = {"v.patch_embd.weight": [3 * g.patch * g.patch, E], "mm.input_norm.weight": [E],
                  "mm.0.weight": [4 * E, 4 * E], "mm.0.bias": [4 * E], "mm.2.weight": [4 * E, P], "mm.2.bias": [P]}
        keys["clip.use_gelu"] = True
    elif proj == "gemma4uv":
        # models/gemma4uv.cpp: no blocks; im2col with patch x pooling kernel (3), norm, linear,
        # norm, x / y position tables (get_rows), norm, RMS norm, input projection
        ep = g.patch * 3
        opt = ["v.patch_embd.bias", "v.position_embd.weight"]
        shapes = {"v.patch_embd.weight": [ep * ep * 3, E], "v.position_embd.weight": [E, 64, 2],
                  "v.patch_norm.1.weight": [ep * ep * 3], "v.patch_norm.1.bias": [ep * ep * 3],
                  "mm.input_projection.weight": [E, P]}
        for i in (2, 3):
            shapes[f"v.patch_norm.{i}.weight"] = [E]
            shapes[f"v.patch_norm.{i}.bias"] = [E]
    elif proj == "gemma4ua":
        # models/gemma4ua.cpp: encoder-free, RMS norm over 640-sample frames, input projection
        return g, {}, [], {"a.conv1d.1.weight": None, "mm.a.input_projection.weight": [640, P]}, True
    elif proj in ("ldp", "ldpv2"):
        # models/llava.cpp, MobileVLM: the CLIP tower (second-to-last block), GELU MLP, then LDP
        # blocks (depthwise conv, channel norm, hardswish, squeeze-excite, pointwise conv) or,
        # v2, a 2x2 average pool and a depthwise-conv PEG; the grid is fixed at 24x24 patches
        g.cls = True
        opt = ["v.class_embd", "v.patch_embd.bias", "v.position_embd.weight", "v.pre_ln.weight", "v.pre_ln.bias"] + blocks(g, "v", VIT_BIAS)
        if proj == "ldp":
            shapes = {"mm.model.mlp.1.weight": [E, P], "mm.model.mlp.1.bias": [P], "mm.model.mlp.3.weight": [P, P], "mm.model.mlp.3.bias": [P]}
            for i in (1, 2):
                b = f"mm.model.mb_block.{i}.block"
                shapes.update({f"{b}.0.0.weight": [3, 3, 1, P], f"{b}.0.1.weight": [P], f"{b}.0.1.bias": [P],
                               f"{b}.1.fc1.weight": [P, P // 4], f"{b}.1.fc1.bias": [P // 4],
                               f"{b}.1.fc2.weight": [P // 4, P], f"{b}.1.fc2.bias": [P],
                               f"{b}.2.0.weight": [P, P], f"{b}.2.1.weight": [P], f"{b}.2.1.bias": [P]})
        else:
            shapes = {"mm.model.mlp.0.weight": [E, P], "mm.model.mlp.0.bias": [P], "mm.model.mlp.2.weight": [P, P], "mm.model.mlp.2.bias": [P],
                      "mm.model.peg.0.weight": [3, 3, 1, P], "mm.model.peg.0.bias": [P]}
    elif proj == "adapter":
        # models/llava.cpp, GLM-Edge: the SigLIP tower (every block), a 2x2 stride-2 conv, linear,
        # norm, GELU, SwiGLU MLP, BOI / EOI rows (adapter.*)
        C = 2 * E
        opt = ["v.patch_embd.bias", "v.position_embd.weight"] + blocks(g, "v", VIT_BIAS)
        shapes = {"adapter.conv.weight": [2, 2, E, C], "adapter.conv.bias": [C], "adapter.linear.linear.weight": [C, P],
                  "adapter.linear.norm1.weight": [P], "adapter.linear.norm1.bias": [P], "adapter.linear.gate.weight": [P, FP],
                  "adapter.linear.dense_h_to_4h.weight": [P, FP], "adapter.linear.dense_4h_to_h.weight": [FP, P],
                  "adapter.boi": [P], "adapter.eoi": [P]}
        keys["clip.use_gelu"] = True
    elif proj == "gemma3nv":
        # models/mobilenetv5.cpp: a MobileNet-V5 (stem, then per stage edge-residual / inverted-
        # residual / multi-query attention blocks; each stage starts with stride 2), the
        # multi-scale fusion of the last two stages (upscale, concat, 1x1 convs, pool to 16x16),
        # scale, RMS norm, projection, RMS norm. Every tower tensor is optional to the loader: this
        # one has 4 stages (edge; UIR; UIR + attention; UIR), 16 channels, 256 px -> 16x16 tokens
        # (clip_n_output_tokens: image_size / patch_size). Channel-wise scales and biases applied
        # to [W, H, C] maps are [1, 1, C] (a [C] one would not broadcast).
        Cs, Cx, D, NH = 16, 32, 8, 2
        g.patch = 1
        keys["clip.vision.patch_size"] = 1
        shapes = {"v.patch_embd.weight": None, "v.conv_stem.conv.weight": [3, 3, 3, Cs], "v.conv_stem.conv.bias": [1, 1, Cs],
                  "v.conv_stem.bn.weight": [Cs],
                  "v.blk.0.0.conv_exp.weight": [3, 3, Cs, Cx], "v.blk.0.0.bn1.weight": [Cx],
                  "v.blk.0.0.conv_pwl.weight": [1, 1, Cx, Cs], "v.blk.0.0.bn2.weight": [Cs],
                  "v.blk.2.1.norm.weight": [Cs], "v.blk.2.1.attn.query.proj.weight": [1, 1, Cs, NH * D],
                  "v.blk.2.1.attn.key.down_conv.weight": [3, 3, 1, Cs], "v.blk.2.1.attn.key.norm.weight": [Cs],
                  "v.blk.2.1.attn.key.proj.weight": [1, 1, Cs, D], "v.blk.2.1.attn.value.down_conv.weight": [3, 3, 1, Cs],
                  "v.blk.2.1.attn.value.norm.weight": [Cs], "v.blk.2.1.attn.value.proj.weight": [1, 1, Cs, D],
                  "v.blk.2.1.attn.output.proj.weight": [1, 1, NH * D, Cs], "v.blk.2.1.layer_scale.gamma": [1, 1, Cs],
                  "v.msfa.ffn.pw_exp.conv.weight": [1, 1, 2 * Cs, 2 * E], "v.msfa.ffn.pw_exp.bn.weight": [2 * E],
                  "v.msfa.ffn.pw_proj.conv.weight": [1, 1, 2 * E, E], "v.msfa.ffn.pw_proj.bn.weight": [E],
                  "v.msfa.norm.weight": [E], "mm.input_projection.weight": [E, P], "mm.soft_emb_norm.weight": [E]}
        for st in (1, 2, 3):
            b = f"v.blk.{st}.0"
            shapes.update({f"{b}.dw_start.conv.weight": [3, 3, 1, Cs], f"{b}.dw_start.bn.weight": [Cs],
                           f"{b}.pw_exp.conv.weight": [1, 1, Cs, Cx], f"{b}.pw_exp.bn.weight": [Cx],
                           f"{b}.dw_mid.conv.weight": [3, 3, 1, Cx], f"{b}.dw_mid.bn.weight": [Cx],
                           f"{b}.pw_proj.conv.weight": [1, 1, Cx, Cs], f"{b}.pw_proj.bn.weight": [Cs],
                           f"{b}.layer_scale.gamma": [1, 1, Cs]})
        opt = [n for n in shapes if shapes[n] is not None]
    elif proj == "deepseek4v":
        # models/deepseek4v.cpp: RMS ViT with 2-axis M-RoPE, n_merge x n_merge patches gathered by
        # im2col, GELU-erf MLP mm.1 / mm.2, sentinel rows (image start / end / newline / pad) and
        # the block layout gathered by get_rows
        opt = blocks(g, "v", VIT_RMS_GATED)
        keys.update({"clip.vision.projector.scale_factor": 2, "clip.vision.image_min_pixels": (g.img // 2) ** 2})
        keys["clip.use_silu"] = True
        shapes = {"mm.1.weight": [4 * E, FP], "mm.1.bias": [FP], "mm.2.weight": [FP, P], "mm.2.bias": [P],
                  "v.image_newline": [P], "v.token_embd.img_start": [P], "v.token_embd.img_end": [P], "v.token_embd.img_pad": [P]}
    elif proj == "yasa2":
        # models/yasa2.cpp (Reka's ConvNeXt): patchify conv, channel layer norms (mean / sub /
        # mean of squares / clamp / sqrt / div), stages of [down-sample ln + 2x2 s2 conv] and
        # blocks (7x7 depthwise conv, ln, pw1, GELU-erf, GRN, pw2, residual), optional positions,
        # 8x8 average pool, GELU-erf MLP mm.0 / mm.2. No ViT blocks (block_count 0).
        C0, C1 = 16, 32
        shapes = {"v.patch_embd.weight": [g.patch, g.patch, 3, C0], "v.patch_embd.bias": [C0],
                  "v.patch_ln.weight": [C0], "v.patch_ln.bias": [C0], "v.vision_pos_embed": [C1, 64],
                  "v.stage.1.down.ln.weight": [C0], "v.stage.1.down.ln.bias": [C0],
                  "v.stage.1.down.conv.weight": [2, 2, C0, C1], "v.stage.1.down.conv.bias": [C1],
                  "mm.0.weight": [C1, FP], "mm.0.bias": [FP], "mm.2.weight": [FP, P], "mm.2.bias": [P]}
        for st, C in ((0, C0), (1, C1)):
            b = f"v.stage.{st}.blk.0"
            shapes.update({f"{b}.dw.weight": [7, 7, 1, C], f"{b}.dw.bias": [C], f"{b}.ln.weight": [C], f"{b}.ln.bias": [C],
                           f"{b}.pw1.weight": [C, 4 * C], f"{b}.pw1.bias": [4 * C], f"{b}.grn.weight": [4 * C], f"{b}.grn.bias": [4 * C],
                           f"{b}.pw2.weight": [4 * C, C], f"{b}.pw2.bias": [C]})
        opt = list(shapes)
    elif proj == "gemma3na":
        # Gemma 3n's audio tower exists only in Gemma 3n's two-tower file (clip.vision.projector_type
        # gemma3nv, clip.audio.projector_type gemma3na). clip_init skips the audio context when the
        # vision projector is gemma3nv, and no graph builder exists for gemma3na: the file loads
        # the vision context only, and the audio tensors are never loaded.
        g, keys, opt, shapes, _ = spec("gemma3nv", g)
        keys = {**keys, "clip.projector_type": None, "clip.vision.projector_type": "gemma3nv",
                "clip.audio.projector_type": "gemma3na", "clip.audio.num_mel_bins": g.mel}
        shapes = {**shapes, "a.conv1d.1.weight": [3, g.mel, g.E], "mm.a.input_projection.weight": [g.E, g.P]}
        opt = opt + ["mm.a.input_projection.weight"]
        return g, keys, opt, shapes, "both"
    elif proj == "minicpmv4_6":
        # models/minicpmv.cpp (clip_graph_minicpmv4_6): SigLIP ViT with learned positions; after
        # block wa_layer_indexes[0] a ViT merger (windowed self-attention over 2x2 windows, then
        # a 2x2 downsample MLP plus the mean of the four), the remaining blocks, then the final
        # 2x2 merger (norm, GELU-erf MLP mm.up / mm.down): n_merge 4 by default
        opt = vit_siglip + ["v.vit_merger.attn_q.bias", "v.vit_merger.attn_k.bias", "v.vit_merger.attn_v.bias",
                            "v.vit_merger.attn_out.bias", "v.vit_merger.ds_ffn_up.bias", "v.vit_merger.ds_ffn_down.bias",
                            "mm.input_norm.bias", "mm.up.bias", "mm.down.bias"]
        keys["clip.vision.wa_layer_indexes"] = [0]
        shapes = {"v.vit_merger.ln1.weight": [E], "v.vit_merger.ln1.bias": [E], "v.vit_merger.ds_ln.weight": [4 * E],
                  "v.vit_merger.ds_ln.bias": [4 * E], "v.vit_merger.ds_ffn_up.weight": [4 * E, FP], "v.vit_merger.ds_ffn_up.bias": [FP],
                  "v.vit_merger.ds_ffn_down.weight": [FP, E], "v.vit_merger.ds_ffn_down.bias": [E],
                  "mm.input_norm.weight": [4 * E], "mm.input_norm.bias": [4 * E], "mm.up.weight": [4 * E, FP], "mm.up.bias": [FP],
                  "mm.down.weight": [FP, P], "mm.down.bias": [P]}
        for a in ("q", "k", "v", "out"):
            shapes[f"v.vit_merger.attn_{a}.weight"] = [E, E]
            shapes[f"v.vit_merger.attn_{a}.bias"] = [E]
        keys["clip.use_gelu"] = True
    elif proj == "mlp":
        opt = ["v.class_embd", "v.patch_embd.bias", "v.position_embd.weight", "v.pre_ln.weight", "v.pre_ln.bias"] + blocks(g, "v", VIT_BIAS) + ["mm.0.bias", "mm.2.weight", "mm.2.bias", "mm.0.weight"]
        g.cls = True
        shapes = {"mm.0.weight": [E, FP], "mm.0.bias": [FP], "mm.2.weight": [FP, P], "mm.2.bias": [P]}
    else:
        return None
    return g, keys, opt, shapes, False


def audio_spec(proj, g):
    E, F, P = g.E, g.F, g.P
    g.pos = 1500 if g.pos is None else g.pos
    keys = {}
    # whisper-enc.cpp asserts: ln1/ln2 with biases, q and v biases, no k bias
    opt = ["a.conv1d.1.bias", "a.conv1d.2.weight", "a.conv1d.2.bias", "a.position_embd.weight", "a.post_ln.weight",
           "a.post_ln.bias"] + blocks(g, "a", tuple(n for n in VIT_BIAS if n != "attn_k.bias"))
    if proj in ("ultravox", "voxtral", "glma", "meralion"):
        keys["clip.audio.projector.stack_factor"] = g.stack
    st = E * g.stack
    if proj == "musicflamingo":
        opt += ["mm.a.mlp.1.bias", "mm.a.mlp.2.bias"]
    FP = g.FP
    # whisper-enc.cpp, MERaLiON: stack, layer norm [E*stack], mlp.0 (+SiLU), GLU of mlp.1 / mlp.2, mlp.3
    meralion = {"mm.a.norm_pre.weight": [st], "mm.a.norm_pre.bias": [st], "mm.a.mlp.0.weight": [st, FP], "mm.a.mlp.0.bias": [FP],
                "mm.a.mlp.1.weight": [FP, FP], "mm.a.mlp.1.bias": [FP], "mm.a.mlp.2.weight": [FP, FP], "mm.a.mlp.2.bias": [FP],
                "mm.a.mlp.3.weight": [FP, P], "mm.a.mlp.3.bias": [P]}
    # whisper-enc.cpp, GLM-4.x audio: layer norm [E], stack, GELU-erf MLP, then v.boi / v.eoi rows around it
    glma = {"mm.a.norm_pre.weight": [E], "mm.a.norm_pre.bias": [E], "mm.a.mlp.1.weight": [st, FP], "mm.a.mlp.1.bias": [FP],
            "mm.a.mlp.2.weight": [FP, P], "mm.a.mlp.2.bias": [P], "v.boi": [P], "v.eoi": [P]}
    if proj == "qwen3a":
        # models/qwen3a.cpp: 100-frame chunks, three k=3 s=2 p=1 conv2d + GELU-erf over (frames,
        # mel), a.conv_out to the width, per-chunk positions, the encoder, GELU-erf MLP mm.a.mlp.1/2
        C = 32
        opt = ["a.conv2d.1.bias", "a.conv2d.2.bias", "a.conv2d.3.bias", "a.position_embd.weight", "a.post_ln.weight",
               "a.post_ln.bias"] + blocks(g, "a", VIT_BIAS)
        return g, keys, opt, {"a.conv1d.1.weight": None, "a.conv2d.1.weight": [3, 3, 1, C], "a.conv2d.1.bias": [C],
                              "a.conv2d.2.weight": [3, 3, C, C], "a.conv2d.2.bias": [C], "a.conv2d.3.weight": [3, 3, C, C],
                              "a.conv2d.3.bias": [C], "a.conv_out.weight": [C * (g.mel // 8), E],
                              "mm.a.mlp.1.weight": [E, FP], "mm.a.mlp.1.bias": [FP], "mm.a.mlp.2.weight": [FP, P],
                              "mm.a.mlp.2.bias": [P]}, True
    if proj == "lfm2a":
        # models/conformer.cpp: conv subsampling (conv2d s2, depthwise s2 + pointwise, twice:
        # channel-wise biases [1, 1, C]), then conformer blocks (half-step SiLU FFNs, relative
        # position attention with pos_bias_u / v and a 512-wide linear_pos, GLU + depthwise
        # ssm_conv of kernel 9 + norm), norm, GELU-erf MLP mm.a.mlp.1 / 3
        C = 16
        d = E // g.H
        opt = ["a.position_embd.weight"]
        sh = {"a.conv1d.1.weight": None, "a.position_embd.weight": [E, 1500],
              "a.conv1d.0.weight": [3, 3, 1, C], "a.conv1d.2.weight": [3, 3, 1, C], "a.conv1d.3.weight": [1, 1, C, C],
              "a.conv1d.5.weight": [3, 3, 1, C], "a.conv1d.6.weight": [1, 1, C, C],
              "a.pre_encode.out.weight": [C * (g.mel // 8), E], "a.pre_encode.out.bias": [E],
              "mm.a.mlp.0.weight": [E], "mm.a.mlp.0.bias": [E], "mm.a.mlp.1.weight": [E, FP], "mm.a.mlp.1.bias": [FP],
              "mm.a.mlp.3.weight": [FP, P], "mm.a.mlp.3.bias": [P]}
        for i in (0, 2, 3, 5, 6):
            sh[f"a.conv1d.{i}.bias"] = [1, 1, C]
        for i in range(g.L):
            b = f"a.blk.{i}"
            opt += layer("a", i, *VIT_BIAS)
            sh.update({f"{b}.ffn_norm.weight": [E], f"{b}.ffn_norm.bias": [E], f"{b}.ffn_norm_1.weight": [E], f"{b}.ffn_norm_1.bias": [E],
                       f"{b}.ffn_up_1.weight": [E, F], f"{b}.ffn_up_1.bias": [F], f"{b}.ffn_down_1.weight": [F, E], f"{b}.ffn_down_1.bias": [E],
                       f"{b}.pos_bias_u": [d, g.H], f"{b}.pos_bias_v": [d, g.H], f"{b}.norm_conv.weight": [E], f"{b}.norm_conv.bias": [E],
                       f"{b}.linear_pos.weight": [512, E], f"{b}.conv_norm.weight": [E], f"{b}.conv_norm.bias": [E],
                       f"{b}.conv_dw.weight": [9, E], f"{b}.conv_dw.bias": [E], f"{b}.conv_pw1.weight": [E, 2 * E], f"{b}.conv_pw1.bias": [2 * E],
                       f"{b}.conv_pw2.weight": [E, E], f"{b}.conv_pw2.bias": [E]})
        return g, keys, opt, sh, True
    if proj == "parakeet":
        # models/parakeet.cpp: the lfm2a conv subsampling (pointwise convs by im2col), conformer
        # blocks (relative position attention over a sin/cos table built in the graph, GLU +
        # depthwise ssm_conv of clip.audio.conv_kernel_size + batch norm), RMS norm, ReLU² MLP;
        # the loader also asks for the mel filters, window and mm.model.mlp.{0,1,3} (unused here)
        C = 16
        d = E // g.H
        keys.update({"clip.audio.subsampling_factor": 8, "clip.audio.conv_kernel_size": 9})
        opt = ["mm.a.norm_pre.weight", "mm.a.mlp.1.weight", "mm.a.mlp.2.weight"]
        sh = {"a.conv1d.1.weight": None, "a.mel_filters": [257 * g.mel], "a.window": [400],
              "a.conv1d.0.weight": [3, 3, 1, C], "a.conv1d.2.weight": [3, 3, 1, C], "a.conv1d.3.weight": [1, 1, C, C],
              "a.conv1d.5.weight": [3, 3, 1, C], "a.conv1d.6.weight": [1, 1, C, C],
              "a.pre_encode.out.weight": [C * (g.mel // 8), E], "a.pre_encode.out.bias": [E],
              "mm.a.norm_pre.weight": [E], "mm.a.mlp.1.weight": [E, FP], "mm.a.mlp.2.weight": [FP, P],
              "mm.model.mlp.0.weight": [E, FP], "mm.model.mlp.1.weight": [FP, FP], "mm.model.mlp.3.weight": [FP, P]}
        for i in (0, 2, 3, 5, 6):
            sh[f"a.conv1d.{i}.bias"] = [1, 1, C]
        for i in range(g.L):
            b = f"a.blk.{i}"
            opt += layer("a", i, "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_out.weight", "ln1.weight", "ln1.bias",
                         "ln2.weight", "ln2.bias", "ffn_up.weight", "ffn_down.weight")
            sh.update({f"{b}.ffn_norm.weight": [E], f"{b}.ffn_norm.bias": [E], f"{b}.ffn_norm_1.weight": [E], f"{b}.ffn_norm_1.bias": [E],
                       f"{b}.ffn_up_1.weight": [E, F], f"{b}.ffn_down_1.weight": [F, E],
                       f"{b}.pos_bias_u": [d, g.H], f"{b}.pos_bias_v": [d, g.H], f"{b}.norm_conv.weight": [E], f"{b}.norm_conv.bias": [E],
                       f"{b}.linear_pos.weight": [E, E], f"{b}.conv_norm.weight": [E], f"{b}.conv_norm.bias": [E],
                       f"{b}.conv_norm_mean": [E], f"{b}.conv_norm_var": [E],
                       f"{b}.conv_dw.weight": [9, E], f"{b}.conv_pw1.weight": [E, 2 * E], f"{b}.conv_pw2.weight": [E, E]})
        return g, keys, opt, sh, True
    if proj == "qwen3tts_spkenc":
        # models/qwen3tts-spkenc.cpp (ECAPA-TDNN speaker encoder): stem TDNN, three SE-Res2Net
        # blocks (load_hparams: exactly 3; bids 1..3), multi-layer aggregation, attentive
        # statistics pooling, a final [K=1] conv; every conv1d is an F32 im2col over a reflect-
        # padded input; one output row
        C, Cse, Ca = 64, 16, 32
        g.L = 3
        opt = []
        sh = {"a.conv1d.1.weight": None, "a.conv1d.0.weight": [5, g.mel, C], "a.conv1d.0.bias": [C],
              "a.conv_out.weight": [1, 3 * C, 3 * C], "a.conv_out.bias": [3 * C],
              "a.asp_tdnn.weight": [1, 9 * C, Ca], "a.asp_tdnn.bias": [Ca], "a.asp_attn.weight": [1, Ca, 3 * C],
              "a.asp_attn.bias": [3 * C], "mm.a.fc.weight": [1, 6 * C, P], "mm.a.fc.bias": [P]}
        for bid in (1, 2, 3):
            sh.update({f"a.blk.{bid}.conv_pw1.weight": [1, C, C], f"a.blk.{bid}.conv_pw1.bias": [C],
                       f"a.blk.{bid}.conv_pw2.weight": [1, C, C], f"a.blk.{bid}.conv_pw2.bias": [C],
                       f"a.blk.{bid}.se_conv1.weight": [1, C, Cse], f"a.blk.{bid}.se_conv1.bias": [Cse],
                       f"a.blk.{bid}.se_conv2.weight": [1, Cse, C], f"a.blk.{bid}.se_conv2.bias": [C]})
            for x in range(7):
                sh[f"a.blk.{bid}.res2.{x}.weight"] = [3, C // 8, C // 8]
                sh[f"a.blk.{bid}.res2.{x}.bias"] = [C // 8]
        return g, keys, opt, sh, True
    if proj == "dots3note_a":
        # models/dots3note.cpp (audio): three conv2d s2 + GELU-erf over (frames, mel) with
        # channel biases, a.conv_out to the width, RMS encoder with NEOX rope, layer norm,
        # GELU-erf MLP mm.a.mlp.1 / mm.a.mlp.3
        C = 16
        keys["clip.use_silu"] = True
        opt = blocks(g, "a", VIT_RMS_GATED)
        sh = {"a.conv1d.1.weight": None, "a.conv2d.1.weight": [3, 3, 1, C], "a.conv2d.1.bias": [C],
              "a.conv2d.2.weight": [3, 3, C, C], "a.conv2d.2.bias": [C], "a.conv2d.3.weight": [3, 3, C, C], "a.conv2d.3.bias": [C],
              "a.conv_out.weight": [C * (g.mel // 8), E], "mm.a.norm_pre.weight": [E], "mm.a.norm_pre.bias": [E],
              "mm.a.mlp.1.weight": [E, FP], "mm.a.mlp.1.bias": [FP], "mm.a.mlp.3.weight": [FP, P], "mm.a.mlp.3.bias": [P]}
        return g, keys, opt, sh, True
    if proj == "granite_speech":
        # models/granite-speech.cpp: input projection, conformer blocks (block-local attention over
        # clip.audio.chunk_size frames with Shaw relative positions from attn_rel_pos_emb, GLU +
        # depthwise ssm_conv + norm), a CTC branch at the middle block, then a windowed Q-Former
        # (2 blocks of self- and cross-attention over learned queries) and a linear projection
        d = E // g.H
        ctx, maxpos, win, ds, V = 200, 512, 15, 5, 32
        keys.update({"clip.audio.chunk_size": ctx, "clip.audio.conv_kernel_size": 15, "clip.audio.max_pos_emb": maxpos,
                     "clip.audio.projector.window_size": win, "clip.audio.projector.downsample_rate": ds,
                     "clip.audio.projector.head_count": g.H})
        opt = []
        sh = {"a.conv1d.1.weight": None, "a.input_projection.weight": [g.mel, E], "a.input_projection.bias": [E],
              "a.enc_ctc_out.weight": [E, V], "a.enc_ctc_out.bias": [V], "a.enc_ctc_out_mid.weight": [V, E], "a.enc_ctc_out_mid.bias": [E],
              "a.proj_query": [E, win // ds], "a.proj_norm.weight": [E], "a.proj_norm.bias": [E],
              "a.proj_linear.weight": [E, P], "a.proj_linear.bias": [P]}
        for i in range(g.L):
            b = f"a.blk.{i}"
            opt += layer("a", i, "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_out.weight", "attn_out.bias", "ln1.weight",
                         "ln1.bias", "ln2.weight", "ln2.bias", "ffn_up.weight", "ffn_up.bias", "ffn_down.weight", "ffn_down.bias")
            sh.update({f"{b}.attn_rel_pos_emb": [d, 2 * maxpos + 1], f"{b}.ffn_norm.weight": [E], f"{b}.ffn_norm.bias": [E],
                       f"{b}.ffn_norm_1.weight": [E], f"{b}.ffn_norm_1.bias": [E], f"{b}.ffn_up_1.weight": [E, F], f"{b}.ffn_up_1.bias": [F],
                       f"{b}.ffn_down_1.weight": [F, E], f"{b}.ffn_down_1.bias": [E], f"{b}.norm_conv.weight": [E], f"{b}.norm_conv.bias": [E],
                       f"{b}.conv_norm.weight": [E], f"{b}.conv_norm.bias": [E], f"{b}.conv_dw.weight": [15, E],
                       f"{b}.conv_pw1.weight": [E, 2 * E], f"{b}.conv_pw1.bias": [2 * E], f"{b}.conv_pw2.weight": [E, E], f"{b}.conv_pw2.bias": [E]})
        for i in range(2):
            b = f"a.proj_blk.{i}"
            for t in ("self_attn_q", "self_attn_k", "self_attn_v", "self_attn_out", "cross_attn_q", "cross_attn_k", "cross_attn_v", "cross_attn_out"):
                sh[f"{b}.{t}.weight"] = [E, E]
                sh[f"{b}.{t}.bias"] = [E]
            for t in ("self_attn_norm", "cross_attn_norm", "ffn_norm"):
                sh[f"{b}.{t}.weight"] = [E]
                sh[f"{b}.{t}.bias"] = [E]
            sh.update({f"{b}.ffn_up.weight": [E, F], f"{b}.ffn_up.bias": [F], f"{b}.ffn_down.weight": [F, E], f"{b}.ffn_down.bias": [E]})
        return g, keys, opt, sh, True
    if proj == "gemma4a":
        # models/gemma4a.cpp: two conv2d s2 with channel norms, input projection, conformer blocks
        # (RMS half-step FFNs with post norms, chunked local attention with per-dim Q scale and
        # relative K, GLU + causal depthwise ssm_conv of kernel 5 + RMS norm), output projection,
        # RMS norm, input projection to the text width
        C0, C1 = 8, 16
        opt = ["a.conv1d.0.norm.weight", "a.conv1d.1.norm.weight", "a.pre_encode.out.weight", "a.pre_encode.out.bias",
               "mm.a.soft_emb_norm.weight", "mm.a.input_projection.weight"]
        sh = {"a.conv1d.0.weight": [3, 3, 1, C0], "a.conv1d.0.norm.weight": [C0], "a.conv1d.1.weight": [3, 3, C0, C1],
              "a.conv1d.1.norm.weight": [C1], "a.input_projection.weight": [C1 * (g.mel // 4), E],
              "a.pre_encode.out.weight": [E, E], "a.pre_encode.out.bias": [E], "mm.a.soft_emb_norm.weight": [E],
              "mm.a.input_projection.weight": [E, P]}
        for i in range(g.L):
            b = f"a.blk.{i}"
            opt += layer("a", i, "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_out.weight", "ln1.weight", "ln2.weight",
                         "ffn_up.weight", "ffn_down.weight", "ffn_post_norm.weight", "attn_post_norm.weight", "per_dim_scale.weight",
                         "attn_k_rel.weight", "conv_norm.weight", "norm_conv.weight", "ffn_post_norm_1.weight")
            sh.update({f"{b}.ffn_norm.weight": [E], f"{b}.ffn_norm_1.weight": [E], f"{b}.ffn_up_1.weight": [E, F], f"{b}.ffn_down_1.weight": [F, E],
                       f"{b}.ffn_post_norm_1.weight": [E], f"{b}.per_dim_scale.weight": [E // g.H], f"{b}.attn_k_rel.weight": [E, E],
                       f"{b}.conv_norm.weight": [E], f"{b}.norm_conv.weight": [E], f"{b}.conv_pw1.weight": [E, 2 * E],
                       f"{b}.conv_dw.weight": [5, E], f"{b}.conv_pw2.weight": [E, E]})
        return g, keys, opt, sh, True
    shapes = {
        "musicflamingo": {"mm.a.mlp.1.weight": [E, P], "mm.a.mlp.1.bias": [P], "mm.a.mlp.2.weight": [P, P], "mm.a.mlp.2.bias": [P]},
        "ultravox": {"mm.a.mlp.1.weight": [st, 2 * P], "mm.a.mlp.2.weight": [P, P], "mm.a.norm_pre.weight": [st], "mm.a.norm_mid.weight": [P]},
        "voxtral": {"mm.a.mlp.1.weight": [st, P], "mm.a.mlp.2.weight": [P, P]},
        "qwen2a": {"mm.a.fc.weight": [E, P], "mm.a.fc.bias": [P]},
        "meralion": meralion,
        "glma": glma,
    }.get(proj, {})
    if not shapes:
        return None
    return g, keys, opt, shapes, True


def gen_shape(g, name):
    """Shape of an audio-generation (a.gen.*) tensor. clip_init builds no graph for that
    context at load (no warm-up), so these shapes only have to be self-consistent: what is
    checked is which tensors the loader takes and their bytes. The code predictor's blocks take
    the encoder block shapes; the rest follow conversion/qwen3tts.py / pockettts.py's kinds
    (1-D norms, biases, snake and scale vectors; 2-D matrices; codebooks stacked to 3-D)."""
    m = re.match(r"^a\.gen\.code\.(blk\.\d+\..+)$", name)
    if m:
        return vit_shape(g, "a." + m.group(1), True)
    C = 16
    table = {"a.gen.code.embd.weight": [g.E, 32, 15], "a.gen.code.head.weight": [g.E, 32, 15],
             "a.gen.code.out_embd.weight": [g.P, 32], "a.gen.code.output_norm.weight": [g.E]}
    if name in table:
        return table[name]
    leaf = name.rsplit(".", 1)[-1]
    if leaf in ("bias", "alpha", "beta", "gamma", "freqs", "norm", "emb_mean", "emb_std") or "norm" in name.rsplit(".", 2)[-2]:
        return [C]
    return [C, C]


def gen_spec(proj, g):
    """A TTS mmproj as its converter writes one (conversion/qwen3tts.py, pockettts.py): an audio
    encoder (the speaker encoder) and an audio-generation context, each with its own projector
    type key and no clip.projector_type (which would name both). mtmd_init refuses a file without
    a vision or audio encoder, so the gen context always comes with one; here the audio side is
    the Qwen3-TTS speaker encoder spec for both types (pockettts_spkenc has no spec yet)."""
    g, keys, opt, sh, audio = audio_spec("qwen3tts_spkenc", g)
    gL = 2
    keys.update({"clip.projector_type": None, "clip.audio.projector_type": "qwen3tts_spkenc",
                 "clip.has_gen_audio_encoder": True, "clip.gen.audio.projector_type": proj,
                 "clip.gen.audio.embedding_length": g.E, "clip.gen.audio.feed_forward_length": g.F,
                 "clip.gen.audio.block_count": gL, "clip.gen.audio.attention.head_count": g.H,
                 "clip.gen.audio.projection_dim": g.P, "clip.gen.audio.attention.layer_norm_epsilon": 1e-6})
    if proj == "qwen3tts_gen":
        # the generic block loader with prefix a.gen.code: only attn_out / ffn_up / ffn_down are
        # required, the converter writes q/k/v, their norms, ln1/ln2 and the gated FFN too
        opt = opt + [f"a.gen.code.blk.{i}.{n}" for i in range(gL) for n in (
            "attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_q_norm.weight", "attn_k_norm.weight",
            "ln1.weight", "ln2.weight", "ffn_gate.weight")]
    else:
        # flow blocks are counted by probing a.gen.flow.blk.N.norm.weight (optional)
        keys["clip.gen.audio.model_variant"] = "synthetic"
        opt = opt + [f"a.gen.flow.blk.{i}.norm.weight" for i in range(2)]
    return g, keys, opt, sh, True


# ------------------------------------------------------------------ building and discovery

def run_oracle(path, *args):
    r = subprocess.run([str(ORACLE), str(path), *args], capture_output=True, text=True, timeout=600)
    try:
        doc = json.loads(r.stdout.strip().splitlines()[-1]) if r.stdout.strip() else None
    except json.JSONDecodeError:
        doc = None
    return doc, r.stderr, r.returncode


def build(proj, g, keys, opt, shapes, audio, path: Path, sparse: bool, discover_log=None):
    """Write the file, asking the loader for missing names until it loads (or gives up)."""
    both = audio == "both"
    kvs = base_keys(g, proj, audio=bool(audio), vision=both or not audio)
    kvs.update(keys)
    kvs = {k: v for k, v in kvs.items() if v is not None}  # a spec may drop a base key
    names = []
    for n in (["v.patch_embd.weight", "a.conv1d.1.weight"] if both else ["v.patch_embd.weight"] if not audio else ["a.conv1d.1.weight"]):
        names.append(n)
    for n in opt:
        if n not in names:
            names.append(n)
    for _ in range(400):
        tensors = []
        for n in names:
            if n in shapes and shapes[n] is None:
                continue  # a name this type's loader never asks for
            sh = shapes.get(n) or (gen_shape(g, n) if n.startswith("a.gen.") else vit_shape(g, n, n.startswith("a.") if both else audio))
            if sh is None:
                return None, f"no shape rule for {n}"
            # 1-D tensors and position embeddings are F32 (convert_hf_to_gguf.py keeps them so;
            # clip interpolates position embeddings, which ggml does in F32 only)
            tensors.append((n, sh, F32 if len(sh) == 1 or "position_embd" in n or "class_embd" in n else F16))
        write_gguf(path, kvs, tensors, sparse=True)
        doc, err, rc = run_oracle(path, "--requests", "--fa", "on")
        if doc and doc.get("ok"):
            if not sparse:
                write_gguf(path, kvs, tensors, sparse=False)
            return doc, None
        log = " ".join((doc or {}).get("log", [])) + err
        m = re.search(r"unable to find tensor ([\w.\-]+)", log)
        k = re.search(r"Key not found: ([\w.\-]+)", log)
        if m and m.group(1) not in names:
            names.append(m.group(1))
            continue
        if k and k.group(1) not in kvs:
            return None, f"required key {k.group(1)} has no value in the spec"
        tail = [l for l in (log.splitlines() or [log]) if "GGML_ASSERT" in l or "error" in l.lower() or "failed" in l.lower()]
        return None, (tail[-1] if tail else log[-300:]).strip()
    return None, "too many tensors"


CASES = [("fa-on", ["--fa", "on"]), ("fa-off", ["--fa", "off"]), ("fa-auto", ["--fa", "auto"]),
         ("largest-fa-on", ["--fa", "on", "--largest"]), ("largest-fa-off", ["--fa", "off", "--largest"])]


# Types whose default image budget has no file key to lower it and whose largest image's graph
# is beyond what ggml-alloc reserves (the oracle records 0 bytes): recorded with a user limit
# (--image-max-tokens, mtmd's own option), which the test passes to gguf-meter as well.
CASE_ARGS = {"youtuvl": ["--image-max-tokens", "1024"]}


def record(proj, path: Path, header: Path, kind: str, variant: dict, out: Path):
    cases = []
    for cid, args in CASES:
        doc, err, rc = run_oracle(path, *args, *CASE_ARGS.get(proj, []))
        if doc is None:
            cases.append({"id": cid, "ok": False, "error": err.strip().splitlines()[-1:] if err else []})
            continue
        doc["id"] = cid
        doc.pop("llama_cpp", None)
        doc.pop("file_size", None)
        doc.pop("file_allocated_bytes", None)
        cases.append(doc)
    head = {"oracle": "oracle_mmproj", "generator": "scripts/oracle/mmproj_types.py",
            "model": {"kind": kind, "projector_type": proj, "file_name": str(header.relative_to(REPO)),
                      "variant": variant},
            "cases": cases}
    first = next((c for c in cases if c.get("ok")), None)
    if first:
        head["llama_cpp"] = run_oracle(path, "--fa", "on")[0].get("llama_cpp")
    out.write_text(json.dumps(head, indent=1) + "\n")


# Full-size geometries of published projectors (their HF configs; P = the text model's width).
FULL = {
    "gemma3-siglip": ("gemma3", dict(E=1152, H=16, F=4304, L=27, P=2560, img=896, patch=14, merge=4)),
    "qwen2.5vl-7b": ("qwen2.5vl_merger", dict(E=1280, H=16, F=3420, L=32, P=3584, img=1540, patch=14)),
    "pixtral-12b": ("pixtral", dict(E=1024, H=16, F=4096, L=24, P=5120, img=1024, patch=16)),
    "mistral-small-3.1": ("pixtral", dict(E=1024, H=16, F=4096, L=24, P=5120, img=1540, patch=14, merge=2)),
    "llama4-scout": ("llama4", dict(E=1408, H=16, F=5632, L=34, P=5120, img=336, patch=14, merge=2, FP=4096)),
    "internvl3-8b": ("internvl", dict(E=1024, H=16, F=4096, L=24, P=3584, img=448, patch=14, merge=2)),
    "smolvlm2-2.2b": ("idefics3", dict(E=1152, H=16, F=4304, L=27, P=2048, img=384, patch=14, merge=3)),
    "minicpm-v-2.6": ("resampler", dict(E=1152, H=16, F=4304, L=27, P=3584, img=448, patch=14)),
    "glm-4.1v": ("glm4v", dict(E=1536, H=12, F=13696, L=24, P=4096, img=336, patch=14, FP=13696)),
    "kimi-vl-a3b": ("kimivl", dict(E=1152, H=16, F=4304, L=27, P=2048, img=896, patch=14, merge=2)),
    "lfm2-vl-1.6b": ("lfm2", dict(E=1152, H=16, F=4304, L=26, P=2048, img=512, patch=16, merge=2, FP=2560)),
    "ultravox-0.5-8b": ("ultravox", dict(E=1280, H=20, F=5120, L=32, P=4096, mel=128, stack=8)),
    "voxtral-mini": ("voxtral", dict(E=1280, H=20, F=5120, L=32, P=3072, mel=128, stack=4)),
    "qwen2.5-omni-7b-audio": ("qwen2a", dict(E=1280, H=20, F=5120, L=32, P=3584, mel=128)),
}

TINY = {
    "idefics3": dict(merge=2), "lfm2": dict(merge=2), "internvl": dict(merge=2), "llama4": dict(merge=2),
    "kimivl": dict(merge=2), "kimik25": dict(merge=2), "paddleocr": dict(merge=2), "dots_ocr": dict(merge=2), "dots3note_v": dict(merge=2), "nemotron_v2_vl": dict(merge=2), "pixtral": dict(merge=2), "gemma3": dict(merge=4), "resampler": dict(P=256), "gemma4uv": dict(L=0), "muse-glimmer": dict(L=5), "gemma4ua": dict(L=0),
    # MobileVLM's projectors reshape to a fixed 24x24 patch grid (llava.cpp n_patch = 24)
    "ldp": dict(img=192), "ldpv2": dict(img=192), "gemma3nv": dict(img=256), "gemma3na": dict(img=256), "yasa2": dict(L=0, img=64, patch=4),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--discover", action="store_true", help="print each type's loader requests; record nothing")
    ap.add_argument("--no-full", action="store_true")
    a = ap.parse_args()
    if not ORACLE.exists():
        sys.exit(f"{ORACLE}: not built (scripts/oracle/build.sh, or ORACLE_MMPROJ=path)")
    summary = {}
    jobs = [(p, p, TINY.get(p, {}), "synthetic") for p in projector_names()]
    if not a.no_full:
        jobs += [(f"full-{n}", p, geo, "full") for n, (p, geo) in FULL.items()]
    for name, proj, geo, kind in jobs:
        if a.only and name not in a.only and proj not in a.only:
            continue
        sp = spec(proj, G(**geo))
        if sp is None:
            summary[name] = "no spec yet"
            continue
        g, keys, opt, shapes, audio = sp
        stem = name.replace(".", "_") if kind == "synthetic" else name
        sparse_path = WORK / f"{stem}.gguf"
        doc, why = build(proj, g, keys, opt, shapes, audio, sparse_path, sparse=True)
        if doc is None:
            summary[name] = f"FAILED: {why}"
            continue
        if a.discover:
            print(name, json.dumps(doc.get("requested_tensors")))
            summary[name] = "ok"
            continue
        header = FIXTURES / f"{stem}.gguf"
        build(proj, g, keys, opt, shapes, audio, header, sparse=False)
        record(proj, sparse_path, header, kind, geo, RECORDS / f"mmproj-{'type-' if kind == 'synthetic' else ''}{stem}.json")
        summary[name] = "recorded"
    for k, v in summary.items():
        print(f"{k:28} {v}")


if __name__ == "__main__":
    main()
