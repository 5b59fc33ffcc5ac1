//! clip.cpp's encoder graphs rebuilt for ggml-alloc (tools/mtmd/clip.cpp `build_inp`,
//! `build_vit`, `build_attn`, `build_ffn`, `build_norm`, and the projector tails in
//! tools/mtmd/models/*.cpp), in the op order clip builds them, so that
//! [`Gallocr::reserve`](crate::estimate::compute::alloc::Gallocr) replays the compute buffer
//! `ggml_backend_sched_reserve` sizes at warm-up.

use crate::estimate::compute::alloc::Gallocr;
use crate::estimate::compute::graph::{Graph, Id, NONE, OUTPUT, Op, Tensor, Ty, contiguous};
use crate::model::vision::ClipEncoder;

/// How a projector's graph is built: what `build_vit` is given and which tail follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tail {
    /// models/siglip.cpp, Gemma 3: 2-D average pool by n_merge, RMS norm, projection.
    Gemma3,
    /// siglip.cpp, Idefics3 / SmolVLM: pixel shuffle by n_merge, one matrix.
    Idefics3,
    /// siglip.cpp, LFM2-VL: pixel shuffle, optional layer norm, GELU MLP.
    Lfm2,
    /// siglip.cpp, Phi-4 (mm.0 / mm.2) and Janus-Pro (mm.0 / mm.1): a GELU MLP.
    Mlp2(&'static str, &'static str),
    /// models/internvl.cpp: class token, pixel shuffle, norm and GELU MLP.
    InternVl,
    /// models/pixtral.cpp: RMS-norm ViT with 2-D rope, optional patch merger, GELU MLP,
    /// [IMG_BREAK] rows.
    Pixtral,
    /// models/qwen2vl.cpp: Qwen2-VL / Qwen2.5-VL (temporal patch pair, M-RoPE, windowed
    /// attention with its mask, 2x2 merger MLP).
    Qwen2Vl,
    /// models/qwen3vl.cpp: temporal patch pair, learned positions in merge order, fused QKV
    /// with M-RoPE, deepstack branches, 2x2 merger MLP.
    Qwen3Vl,
    /// models/llava.cpp, LLaVA-1.5 style (`mlp`, no feature layers): the ViT without its last
    /// block, the patch rows picked by get_rows, a GELU MLP.
    Llava,
    /// models/nemotron-v2-vl.cpp: register tokens before the patches, pixel shuffle, RMS norm,
    /// ReLU² MLP.
    NemotronV2Vl,
    /// models/kimik25.cpp: a 3-D learned position table (interpolated unless it fits), 2-D rope,
    /// pixel shuffle, norm over the shuffled view, MLP.
    KimiK25,
    /// models/paddleocr.cpp: learned positions, M-RoPE, norm, pixel shuffle, MLP.
    PaddleOcr,
    /// models/hunyuanvl.cpp: ViT with input positions, RMS norm, two convs, newline column,
    /// linear, begin / end rows, RMS norm.
    HunyuanVl,
    /// models/minimax-m3.cpp: temporal patch pair, 2x2 merge order, 2-axis rope, per-patch MLP,
    /// merge MLP over each 2x2 block.
    MinimaxM3,
    /// models/gemma4uv.cpp: no blocks; im2col, norms, linear patch embedding, x / y position
    /// tables, RMS norm, input projection.
    Gemma4Uv,
    /// models/gemma4v.cpp: scaled input, conv patches, x / y position tables, RMS ViT with
    /// Q/K/V norms, post norms and clamped matmuls, average pool, RMS norm, projection.
    Gemma4V,
    /// models/cogvlm.cpp: class token, post-norm blocks with fused QKV, linear, norm, GELU,
    /// SwiGLU, BOI / EOI rows.
    CogVlm,
    /// models/step3vl.cpp: resized learned positions, 2-D rope, two strided convs with
    /// per-channel bias, linear.
    Step3Vl,
    /// models/youtuvl.cpp: patches in merge order by one matmul, M-RoPE, windowed attention
    /// with its mask outside `wa_layer_indexes`, window reorder, RMS norm, 2x2 merger MLP.
    YoutuVl,
    /// models/ling3vl.cpp: temporal patch pair and resized learned positions in merge order,
    /// M-RoPE ViT, merger norm, 2x2 rows, GELU MLP.
    Ling3Vl,
    /// models/muse-glimmer.cpp: sparse attention (permutation, mask on 3 of every 4 blocks),
    /// 2-D rope, 2x2 grouping, 3-matrix MLP.
    MuseGlimmer,
    /// models/mimovl.cpp: GQA fused QKV, per-block full / row / column windowed attention with
    /// sinks and merge-unit reorders, 2x2 rows, GELU MLP.
    MimoVl,
    /// models/dotsocr.cpp (dots.ocr, and dots3note's vision with its MoE blocks): RMS-norm ViT
    /// with M-RoPE, post-trunk norm, norm, pixel shuffle, MLP.
    DotsOcr,
    /// models/minicpmv.cpp: MiniCPM-V's resampler (learned queries attending to the ViT output,
    /// 2-D sin/cos positions).
    Resampler,
    /// models/kimivl.cpp: interpolated learned positions, 2-D rope, pixel shuffle, norm, MLP.
    KimiVl,
    /// models/llama4.cpp: im2col patch matmul, class token, 2-D rope, pixel shuffle, 3 matmuls.
    Llama4,
    /// models/glm4v.cpp: temporal patch pair, M-RoPE, conv patch merger, fc + norm, SwiGLU MLP.
    Glm4v,
    /// models/whisper-enc.cpp: Ultravox (stack, RMS norms, SwiGLU MLP).
    Ultravox,
    /// whisper-enc.cpp: Voxtral (stack, GELU-erf MLP).
    Voxtral,
    /// whisper-enc.cpp: Qwen2-Audio / Qwen2.5-Omni audio (average pool, one matrix).
    Qwen2a,
    /// models/gemma4ua.cpp: encoder-free audio, RMS norm over raw frames, input projection.
    Gemma4Ua,
    /// models/qwen3a.cpp: Qwen3-ASR audio (chunked conv2d front end, per-chunk positions,
    /// encoder, GELU-erf MLP).
    Qwen3a,
    /// whisper-enc.cpp: MERaLiON (stack, layer norm, SiLU linear, GLU, linear).
    Meralion,
    /// models/conformer.cpp: LFM2-Audio (conv subsampling, conformer blocks with relative
    /// position attention and a depthwise conv module, GELU-erf MLP).
    Conformer,
    /// models/mobilenetv5.cpp: Gemma 3n vision (MobileNet-V5 blocks, multi-scale fusion,
    /// scale, RMS norms, projection).
    MobileNetV5,
    /// models/qwen3tts-spkenc.cpp: Qwen3-TTS's ECAPA-TDNN speaker encoder (im2col TDNNs,
    /// SE-Res2Net blocks, attentive statistics pooling), one output row.
    Qwen3TtsSpkEnc,
    /// models/yasa2.cpp: Reka's ConvNeXt (channel layer norms, depthwise blocks with GRN),
    /// 8x8 average pool, MLP.
    Yasa2,
    /// models/dots3note.cpp (audio): three conv2d + GELU-erf, conv_out, RMS encoder with rope,
    /// layer norm, GELU-erf MLP.
    Dots3noteA,
    /// models/deepseek4v.cpp: RMS ViT with 2-axis M-RoPE, n_merge x n_merge im2col, MLP,
    /// sentinel rows and the token block layout gathered by get_rows.
    Deepseek4v,
    /// models/granite-speech.cpp: input projection, block-local conformer (Shaw relative
    /// positions), a CTC branch at the middle block, a windowed Q-Former, linear projection.
    GraniteSpeech,
    /// models/parakeet.cpp: conv subsampling, conformer blocks with relative-position attention
    /// (sin / cos table built in the graph), batch-normed depthwise conv, RMS norm, ReLU² MLP.
    Parakeet,
    /// models/minicpmv.cpp, MiniCPM-V 4.6: SigLIP blocks split by a windowed-attention ViT
    /// merger with a 2x2 downsample MLP, then a final 2x2 merger MLP.
    MiniCpmV46,
    /// models/gemma4a.cpp: Gemma 4 audio (two conv2d with channel norms, conformer blocks with
    /// chunked local attention and relative keys, every weight matmul clamped).
    Gemma4A,
    /// whisper-enc.cpp: GLM-4.x audio (layer norm, stack, GELU-erf MLP, BOI / EOI rows).
    Glma,
}

/// The simulated graph for a projector type, if gguf-meter rebuilds it.
pub fn tail(projector_type: &str) -> Option<Tail> {
    Some(match projector_type {
        "gemma3" => Tail::Gemma3,
        "idefics3" => Tail::Idefics3,
        "lfm2" => Tail::Lfm2,
        "phi4" => Tail::Mlp2("mm.0", "mm.2"),
        "janus_pro" => Tail::Mlp2("mm.0", "mm.1"),
        "internvl" => Tail::InternVl,
        "pixtral" | "lightonocr" => Tail::Pixtral,
        "qwen2vl_merger" | "qwen2.5vl_merger" | "exaone4_5" => Tail::Qwen2Vl,
        "kimivl" => Tail::KimiVl,
        "resampler" => Tail::Resampler,
        "mlp" | "ldp" | "ldpv2" | "adapter" => Tail::Llava,
        "nemotron_v2_vl" => Tail::NemotronV2Vl,
        "paddleocr" => Tail::PaddleOcr,
        "dots_ocr" | "dots3note_v" => Tail::DotsOcr,
        "youtuvl" => Tail::YoutuVl,
        "ling3vl" => Tail::Ling3Vl,
        "mimovl" => Tail::MimoVl,
        "muse-glimmer" => Tail::MuseGlimmer,
        "step3vl" => Tail::Step3Vl,
        "cogvlm" => Tail::CogVlm,
        "gemma4v" => Tail::Gemma4V,
        "gemma4uv" => Tail::Gemma4Uv,
        "gemma4ua" => Tail::Gemma4Ua,
        "qwen3a" => Tail::Qwen3a,
        "minimax_m3" => Tail::MinimaxM3,
        "hunyuanvl" => Tail::HunyuanVl,
        "kimik25" => Tail::KimiK25,
        "qwen3vl_merger" => Tail::Qwen3Vl,
        "llama4" => Tail::Llama4,
        "glm4v" | "glm5v" => Tail::Glm4v,
        "ultravox" => Tail::Ultravox,
        "voxtral" | "musicflamingo" => Tail::Voxtral,
        "qwen2a" => Tail::Qwen2a,
        "meralion" => Tail::Meralion,
        "lfm2a" => Tail::Conformer,
        "gemma3nv" => Tail::MobileNetV5,
        "qwen3tts_spkenc" => Tail::Qwen3TtsSpkEnc,
        "yasa2" => Tail::Yasa2,
        "dots3note_a" => Tail::Dots3noteA,
        "deepseek4v" => Tail::Deepseek4v,
        "granite_speech" => Tail::GraniteSpeech,
        "parakeet" => Tail::Parakeet,
        "minicpmv4_6" => Tail::MiniCpmV46,
        "gemma4a" => Tail::Gemma4A,
        "glma" => Tail::Glma,
        _ => return None,
    })
}

/// Element type of a weight from its size (F32, F16/BF16, or a block type taken as 32 elements).
fn weight_ty(ne: [u64; 4], bytes: u64) -> Ty {
    let n = ne.iter().fold(1u64, |a, &x| a.saturating_mul(x)).max(1);
    match bytes / n {
        4 if Some(bytes) == n.checked_mul(4) => Ty::F32,
        2 if Some(bytes) == n.checked_mul(2) => Ty::F16,
        _ => {
            let blocks = (n / 32).max(1);
            Ty::Q { block: 32, bytes: u32::try_from(bytes / blocks).unwrap_or(u32::MAX).max(1) }
        }
    }
}

/// The weights of one `build_ffn` call.
struct Ffn {
    up: Option<Id>,
    up_b: Option<Id>,
    gate: Option<Id>,
    gate_b: Option<Id>,
    down: Option<Id>,
    down_b: Option<Id>,
}

/// A clip graph under construction.
pub struct Builder<'a> {
    g: Graph,
    e: &'a ClipEncoder,
    flash_attn: bool,
    /// A weight the graph needs is absent: the figure is not clip's (the loader would refuse).
    missing: bool,
    /// Blocks `build_vit` runs (default: all); LLaVA stops before the last one.
    layers: Option<u64>,
    /// Gemma 4 vision's `build_mm` (Gemma4ClippableLinear): every weight matmul clamps its
    /// input and output (clip.cpp gives every loaded `.weight` clamp bounds).
    clamp_mm: bool,
    /// Per-block attention masks (`build_vit_opts.attn_mask_layers`), [`NONE`] for none.
    layer_masks: Vec<Id>,
    /// First block `build_vit` runs (MiniCPM-V 4.6 splits its blocks around the ViT merger).
    first_layer: u64,
    /// Leave out the pre-layer norm (a second run over later blocks).
    no_pre_ln: bool,
    /// Leave out the post-layer norm (a first run over earlier blocks).
    no_post_ln: bool,
}

impl<'a> Builder<'a> {
    fn new(e: &'a ClipEncoder, flash_attn: bool) -> Self {
        Builder {
            g: Graph::with_capacity(4096),
            e,
            flash_attn,
            missing: false,
            layers: None,
            clamp_mm: e.projector_type == "gemma4v",
            layer_masks: Vec::new(),
            first_layer: 0,
            no_pre_ln: false,
            no_post_ln: false,
        }
    }

    fn w(&mut self, name: &str) -> Option<Id> {
        let (_, ne, bytes) = self.e.tensors.iter().find(|(n, _, _)| n == name)?;
        // no real projector weight has 2^40 elements; refusing bigger keeps every shape product
        // in the graph below 2^64
        if ne.iter().fold(1u64, |a, &x| a.saturating_mul(x)) > 1 << 40 {
            self.missing = true;
            return Some(self.g.external(Ty::F32, [1, 1, 1, 1]));
        }
        Some(self.g.external(weight_ty(*ne, *bytes), *ne))
    }

    /// A weight the graph cannot do without: a 1-element stand-in when absent (and the result
    /// is then discarded), so that no shape is ever read from a tensor that does not exist.
    fn need(&mut self, w: Option<Id>) -> Id {
        w.unwrap_or_else(|| {
            self.missing = true;
            self.g.external(Ty::F32, [1, 1, 1, 1])
        })
    }

    /// `build_mm`: a weight matmul (clamped in and out for Gemma 4 vision). `ggml_clamp` makes
    /// a new tensor, but GGML_OP_CLAMP is in ggml-alloc's `ggml_op_can_inplace`, so the
    /// allocator may lay it over its source like any unary op.
    fn mm(&mut self, w: Id, x: Id) -> Id {
        if !self.clamp_mm {
            return self.g.mul_mat(w, x);
        }
        let c = self.g.unary(x);
        let r = self.g.mul_mat(w, c);
        self.g.unary(r)
    }

    fn blk(&mut self, p: &str, il: u64, name: &str) -> Option<Id> {
        self.w(&format!("{p}.blk.{il}.{name}"))
    }

    fn add_opt(&mut self, cur: Id, b: Option<Id>) -> Id {
        match b {
            Some(b) => self.g.binary(cur, b),
            None => cur,
        }
    }

    /// `build_norm`: LayerNorm (`ggml_norm`, never in place) or RMS norm, then weight and bias.
    fn norm(&mut self, cur: Id, w: Option<Id>, b: Option<Id>, rms: bool) -> Id {
        let mut cur = if rms { self.g.unary(cur) } else { self.g.norm(cur) };
        if let Some(w) = w {
            cur = self.g.binary(cur, w);
        }
        self.add_opt(cur, b)
    }

    /// `ggml_im2col` (ggml.c): F16 patches [IC*K*K, OW, OH, N] (2-D) or [IC*K, OW, N, 1] (1-D).
    fn im2col(&mut self, a: Id, b: Id, ne: [u64; 4]) -> Id {
        self.g.push(Tensor { ne, nb: contiguous(Ty::F16, ne), ty: Ty::F16, op: Op::Compute { inplace: false }, src: srcs(&[a, b]), view_src: NONE, flags: 0 })
    }

    /// A new tensor computed from `src` (pool, pad, interpolate ...), never in place.
    fn op(&mut self, ty: Ty, ne: [u64; 4], src: &[Id]) -> Id {
        self.g.push(Tensor { ne, nb: contiguous(ty, ne), ty, op: Op::Compute { inplace: false }, src: srcs(src), view_src: NONE, flags: 0 })
    }

    /// `ggml_conv_2d(kernel, img, s = k, p = 0)`: im2col, matmul, permute and cont.
    fn conv_2d_patch(&mut self, kernel: Id, img: Id) -> Id {
        let kn = self.g.ne(kernel);
        let inn = self.g.ne(img);
        let (ow, oh) = (inn[0] / kn[0].max(1), inn[1] / kn[1].max(1));
        let col = self.im2col(kernel, img, [kn[0] * kn[1] * kn[2], ow, oh, inn[3]]);
        let col2 = self.g.reshape(col, [kn[0] * kn[1] * kn[2], ow * oh * inn[3], 1, 1]);
        let k2 = self.g.reshape(kernel, [kn[0] * kn[1] * kn[2], kn[3], 1, 1]);
        let r = self.g.mul_mat(col2, k2);
        let r = self.g.reshape(r, [ow, oh, inn[3], kn[3]]);
        let r = self.g.permute(r, [0, 1, 3, 2]);
        let ne = self.g.ne(r);
        self.g.cont(r, ne)
    }

    /// `ggml_conv_2d(kernel, img, s, s, p, p, 1, 1)`: im2col, matmul, permute and cont.
    fn conv_2d(&mut self, kernel: Id, img: Id, s: u64, p: u64) -> Id {
        let kn = self.g.ne(kernel);
        let inn = self.g.ne(img);
        let out = |x: u64, k: u64| (x + 2 * p).saturating_sub(k) / s.max(1) + 1;
        let (ow, oh) = (out(inn[0], kn[0]), out(inn[1], kn[1]));
        let col = self.im2col(kernel, img, [kn[0] * kn[1] * kn[2], ow, oh, inn[3]]);
        let col2 = self.g.reshape(col, [kn[0] * kn[1] * kn[2], ow * oh * inn[3], 1, 1]);
        let k2 = self.g.reshape(kernel, [kn[0] * kn[1] * kn[2], kn[3], 1, 1]);
        let r = self.g.mul_mat(col2, k2);
        let r = self.g.reshape(r, [ow, oh, inn[3], kn[3]]);
        let r = self.g.permute(r, [0, 1, 3, 2]);
        let ne = self.g.ne(r);
        self.g.cont(r, ne)
    }

    /// `ggml_conv_1d_ph(kernel [K, IC, OC], x [L, IC], s, d = 1)`: padding K/2.
    fn conv_1d_ph(&mut self, kernel: Id, x: Id, s: u64) -> Id {
        let kn = self.g.ne(kernel);
        let xn = self.g.ne(x);
        let p = kn[0] / 2;
        let ol = (xn[0] + 2 * p).saturating_sub(kn[0]) / s.max(1) + 1;
        let col = self.im2col(kernel, x, [kn[1] * kn[0], ol, xn[2], 1]);
        let col2 = self.g.reshape(col, [kn[1] * kn[0], ol * xn[2], 1, 1]);
        let k2 = self.g.reshape(kernel, [kn[0] * kn[1], kn[2], 1, 1]);
        let r = self.g.mul_mat(col2, k2);
        self.g.reshape(r, [ol, kn[2], xn[2], 1])
    }

    /// `build_inp`: the patch embedding of an image of `side` pixels, [E, n_patches].
    fn inp(&mut self, side: u64) -> Id {
        let raw = self.g.input(Ty::F32, [side, side, 3, 1]);
        let Some(pw) = self.w("v.patch_embd.weight") else { return raw };
        let conv = self.conv_2d_patch(pw, raw);
        let cn = self.g.ne(conv);
        let n = cn[0] * cn[1];
        let r = self.g.reshape(conv, [n, cn[2], 1, 1]);
        let t = self.g.transpose(r);
        let tn = self.g.ne(t);
        let mut inp = self.g.cont(t, tn);
        if let Some(b) = self.w("v.patch_embd.bias") {
            inp = self.g.binary(inp, b);
        }
        inp
    }

    /// `build_attn`, flash attention or not, no mask.
    fn attn(&mut self, q: Id, k: Id, v: Id, wo: Option<Id>, wo_b: Option<Id>, mask: Id) -> Id {
        self.g.expand(q);
        self.g.expand(k);
        self.g.expand(v);
        let qp = self.g.permute_0213(q);
        let kp = self.g.permute_0213(k);
        let mut cur = if self.flash_attn {
            let vp = self.g.permute_0213(v);
            let kc = self.g.cast(kp, Ty::F16);
            let vc = self.g.cast(vp, Ty::F16);
            let m = if mask == NONE { NONE } else { self.g.cast(mask, Ty::F16) };
            let fa = self.g.flash_attn_ext(qp, kc, vc, m);
            let n = self.g.ne(fa);
            self.g.reshape(fa, [n[0] * n[1], n[2] * n[3], 1, 1])
        } else {
            let vp = self.g.permute(v, [1, 2, 0, 3]);
            let vn = self.g.ne(vp);
            let vc = self.g.cont(vp, vn);
            let kq = self.g.mul_mat(kp, qp);
            let kq = self.g.soft_max_ext(kq, mask);
            let kqv = self.g.mul_mat(vc, kq);
            let p = self.g.permute_0213(kqv);
            let n = self.g.ne(p);
            self.g.cont(p, [n[0] * n[1], n[2] * n[3], 1, 1])
        };
        if let Some(wo) = wo {
            cur = self.mm(wo, cur);
        }
        self.add_opt(cur, wo_b)
    }

    /// `build_ffn` with the encoder's activation (`act`), optional gate and biases.
    fn ffn(&mut self, cur: Id, f: Ffn) -> Id {
        let Ffn { up, up_b, gate, gate_b, down, down_b } = f;
        let mut tmp = match up {
            Some(u) => self.mm(u, cur),
            None => cur,
        };
        tmp = self.add_opt(tmp, up_b);
        let mut cur = match gate {
            Some(gw) => {
                let c = self.mm(gw, cur);
                self.add_opt(c, gate_b)
            }
            None => tmp,
        };
        cur = if gate.is_some() { self.g.glu_split(cur, tmp) } else { self.g.unary(cur) };
        if let Some(d) = down {
            cur = self.mm(d, cur);
        }
        self.add_opt(cur, down_b)
    }

    /// `build_moe_ffn` (dots3note's vision blocks): sigmoid router, top-k experts, SiLU-gated
    /// expert FFN, weighted sum over the chosen experts.
    fn moe(&mut self, cur: Id, p: &str, il: u64) -> Id {
        let gi = self.blk(p, il, "ffn_gate_inp.weight");
        let ge = self.blk(p, il, "ffn_gate_exps.weight");
        let ue = self.blk(p, il, "ffn_up_exps.weight");
        let de = self.blk(p, il, "ffn_down_exps.weight");
        let pb = self.blk(p, il, "exp_probs_b.weight");
        let (gi, ge, ue, de) = (self.need(gi), self.need(ge), self.need(ue), self.need(de));
        let (e_w, n_tokens) = (self.g.ne(cur)[0], self.g.ne(cur)[1]);
        let n_expert = self.g.ne(ge)[2].max(1);
        let used = self.e.expert_used.unwrap_or(1).clamp(1, n_expert);
        let logits = self.mm(gi, cur);
        let probs = self.g.unary(logits);
        let sel = self.add_opt(probs, pb);
        let selected = self.op(Ty::I32, [used, n_tokens, 1, 1], &[sel]);
        let r = self.g.reshape(probs, [1, n_expert, n_tokens, 1]);
        let mut weights = self.op(Ty::F32, [1, used, n_tokens, 1], &[r, selected]);
        weights = self.g.reshape(weights, [used, n_tokens, 1, 1]);
        let sum = self.g.sum_rows(weights);
        weights = self.g.binary(weights, sum);
        weights = self.g.reshape(weights, [1, used, n_tokens, 1]);
        let c3 = self.g.reshape(cur, [e_w, 1, n_tokens, 1]);
        let gate = self.g.mul_mat_id(ge, c3, selected);
        let up = self.g.mul_mat_id(ue, c3, selected);
        let act = self.g.unary(gate);
        let mut x = self.g.binary(act, up);
        x = self.g.mul_mat_id(de, x, selected);
        x = self.g.binary(x, weights);
        let nb = self.g.t[x as usize].nb;
        let mut out = NONE;
        for _ in 0..used {
            let v = self.g.view(x, [e_w, n_tokens, 1, 1], [nb[0], nb[2], nb[2] * n_tokens, nb[2] * n_tokens], &[x]);
            out = if out == NONE { v } else { self.g.binary(out, v) };
        }
        if used == 1 {
            out = self.g.cont(out, [e_w, n_tokens, 1, 1]);
        }
        out
    }

    /// `build_vit` over `n_pos` positions of `inp` ([E, n_pos]), with learned positions.
    fn vit(&mut self, p: &str, inp: Id, n_pos: u64, learned_pos: Option<Id>, rms: bool) -> Id {
        self.vit_pos(p, inp, n_pos, learned_pos, rms, &[])
    }

    /// `build_vit` with `add_pos` = one `ggml_rope_ext` per position tensor in `ropes`, applied
    /// to Q then to K (pixtral.cpp's `build_rope_2d`: two ropes, by row then by column).
    fn vit_pos(&mut self, p: &str, inp: Id, n_pos: u64, learned_pos: Option<Id>, rms: bool, ropes: &[Id]) -> Id {
        let e = self.e;
        let (n_embd, n_head, n_head_kv) = (e.n_embd, e.n_head.max(1), e.n_head_kv.max(1));
        let d = n_embd / n_head;
        let mut inp = inp;
        if let Some(pos) = learned_pos {
            inp = self.g.binary(inp, pos);
        }
        let mut inp_l = self.g.reshape(inp, [n_embd, n_pos, 1, 1]);
        if !self.no_pre_ln && self.e.has(&format!("{p}.pre_ln.weight")) {
            let (w, b) = (self.w(&format!("{p}.pre_ln.weight")), self.w(&format!("{p}.pre_ln.bias")));
            inp_l = self.norm(inp_l, w, b, rms);
        }
        for il in self.first_layer..self.layers.unwrap_or(e.n_layer).min(e.n_layer) {
            let (w1, b1) = (self.blk(p, il, "ln1.weight"), self.blk(p, il, "ln1.bias"));
            let mut cur = self.norm(inp_l, w1, b1, rms);
            let (q, k, v) = if self.e.has(&format!("{p}.blk.{il}.attn_qkv.weight")) {
                let wqkv = self.blk(p, il, "attn_qkv.weight");
                let bqkv = self.blk(p, il, "attn_qkv.bias");
                let c = {
                    let w = self.need(wqkv);
                    self.mm(w, cur)
                };
                cur = self.add_opt(c, bqkv);
                let row = self.g.t[cur as usize].nb[1];
                let q = self.g.view(cur, [d, n_head, n_pos, 1], [4, d * 4, row, row * n_pos], &[cur]);
                let k = self.g.view(cur, [d, n_head, n_pos, 1], [4, d * 4, row, row * n_pos], &[cur]);
                let v = self.g.view(cur, [d, n_head, n_pos, 1], [4, d * 4, row, row * n_pos], &[cur]);
                (q, k, v)
            } else {
                let mut out = [NONE; 3];
                for (i, (wn, bn)) in
                    [("attn_q.weight", "attn_q.bias"), ("attn_k.weight", "attn_k.bias"), ("attn_v.weight", "attn_v.bias")].into_iter().enumerate()
                {
                    let w = self.blk(p, il, wn);
                    let b = self.blk(p, il, bn);
                    let m = {
                        let w = self.need(w);
                        self.mm(w, cur)
                    };
                    out[i] = self.add_opt(m, b);
                }
                // Q / K norms: per head after the reshape when their width is the head's
                let qn = self.blk(p, il, "attn_q_norm.weight");
                let kn = self.blk(p, il, "attn_k_norm.weight");
                let per_head = qn.is_some_and(|w| self.g.ne(w)[0] == d);
                if !per_head {
                    if let Some(w) = qn {
                        out[0] = self.norm(out[0], Some(w), None, rms);
                    }
                    if let Some(w) = kn {
                        out[1] = self.norm(out[1], Some(w), None, rms);
                    }
                }
                let mut q = self.g.reshape(out[0], [d, n_head, n_pos, 1]);
                let mut k = self.g.reshape(out[1], [d, n_head_kv, n_pos, 1]);
                let v = self.g.reshape(out[2], [d, n_head_kv, n_pos, 1]);
                if per_head {
                    if let Some(w) = qn {
                        q = self.norm(q, Some(w), None, rms);
                    }
                    if let Some(w) = kn {
                        k = self.norm(k, Some(w), None, rms);
                    }
                }
                (q, k, v)
            };
            let (mut q, mut k) = (q, k);
            for &pos in ropes {
                q = self.g.rope(q, pos);
            }
            for &pos in ropes {
                k = self.g.rope(k, pos);
            }
            let mut v = v;
            if self.e.projector_type == "gemma4v" {
                v = self.g.unary(v);
            }
            let (wo, bo) = (self.blk(p, il, "attn_out.weight"), self.blk(p, il, "attn_out.bias"));
            let mask = usize::try_from(il).ok().and_then(|i| self.layer_masks.get(i).copied()).unwrap_or(NONE);
            cur = self.attn(q, k, v, wo, bo, mask);
            if let Some(ls) = self.blk(p, il, "ls1.weight") {
                cur = self.g.binary(cur, ls);
            }
            if let Some(w) = self.blk(p, il, "attn_post_norm.weight") {
                cur = self.norm(cur, Some(w), None, rms);
            }
            cur = self.g.binary(cur, inp_l);
            inp_l = cur;
            let (w2, b2) = (self.blk(p, il, "ln2.weight"), self.blk(p, il, "ln2.bias"));
            cur = self.norm(cur, w2, b2, rms);
            let (up, upb) = (self.blk(p, il, "ffn_up.weight"), self.blk(p, il, "ffn_up.bias"));
            let (gt, gtb) = (self.blk(p, il, "ffn_gate.weight"), self.blk(p, il, "ffn_gate.bias"));
            let (dn, dnb) = (self.blk(p, il, "ffn_down.weight"), self.blk(p, il, "ffn_down.bias"));
            cur = if self.e.has(&format!("{p}.blk.{il}.ffn_gate_exps.weight")) {
                self.moe(cur, p, il)
            } else {
                self.ffn(cur, Ffn { up, up_b: upb, gate: gt, gate_b: gtb, down: dn, down_b: dnb })
            };
            if let Some(w) = self.blk(p, il, "ffn_post_norm.weight") {
                cur = self.norm(cur, Some(w), None, rms);
            }
            if let Some(ls) = self.blk(p, il, "ls2.weight") {
                cur = self.g.binary(cur, ls);
            }
            cur = self.g.binary(inp_l, cur);
            inp_l = cur;
        }
        if self.audio_avgpool() {
            let t = self.g.transpose(inp_l);
            let tn = self.g.ne(t);
            let c = self.g.cont(t, tn);
            let cn = self.g.ne(c);
            let pooled = self.op(Ty::F32, [cn[0] / 2, cn[1], cn[2], cn[3]], &[c]);
            let t = self.g.transpose(pooled);
            let tn = self.g.ne(t);
            inp_l = self.g.cont(t, tn);
        }
        // dots.ocr's post-trunk norm is loaded into post_ln_w under its own name (clip.cpp)
        let post_w = if matches!(self.e.projector_type.as_str(), "dots_ocr" | "dots3note_v") && p == "v" {
            "mm.post_norm.weight".to_string()
        } else {
            format!("{p}.post_ln.weight")
        };
        if !self.no_post_ln && self.e.has(&post_w) {
            let (w, b) = (self.w(&post_w), self.w(&format!("{p}.post_ln.bias")));
            inp_l = self.norm(inp_l, w, b, rms);
        }
        let n = self.g.ne(inp_l);
        self.g.reshape(inp_l, [n_embd, n[1], 1, 1])
    }

    /// `build_stack`: [E, n] padded to a multiple of E * stack factor and viewed as rows of it.
    fn stack(&mut self, cur: Id) -> Id {
        let sf = self.e.stack_factor.unwrap_or(1).max(1);
        if sf <= 1 {
            return cur;
        }
        let mut cur = cur;
        let total = self.g.ne(cur).iter().product::<u64>();
        let stride = self.e.n_embd * sf;
        let padded = total.div_ceil(stride) * stride;
        if padded > total {
            let v1 = self.g.view_1d(cur, total);
            cur = self.op(Ty::F32, [padded, 1, 1, 1], &[v1]);
        }
        self.g.view_nd(cur, [stride, padded / stride, 1, 1], stride * 4, padded * 4, padded * 4)
    }

    fn audio_avgpool(&self) -> bool {
        matches!(self.e.projector_type.as_str(), "qwen2a" | "voxtral" | "musicflamingo")
    }

    /// `resize_position_embeddings`: the learned table itself when it already has `np` x `np`
    /// rows, else interpolated (reshape, permute, interpolate, permute, cont).
    fn resized_pos(&mut self, np: u64) -> Option<Id> {
        let pos = self.w("v.position_embd.weight")?;
        let pn = self.g.ne(pos);
        let side = {
            let mut r = (pn[1] as f64).sqrt() as u64;
            while r * r > pn[1] {
                r -= 1;
            }
            r
        };
        if side == np {
            return Some(pos);
        }
        let e = pn[0];
        let mut cur = self.g.reshape(pos, [e, side, side, 1]);
        cur = self.g.permute(cur, [2, 0, 1, 3]);
        cur = self.op(Ty::F32, [np, np, e, 1], &[cur]);
        cur = self.g.permute(cur, [1, 2, 0, 3]);
        Some(self.g.cont(cur, [e, np * np, 1, 1]))
    }

    /// The Qwen-VL / GLM-4V patch order: 2x2 blocks of patches made consecutive.
    fn merge_order(&mut self, x: Id, np: u64, e: u64) -> Id {
        let mut inp = self.g.cont(x, [e * 2, np / 2, np, 1]);
        inp = self.g.reshape(inp, [e * 2, np / 2, 2, np / 2]);
        inp = self.g.permute_0213(inp);
        self.g.cont(inp, [e, np * np, 1, 1])
    }

    /// `build_patch_merge_permute` (pixel shuffle) of [E, w*h] by `s`.
    fn patch_merge(&mut self, cur: Id, w: u64, h: u64, s: u64) -> Id {
        let e = self.g.ne(cur)[0];
        let (pw, ph) = (w.div_ceil(s) * s - w, h.div_ceil(s) * s - h);
        let mut cur = self.g.reshape(cur, [e, w, h, 1]);
        let (w, h) = (w + pw, h + ph);
        if pw > 0 || ph > 0 {
            cur = self.op(Ty::F32, [e, w, h, 1], &[cur]);
        }
        cur = self.g.reshape(cur, [e * s, w / s, h, 1]);
        cur = self.g.permute_0213(cur);
        cur = self.g.cont(cur, [e * s * s, h / s, w / s, 1]);
        cur = self.g.permute_0213(cur);
        let n = self.g.ne(cur);
        self.g.cont(cur, [n[0], n[1] * n[2], 1, 1])
    }

    /// `ggml_conv_2d_dw(kernel [K, K, 1, C], x [W, H, C], s, s, p, p, 1, 1)` (ggml.c): an F16
    /// im2col per channel, a broadcast matmul, reshaped to [OW, OH, C].
    fn conv_2d_dw(&mut self, kernel: Id, x: Id, s: u64, p: u64) -> Id {
        let kn = self.g.ne(kernel);
        let xn = self.g.ne(x);
        let c = kn[2].saturating_mul(kn[3]);
        let a = self.g.reshape(kernel, [kn[0], kn[1], 1, c]);
        let bx = self.g.reshape(x, [xn[0], xn[1], 1, xn[2] * xn[3]]);
        let out = |x: u64, k: u64| (x + 2 * p).saturating_sub(k) / s.max(1) + 1;
        let (ow, oh) = (out(xn[0], kn[0]), out(xn[1], kn[1]));
        let col = self.im2col(a, bx, [kn[0] * kn[1], ow, oh, xn[2] * xn[3]]);
        let nb = self.g.reshape(col, [kn[0] * kn[1], oh * ow, xn[2], xn[3]]);
        let a2 = self.g.reshape(a, [kn[0] * kn[1], 1, c, 1]);
        let r = self.g.mul_mat(a2, nb);
        self.g.reshape(r, [ow, oh, xn[2], xn[3]])
    }

    /// Layer norm over the channels of a [W, H, C] map (llava.cpp: permute to channels
    /// first, norm, weight, bias, permute back).
    fn channel_norm(&mut self, x: Id, w: &str, bias: &str) -> Id {
        let p = self.g.permute(x, [1, 2, 0, 3]);
        let pn = self.g.ne(p);
        let mut cur = self.g.cont(p, pn);
        let (w, bb) = (self.w(w), self.w(bias));
        cur = self.norm(cur, w, bb, false);
        let p = self.g.permute(cur, [2, 0, 1, 3]);
        let pn = self.g.ne(p);
        self.g.cont(p, pn)
    }

    /// One MobileVLM LDP block (llava.cpp): depthwise conv, channel norm, hardswish, squeeze
    /// and excite, pointwise conv and norm; `s` the conv stride.
    fn ldp_block(&mut self, x: Id, i: u64, s: u64) -> Id {
        let pre = format!("mm.model.mb_block.{i}.block");
        let w = self.w(&format!("{pre}.0.0.weight"));
        let w = self.need(w);
        let mut cur = self.conv_2d_dw(w, x, s, 1);
        cur = self.channel_norm(cur, &format!("{pre}.0.1.weight"), &format!("{pre}.0.1.bias"));
        let hw = self.g.unary(cur);
        let hn = self.g.ne(hw);
        let pooled = self.op(Ty::F32, [1, 1, hn[2], hn[3]], &[hw]);
        let mut se = self.g.reshape(pooled, [hn[2], hn[3], 1, 1]);
        // fc1 then ReLU, fc2 then hardsigmoid
        for k in ["fc1", "fc2"] {
            let (fw, fb) = (self.w(&format!("{pre}.1.{k}.weight")), self.w(&format!("{pre}.1.{k}.bias")));
            let fw = self.need(fw);
            se = self.mm(fw, se);
            se = self.add_opt(se, fb);
            se = self.g.unary(se);
        }
        let sn = self.g.ne(se);
        se = self.g.reshape(se, [1, 1, sn[0], sn[1]]);
        cur = self.g.binary(hw, se);
        let (w_, h_) = (hn[0], hn[1]);
        cur = self.g.reshape(cur, [w_ * h_, hn[2], hn[3], 1]);
        let t = self.g.transpose(cur);
        let tn = self.g.ne(t);
        cur = self.g.cont(t, tn);
        let pw = self.w(&format!("{pre}.2.0.weight"));
        let pw = self.need(pw);
        cur = self.mm(pw, cur);
        let cn = self.g.ne(cur);
        cur = self.g.reshape(cur, [cn[0], w_, h_, cn[3]]);
        let (nw, nb) = (self.w(&format!("{pre}.2.1.weight")), self.w(&format!("{pre}.2.1.bias")));
        self.norm(cur, nw, nb, false)
    }

    /// llava.cpp, MobileVLM (`ldp`): GELU MLP, then two LDP blocks (the second strided).
    fn ldp(&mut self, emb: Id) -> Id {
        let (w1, b1, w3, b3) = (self.w("mm.model.mlp.1.weight"), self.w("mm.model.mlp.1.bias"), self.w("mm.model.mlp.3.weight"), self.w("mm.model.mlp.3.bias"));
        let mut cur = self.ffn(emb, Ffn { up: w1, up_b: b1, gate: None, gate_b: None, down: w3, down_b: b3 });
        let t = self.g.transpose(cur);
        let tn = self.g.ne(t);
        let grid = self.g.cont(t, [LDP_PATCHES, LDP_PATCHES, tn[1], tn[2]]);
        cur = self.ldp_block(grid, 1, 1);
        let p = self.g.permute(cur, [2, 0, 1, 3]);
        let pn = self.g.ne(p);
        cur = self.g.cont(p, pn);
        cur = self.g.binary(grid, cur);
        cur = self.ldp_block(cur, 2, 2);
        let n = self.g.ne(cur);
        self.g.reshape(cur, [n[0], n[1] * n[2], n[3], 1])
    }

    /// llava.cpp, MobileVLM V2 (`ldpv2`): GELU MLP, 2x2 average pool, depthwise conv
    /// position encoding (PEG) added to the pooled map.
    fn ldpv2(&mut self, emb: Id) -> Id {
        let (w0, b0, w2, b2) = (self.w("mm.model.mlp.0.weight"), self.w("mm.model.mlp.0.bias"), self.w("mm.model.mlp.2.weight"), self.w("mm.model.mlp.2.bias"));
        let cur = self.ffn(emb, Ffn { up: w0, up_b: b0, gate: None, gate_b: None, down: w2, down_b: b2 });
        let t = self.g.transpose(cur);
        let tn = self.g.ne(t);
        let grid = self.g.cont(t, [LDP_PATCHES, LDP_PATCHES, tn[1], tn[2]]);
        let pooled = self.op(Ty::F32, [LDP_PATCHES / 2, LDP_PATCHES / 2, tn[1], tn[2]], &[grid]);
        let pw = self.w("mm.model.peg.0.weight");
        let pw = self.need(pw);
        let peg = self.conv_2d_dw(pw, pooled, 1, 1);
        let p = self.g.permute(peg, [1, 2, 0, 3]);
        let pn = self.g.ne(p);
        let mut peg = self.g.cont(p, pn);
        let pb = self.w("mm.model.peg.0.bias");
        peg = self.add_opt(peg, pb);
        let p = self.g.permute(pooled, [1, 2, 0, 3]);
        let pn = self.g.ne(p);
        let m = self.g.cont(p, pn);
        peg = self.g.binary(peg, m);
        let n = self.g.ne(peg);
        self.g.reshape(peg, [n[0], n[1] * n[2], n[3], 1])
    }

    /// llava.cpp, GLM-Edge (`adapter`): a 2x2 stride-2 conv over the patch grid, linear, norm,
    /// GELU, SwiGLU MLP, BOI / EOI rows around it.
    fn glm_edge(&mut self, emb: Id, n: u64) -> Id {
        let grid = isqrt_u64(n);
        let en = self.g.ne(emb);
        let t = self.g.transpose(emb);
        let mut cur = self.g.cont(t, [grid, grid, en[0], 1]);
        let cw = self.w("adapter.conv.weight");
        let cw = self.need(cw);
        cur = self.conv_2d(cw, cur, 2, 0);
        let cn = self.g.ne(cur);
        cur = self.g.reshape(cur, [cn[0] * cn[1], cn[2], 1, 1]);
        let t = self.g.transpose(cur);
        let tn = self.g.ne(t);
        cur = self.g.cont(t, tn);
        let cb = self.w("adapter.conv.bias");
        cur = self.add_opt(cur, cb);
        let lw = self.w("adapter.linear.linear.weight");
        let lw = self.need(lw);
        cur = self.mm(lw, cur);
        let (nw, nb) = (self.w("adapter.linear.norm1.weight"), self.w("adapter.linear.norm1.bias"));
        cur = self.norm(cur, nw, nb, false);
        cur = self.g.unary(cur);
        let (gw, uw, dw) = (self.w("adapter.linear.gate.weight"), self.w("adapter.linear.dense_h_to_4h.weight"), self.w("adapter.linear.dense_4h_to_h.weight"));
        let (gw, uw, dw) = (self.need(gw), self.need(uw), self.need(dw));
        let g = self.mm(gw, cur);
        let x = self.mm(uw, cur);
        cur = self.g.glu_split(g, x);
        cur = self.mm(dw, cur);
        let (boi, eoi) = (self.w("adapter.boi"), self.w("adapter.eoi"));
        let (boi, eoi) = (self.need(boi), self.need(eoi));
        cur = self.g.concat(boi, cur, 1);
        self.g.concat(cur, eoi, 1)
    }

    /// `ggml_conv_2d(kernel, img, s, s, p, p, 1, 1)` with clip's im2col in the kernel's type
    /// (ggml.c passes `a->type`).
    fn conv_2d_ty(&mut self, kernel: Id, img: Id, s: u64, p: u64) -> Id {
        let kty = self.g.t[kernel as usize].ty;
        let kn = self.g.ne(kernel);
        let inn = self.g.ne(img);
        let out = |x: u64, k: u64| (x + 2 * p).saturating_sub(k) / s.max(1) + 1;
        let (ow, oh) = (out(inn[0], kn[0]), out(inn[1], kn[1]));
        let ty = if kty == Ty::F32 { Ty::F32 } else { Ty::F16 };
        let ne = [kn[0] * kn[1] * kn[2], ow, oh, inn[3]];
        let col =
            self.g.push(Tensor { ne, nb: contiguous(ty, ne), ty, op: Op::Compute { inplace: false }, src: srcs(&[kernel, img]), view_src: NONE, flags: 0 });
        let col2 = self.g.reshape(col, [kn[0] * kn[1] * kn[2], ow * oh * inn[3], 1, 1]);
        let k2 = self.g.reshape(kernel, [kn[0] * kn[1] * kn[2], kn[3], 1, 1]);
        let r = self.g.mul_mat(col2, k2);
        let r = self.g.reshape(r, [ow, oh, inn[3], kn[3]]);
        let r = self.g.permute(r, [0, 1, 3, 2]);
        let ne = self.g.ne(r);
        self.g.cont(r, ne)
    }

    /// `ggml_conv_2d_dw_direct(kernel [K, K, 1, C], x [W, H, C, N], s, s, p, p, 1, 1)`: one
    /// new tensor of x's type.
    fn conv_2d_dw_direct(&mut self, kernel: Id, x: Id, s: u64, p: u64) -> Id {
        let (kn, xn) = (self.g.ne(kernel), self.g.ne(x));
        let ty = self.g.t[x as usize].ty;
        let out = |x: u64, k: u64| (x + 2 * p).saturating_sub(k) / s.max(1) + 1;
        self.op(ty, [out(xn[0], kn[0]), out(xn[1], kn[1]), xn[2], xn[3]], &[kernel, x])
    }

    /// `ggml_conv_2d_direct(kernel [K, K, IC, OC], x [W, H, IC, N], s, s, p, p, 1, 1)`.
    fn conv_2d_direct(&mut self, kernel: Id, x: Id, s: u64, p: u64) -> Id {
        let (kn, xn) = (self.g.ne(kernel), self.g.ne(x));
        let ty = self.g.t[x as usize].ty;
        let out = |x: u64, k: u64| (x + 2 * p).saturating_sub(k) / s.max(1) + 1;
        self.op(ty, [out(xn[0], kn[0]), out(xn[1], kn[1]), kn[3], xn[3]], &[kernel, x])
    }

    /// One block of models/conformer.cpp over `cur` [E, n]: half-step FFN, relative-position
    /// attention (pos_bias_u / v, linear_pos over the 512-wide sinusoid table, rel shift),
    /// GLU + depthwise ssm_conv (kernel 9, padded 4 + roll + 4) + norm + SiLU, half-step FFN,
    /// output norm.
    fn conformer_block(&mut self, inp: Id, il: u64, pos_emb: Id) -> Id {
        let p = "a";
        let (n_embd, n_head) = (self.e.n_embd, self.e.n_head.max(1));
        let d = n_embd / n_head;
        let n = self.g.ne(inp)[1];
        let mut residual = inp;
        let (w, bb) = (self.blk(p, il, "ffn_norm.weight"), self.blk(p, il, "ffn_norm.bias"));
        let mut cur = self.norm(inp, w, bb, false);
        let f = Ffn {
            up: self.blk(p, il, "ffn_up.weight"),
            up_b: self.blk(p, il, "ffn_up.bias"),
            gate: None,
            gate_b: None,
            down: self.blk(p, il, "ffn_down.weight"),
            down_b: self.blk(p, il, "ffn_down.bias"),
        };
        cur = self.ffn(cur, f);
        let sc = self.g.unary(cur);
        residual = self.g.binary(residual, sc);
        // self-attention
        let (w, bb) = (self.blk(p, il, "ln1.weight"), self.blk(p, il, "ln1.bias"));
        cur = self.norm(residual, w, bb, false);
        let proj = |b: &mut Self, name: &str| {
            let w = b.blk(p, il, &format!("{name}.weight"));
            let w = b.need(w);
            let m = b.mm(w, cur);
            let bias = b.blk(p, il, &format!("{name}.bias"));
            let m = b.add_opt(m, bias);
            b.g.reshape(m, [d, n_head, n, 1])
        };
        let q = proj(self, "attn_q");
        let (u, v) = (self.blk(p, il, "pos_bias_u"), self.blk(p, il, "pos_bias_v"));
        let (u, v) = (self.need(u), self.need(v));
        let qu = self.g.binary(q, u);
        let qu = self.g.permute_0213(qu);
        let qv = self.g.binary(q, v);
        let qv = self.g.permute_0213(qv);
        let k = proj(self, "attn_k");
        let k = self.g.permute_0213(k);
        let kn = self.g.ne(k);
        let k = self.g.cont(k, kn);
        let vv = proj(self, "attn_v");
        let vv = self.g.permute(vv, [1, 2, 0, 3]);
        let vn = self.g.ne(vv);
        let vv = self.g.cont(vv, vn);
        let ac = self.g.mul_mat(qu, k);
        let ac = self.g.transpose(ac);
        let an = self.g.ne(ac);
        let ac = self.g.cont(ac, an);
        let lp = self.blk(p, il, "linear_pos.weight");
        let lp = self.need(lp);
        let pp = self.mm(lp, pos_emb);
        let ppn = self.g.ne(pp);
        let pp = self.g.reshape(pp, [d, n_head, ppn[1], 1]);
        let pp = self.g.permute_0213(pp);
        let bd = self.g.mul_mat(qv, pp);
        let bd = self.g.transpose(bd);
        let bn = self.g.ne(bd);
        let bd = self.g.cont(bd, bn);
        // rel shift: pad a column, view it skewed, copy
        let (pos_len, q_len, h) = (bn[0], bn[1], bn[2]);
        let bd = self.op(Ty::F32, [pos_len + 1, q_len, h, 1], &[bd]);
        let bd = self.g.reshape(bd, [q_len, pos_len + 1, h, 1]);
        let nb = self.g.t[bd as usize].nb;
        let bd = self.g.view(bd, [q_len, pos_len, h, 1], [nb[0], nb[1], nb[2], nb[3]], &[bd]);
        let bd = self.g.cont(bd, [pos_len, q_len, h, 1]);
        let nb = self.g.t[bd as usize].nb;
        let bd = self.g.view(bd, [an[0], q_len, h, 1], [nb[0], nb[1], nb[2], nb[3]], &[bd]);
        let scores = self.g.binary(ac, bd);
        let scores = self.g.unary(scores);
        let attn = self.g.soft_max_ext(scores, NONE);
        let x = self.g.mul_mat(attn, vv);
        let x = self.g.permute(x, [2, 0, 1, 3]);
        let xn = self.g.ne(x);
        let x = self.g.cont(x, [xn[0] * xn[1], xn[2], 1, 1]);
        let (ow, ob) = (self.blk(p, il, "attn_out.weight"), self.blk(p, il, "attn_out.bias"));
        let ow = self.need(ow);
        let mut out = self.mm(ow, x);
        out = self.add_opt(out, ob);
        residual = self.g.binary(residual, out);
        // conv module
        let (w, bb) = (self.blk(p, il, "norm_conv.weight"), self.blk(p, il, "norm_conv.bias"));
        cur = self.norm(residual, w, bb, false);
        let (pw1, pw1b) = (self.blk(p, il, "conv_pw1.weight"), self.blk(p, il, "conv_pw1.bias"));
        let pw1 = self.need(pw1);
        let mut x = self.mm(pw1, cur);
        x = self.add_opt(x, pw1b);
        let half = self.g.ne(x)[0] / 2;
        let row = self.g.t[x as usize].nb[1];
        let gv = self.g.view(x, [half, n, 1, 1], [4, row, row * n, row * n], &[x]);
        let gate = self.g.unary(gv);
        let xv = self.g.view(x, [half, n, 1, 1], [4, row, row * n, row * n], &[x]);
        x = self.g.binary(xv, gate);
        let t = self.g.transpose(x);
        x = self.g.cont(t, [n, half, 1, 1]);
        x = self.op(Ty::F32, [n + 4, half, 1, 1], &[x]);
        x = self.op(Ty::F32, [n + 4, half, 1, 1], &[x]);
        x = self.op(Ty::F32, [n + 8, half, 1, 1], &[x]);
        let dw = self.blk(p, il, "conv_dw.weight");
        let dw = self.need(dw);
        x = self.g.ssm_conv(x, dw);
        let dwb = self.blk(p, il, "conv_dw.bias");
        x = self.add_opt(x, dwb);
        let (cw, cb) = (self.blk(p, il, "conv_norm.weight"), self.blk(p, il, "conv_norm.bias"));
        x = self.add_opt(x, cw);
        x = self.add_opt(x, cb);
        x = self.g.unary(x);
        let (pw2, pw2b) = (self.blk(p, il, "conv_pw2.weight"), self.blk(p, il, "conv_pw2.bias"));
        let pw2 = self.need(pw2);
        x = self.mm(pw2, x);
        x = self.add_opt(x, pw2b);
        residual = self.g.binary(residual, x);
        let (w, bb) = (self.blk(p, il, "ffn_norm_1.weight"), self.blk(p, il, "ffn_norm_1.bias"));
        cur = self.norm(residual, w, bb, false);
        let f = Ffn {
            up: self.blk(p, il, "ffn_up_1.weight"),
            up_b: self.blk(p, il, "ffn_up_1.bias"),
            gate: None,
            gate_b: None,
            down: self.blk(p, il, "ffn_down_1.weight"),
            down_b: self.blk(p, il, "ffn_down_1.bias"),
        };
        cur = self.ffn(cur, f);
        let sc = self.g.unary(cur);
        residual = self.g.binary(residual, sc);
        let (w, bb) = (self.blk(p, il, "ln2.weight"), self.blk(p, il, "ln2.bias"));
        self.norm(residual, w, bb, false)
    }

    /// gemma4a.cpp `build_mm` (Gemma4ClippableLinear): the loader gives every `.weight` clamp
    /// bounds, so each weight matmul clamps its input and its output (`ggml_clamp`: a new
    /// tensor, which ggml-alloc may place over its source, GGML_OP_CLAMP being in-place-able).
    fn clamped_mm(&mut self, w: Id, x: Id) -> Id {
        let c = self.g.unary(x);
        let r = self.g.mul_mat(w, c);
        self.g.unary(r)
    }

    /// `build_norm(x, w, nullptr, NORM_TYPE_RMS)`.
    fn rms_w(&mut self, x: Id, w: Option<Id>) -> Id {
        let c = self.g.unary(x);
        self.add_opt(c, w)
    }

    /// Gemma 4 audio's half-step FFN (gemma4a.cpp), when its norm and matrices are there.
    fn gemma4a_ffn(&mut self, residual: Id, il: u64, sfx: &str) -> Id {
        let p = "a";
        let (nw, up, down) = (
            self.blk(p, il, &format!("ffn_norm{sfx}.weight")),
            self.blk(p, il, &format!("ffn_up{sfx}.weight")),
            self.blk(p, il, &format!("ffn_down{sfx}.weight")),
        );
        let (Some(nw), Some(up), Some(down)) = (nw, up, down) else { return residual };
        let mut cur = self.rms_w(residual, Some(nw));
        cur = self.clamped_mm(up, cur);
        cur = self.g.unary(cur);
        cur = self.clamped_mm(down, cur);
        if let Some(pw) = self.blk(p, il, &format!("ffn_post_norm{sfx}.weight")) {
            cur = self.rms_w(cur, Some(pw));
        }
        let sc = self.g.unary(cur);
        self.g.binary(residual, sc)
    }

    /// One Gemma 4 audio conformer block (gemma4a.cpp) over `inp` [E, n].
    fn gemma4a_block(&mut self, inp: Id, il: u64, pos_emb: Id, mask: Id) -> Id {
        let p = "a";
        let (n_embd, n_head) = (self.e.n_embd, self.e.n_head.max(1));
        let d = n_embd / n_head;
        let n = self.g.ne(inp)[1];
        let (c, past) = (G4A_CHUNK, G4A_PAST);
        let s = c + past;
        let r = past + 1;
        let nblk = n.div_ceil(c);
        let mut residual = self.gemma4a_ffn(inp, il, "");
        let (q, k, v, o) =
            (self.blk(p, il, "attn_q.weight"), self.blk(p, il, "attn_k.weight"), self.blk(p, il, "attn_v.weight"), self.blk(p, il, "attn_out.weight"));
        if let (Some(qw), Some(kw), Some(vw), Some(ow)) = (q, k, v, o) {
            let nw = self.blk(p, il, "attn_pre_norm.weight").or_else(|| self.blk(p, il, "ln1.weight"));
            let cur = if nw.is_some() { self.rms_w(residual, nw) } else { residual };
            let qc = self.clamped_mm(qw, cur);
            let kc = self.clamped_mm(kw, cur);
            let vc = self.clamped_mm(vw, cur);
            let mut qc = self.g.reshape(qc, [d, n_head, n, 1]);
            let mut kc = self.g.reshape(kc, [d, n_head, n, 1]);
            let vc = self.g.reshape(vc, [d, n_head, n, 1]);
            qc = self.g.unary(qc);
            if let Some(ps) = self.blk(p, il, "per_dim_scale.weight") {
                let ps = self.g.reshape(ps, [d, 1, 1, 1]);
                qc = self.g.binary(qc, ps);
            }
            kc = self.g.unary(kc);
            if let Some(ps) = self.blk(p, il, "per_dim_k_scale.weight") {
                let ps = self.g.reshape(ps, [d, 1, 1, 1]);
                kc = self.g.binary(kc, ps);
            }
            qc = self.op(Ty::F32, [d, n_head, nblk * c, 1], &[qc]);
            qc = self.g.reshape(qc, [d, n_head, c, nblk]);
            let pq = self.g.permute(qc, [0, 3, 1, 2]);
            let pn = self.g.ne(pq);
            qc = self.g.cont(pq, pn);
            let blocks_of = |b: &mut Self, t: Id| {
                let t = b.op(Ty::F32, [d, n_head, s * nblk, 1], &[t]);
                let nb = b.g.t[t as usize].nb;
                let v = b.g.view(t, [d, n_head, s, nblk], [nb[0], nb[1], nb[2], c * nb[2]], &[t]);
                b.g.cont(v, [d, n_head, s, nblk])
            };
            let kb = blocks_of(self, kc);
            let kp = self.g.permute(kb, [0, 3, 1, 2]);
            let kn = self.g.ne(kp);
            let kb = self.g.cont(kp, kn);
            let vb = blocks_of(self, vc);
            let vp = self.g.permute(vb, [1, 3, 0, 2]);
            let vn = self.g.ne(vp);
            let vb = self.g.cont(vp, vn);
            let mut ac = self.g.mul_mat(kb, qc);
            if let Some(kr) = self.blk(p, il, "attn_k_rel.weight") {
                let pp = self.g.mul_mat(kr, pos_emb);
                let pp = self.g.reshape(pp, [d, n_head, r, 1]);
                let pp = self.g.permute_0213(pp);
                let ppn = self.g.ne(pp);
                let pp = self.g.cont(pp, ppn);
                let qf = self.g.reshape(qc, [d, c * nblk, n_head, 1]);
                let mut bd = self.g.mul_mat(pp, qf);
                bd = self.g.reshape(bd, [r, c, nblk, n_head]);
                bd = self.op(Ty::F32, [s + 1, c, nblk, n_head], &[bd]);
                bd = self.g.reshape(bd, [(s + 1) * c, nblk, n_head, 1]);
                let nb = self.g.t[bd as usize].nb;
                bd = self.g.view(bd, [c * s, nblk, n_head, 1], [nb[0], nb[1], nb[2], nb[3]], &[bd]);
                bd = self.g.cont(bd, [c * s, nblk, n_head, 1]);
                bd = self.g.reshape(bd, [s, c, nblk, n_head]);
                ac = self.g.binary(ac, bd);
            }
            let mut sc = self.g.unary(ac);
            sc = self.g.unary(sc);
            sc = self.g.unary(sc);
            sc = self.g.binary(sc, mask);
            let attn = self.g.soft_max_ext(sc, NONE);
            let x = self.g.mul_mat(vb, attn);
            let xp = self.g.permute(x, [0, 2, 3, 1]);
            let xn = self.g.ne(xp);
            let mut x = self.g.cont(xp, xn);
            x = self.g.cont(x, [d * n_head, c * nblk, 1, 1]);
            if nblk * c > n {
                let row = self.g.t[x as usize].nb[1];
                let v = self.g.view(x, [d * n_head, n, 1, 1], [4, row, row * n, row * n], &[x]);
                x = self.g.cont(v, [d * n_head, n, 1, 1]);
            }
            x = self.clamped_mm(ow, x);
            let ob = self.blk(p, il, "attn_out.bias");
            x = self.add_opt(x, ob);
            if let Some(pw) = self.blk(p, il, "attn_post_norm.weight") {
                x = self.rms_w(x, Some(pw));
            }
            residual = self.g.binary(residual, x);
        }
        // conv module: the file's conv_norm is the pre-conv norm, norm_conv the post-conv one
        let (nc, pw1, dw, pw2) =
            (self.blk(p, il, "conv_norm.weight"), self.blk(p, il, "conv_pw1.weight"), self.blk(p, il, "conv_dw.weight"), self.blk(p, il, "conv_pw2.weight"));
        if let (Some(nc), Some(pw1), Some(dw), Some(pw2)) = (nc, pw1, dw, pw2) {
            let cur = self.rms_w(residual, Some(nc));
            let mut x = self.clamped_mm(pw1, cur);
            let half = self.g.ne(x)[0] / 2;
            let row = self.g.t[x as usize].nb[1];
            let gv = self.g.view(x, [half, n, 1, 1], [4, row, row * n, row * n], &[x]);
            let gc = self.g.cont(gv, [half, n, 1, 1]);
            let gate = self.g.unary(gc);
            let xv = self.g.view(x, [half, n, 1, 1], [4, row, row * n, row * n], &[x]);
            x = self.g.binary(xv, gate);
            let t = self.g.transpose(x);
            x = self.g.cont(t, [n, half, 1, 1]);
            x = self.op(Ty::F32, [n + 4, half, 1, 1], &[x]);
            x = self.g.ssm_conv(x, dw);
            let db = self.blk(p, il, "conv_dw.bias");
            x = self.add_opt(x, db);
            if let Some(cn) = self.blk(p, il, "norm_conv.weight") {
                x = self.rms_w(x, Some(cn));
            }
            x = self.g.unary(x);
            x = self.clamped_mm(pw2, x);
            residual = self.g.binary(residual, x);
        }
        residual = self.gemma4a_ffn(residual, il, "_1");
        match self.blk(p, il, "ln2.weight") {
            Some(w) => self.rms_w(residual, Some(w)),
            None => residual,
        }
    }

    /// mobilenetv5.cpp `rms_norm_2d`: channels first, RMS norm, weight, back.
    fn rms_norm_2d(&mut self, x: Id, w: Option<Id>) -> Id {
        let p = self.g.permute(x, [2, 1, 0, 3]);
        let pn = self.g.ne(p);
        let mut cur = self.g.cont(p, pn);
        cur = self.rms_w(cur, w);
        let p = self.g.permute(cur, [2, 1, 0, 3]);
        let pn = self.g.ne(p);
        self.g.cont(p, pn)
    }

    /// mobilenetv5.cpp `pad_same_2d` for a square kernel `k` and stride `s` (a new padded
    /// tensor only when padding is needed).
    fn pad_same(&mut self, x: Id, k: u64, s: u64) -> Id {
        let xn = self.g.ne(x);
        let pad = |i: u64| {
            let o = i.div_ceil(s.max(1));
            (o.saturating_sub(1) * s + k).saturating_sub(i)
        };
        let (pw, ph) = (pad(xn[0]), pad(xn[1]));
        if pw == 0 && ph == 0 {
            return x;
        }
        let ty = self.g.t[x as usize].ty;
        self.op(ty, [xn[0] + pw, xn[1] + ph, xn[2], xn[3]], &[x])
    }

    /// mobilenetv5.cpp `build_edge_residual`.
    fn mnv5_edge(&mut self, inp: Id, pre: &str, stride: u64) -> Id {
        let w = self.w(&format!("{pre}.conv_exp.weight"));
        let w = self.need(w);
        let mut cur = if stride == 2 {
            let padded = self.pad_same(inp, 3, 2);
            self.conv_2d_direct(w, padded, 2, 0)
        } else {
            self.conv_2d_direct(w, inp, stride, 1)
        };
        if let Some(n) = self.w(&format!("{pre}.bn1.weight")) {
            cur = self.rms_norm_2d(cur, Some(n));
        }
        cur = self.g.unary(cur);
        let pw = self.w(&format!("{pre}.conv_pwl.weight"));
        let pw = self.need(pw);
        cur = self.conv_2d_direct(pw, cur, 1, 0);
        if let Some(n) = self.w(&format!("{pre}.bn2.weight")) {
            cur = self.rms_norm_2d(cur, Some(n));
        }
        let (a, c) = (self.g.ne(inp), self.g.ne(cur));
        if stride == 1 && a[2] == c[2] && a[0] == c[0] {
            cur = self.g.binary(cur, inp);
        }
        cur
    }

    /// mobilenetv5.cpp `build_inverted_residual` (universal inverted residual).
    fn mnv5_uir(&mut self, inp: Id, pre: &str, stride: u64) -> Id {
        let mut cur = inp;
        if let Some(w) = self.w(&format!("{pre}.dw_start.conv.weight")) {
            let k = self.g.ne(w)[0];
            cur = self.conv_2d_dw(w, cur, 1, k / 2);
            if let Some(n) = self.w(&format!("{pre}.dw_start.bn.weight")) {
                cur = self.rms_norm_2d(cur, Some(n));
            }
        }
        if let Some(w) = self.w(&format!("{pre}.pw_exp.conv.weight")) {
            cur = self.conv_2d_direct(w, cur, 1, 0);
            if let Some(n) = self.w(&format!("{pre}.pw_exp.bn.weight")) {
                cur = self.rms_norm_2d(cur, Some(n));
            }
            cur = self.g.unary(cur);
        }
        if let Some(w) = self.w(&format!("{pre}.dw_mid.conv.weight")) {
            let k = self.g.ne(w)[0];
            if stride > 1 {
                cur = self.pad_same(cur, k, stride);
                cur = self.conv_2d_dw(w, cur, stride, 0);
            } else {
                cur = self.conv_2d_dw(w, cur, stride, k / 2);
            }
            if let Some(n) = self.w(&format!("{pre}.dw_mid.bn.weight")) {
                cur = self.rms_norm_2d(cur, Some(n));
            }
            cur = self.g.unary(cur);
        }
        if let Some(w) = self.w(&format!("{pre}.pw_proj.conv.weight")) {
            cur = self.conv_2d_direct(w, cur, 1, 0);
            if let Some(n) = self.w(&format!("{pre}.pw_proj.bn.weight")) {
                cur = self.rms_norm_2d(cur, Some(n));
            }
        }
        let ls = self.w(&format!("{pre}.layer_scale.gamma"));
        cur = self.add_opt(cur, ls);
        let (a, c) = (self.g.ne(inp), self.g.ne(cur));
        if a[0] == c[0] && a[1] == c[1] && a[2] == c[2] {
            cur = self.g.binary(cur, inp);
        }
        cur
    }

    /// mobilenetv5.cpp `build_mobilenet_attn`: multi-query attention with strided K / V.
    fn mnv5_attn(&mut self, inp: Id, pre: &str) -> Id {
        let mut cur = inp;
        if let Some(n) = self.w(&format!("{pre}.norm.weight")) {
            cur = self.rms_norm_2d(cur, Some(n));
        }
        let qw = self.w(&format!("{pre}.attn.query.proj.weight"));
        let qw = self.need(qw);
        let q = self.conv_2d_direct(qw, cur, 1, 0);
        let side_in = |b: &mut Self, kv: &str| {
            let mut x = cur;
            if let Some(dw) = b.w(&format!("{pre}.attn.{kv}.down_conv.weight")) {
                let k = b.g.ne(dw)[0];
                x = b.pad_same(cur, k, 2);
                x = b.conv_2d_dw(dw, x, 2, 0);
                if let Some(n) = b.w(&format!("{pre}.attn.{kv}.norm.weight")) {
                    x = b.rms_norm_2d(x, Some(n));
                }
            }
            let w = b.w(&format!("{pre}.attn.{kv}.proj.weight"));
            let w = b.need(w);
            b.conv_2d_direct(w, x, 1, 0)
        };
        let k = side_in(self, "key");
        let v = side_in(self, "value");
        let cn = self.g.ne(cur);
        let (w_, h_, bsz) = (cn[0], cn[1], cn[3]);
        let (kn, qn) = (self.g.ne(k), self.g.ne(q));
        let d = kn[2].max(1);
        let nh = qn[2] / d;
        let n = w_ * h_;
        let m = kn[0] * kn[1];
        let q = self.g.reshape(q, [n, d, nh, bsz]);
        let q = self.g.permute(q, [1, 0, 2, 3]);
        let q = self.g.cont(q, [d, n, nh, bsz]);
        let k = self.g.reshape(k, [m, d, 1, bsz]);
        let k = self.g.permute(k, [1, 0, 2, 3]);
        let k = self.g.cont(k, [d, m, 1, bsz]);
        let v = self.g.reshape(v, [m, d, 1, bsz]);
        let v = self.g.cont(v, [m, d, 1, bsz]);
        let mut sc = self.g.mul_mat(k, q);
        sc = self.g.unary(sc);
        sc = self.g.soft_max_ext(sc, NONE);
        let kqv = self.g.mul_mat(v, sc);
        let kqv = self.g.permute(kqv, [1, 0, 2, 3]);
        let kqv = self.g.cont(kqv, [n, d, nh, bsz]);
        let kqv = self.g.reshape(kqv, [w_, h_, d * nh, bsz]);
        let kqv = self.g.cont(kqv, [w_, h_, d * nh, bsz]);
        let ow = self.w(&format!("{pre}.attn.output.proj.weight"));
        let ow = self.need(ow);
        let mut out = self.conv_2d_direct(ow, kqv, 1, 0);
        let (a, c) = (self.g.ne(inp), self.g.ne(out));
        if a[0] == c[0] && a[2] == c[2] {
            let ls = self.w(&format!("{pre}.layer_scale.gamma"));
            out = self.add_opt(out, ls);
            out = self.g.binary(out, inp);
        }
        out
    }

    /// `build_norm` as parakeet.cpp writes it: norm, then weight and bias.
    fn ln(&mut self, x: Id, il: u64, name: &str) -> Id {
        let (w, bb) = (self.blk("a", il, &format!("{name}.weight")), self.blk("a", il, &format!("{name}.bias")));
        self.norm(x, w, bb, false)
    }

    /// One block of models/parakeet.cpp (full attention: at most 8192 positions).
    fn parakeet_block(&mut self, inp: Id, il: u64, pos_emb: Id, mask: Id) -> Id {
        let p = "a";
        let (n_embd, n_head) = (self.e.n_embd, self.e.n_head.max(1));
        let d = n_embd / n_head;
        let n = self.g.ne(inp)[1];
        let window = self.g.ne(pos_emb)[1];
        // FFN 1 (half step)
        let mut cur = self.ln(inp, il, "ffn_norm");
        let f = Ffn { up: self.blk(p, il, "ffn_up.weight"), up_b: None, gate: None, gate_b: None, down: self.blk(p, il, "ffn_down.weight"), down_b: None };
        cur = self.ffn(cur, f);
        let sc = self.g.unary(cur);
        cur = self.g.binary(inp, sc);
        // relative-position self-attention
        let residual = cur;
        let x = self.ln(cur, il, "ln1");
        let mut qkv = [NONE; 3];
        for (slot, name) in qkv.iter_mut().zip(["attn_q", "attn_k", "attn_v"]) {
            let w = self.blk(p, il, &format!("{name}.weight"));
            let w = self.need(w);
            let m = self.mm(w, x);
            *slot = self.g.reshape(m, [d, n_head, n, 1]);
        }
        let [q, k, v] = qkv;
        let lp = self.blk(p, il, "linear_pos.weight");
        let lp = self.need(lp);
        let pos = self.mm(lp, pos_emb);
        let pos = self.g.reshape(pos, [d, n_head, window, 1]);
        let pos = self.g.permute_0213(pos);
        let pos = self.g.cont(pos, [d, window, n_head, 1]);
        let (u, bv) = (self.blk(p, il, "pos_bias_u"), self.blk(p, il, "pos_bias_v"));
        let (u, bv) = (self.need(u), self.need(bv));
        let qu = self.g.binary(q, u);
        let kp = self.g.permute_0213(k);
        let qp = self.g.permute_0213(qu);
        let content = self.g.mul_mat(kp, qp);
        let qv = self.g.binary(q, bv);
        let qv = self.g.permute_0213(qv);
        let qv = self.g.cont(qv, [d, n, n_head, 1]);
        let mut rel = self.g.mul_mat(pos, qv);
        let rn = self.g.ne(rel);
        rel = self.op(Ty::F32, [rn[0] + 1, rn[1], rn[2], 1], &[rel]);
        rel = self.g.reshape(rel, [rn[1], rn[0] + 1, rn[2], 1]);
        rel = self.g.cont(rel, [rn[1], rn[0] + 1, rn[2], 1]);
        let nb = self.g.t[rel as usize].nb;
        rel = self.g.view(rel, [rn[1], rn[0], rn[2], 1], [4, rn[0] * 4, nb[2], nb[3]], &[rel]);
        rel = self.g.cont(rel, [rn[1], rn[0], rn[2], 1]);
        let nb = self.g.t[rel as usize].nb;
        let cn = self.g.ne(content);
        rel = self.g.view(rel, [cn[0], cn[1], rn[2], 1], [nb[0], nb[1], nb[2], nb[3]], &[rel]);
        rel = self.g.cont(rel, [cn[0], cn[1], rn[2], 1]);
        let mut scores = self.g.binary(content, rel);
        scores = self.g.unary(scores);
        scores = self.g.binary(scores, mask);
        let probs = self.g.soft_max_ext(scores, NONE);
        let vp = self.g.permute(v, [1, 2, 0, 3]);
        let vp = self.g.cont(vp, [n, d, n_head, 1]);
        let mut o = self.g.mul_mat(probs, vp);
        o = self.g.permute(o, [2, 0, 1, 3]);
        o = self.g.cont(o, [n_embd, n, 1, 1]);
        let ow = self.blk(p, il, "attn_out.weight");
        let ow = self.need(ow);
        o = self.mm(ow, o);
        cur = self.g.binary(residual, o);
        // convolution module
        let residual = cur;
        let mut x = self.ln(cur, il, "norm_conv");
        let pw1 = self.blk(p, il, "conv_pw1.weight");
        let pw1 = self.need(pw1);
        x = self.mm(pw1, x);
        let half = self.g.ne(x)[0] / 2;
        let row = self.g.t[x as usize].nb[1];
        let signal = self.g.view(x, [half, n, 1, 1], [4, row, row * n, row * n], &[x]);
        let gv = self.g.view(x, [half, n, 1, 1], [4, row, row * n, row * n], &[x]);
        let gate = self.g.unary(gv);
        x = self.g.binary(signal, gate);
        let t = self.g.transpose(x);
        x = self.g.cont(t, [n, half, 1, 1]);
        let dw = self.blk(p, il, "conv_dw.weight");
        let dw = self.need(dw);
        let k = self.g.ne(dw)[0];
        x = self.op(Ty::F32, [n + (k.saturating_sub(1) / 2) * 2, half, 1, 1], &[x]);
        x = self.g.ssm_conv(x, dw);
        let mean = self.blk(p, il, "conv_norm_mean");
        x = self.add_opt(x, mean);
        if let Some(var) = self.blk(p, il, "conv_norm_var") {
            let sd = self.g.unary(var);
            x = self.g.binary(x, sd);
        }
        let (cw, cb) = (self.blk(p, il, "conv_norm.weight"), self.blk(p, il, "conv_norm.bias"));
        x = self.add_opt(x, cw);
        x = self.add_opt(x, cb);
        x = self.g.unary(x);
        let pw2 = self.blk(p, il, "conv_pw2.weight");
        let pw2 = self.need(pw2);
        x = self.mm(pw2, x);
        cur = self.g.binary(residual, x);
        // FFN 2 (half step), output norm
        let residual = cur;
        let mut y = self.ln(cur, il, "ffn_norm_1");
        let f = Ffn { up: self.blk(p, il, "ffn_up_1.weight"), up_b: None, gate: None, gate_b: None, down: self.blk(p, il, "ffn_down_1.weight"), down_b: None };
        y = self.ffn(y, f);
        let sc = self.g.unary(y);
        cur = self.g.binary(residual, sc);
        self.ln(cur, il, "ln2")
    }

    /// One block of models/granite-speech.cpp over `inp` [E, n]: half-step FFN, attention in
    /// blocks of `ctx` frames with Shaw relative positions (get_rows of attn_rel_pos_emb by the
    /// distance table), GLU + depthwise ssm_conv + norm, half-step FFN, output norm.
    #[allow(clippy::too_many_arguments)]
    fn granite_block(&mut self, inp: Id, il: u64, ctx: u64, nblk: u64, padded: u64, dists: Id, mask: Id) -> Id {
        let p = "a";
        let (n_embd, n_head) = (self.e.n_embd, self.e.n_head.max(1));
        let d = n_embd / n_head;
        let n = self.g.ne(inp)[1];
        let x = self.ln(inp, il, "ffn_norm");
        let f = Ffn {
            up: self.blk(p, il, "ffn_up.weight"),
            up_b: self.blk(p, il, "ffn_up.bias"),
            gate: None,
            gate_b: None,
            down: self.blk(p, il, "ffn_down.weight"),
            down_b: self.blk(p, il, "ffn_down.bias"),
        };
        let x = self.ffn(x, f);
        let sc = self.g.unary(x);
        let mut residual = self.g.binary(inp, sc);
        let mut normed = self.ln(residual, il, "ln1");
        if n < padded {
            normed = self.op(Ty::F32, [n_embd, padded, 1, 1], &[normed]);
        }
        let mut qkv = [NONE; 3];
        for (slot, name) in qkv.iter_mut().zip(["attn_q", "attn_k", "attn_v"]) {
            let w = self.blk(p, il, &format!("{name}.weight"));
            let w = self.need(w);
            let m = self.mm(w, normed);
            *slot = self.g.reshape(m, [d, n_head, ctx, nblk]);
        }
        let [q, k, v] = qkv;
        let qp = self.g.permute_0213(q);
        let kp = self.g.permute_0213(k);
        let kp = self.g.cont(kp, [d, ctx, n_head, nblk]);
        let kq = self.g.mul_mat(kp, qp);
        let rel = self.blk(p, il, "attn_rel_pos_emb");
        let rel = self.need(rel);
        let pe = self.g.get_rows(rel, dists);
        let pe = self.g.reshape(pe, [d, ctx, 1, ctx]);
        let qs = self.g.permute(q, [0, 1, 3, 2]);
        let pa = self.g.mul_mat(pe, qs);
        let pa = self.g.permute(pa, [0, 2, 3, 1]);
        let pn = self.g.ne(pa);
        let pa = self.g.cont(pa, pn);
        let scores = self.g.binary(kq, pa);
        let w = self.g.soft_max_ext(scores, mask);
        let vp = self.g.permute(v, [1, 2, 0, 3]);
        let vp = self.g.cont(vp, [ctx, d, n_head, nblk]);
        let mut o = self.g.mul_mat(vp, w);
        o = self.g.permute_0213(o);
        o = self.g.cont(o, [n_embd, padded, 1, 1]);
        if n < padded {
            let row = self.g.t[o as usize].nb[1];
            o = self.g.view(o, [n_embd, n, 1, 1], [4, row, row * n, row * n], &[o]);
        }
        let (ow, ob) = (self.blk(p, il, "attn_out.weight"), self.blk(p, il, "attn_out.bias"));
        let ow = self.need(ow);
        o = self.mm(ow, o);
        o = self.add_opt(o, ob);
        residual = self.g.binary(residual, o);
        // conv module
        let c = self.ln(residual, il, "norm_conv");
        let (pw1, pw1b) = (self.blk(p, il, "conv_pw1.weight"), self.blk(p, il, "conv_pw1.bias"));
        let pw1 = self.need(pw1);
        let mut x = self.mm(pw1, c);
        x = self.add_opt(x, pw1b);
        let half = self.g.ne(x)[0] / 2;
        let row = self.g.t[x as usize].nb[1];
        let gv = self.g.view(x, [half, n, 1, 1], [4, row, row * n, row * n], &[x]);
        let gate = self.g.unary(gv);
        let xv = self.g.view(x, [half, n, 1, 1], [4, row, row * n, row * n], &[x]);
        x = self.g.binary(xv, gate);
        let t = self.g.transpose(x);
        x = self.g.cont(t, [n, half, 1, 1]);
        let dw = self.blk(p, il, "conv_dw.weight");
        let dw = self.need(dw);
        let kk = self.g.ne(dw)[0];
        x = self.op(Ty::F32, [n + (kk / 2) * 2, half, 1, 1], &[x]);
        x = self.g.ssm_conv(x, dw);
        let (cw, cb) = (self.blk(p, il, "conv_norm.weight"), self.blk(p, il, "conv_norm.bias"));
        x = self.add_opt(x, cw);
        x = self.add_opt(x, cb);
        x = self.g.unary(x);
        let (pw2, pw2b) = (self.blk(p, il, "conv_pw2.weight"), self.blk(p, il, "conv_pw2.bias"));
        let pw2 = self.need(pw2);
        x = self.mm(pw2, x);
        x = self.add_opt(x, pw2b);
        residual = self.g.binary(residual, x);
        let y = self.ln(residual, il, "ffn_norm_1");
        let f = Ffn {
            up: self.blk(p, il, "ffn_up_1.weight"),
            up_b: self.blk(p, il, "ffn_up_1.bias"),
            gate: None,
            gate_b: None,
            down: self.blk(p, il, "ffn_down_1.weight"),
            down_b: self.blk(p, il, "ffn_down_1.bias"),
        };
        let y = self.ffn(y, f);
        let sc = self.g.unary(y);
        residual = self.g.binary(residual, sc);
        self.ln(residual, il, "ln2")
    }

    /// yasa2.cpp `add_channel_bias` / `mul_channel_weight`: a [C] vector as [1, 1, C] over a
    /// [W, H, C] map (add and mul size alike).
    fn chan_bias(&mut self, x: Id, name: &str) -> Id {
        match self.w(name) {
            Some(v) => {
                let c = self.g.ne(v)[0];
                let r = self.g.reshape(v, [1, 1, c, 1]);
                self.g.binary(x, r)
            }
            None => x,
        }
    }

    /// yasa2.cpp `layer_norm_channels`: channels first, mean, subtract, mean of squares,
    /// clamp, sqrt, divide, back, weight, bias.
    fn ln_channels(&mut self, x: Id, w: &str, bias: &str) -> Id {
        let p = self.g.permute(x, [2, 1, 0, 3]);
        let pn = self.g.ne(p);
        let cur = self.g.cont(p, pn);
        let mean = self.op(Ty::F32, [1, pn[1], pn[2], pn[3]], &[cur]);
        let xm = self.g.binary(cur, mean);
        let sq = self.g.binary(xm, xm);
        let mut s = self.op(Ty::F32, [1, pn[1], pn[2], pn[3]], &[sq]);
        s = self.g.unary(s);
        s = self.g.unary(s);
        let xhat = self.g.binary(xm, s);
        let p = self.g.permute(xhat, [2, 1, 0, 3]);
        let pn = self.g.ne(p);
        let mut out = self.g.cont(p, pn);
        out = self.chan_bias(out, w);
        self.chan_bias(out, bias)
    }

    /// One yasa2.cpp ConvNeXt block: 7x7 depthwise conv, channel norm, pw1, GELU-erf, GRN,
    /// pw2, residual.
    fn yasa_block(&mut self, inp: Id, pre: &str) -> Id {
        let dw = self.w(&format!("{pre}.dw.weight"));
        let dw = self.need(dw);
        let mut x = self.conv_2d_dw(dw, inp, 1, 3);
        x = self.chan_bias(x, &format!("{pre}.dw.bias"));
        x = self.ln_channels(x, &format!("{pre}.ln.weight"), &format!("{pre}.ln.bias"));
        let xn = self.g.ne(x);
        let (w_, h_, c) = (xn[0], xn[1], xn[2]);
        let pw_mm = |b: &mut Self, x: Id, wn: &str, bn: &str, c_in: u64| {
            let mut tok = b.g.reshape(x, [w_ * h_, c_in, 1, 1]);
            tok = b.g.transpose(tok);
            tok = b.g.cont(tok, [c_in, w_ * h_, 1, 1]);
            let w = b.w(&format!("{pre}.{wn}"));
            let w = b.need(w);
            tok = b.g.mul_mat(w, tok);
            if let Some(bias) = b.w(&format!("{pre}.{bn}")) {
                let bl = b.g.ne(bias)[0];
                let r = b.g.reshape(bias, [bl, 1, 1, 1]);
                tok = b.g.binary(tok, r);
            }
            let c_out = b.g.ne(tok)[0];
            let t = b.g.transpose(tok);
            let t = b.g.cont(t, [w_ * h_, c_out, 1, 1]);
            b.g.reshape(t, [w_, h_, c_out, 1])
        };
        x = pw_mm(self, x, "pw1.weight", "pw1.bias", c);
        x = self.g.unary(x);
        // GRN: global response normalisation over the spatial axes
        let xn = self.g.ne(x);
        let sq = self.g.binary(x, x);
        let sqf = self.g.reshape(sq, [w_ * h_, xn[2], 1, 1]);
        let mut gx = self.g.sum_rows(sqf);
        gx = self.g.unary(gx);
        let t = self.g.transpose(gx);
        let gcf = self.g.cont(t, [xn[2], 1, 1, 1]);
        let mut gm = self.op(Ty::F32, [1, 1, 1, 1], &[gcf]);
        gm = self.g.unary(gm);
        let nx = self.g.binary(gx, gm);
        let nx = self.g.permute_0213(nx);
        let nx = self.g.cont(nx, [1, 1, xn[2], 1]);
        let mut xnx = self.g.binary(x, nx);
        xnx = self.chan_bias(xnx, &format!("{pre}.grn.weight"));
        xnx = self.chan_bias(xnx, &format!("{pre}.grn.bias"));
        x = self.g.binary(x, xnx);
        x = pw_mm(self, x, "pw2.weight", "pw2.bias", xn[2]);
        self.g.binary(inp, x)
    }

    /// qwen3tts-spkenc.cpp `conv1d_same` over `x` [IC, T] with weight `{pre}.weight` [K, IC, OC]:
    /// transpose, reflect pad, an F32 1-D im2col against a data-less [K, IC] leaf, matmul, bias.
    fn tdnn(&mut self, x: Id, pre: &str, dil: u64) -> Id {
        let w = self.w(&format!("{pre}.weight"));
        let w = self.need(w);
        let wn = self.g.ne(w);
        let (k, ic, oc) = (wn[0], wn[1], wn[2]);
        let xn = self.g.ne(x);
        let pad = (k.saturating_sub(1) * dil) / 2;
        let t = self.g.transpose(x);
        let mut xt = self.g.cont(t, [xn[1], xn[0], 1, 1]);
        if pad > 0 {
            xt = self.op(Ty::F32, [xn[1] + 2 * pad, xn[0], 1, 1], &[xt]);
        }
        let len = self.g.ne(xt)[0];
        let x4 = self.g.reshape(xt, [len, ic, 1, 1]);
        // a leaf clip creates without data (ggml_new_tensor_4d), only for its shape: ggml-alloc
        // places it with the graph's leafs and frees it after the im2col
        let dummy = self.g.new_leaf(Ty::F32, [k, ic, 1, 1]);
        let t_out = (len + 1).saturating_sub(k.saturating_sub(1) * dil + 1);
        let col = self.op(Ty::F32, [k * ic, t_out, 1, 1], &[dummy, x4]);
        let col = self.g.reshape(col, [k * ic, t_out, 1, 1]);
        let w2 = self.g.reshape(w, [k * ic, oc, 1, 1]);
        let mut y = self.g.mul_mat(w2, col);
        if let Some(bias) = self.w(&format!("{pre}.bias")) {
            let b2 = self.g.reshape(bias, [oc, 1, 1, 1]);
            y = self.g.binary(y, b2);
        }
        y
    }

    /// `ggml_mean` over rows of the transposed [C, T] (a [C, 1] column back).
    fn mean_t(&mut self, x: Id) -> Id {
        let xn = self.g.ne(x);
        let t = self.g.transpose(x);
        let xt = self.g.cont(t, [xn[1], xn[0], 1, 1]);
        let m = self.op(Ty::F32, [1, xn[0], 1, 1], &[xt]);
        let t = self.g.transpose(m);
        self.g.cont(t, [xn[0], 1, 1, 1])
    }

    /// One qwen3tts-spkenc.cpp SE-Res2Net block (GGUF bid `bid`).
    fn se_res2net(&mut self, x: Id, bid: u64, dil: u64) -> Id {
        let pre = format!("a.blk.{bid}");
        let mut h = self.tdnn(x, &format!("{pre}.conv_pw1"), 1);
        h = self.g.unary(h);
        // res2net: 8 channel chunks, chunk i > 0 through its conv (plus the previous output)
        let hn = self.g.ne(h);
        let (c, t) = (hn[0], hn[1]);
        let cs = c / SPK_RES2NET_SCALE;
        let row = self.g.t[h as usize].nb[1];
        let mut acc = NONE;
        let mut prev = NONE;
        for i in 0..SPK_RES2NET_SCALE {
            let v = self.g.view(h, [cs, t, 1, 1], [4, row, row * t, row * t], &[h]);
            let ch = self.g.cont(v, [cs, t, 1, 1]);
            let out = if i == 0 {
                ch
            } else {
                let inp = if i >= 2 { self.g.binary(ch, prev) } else { ch };
                let y = self.tdnn(inp, &format!("{pre}.res2.{}", i - 1), dil);
                let y = self.g.unary(y);
                prev = y;
                y
            };
            acc = if acc == NONE { out } else { self.g.concat(acc, out, 0) };
        }
        h = self.tdnn(acc, &format!("{pre}.conv_pw2"), 1);
        h = self.g.unary(h);
        // squeeze-excite
        let mean = self.mean_t(h);
        let mut s = self.tdnn(mean, &format!("a.blk.{bid}.se_conv1"), 1);
        s = self.g.unary(s);
        s = self.tdnn(s, &format!("a.blk.{bid}.se_conv2"), 1);
        s = self.g.unary(s);
        let h = self.g.binary(h, s);
        self.g.binary(h, x)
    }

    /// qwen3tts-spkenc.cpp `attentive_stats_pool` over `x` [C, T]: [2C, 1].
    fn asp(&mut self, x: Id) -> Id {
        let xn = self.g.ne(x);
        let mean = self.mean_t(x);
        let mean_rep = self.g.repeat(mean, xn);
        let centered = self.g.binary(x, mean_rep);
        let sq = self.g.unary(centered);
        let var = self.mean_t(sq);
        let var = self.g.unary(var);
        let sd = self.g.unary(var);
        let sd_rep = self.g.repeat(sd, xn);
        let mut cat = self.g.concat(x, mean_rep, 0);
        cat = self.g.concat(cat, sd_rep, 0);
        let mut a = self.tdnn(cat, "a.asp_tdnn", 1);
        a = self.g.unary(a);
        a = self.g.unary(a);
        a = self.tdnn(a, "a.asp_attn", 1);
        let an = self.g.ne(a);
        let t = self.g.transpose(a);
        let at = self.g.cont(t, [an[1], an[0], 1, 1]);
        let wt = self.g.soft_max_ext(at, NONE);
        let t = self.g.transpose(wt);
        let w = self.g.cont(t, [an[0], an[1], 1, 1]);
        let wx = self.g.binary(w, x);
        let mut wm = self.mean_t_scaled(wx);
        let wm_rep = self.g.repeat(wm, xn);
        let dev = self.g.binary(x, wm_rep);
        let dsq = self.g.unary(dev);
        let wv_in = self.g.binary(w, dsq);
        let mut wv = self.mean_t_scaled(wv_in);
        wv = self.g.unary(wv);
        let wsd = self.g.unary(wv);
        wm = self.g.concat(wm, wsd, 0);
        wm
    }

    /// `mean_t` with the `ggml_scale` clip puts between the mean and the transpose back.
    fn mean_t_scaled(&mut self, x: Id) -> Id {
        let xn = self.g.ne(x);
        let t = self.g.transpose(x);
        let xt = self.g.cont(t, [xn[1], xn[0], 1, 1]);
        let m = self.op(Ty::F32, [1, xn[0], 1, 1], &[xt]);
        let m = self.g.unary(m);
        let t = self.g.transpose(m);
        self.g.cont(t, [xn[0], 1, 1, 1])
    }

    fn finish(mut self, out: Id) -> Option<u64> {
        if self.missing {
            return None;
        }
        self.g.set_output(out);
        self.g.expand(out);
        Some(Gallocr::default().reserve(&self.g))
    }
}

/// Width of the conformer's sinusoidal position table (conformer.cpp `pos_emb` [512, n]).
const CONFORMER_POS_WIDTH: u64 = 512;

/// Gemma 4 audio's attention chunk and past horizon (gemma4a.cpp `C = 12`, `P = 12`).
const G4A_CHUNK: u64 = 12;
const G4A_PAST: u64 = 12;

/// Blocks per MobileNet-V5 stage the walk looks for at most (the loader's loop is unbounded;
/// Gemma 3n's longest stage has 37).
const MNV5_MAX_BLOCKS: u64 = 256;
/// MobileNet-V5's fused output side (mobilenetv5.cpp `target_out_res = 16`).
const MNV5_OUT_SIDE: u64 = 16;

/// Positions above which parakeet.cpp switches to local attention (not rebuilt here).
const PARAKEET_LOCAL_ATTN_THRESHOLD: u64 = 8192;

/// Stages and blocks per stage yasa2's walk looks for at most (the loader's loops are unbounded).
const YASA_MAX_STAGES: u64 = 64;
/// yasa2.cpp's pooled output side (adaptive average pool to 8x8 tokens).
const YASA_POOL: u64 = 8;

/// qwen3tts-spkenc.cpp's Res2Net scale and per-block dilations (`SPK_RES2NET_SCALE`,
/// `SPK_DILATIONS`).
const SPK_RES2NET_SCALE: u64 = 8;
const SPK_DILATIONS: [u64; 3] = [2, 3, 4];

/// MobileVLM's fixed patch grid side (llava.cpp `int n_patch = 24`).
const LDP_PATCHES: u64 = 24;

/// `(size_t) sqrt(n)` for a patch count.
fn isqrt_u64(n: u64) -> u64 {
    let mut r = (n as f64).sqrt() as u64;
    while r > 0 && r.saturating_mul(r) > n {
        r -= 1;
    }
    while (r + 1).saturating_mul(r + 1) <= n {
        r += 1;
    }
    r
}

fn srcs(s: &[Id]) -> [Id; crate::estimate::compute::graph::MAX_SRC] {
    let mut a = [NONE; crate::estimate::compute::graph::MAX_SRC];
    for (d, &x) in a.iter_mut().zip(s) {
        *d = x;
    }
    a
}

/// The compute buffer clip reserves for an image of `side` pixels (vision) or `frames` mel
/// frames (audio) on encoder `e`, whose graph is `t`; `merge` is clip's resolved `n_merge`.
/// `None` when a tensor the graph needs is missing.
pub fn reserve(e: &ClipEncoder, t: Tail, flash_attn: bool, side: u64, frames: u64, merge: u64) -> Option<u64> {
    let mut b = Builder::new(e, flash_attn);
    match t {
        Tail::Gemma3 | Tail::Idefics3 | Tail::Lfm2 | Tail::Mlp2(..) => {
            let np = side / e.patch_size.max(1);
            let inp = b.inp(side);
            let pos = b.w("v.position_embd.weight");
            let mut cur = b.vit("v", inp, np * np, pos, false);
            match t {
                Tail::Gemma3 => {
                    let k = merge.max(1);
                    let tr = b.g.transpose(cur);
                    cur = b.g.cont(tr, [np, np, e.n_embd, 1]);
                    let o = np / k;
                    cur = b.op(Ty::F32, [o, o, e.n_embd, 1], &[cur]);
                    cur = b.g.reshape(cur, [o * o, e.n_embd, 1, 1]);
                    let tr = b.g.transpose(cur);
                    cur = b.g.cont(tr, [e.n_embd, o * o, 1, 1]);
                    cur = b.g.unary(cur);
                    if let Some(w) = b.w("mm.soft_emb_norm.weight") {
                        cur = b.g.binary(cur, w);
                    }
                    if let Some(w) = b.w("mm.input_projection.weight") {
                        let wt = b.g.transpose(w);
                        let wn = b.g.ne(wt);
                        let wc = b.g.cont(wt, wn);
                        cur = b.g.mul_mat(wc, cur);
                    }
                }
                Tail::Idefics3 => {
                    cur = b.patch_merge(cur, np, np, merge.max(1));
                    if let Some(w) = b.w("mm.model.fc.weight") {
                        cur = b.g.mul_mat(w, cur);
                    }
                }
                Tail::Lfm2 => {
                    cur = b.patch_merge(cur, np, np, merge.max(1));
                    if let Some(w) = b.w("mm.input_norm.weight") {
                        cur = b.g.norm(cur);
                        cur = b.g.binary(cur, w);
                    }
                    let nb = b.w("mm.input_norm.bias");
                    cur = b.add_opt(cur, nb);
                    let (u, ub, d, db) = (b.w("mm.1.weight"), b.w("mm.1.bias"), b.w("mm.2.weight"), b.w("mm.2.bias"));
                    cur = b.ffn(cur, Ffn { up: u, up_b: ub, gate: None, gate_b: None, down: d, down_b: db });
                }
                Tail::Mlp2(a, c) => {
                    let (u, ub) = (b.w(&format!("{a}.weight")), b.w(&format!("{a}.bias")));
                    let (d, db) = (b.w(&format!("{c}.weight")), b.w(&format!("{c}.bias")));
                    cur = b.ffn(cur, Ffn { up: u, up_b: ub, gate: None, gate_b: None, down: d, down_b: db });
                }
                _ => {}
            }
            b.finish(cur)
        }
        Tail::Pixtral => {
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let pos_h = b.g.input(Ty::I32, [n, 1, 1, 1]);
            let pos_w = b.g.input(Ty::I32, [n, 1, 1, 1]);
            let inp = b.inp(side);
            let mut cur = b.vit_pos("v", inp, n, None, true, &[pos_h, pos_w]);
            if let Some(merger) = b.w("mm.patch_merger.weight") {
                let m = merge.max(1);
                cur = b.g.unary(cur);
                if let Some(w) = b.w("mm.input_norm.weight") {
                    cur = b.g.binary(cur, w);
                }
                cur = b.g.reshape(cur, [e.n_embd, np, np, 1]);
                cur = b.g.permute(cur, [2, 0, 1, 3]);
                let cn = b.g.ne(cur);
                cur = b.g.cont(cur, cn);
                let row = b.g.t[cur as usize].nb[1];
                let plane = b.g.t[cur as usize].nb[2];
                let kernel = b.g.view(cur, [m, m, cn[2], 1], [4, row, plane, plane * cn[2]], &[cur]);
                let col_ne = [e.n_embd * m * m, np / m, np / m, 1];
                cur = b.op(Ty::F32, col_ne, &[kernel, cur]);
                cur = b.g.reshape(cur, [col_ne[0], col_ne[1] * col_ne[2], 1, 1]);
                cur = b.g.mul_mat(merger, cur);
            }
            let (u, ub, d, db) = (b.w("mm.1.weight"), b.w("mm.1.bias"), b.w("mm.2.weight"), b.w("mm.2.bias"));
            cur = b.ffn(cur, Ffn { up: u, up_b: ub, gate: None, gate_b: None, down: d, down_b: db });
            if let Some(brk) = b.w("v.token_embd.img_break") {
                let m = merge.max(1);
                let (px, py) = (np / m, np / m);
                let pe = b.g.ne(cur)[0];
                let tmp = b.g.reshape(cur, [pe, px, py, 1]);
                // a leaf clip creates without data (ggml_new_tensor_3d): ggml-alloc gives it a
                // block of its own that is neither freed nor reused in place
                let tok = b.g.push(Tensor {
                    ne: [pe, 1, py, 1],
                    nb: contiguous(Ty::F32, [pe, 1, py, 1]),
                    ty: Ty::F32,
                    op: Op::Leaf,
                    src: srcs(&[]),
                    view_src: NONE,
                    flags: OUTPUT,
                });
                let tok = b.g.unary(tok);
                let tok = b.g.binary(tok, brk);
                let cat = b.g.concat(tmp, tok, 1);
                let n_out = px * py + py.saturating_sub(1);
                cur = b.g.view_nd(cat, [pe, n_out, 1, 1], pe * 4, pe * 4 * n_out, pe * 4 * n_out);
            }
            b.finish(cur)
        }
        Tail::Qwen2Vl => {
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let raw = b.g.input(Ty::F32, [side, side, 3, 1]);
            let (p0, p1) = (b.w("v.patch_embd.weight"), b.w("v.patch_embd.weight.1"));
            let (p0, p1) = (b.need(p0), b.need(p1));
            let c0 = b.conv_2d_patch(p0, raw);
            let c1 = b.conv_2d_patch(p1, raw);
            let mut inp = b.g.binary(c0, c1);
            inp = b.g.permute(inp, [1, 2, 0, 3]);
            inp = b.g.cont(inp, [e.n_embd * 2, np / 2, np, 1]);
            inp = b.g.reshape(inp, [e.n_embd * 2, np / 2, 2, np / 2]);
            inp = b.g.permute_0213(inp);
            inp = b.g.cont(inp, [e.n_embd, n, 1, 1]);
            // exaone4_5.cpp is this graph with RMS norms, fused QKV and an unconditional post norm
            let exaone = e.projector_type == "exaone4_5";
            let rms = e.projector_type == "qwen2.5vl_merger" || exaone;
            let mut inp_l = inp;
            let positions = b.g.input(Ty::I32, [4 * n, 1, 1, 1]);
            if e.has("v.pre_ln.weight") {
                let (w, bb) = (b.w("v.pre_ln.weight"), b.w("v.pre_ln.bias"));
                inp_l = b.norm(inp_l, w, bb, rms);
            }
            let wa = e.n_wa_pattern.unwrap_or(0);
            let mut mask = NONE;
            if wa > 0 {
                let inv = b.g.input(Ty::I32, [n / 4, 1, 1, 1]);
                mask = b.g.input(Ty::F32, [n, n, 1, 1]);
                if flash_attn {
                    mask = b.g.cast(mask, Ty::F16);
                }
                inp_l = b.g.reshape(inp_l, [e.n_embd * 4, n / 4, 1, 1]);
                inp_l = b.g.get_rows(inp_l, inv);
                inp_l = b.g.reshape(inp_l, [e.n_embd, n, 1, 1]);
            }
            let (h, d) = (e.n_head.max(1), e.n_embd / e.n_head.max(1));
            for il in 0..e.n_layer {
                let full = wa == 0 || (il + 1) % wa == 0;
                let (w1, b1) = (b.blk("v", il, "ln1.weight"), b.blk("v", il, "ln1.bias"));
                let mut cur = b.norm(inp_l, w1, b1, rms);
                let (q, k, v) = if exaone {
                    let w = b.blk("v", il, "attn_qkv.weight");
                    let w = b.need(w);
                    cur = b.g.mul_mat(w, cur);
                    let bias = b.blk("v", il, "attn_qkv.bias");
                    cur = b.add_opt(cur, bias);
                    let hkv = e.n_head_kv.max(1);
                    let row = b.g.t[cur as usize].nb[1];
                    let q = b.g.view(cur, [d, h, n, 1], [4, d * 4, row, row * n], &[cur]);
                    let k = b.g.view(cur, [d, hkv, n, 1], [4, d * 4, row, row * n], &[cur]);
                    let v = b.g.view(cur, [d, hkv, n, 1], [4, d * 4, row, row * n], &[cur]);
                    (q, k, v)
                } else {
                    let mut qkv = [NONE; 3];
                    for (i, nm) in ["attn_q", "attn_k", "attn_v"].into_iter().enumerate() {
                        let w = b.blk("v", il, &format!("{nm}.weight"));
                        let w = b.need(w);
                        let m = b.g.mul_mat(w, cur);
                        let bias = b.blk("v", il, &format!("{nm}.bias"));
                        let bias = b.need(bias);
                        qkv[i] = b.g.binary(m, bias);
                    }
                    (b.g.reshape(qkv[0], [d, h, n, 1]), b.g.reshape(qkv[1], [d, h, n, 1]), b.g.reshape(qkv[2], [d, h, n, 1]))
                };
                let q = b.g.rope(q, positions);
                let k = b.g.rope(k, positions);
                let (wo, bo) = (b.blk("v", il, "attn_out.weight"), b.blk("v", il, "attn_out.bias"));
                cur = b.attn(q, k, v, wo, bo, if full { NONE } else { mask });
                cur = b.g.binary(cur, inp_l);
                inp_l = cur;
                let (w2, b2) = (b.blk("v", il, "ln2.weight"), b.blk("v", il, "ln2.bias"));
                cur = b.norm(cur, w2, b2, rms);
                let f = Ffn {
                    up: b.blk("v", il, "ffn_up.weight"),
                    up_b: b.blk("v", il, "ffn_up.bias"),
                    gate: b.blk("v", il, "ffn_gate.weight"),
                    gate_b: b.blk("v", il, "ffn_gate.bias"),
                    down: b.blk("v", il, "ffn_down.weight"),
                    down_b: b.blk("v", il, "ffn_down.bias"),
                };
                cur = b.ffn(cur, f);
                inp_l = b.g.binary(inp_l, cur);
            }
            if exaone || e.has("v.post_ln.weight") {
                let (w, bb) = (b.w("v.post_ln.weight"), b.w("v.post_ln.bias"));
                inp_l = b.norm(inp_l, w, bb, rms);
            }
            let mut emb = b.g.reshape(inp_l, [e.n_embd * 4, n / 4, 1, 1]);
            let (u, ub, dw, db) = (b.w("mm.0.weight"), b.w("mm.0.bias"), b.w("mm.2.weight"), b.w("mm.2.bias"));
            emb = b.ffn(emb, Ffn { up: u, up_b: ub, gate: None, gate_b: None, down: dw, down_b: db });
            if wa > 0 {
                let idx = b.g.input(Ty::I32, [n / 4, 1, 1, 1]);
                let pd = b.g.ne(emb)[0];
                emb = b.g.reshape(emb, [pd, n / 4, 1, 1]);
                emb = b.g.get_rows(emb, idx);
                emb = b.g.reshape(emb, [pd, n / 4, 1, 1]);
            }
            b.finish(emb)
        }
        Tail::Qwen3Vl => {
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let (en, h) = (e.n_embd, e.n_head.max(1));
            let d = en / h;
            let raw = b.g.input(Ty::F32, [side, side, 3, 1]);
            let (p0, p1) = (b.w("v.patch_embd.weight"), b.w("v.patch_embd.weight.1"));
            let (p0, p1) = (b.need(p0), b.need(p1));
            let c0 = b.conv_2d_patch(p0, raw);
            let c1 = b.conv_2d_patch(p1, raw);
            let mut inp = b.g.binary(c0, c1);
            inp = b.g.permute(inp, [1, 2, 0, 3]);
            inp = b.merge_order(inp, np, en);
            let pb = b.w("v.patch_embd.bias");
            inp = b.add_opt(inp, pb);
            let learned = b.resized_pos(np);
            let learned = b.need(learned);
            let learned = b.merge_order(learned, np, en);
            inp = b.g.binary(inp, learned);
            let mut inp_l = inp;
            let positions = b.g.input(Ty::I32, [4 * n, 1, 1, 1]);
            if e.has("v.pre_ln.weight") {
                let (w, bb) = (b.w("v.pre_ln.weight"), b.w("v.pre_ln.bias"));
                inp_l = b.norm(inp_l, w, bb, false);
            }
            let mf = merge * merge;
            let mut deep = NONE;
            for il in 0..e.n_layer {
                let (w1, b1) = (b.blk("v", il, "ln1.weight"), b.blk("v", il, "ln1.bias"));
                let mut cur = b.norm(inp_l, w1, b1, false);
                let wqkv = b.blk("v", il, "attn_qkv.weight");
                let wqkv = b.need(wqkv);
                cur = b.g.mul_mat(wqkv, cur);
                let bqkv = b.blk("v", il, "attn_qkv.bias");
                cur = b.add_opt(cur, bqkv);
                let row = b.g.t[cur as usize].nb[1];
                let q = b.g.view(cur, [d, h, n, 1], [4, d * 4, row, row * n], &[cur]);
                let k = b.g.view(cur, [d, h, n, 1], [4, d * 4, row, row * n], &[cur]);
                let v = b.g.view(cur, [d, h, n, 1], [4, d * 4, row, row * n], &[cur]);
                let q = b.g.rope(q, positions);
                let k = b.g.rope(k, positions);
                let (wo, bo) = (b.blk("v", il, "attn_out.weight"), b.blk("v", il, "attn_out.bias"));
                cur = b.attn(q, k, v, wo, bo, NONE);
                cur = b.g.binary(cur, inp_l);
                inp_l = cur;
                let (w2, b2) = (b.blk("v", il, "ln2.weight"), b.blk("v", il, "ln2.bias"));
                cur = b.norm(cur, w2, b2, false);
                let f = Ffn {
                    up: b.blk("v", il, "ffn_up.weight"),
                    up_b: b.blk("v", il, "ffn_up.bias"),
                    gate: b.blk("v", il, "ffn_gate.weight"),
                    gate_b: b.blk("v", il, "ffn_gate.bias"),
                    down: b.blk("v", il, "ffn_down.weight"),
                    down_b: b.blk("v", il, "ffn_down.bias"),
                };
                cur = b.ffn(cur, f);
                cur = b.g.binary(inp_l, cur);
                if e.has(&format!("v.deepstack.{il}.fc1.weight")) {
                    let mut feat = b.g.reshape(cur, [en * mf, n / mf.max(1), 1, 1]);
                    let (nw, nb) = (b.w(&format!("v.deepstack.{il}.norm.weight")), b.w(&format!("v.deepstack.{il}.norm.bias")));
                    feat = b.norm(feat, nw, nb, false);
                    let f = Ffn {
                        up: b.w(&format!("v.deepstack.{il}.fc1.weight")),
                        up_b: b.w(&format!("v.deepstack.{il}.fc1.bias")),
                        gate: None,
                        gate_b: None,
                        down: b.w(&format!("v.deepstack.{il}.fc2.weight")),
                        down_b: b.w(&format!("v.deepstack.{il}.fc2.bias")),
                    };
                    feat = b.ffn(feat, f);
                    deep = if deep == NONE { feat } else { b.g.concat(deep, feat, 0) };
                }
                inp_l = cur;
            }
            if e.has("v.post_ln.weight") {
                let (w, bb) = (b.w("v.post_ln.weight"), b.w("v.post_ln.bias"));
                inp_l = b.norm(inp_l, w, bb, false);
            }
            let mut emb = b.g.reshape(inp_l, [en * 4, n / 4, 1, 1]);
            let (u, ub, dw, db) = (b.w("mm.0.weight"), b.w("mm.0.bias"), b.w("mm.2.weight"), b.w("mm.2.bias"));
            emb = b.ffn(emb, Ffn { up: u, up_b: ub, gate: None, gate_b: None, down: dw, down_b: db });
            if deep != NONE {
                emb = b.g.concat(emb, deep, 0);
            }
            b.finish(emb)
        }
        Tail::Llava => {
            if e.feature_layers {
                return None;
            }
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let mut inp = b.inp(side);
            let cls = b.w("v.class_embd");
            if let Some(c) = cls {
                inp = b.g.concat(inp, c, 1);
            }
            let n_pos = n + u64::from(cls.is_some());
            let positions = b.g.input(Ty::I32, [n_pos, 1, 1, 1]);
            let pe = b.w("v.position_embd.weight");
            let pe = b.need(pe);
            let rows = b.g.get_rows(pe, positions);
            // llava.cpp: the second-to-last block's output, all blocks for GLM-Edge
            let glm = e.projector_type == "adapter";
            b.layers = Some(if glm { e.n_layer } else { e.n_layer.saturating_sub(1) });
            let emb = b.vit("v", inp, n_pos, Some(rows), false);
            if glm {
                let cur = b.glm_edge(emb, n);
                return b.finish(cur);
            }
            let patches = b.g.input(Ty::I32, [n, 1, 1, 1]);
            let mut cur = b.g.get_rows(emb, patches);
            match e.projector_type.as_str() {
                "ldp" | "ldpv2" => {
                    // MobileVLM's projectors reshape to a fixed 24x24 grid (llava.cpp `n_patch =
                    // 24`): another patch count is a ggml assertion in clip, not a figure
                    if n != LDP_PATCHES * LDP_PATCHES {
                        return None;
                    }
                    cur = if e.projector_type == "ldp" { b.ldp(cur) } else { b.ldpv2(cur) };
                }
                _ => {
                    let (w0, b0) = (b.w("mm.0.weight"), b.w("mm.0.bias"));
                    let w0 = b.need(w0);
                    cur = b.g.mul_mat(w0, cur);
                    cur = b.add_opt(cur, b0);
                    cur = b.g.unary(cur);
                    if let Some(w2) = b.w("mm.2.weight") {
                        cur = b.g.mul_mat(w2, cur);
                        let b2 = b.w("mm.2.bias");
                        cur = b.add_opt(cur, b2);
                    }
                }
            }
            b.finish(cur)
        }
        Tail::KimiK25 => {
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let pos_h = b.g.input(Ty::I32, [n, 1, 1, 1]);
            let pos_w = b.g.input(Ty::I32, [n, 1, 1, 1]);
            let pe = b.w("v.position_embd.weight");
            let pe = b.need(pe);
            let pn = b.g.ne(pe);
            let learned = if pn[1] == np && pn[2] == np {
                b.g.cont(pe, [e.n_embd, n, 1, 1])
            } else {
                let p1 = b.g.permute(pe, [2, 1, 0, 3]);
                let it = b.op(Ty::F32, [np, np, e.n_embd, 1], &[p1]);
                let p2 = b.g.permute(it, [2, 1, 0, 3]);
                b.g.cont(p2, [e.n_embd, n, 1, 1])
            };
            let mut inp = b.inp(side);
            inp = b.g.binary(inp, learned);
            let mut cur = b.vit_pos("v", inp, n, None, false, &[pos_w, pos_h]);
            let s = merge.max(1);
            cur = b.patch_merge(cur, np, np, s);
            let cn = b.g.ne(cur);
            let proj_in = cn[0];
            let row = e.n_embd * 4;
            cur = b.g.view_nd(cur, [e.n_embd, cn[1] * s * s, 1, 1], row, row * cn[1] * s * s, row * cn[1] * s * s);
            cur = b.g.norm(cur);
            if let Some(w) = b.w("mm.input_norm.weight") {
                cur = b.g.binary(cur, w);
            }
            let nb = b.w("mm.input_norm.bias");
            cur = b.add_opt(cur, nb);
            cur = b.g.view_nd(cur, [proj_in, cn[1], 1, 1], proj_in * 4, proj_in * 4 * cn[1], proj_in * 4 * cn[1]);
            let f = Ffn { up: b.w("mm.1.weight"), up_b: b.w("mm.1.bias"), gate: None, gate_b: None, down: b.w("mm.2.weight"), down_b: b.w("mm.2.bias") };
            cur = b.ffn(cur, f);
            b.finish(cur)
        }
        Tail::PaddleOcr => {
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let positions = b.g.input(Ty::I32, [4 * n, 1, 1, 1]);
            let learned = b.resized_pos(np);
            let inp = b.inp(side);
            let mut cur = b.vit_pos("v", inp, n, learned, false, &[positions]);
            let (nw, nb) = (b.w("mm.input_norm.weight"), b.w("mm.input_norm.bias"));
            cur = b.norm(cur, nw, nb, false);
            cur = b.patch_merge(cur, np, np, merge.max(1));
            let f = Ffn { up: b.w("mm.1.weight"), up_b: b.w("mm.1.bias"), gate: None, gate_b: None, down: b.w("mm.2.weight"), down_b: b.w("mm.2.bias") };
            cur = b.ffn(cur, f);
            b.finish(cur)
        }
        Tail::HunyuanVl => {
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let m = merge.max(1);
            let pos = b.g.input(Ty::F32, [e.n_embd, n, 1, 1]);
            let inp = b.inp(side);
            let mut cur = b.vit("v", inp, n, Some(pos), false);
            let pre = b.w("mm.pre_norm.weight");
            cur = b.norm(cur, pre, None, true);
            cur = b.g.reshape(cur, [e.n_embd, np, np, 1]);
            cur = b.g.permute(cur, [2, 0, 1, 3]);
            cur = b.g.cont(cur, [np, np, e.n_embd, 1]);
            let (w0, b0, w1, b1) = (b.w("mm.0.weight"), b.w("mm.0.bias"), b.w("mm.2.weight"), b.w("mm.2.bias"));
            let w0 = b.need(w0);
            cur = b.conv_2d_patch(w0, cur);
            cur = b.add_opt(cur, b0);
            cur = b.g.unary(cur);
            let w1 = b.need(w1);
            cur = b.conv_2d_patch(w1, cur);
            cur = b.add_opt(cur, b1);
            let (o, idim) = (np / m, b.g.ne(cur)[2]);
            let nl = b.w("v.image_newline");
            let nl = b.need(nl);
            let nl = b.g.reshape(nl, [1, 1, idim, 1]);
            let nl = b.g.repeat(nl, [1, o, idim, 1]);
            cur = b.g.concat(cur, nl, 0);
            cur = b.g.permute(cur, [1, 2, 0, 3]);
            cur = b.g.cont(cur, [idim, (o + 1) * o, 1, 1]);
            let (fc, fcb) = (b.w("mm.model.fc.weight"), b.w("mm.model.fc.bias"));
            let fc = b.need(fc);
            cur = b.g.mul_mat(fc, cur);
            cur = b.add_opt(cur, fcb);
            let (begin, end) = (b.w("mm.image_begin"), b.w("mm.image_end"));
            let (begin, end) = (b.need(begin), b.need(end));
            let pn = b.g.ne(begin)[0];
            let begin = b.g.reshape(begin, [pn, 1, 1, 1]);
            let end = b.g.reshape(end, [pn, 1, 1, 1]);
            cur = b.g.concat(begin, cur, 1);
            cur = b.g.concat(cur, end, 1);
            let post = b.w("mm.post_norm.weight");
            cur = b.norm(cur, post, None, true);
            b.finish(cur)
        }
        Tail::MinimaxM3 => {
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let m = merge.max(1);
            let raw = b.g.input(Ty::F32, [side, side, 3, 1]);
            let (p0, p1) = (b.w("v.patch_embd.weight"), b.w("v.patch_embd.weight.1"));
            let (p0, p1) = (b.need(p0), b.need(p1));
            let c0 = b.conv_2d_patch(p0, raw);
            let c1 = b.conv_2d_patch(p1, raw);
            let mut inp = b.g.binary(c0, c1);
            inp = b.g.permute(inp, [1, 2, 0, 3]);
            inp = b.g.cont(inp, [e.n_embd * m, np / m, np, 1]);
            inp = b.g.reshape(inp, [e.n_embd * m, np / m, m, np / m]);
            inp = b.g.permute_0213(inp);
            inp = b.g.cont(inp, [e.n_embd, n, 1, 1]);
            let pos_h = b.g.input(Ty::I32, [n, 1, 1, 1]);
            let pos_w = b.g.input(Ty::I32, [n, 1, 1, 1]);
            let mut cur = b.vit_pos("v", inp, n, None, false, &[pos_h, pos_w]);
            let f = Ffn { up: b.w("mm.1.weight"), up_b: b.w("mm.1.bias"), gate: None, gate_b: None, down: b.w("mm.2.weight"), down_b: b.w("mm.2.bias") };
            cur = b.ffn(cur, f);
            let proj = b.g.ne(cur)[0];
            cur = b.g.reshape(cur, [proj * m * m, n / (m * m), 1, 1]);
            let f = Ffn {
                up: b.w("mm.merger.fc1.weight"),
                up_b: b.w("mm.merger.fc1.bias"),
                gate: None,
                gate_b: None,
                down: b.w("mm.merger.fc2.weight"),
                down_b: b.w("mm.merger.fc2.bias"),
            };
            cur = b.ffn(cur, f);
            b.finish(cur)
        }
        Tail::Gemma4Uv => {
            let p = e.patch_size.max(1);
            let np = side / p;
            let n = np * np;
            let raw = b.g.input(Ty::F32, [side, side, 3, 1]);
            // the im2col kernel is a plain new tensor (shape only), allocated like a leaf
            let kernel = b.op(Ty::F32, [p, p, 3, 1], &[]);
            b.g.t[kernel as usize].op = Op::Leaf;
            let col = b.op(Ty::F32, [3 * p * p, np, np, 1], &[kernel, raw]);
            let mut inp = b.g.reshape(col, [3 * p * p, n, 1, 1]);
            let (w1, b1) = (b.w("v.patch_norm.1.weight"), b.w("v.patch_norm.1.bias"));
            inp = b.norm(inp, w1, b1, false);
            let pw = b.w("v.patch_embd.weight");
            let pw = b.need(pw);
            inp = b.g.mul_mat(pw, inp);
            let pb = b.w("v.patch_embd.bias");
            inp = b.add_opt(inp, pb);
            let (w2, b2) = (b.w("v.patch_norm.2.weight"), b.w("v.patch_norm.2.bias"));
            inp = b.norm(inp, w2, b2, false);
            let pos_x = b.g.input(Ty::I32, [n, 1, 1, 1]);
            let pos_y = b.g.input(Ty::I32, [n, 1, 1, 1]);
            let pe = b.w("v.position_embd.weight");
            let pe = b.need(pe);
            let pn = b.g.ne(pe);
            let row = b.g.t[pe as usize].nb[1];
            let tx = b.g.view(pe, [pn[0], pn[1], 1, 1], [4, row, row * pn[1], row * pn[1]], &[pe]);
            let ty = b.g.view(pe, [pn[0], pn[1], 1, 1], [4, row, row * pn[1], row * pn[1]], &[pe]);
            let ex = b.g.get_rows(tx, pos_x);
            let ey = b.g.get_rows(ty, pos_y);
            inp = b.g.binary(inp, ex);
            inp = b.g.binary(inp, ey);
            let (w3, b3) = (b.w("v.patch_norm.3.weight"), b.w("v.patch_norm.3.bias"));
            let mut cur = b.norm(inp, w3, b3, false);
            cur = b.g.unary(cur);
            let proj = b.w("mm.input_projection.weight");
            let proj = b.need(proj);
            cur = b.g.mul_mat(proj, cur);
            b.finish(cur)
        }
        Tail::Gemma4V => {
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let raw = b.g.input(Ty::F32, [side, side, 3, 1]);
            let scaled = b.g.unary(raw);
            let pw = b.w("v.patch_embd.weight");
            let pw = b.need(pw);
            let conv = b.conv_2d_patch(pw, scaled);
            let r = b.g.reshape(conv, [n, e.n_embd, 1, 1]);
            let t = b.g.transpose(r);
            let mut inp = b.g.cont(t, [e.n_embd, n, 1, 1]);
            let pos_x = b.g.input(Ty::I32, [n, 1, 1, 1]);
            let pos_y = b.g.input(Ty::I32, [n, 1, 1, 1]);
            let pe = b.w("v.position_embd.weight");
            let pe = b.need(pe);
            let pn = b.g.ne(pe);
            let row = b.g.t[pe as usize].nb[1];
            let tx = b.g.view(pe, [pn[0], pn[1], 1, 1], [4, row, row * pn[1], row * pn[1]], &[pe]);
            let ty = b.g.view(pe, [pn[0], pn[1], 1, 1], [4, row, row * pn[1], row * pn[1]], &[pe]);
            let ex = b.g.get_rows(tx, pos_x);
            let ey = b.g.get_rows(ty, pos_y);
            inp = b.g.binary(inp, ex);
            inp = b.g.binary(inp, ey);
            let mut cur = b.vit_pos("v", inp, n, None, true, &[pos_x, pos_y]);
            let k = merge.max(1);
            let t = b.g.transpose(cur);
            cur = b.g.cont(t, [np, np, e.n_embd, 1]);
            let o = np / k;
            cur = b.op(Ty::F32, [o, o, e.n_embd, 1], &[cur]);
            cur = b.g.reshape(cur, [o * o, e.n_embd, 1, 1]);
            let t = b.g.transpose(cur);
            cur = b.g.cont(t, [e.n_embd, o * o, 1, 1]);
            cur = b.g.unary(cur);
            if let (Some(sb), Some(ss)) = (b.w("v.std_bias"), b.w("v.std_scale")) {
                cur = b.g.binary(cur, sb);
                cur = b.g.binary(cur, ss);
            }
            cur = b.g.unary(cur);
            let proj = b.w("mm.input_projection.weight");
            let proj = b.need(proj);
            cur = b.mm(proj, cur);
            b.finish(cur)
        }
        Tail::CogVlm => {
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let (n_embd, n_head) = (e.n_embd, e.n_head.max(1));
            let d = n_embd / n_head;
            let mut inp = b.inp(side);
            let cls = b.w("v.class_embd");
            let cls = b.need(cls);
            inp = b.g.concat(inp, cls, 1);
            let pe = b.w("v.position_embd.weight");
            let pe = b.need(pe);
            inp = b.g.binary(inp, pe);
            let n_pos = n + 1;
            let mut inp_l = inp;
            for il in 0..e.n_layer {
                let w = b.blk("v", il, "attn_qkv.weight");
                let w = b.need(w);
                let mut cur = b.mm(w, inp_l);
                let bq = b.blk("v", il, "attn_qkv.bias");
                cur = b.add_opt(cur, bq);
                let row = b.g.t[cur as usize].nb[1];
                let mut qkv = [NONE; 3];
                for x in &mut qkv {
                    *x = b.g.view(cur, [d, n_head, n_pos, 1], [4, d * 4, row, row * n_pos], &[cur]);
                }
                let (wo, bo) = (b.blk("v", il, "attn_out.weight"), b.blk("v", il, "attn_out.bias"));
                cur = b.attn(qkv[0], qkv[1], qkv[2], wo, bo, NONE);
                let (w1, b1) = (b.blk("v", il, "ln1.weight"), b.blk("v", il, "ln1.bias"));
                cur = b.norm(cur, w1, b1, false);
                cur = b.g.binary(cur, inp_l);
                inp_l = cur;
                let f = Ffn {
                    up: b.blk("v", il, "ffn_up.weight"),
                    up_b: b.blk("v", il, "ffn_up.bias"),
                    gate: b.blk("v", il, "ffn_gate.weight"),
                    gate_b: b.blk("v", il, "ffn_gate.bias"),
                    down: b.blk("v", il, "ffn_down.weight"),
                    down_b: b.blk("v", il, "ffn_down.bias"),
                };
                cur = b.ffn(cur, f);
                let (w2, b2) = (b.blk("v", il, "ln2.weight"), b.blk("v", il, "ln2.bias"));
                cur = b.norm(cur, w2, b2, false);
                cur = b.g.binary(cur, inp_l);
                inp_l = cur;
            }
            let row = b.g.t[inp_l as usize].nb[1];
            let mut cur = b.g.view(inp_l, [n_embd, n, 1, 1], [4, row, row * n, row * n], &[inp_l]);
            let fc = b.w("mm.model.fc.weight");
            let fc = b.need(fc);
            cur = b.mm(fc, cur);
            let (nw, nb) = (b.w("mm.post_fc_norm.weight"), b.w("mm.post_fc_norm.bias"));
            cur = b.norm(cur, nw, nb, false);
            cur = b.g.unary(cur);
            let (up, gate, down) = (b.w("mm.up.weight"), b.w("mm.gate.weight"), b.w("mm.down.weight"));
            let (up, gate, down) = (b.need(up), b.need(gate), b.need(down));
            let h = b.mm(up, cur);
            let gt = b.mm(gate, cur);
            cur = b.g.glu_split(gt, h);
            cur = b.mm(down, cur);
            let (boi, eoi) = (b.w("v.boi"), b.w("v.eoi"));
            let (boi, eoi) = (b.need(boi), b.need(eoi));
            cur = b.g.concat(boi, cur, 1);
            cur = b.g.concat(cur, eoi, 1);
            b.finish(cur)
        }
        Tail::Step3Vl => {
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let pos_h = b.g.input(Ty::I32, [n, 1, 1, 1]);
            let pos_w = b.g.input(Ty::I32, [n, 1, 1, 1]);
            let inp = b.inp(side);
            let learned = b.resized_pos(np);
            let mut cur = b.vit_pos("v", inp, n, learned, false, &[pos_w, pos_h]);
            cur = b.g.permute(cur, [1, 0, 2, 3]);
            cur = b.g.cont(cur, [np, np, e.n_embd, 1]);
            for i in 0..2 {
                let (w, bias) = (b.w(&format!("mm.{i}.weight")), b.w(&format!("mm.{i}.bias")));
                let w = b.need(w);
                cur = b.conv_2d(w, cur, 2, 1);
                if let Some(bias) = bias {
                    let cn = b.g.ne(cur);
                    let r = b.g.reshape(cur, [cn[0] * cn[1], cn[2], 1, 1]);
                    let t = b.g.transpose(r);
                    let mut c = b.g.cont(t, [cn[2], cn[0] * cn[1], 1, 1]);
                    c = b.g.binary(c, bias);
                    let t = b.g.transpose(c);
                    let c = b.g.cont(t, [cn[0] * cn[1], cn[2], 1, 1]);
                    cur = b.g.reshape(c, [cn[0], cn[1], cn[2], 1]);
                }
            }
            let cn = b.g.ne(cur);
            cur = b.g.reshape(cur, [cn[0] * cn[1], cn[2], cn[3], 1]);
            cur = b.g.permute(cur, [1, 0, 2, 3]);
            cur = b.g.cont(cur, [cn[2], cn[0] * cn[1], cn[3], 1]);
            let fc = b.w("mm.model.fc.weight");
            let fc = b.need(fc);
            cur = b.g.mul_mat(fc, cur);
            b.finish(cur)
        }
        Tail::YoutuVl => {
            let p = e.patch_size.max(1);
            let np = side / p;
            let n = np * np;
            let (hm, m) = (np / 2, 2);
            let (n_embd, n_head) = (e.n_embd, e.n_head.max(1));
            let d = n_embd / n_head;
            let raw = b.g.input(Ty::F32, [side, side, 3, 1]);
            let mut inp = b.g.reshape(raw, [hm * m * p, m * p, hm, 3]);
            inp = b.g.permute(inp, [1, 2, 3, 0]);
            inp = b.g.cont(inp, [m * p * 3, hm, m * p, hm]);
            inp = b.g.permute_0213(inp);
            inp = b.g.cont(inp, [m * p * 3, p, m, hm * hm]);
            inp = b.g.permute(inp, [1, 0, 2, 3]);
            inp = b.g.cont(inp, [p, 3, p, hm * hm * m * m]);
            inp = b.g.permute(inp, [2, 0, 1, 3]);
            inp = b.g.cont(inp, [3 * p * p, n, 1, 1]);
            let pw = b.w("v.patch_embd.weight");
            let pw = b.need(pw);
            inp = b.mm(pw, inp);
            let pb = b.w("v.patch_embd.bias");
            inp = b.add_opt(inp, pb);
            let mut inp_l = inp;
            let positions = b.g.input(Ty::I32, [4 * n, 1, 1, 1]);
            if e.has("v.pre_ln.weight") {
                let (w, bb) = (b.w("v.pre_ln.weight"), b.w("v.pre_ln.bias"));
                inp_l = b.norm(inp_l, w, bb, false);
            }
            let window = !e.wa_layer_indexes.is_empty();
            let mut mask = NONE;
            if window {
                let inv = b.g.input(Ty::I32, [n / 4, 1, 1, 1]);
                mask = b.g.input(Ty::F32, [n, n, 1, 1]);
                if b.flash_attn {
                    mask = b.g.cast(mask, Ty::F16);
                }
                let r = b.g.reshape(inp_l, [n_embd * 4, n / 4, 1, 1]);
                let r = b.g.get_rows(r, inv);
                inp_l = b.g.reshape(r, [n_embd, n, 1, 1]);
            }
            for il in 0..e.n_layer {
                let (w1, b1) = (b.blk("v", il, "ln1.weight"), b.blk("v", il, "ln1.bias"));
                let cur = b.norm(inp_l, w1, b1, false);
                let mut qkv = [NONE; 3];
                for (i, nm) in ["attn_q", "attn_k", "attn_v"].into_iter().enumerate() {
                    let w = b.blk("v", il, &format!("{nm}.weight"));
                    let w = b.need(w);
                    let m = b.mm(w, cur);
                    let bias = b.blk("v", il, &format!("{nm}.bias"));
                    qkv[i] = b.add_opt(m, bias);
                }
                let q = b.g.reshape(qkv[0], [d, n_head, n, 1]);
                let k = b.g.reshape(qkv[1], [d, n_head, n, 1]);
                let v = b.g.reshape(qkv[2], [d, n_head, n, 1]);
                let q = b.g.rope(q, positions);
                let k = b.g.rope(k, positions);
                let full = !window || e.wa_layer_indexes.contains(&il);
                let (wo, bo) = (b.blk("v", il, "attn_out.weight"), b.blk("v", il, "attn_out.bias"));
                let mut cur = b.attn(q, k, v, wo, bo, if full { NONE } else { mask });
                cur = b.g.binary(cur, inp_l);
                inp_l = cur;
                let (w2, b2) = (b.blk("v", il, "ln2.weight"), b.blk("v", il, "ln2.bias"));
                cur = b.norm(cur, w2, b2, false);
                let f = Ffn {
                    up: b.blk("v", il, "ffn_up.weight"),
                    up_b: b.blk("v", il, "ffn_up.bias"),
                    gate: None,
                    gate_b: None,
                    down: b.blk("v", il, "ffn_down.weight"),
                    down_b: b.blk("v", il, "ffn_down.bias"),
                };
                cur = b.ffn(cur, f);
                cur = b.g.binary(inp_l, cur);
                inp_l = cur;
            }
            let mut emb = inp_l;
            if window {
                let idx = b.g.input(Ty::I32, [n / 4, 1, 1, 1]);
                let r = b.g.reshape(emb, [n_embd * 4, n / 4, 1, 1]);
                let r = b.g.get_rows(r, idx);
                emb = b.g.reshape(r, [n_embd, n, 1, 1]);
            }
            if e.has("v.post_ln.weight") {
                let (w, bb) = (b.w("v.post_ln.weight"), b.w("v.post_ln.bias"));
                emb = b.norm(emb, w, bb, false);
            }
            let nw = b.w("mm.input_norm.weight");
            emb = b.norm(emb, nw, None, true);
            emb = b.g.reshape(emb, [n_embd * 4, n / 4, 1, 1]);
            let f = Ffn { up: b.w("mm.0.weight"), up_b: b.w("mm.0.bias"), gate: None, gate_b: None, down: b.w("mm.2.weight"), down_b: b.w("mm.2.bias") };
            emb = b.ffn(emb, f);
            b.finish(emb)
        }
        Tail::Ling3Vl => {
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let en = e.n_embd;
            let raw = b.g.input(Ty::F32, [side, side, 3, 1]);
            let (p0, p1) = (b.w("v.patch_embd.weight"), b.w("v.patch_embd.weight.1"));
            let (p0, p1) = (b.need(p0), b.need(p1));
            let c0 = b.conv_2d_patch(p0, raw);
            let c1 = b.conv_2d_patch(p1, raw);
            let mut inp = b.g.binary(c0, c1);
            inp = b.g.permute(inp, [1, 2, 0, 3]);
            inp = b.merge_order(inp, np, en);
            let pb = b.w("v.patch_embd.bias");
            inp = b.add_opt(inp, pb);
            let learned = b.resized_pos(np);
            let learned = b.need(learned);
            let learned = b.merge_order(learned, np, en);
            let positions = b.g.input(Ty::I32, [4 * n, 1, 1, 1]);
            let mut cur = b.vit_pos("v", inp, n, Some(learned), false, &[positions]);
            let (nw, nb) = (b.w("mm.input_norm.weight"), b.w("mm.input_norm.bias"));
            cur = b.norm(cur, nw, nb, false);
            cur = b.g.reshape(cur, [en * 4, n / 4, 1, 1]);
            let f = Ffn { up: b.w("mm.0.weight"), up_b: b.w("mm.0.bias"), gate: None, gate_b: None, down: b.w("mm.2.weight"), down_b: b.w("mm.2.bias") };
            cur = b.ffn(cur, f);
            b.finish(cur)
        }
        Tail::MuseGlimmer => {
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let ds = merge.max(1);
            let n_out = (np / ds) * (np / ds);
            let mut idx = [NONE; 5];
            for x in &mut idx {
                *x = b.g.input(Ty::I32, [n, 1, 1, 1]);
            }
            let [pos_w, pos_h, sp_perm, inv_perm, ds_perm] = idx;
            let sp_mask = b.g.input(Ty::F32, [n, n, 1, 1]);
            let mut x = b.inp(side);
            let learned = b.resized_pos(np);
            let learned = b.need(learned);
            x = b.g.binary(x, learned);
            x = b.g.get_rows(x, sp_perm);
            b.layer_masks = (0..e.n_layer).map(|il| if il + 1 == e.n_layer || (il + 1) % 4 == 0 { NONE } else { sp_mask }).collect();
            x = b.vit_pos("v", x, n, None, false, &[pos_w, pos_h]);
            x = b.g.get_rows(x, inv_perm);
            x = b.g.get_rows(x, ds_perm);
            x = b.g.reshape(x, [e.n_embd, ds * ds, n_out, 1]);
            x = b.g.permute(x, [1, 0, 2, 3]);
            x = b.g.cont(x, [ds * ds, e.n_embd, n_out, 1]);
            x = b.g.reshape(x, [e.n_embd * ds * ds, n_out, 1, 1]);
            for i in 0..3 {
                let w = b.w(&format!("mm.{i}.weight"));
                let w = b.need(w);
                x = b.mm(w, x);
                if i < 2 {
                    x = b.g.unary(x);
                }
            }
            b.finish(x)
        }
        Tail::MimoVl => {
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let en = e.n_embd;
            let (h, hkv) = (e.n_head.max(1), e.n_head_kv.max(1));
            let units = n / 4;
            let raw = b.g.input(Ty::F32, [side, side, 3, 1]);
            let (p0, p1) = (b.w("v.patch_embd.weight"), b.w("v.patch_embd.weight.1"));
            let (p0, p1) = (b.need(p0), b.need(p1));
            let c0 = b.conv_2d_patch(p0, raw);
            let c1 = b.conv_2d_patch(p1, raw);
            let mut inp = b.g.binary(c0, c1);
            inp = b.g.permute(inp, [1, 2, 0, 3]);
            inp = b.merge_order(inp, np, en);
            let pos_row = b.g.input(Ty::I32, [4 * n, 1, 1, 1]);
            let pos_col = b.g.input(Ty::I32, [4 * n, 1, 1, 1]);
            let idx_f = b.g.input(Ty::F32, [units, 1, 1, 1]);
            let idx_col = b.g.cast(idx_f, Ty::I32);
            let idx_inv = b.g.argsort(idx_f);
            let mut mask = b.g.input(Ty::F32, [n, n, 1, 1]);
            if b.flash_attn {
                mask = b.g.cast(mask, Ty::F16);
            }
            let reorder = |b: &mut Builder, x: Id, idx: Id| {
                let y = b.g.reshape(x, [en * 4, units, 1, 1]);
                let y = b.g.get_rows(y, idx);
                b.g.reshape(y, [en, n, 1, 1])
            };
            let mut inp_l = inp;
            let mut prev = -1i64;
            for il in 0..e.n_layer {
                let mode = usize::try_from(il).ok().and_then(|i| e.wa_pattern_mode.get(i).copied()).unwrap_or(-1);
                let col = mode == 1;
                if col && prev != 1 {
                    inp_l = reorder(&mut b, inp_l, idx_col);
                } else if !col && prev == 1 {
                    inp_l = reorder(&mut b, inp_l, idx_inv);
                }
                let (w1, b1) = (b.blk("v", il, "ln1.weight"), b.blk("v", il, "ln1.bias"));
                let cur = b.norm(inp_l, w1, b1, true);
                let w = b.blk("v", il, "attn_qkv.weight");
                let w = b.need(w);
                let rows = b.g.ne(w)[1];
                let hd = rows / (h + 2 * hkv).max(1);
                let mut qkv = b.mm(w, cur);
                let bq = b.blk("v", il, "attn_qkv.bias");
                qkv = b.add_opt(qkv, bq);
                let row = b.g.t[qkv as usize].nb[1];
                let q = b.g.view(qkv, [hd, h, n, 1], [4, hd * 4, row, row * n], &[qkv]);
                let k = b.g.view(qkv, [hd, hkv, n, 1], [4, hd * 4, row, row * n], &[qkv]);
                let v = b.g.view(qkv, [hd, hkv, n, 1], [4, hd * 4, row, row * n], &[qkv]);
                let pos = if col { pos_col } else { pos_row };
                let q = b.g.rope(q, pos);
                let k = b.g.rope(k, pos);
                let (wo, bo) = (b.blk("v", il, "attn_out.weight"), b.blk("v", il, "attn_out.bias"));
                let mut cur = b.attn(q, k, v, wo, bo, if mode == -1 { NONE } else { mask });
                cur = b.g.binary(cur, inp_l);
                inp_l = cur;
                let (w2, b2) = (b.blk("v", il, "ln2.weight"), b.blk("v", il, "ln2.bias"));
                cur = b.norm(cur, w2, b2, true);
                let f = Ffn {
                    up: b.blk("v", il, "ffn_up.weight"),
                    up_b: b.blk("v", il, "ffn_up.bias"),
                    gate: b.blk("v", il, "ffn_gate.weight"),
                    gate_b: b.blk("v", il, "ffn_gate.bias"),
                    down: b.blk("v", il, "ffn_down.weight"),
                    down_b: b.blk("v", il, "ffn_down.bias"),
                };
                cur = b.ffn(cur, f);
                cur = b.g.binary(inp_l, cur);
                inp_l = cur;
                prev = mode;
            }
            if prev == 1 {
                inp_l = reorder(&mut b, inp_l, idx_inv);
            }
            let (pw, pb) = (b.w("v.post_ln.weight"), b.w("v.post_ln.bias"));
            let mut cur = b.norm(inp_l, pw, pb, false);
            cur = b.g.reshape(cur, [en * 4, units, 1, 1]);
            let f = Ffn { up: b.w("mm.0.weight"), up_b: None, gate: None, gate_b: None, down: b.w("mm.2.weight"), down_b: None };
            cur = b.ffn(cur, f);
            b.finish(cur)
        }
        Tail::DotsOcr => {
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let positions = b.g.input(Ty::I32, [4 * n, 1, 1, 1]);
            let inp = b.inp(side);
            let mut cur = b.vit_pos("v", inp, n, None, true, &[positions]);
            let (nw, nb) = (b.w("mm.input_norm.weight"), b.w("mm.input_norm.bias"));
            cur = b.norm(cur, nw, nb, false);
            cur = b.patch_merge(cur, np, np, merge.max(1));
            let f = Ffn { up: b.w("mm.0.weight"), up_b: b.w("mm.0.bias"), gate: None, gate_b: None, down: b.w("mm.2.weight"), down_b: b.w("mm.2.bias") };
            cur = b.ffn(cur, f);
            b.finish(cur)
        }
        Tail::NemotronV2Vl => {
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let cls = b.w("v.class_embd");
            let cls = b.need(cls);
            let regs = b.g.ne(cls)[1];
            let mut inp = b.inp(side);
            let pe = b.w("v.position_embd.weight");
            let pe = b.need(pe);
            inp = b.g.binary(inp, pe);
            inp = b.g.concat(cls, inp, 1);
            let cur = b.vit("v", inp, n + regs, None, false);
            let row = e.n_embd * 4;
            let cur = b.g.view_nd(cur, [e.n_embd, n, 1, 1], row, row * n, row * n);
            let mut cur = b.patch_merge(cur, np, np, merge.max(1));
            cur = b.g.unary(cur);
            if let Some(w) = b.w("mm.model.mlp.0.weight") {
                cur = b.g.binary(cur, w);
            }
            let w1 = b.w("mm.model.mlp.1.weight");
            let w1 = b.need(w1);
            cur = b.g.mul_mat(w1, cur);
            cur = b.g.unary(cur);
            cur = b.g.unary(cur);
            let w3 = b.w("mm.model.mlp.3.weight");
            let w3 = b.need(w3);
            cur = b.g.mul_mat(w3, cur);
            b.finish(cur)
        }
        Tail::Resampler => {
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let query = b.w("resampler.query");
            let query = b.need(query);
            let p = b.g.ne(query)[0];
            let omega = b.g.input(Ty::F32, [p / 4, 1, 1, 1]);
            let pos_h = b.g.input(Ty::F32, [1, n, 1, 1]);
            let pos_w = b.g.input(Ty::F32, [1, n, 1, 1]);
            let positions = b.g.input(Ty::I32, [n, 1, 1, 1]);
            let pe = b.w("v.position_embd.weight");
            let pe = b.need(pe);
            let learned = b.g.get_rows(pe, positions);
            let inp = b.inp(side);
            let emb = b.vit("v", inp, n, Some(learned), false);
            let kv = b.w("resampler.kv.weight");
            let kv = b.need(kv);
            let v = b.g.mul_mat(kv, emb);
            let (qw, qb) = (b.w("resampler.ln_q.weight"), b.w("resampler.ln_q.bias"));
            let q = b.norm(query, qw, qb, false);
            let (vw, vb) = (b.w("resampler.ln_kv.weight"), b.w("resampler.ln_kv.bias"));
            let v = b.norm(v, vw, vb, false);
            let omega_b = b.g.repeat(omega, [p / 4, n, 1, 1]);
            let tx = b.g.binary(omega_b, pos_w);
            let ty = b.g.binary(omega_b, pos_h);
            let mut halves = [NONE; 2];
            for (i, t) in [tx, ty].into_iter().enumerate() {
                // ggml_sin / ggml_cos are not among ggml-alloc's in-place ops
                let sn = b.op(Ty::F32, [p / 4, n, 1, 1], &[t]);
                let cs = b.op(Ty::F32, [p / 4, n, 1, 1], &[t]);
                halves[i] = b.g.concat(sn, cs, 0);
            }
            let pos = b.g.concat(halves[0], halves[1], 0);
            let k = b.g.binary(v, pos);
            let mut qkv = [NONE; 3];
            for (i, (nm, x)) in [("q", q), ("k", k), ("v", v)].into_iter().enumerate() {
                let w = b.w(&format!("resampler.attn.{nm}.weight"));
                let w = b.need(w);
                let m = b.g.mul_mat(w, x);
                let bias = b.w(&format!("resampler.attn.{nm}.bias"));
                qkv[i] = b.add_opt(m, bias);
            }
            let (nq, heads) = (b.g.ne(query)[1], p / 128);
            let qr = b.g.reshape(qkv[0], [128, heads, nq, 1]);
            let kr = b.g.reshape(qkv[1], [128, heads, n, 1]);
            let vr = b.g.reshape(qkv[2], [128, heads, n, 1]);
            let (ow, ob) = (b.w("resampler.attn.out.weight"), b.w("resampler.attn.out.bias"));
            let mut cur = b.attn(qr, kr, vr, ow, ob, NONE);
            let (pw, pb) = (b.w("resampler.ln_post.weight"), b.w("resampler.ln_post.bias"));
            cur = b.norm(cur, pw, pb, false);
            let proj = b.w("resampler.proj.weight");
            let proj = b.need(proj);
            cur = b.g.mul_mat(proj, cur);
            b.finish(cur)
        }
        Tail::KimiVl => {
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let pos_h = b.g.input(Ty::I32, [n, 1, 1, 1]);
            let pos_w = b.g.input(Ty::I32, [n, 1, 1, 1]);
            let learned = b.resized_pos(np);
            let inp = b.inp(side);
            let mut cur = b.vit_pos("v", inp, n, learned, false, &[pos_w, pos_h]);
            let s = merge.max(1);
            cur = b.patch_merge(cur, np, np, s);
            let cn = b.g.ne(cur);
            let proj_in = cn[0];
            cur = b.g.view_nd(cur, [e.n_embd, cn[1] * s * s, 1, 1], e.n_embd * 4, e.n_embd * 4 * cn[1] * s * s, e.n_embd * 4 * cn[1] * s * s);
            cur = b.g.norm(cur);
            if let Some(w) = b.w("mm.input_norm.weight") {
                cur = b.g.binary(cur, w);
            }
            let nb = b.w("mm.input_norm.bias");
            cur = b.add_opt(cur, nb);
            let rows = b.g.ne(cur)[1] / (s * s);
            cur = b.g.view_nd(cur, [proj_in, rows, 1, 1], proj_in * 4, proj_in * 4 * rows, proj_in * 4 * rows);
            let (u, ub, d, db) = (b.w("mm.1.weight"), b.w("mm.1.bias"), b.w("mm.2.weight"), b.w("mm.2.bias"));
            cur = b.ffn(cur, Ffn { up: u, up_b: ub, gate: None, gate_b: None, down: d, down_b: db });
            b.finish(cur)
        }
        Tail::Llama4 => {
            let p = e.patch_size.max(1);
            let np = side / p;
            let n = np * np;
            let pos_h = b.g.input(Ty::I32, [n + 1, 1, 1, 1]);
            let pos_w = b.g.input(Ty::I32, [n + 1, 1, 1, 1]);
            let raw = b.g.input(Ty::F32, [side, side, 3, 1]);
            let pw = b.w("v.patch_embd.weight");
            let pw = b.need(pw);
            let kernel = b.g.reshape(pw, [p, p, 3, e.n_embd]);
            let col = b.op(Ty::F32, [3 * p * p, np, np, 1], &[kernel, raw]);
            let mut inp = b.g.mul_mat(pw, col);
            inp = b.g.reshape(inp, [e.n_embd, n, 1, 1]);
            let cls = b.w("v.class_embd");
            let cls = b.need(cls);
            inp = b.g.concat(inp, cls, 1);
            let pos = b.w("v.position_embd.weight");
            let cur = b.vit_pos("v", inp, n + 1, pos, false, &[pos_w, pos_h]);
            let s = merge.max(1);
            let mut cur = b.g.view_nd(cur, [e.n_embd, n, 1, 1], e.n_embd * 4, e.n_embd * 4 * n, e.n_embd * 4 * n);
            cur = b.g.reshape(cur, [e.n_embd * s, np / s, np, 1]);
            cur = b.g.permute_0213(cur);
            cur = b.g.cont(cur, [e.n_embd * s * s, np / s, np / s, 1]);
            cur = b.g.cont(cur, [e.n_embd * s * s, n / (s * s), 1, 1]);
            for name in ["mm.model.mlp.1.weight", "mm.model.mlp.2.weight"] {
                let w = b.w(name);
                let w = b.need(w);
                cur = b.g.mul_mat(w, cur);
                cur = b.g.unary(cur);
            }
            let fc = b.w("mm.model.fc.weight");
            let fc = b.need(fc);
            cur = b.g.mul_mat(fc, cur);
            b.finish(cur)
        }
        Tail::Glm4v => {
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let raw = b.g.input(Ty::F32, [side, side, 3, 1]);
            let (p0, p1) = (b.w("v.patch_embd.weight"), b.w("v.patch_embd.weight.1"));
            let (p0, p1) = (b.need(p0), b.need(p1));
            let c0 = b.conv_2d_patch(p0, raw);
            let positions = b.g.input(Ty::I32, [4 * n, 1, 1, 1]);
            let c1 = b.conv_2d_patch(p1, raw);
            let mut inp = b.g.binary(c0, c1);
            inp = b.g.permute(inp, [1, 2, 0, 3]);
            inp = b.merge_order(inp, np, e.n_embd);
            let pb = b.w("v.patch_embd.bias");
            inp = b.add_opt(inp, pb);
            if e.has("v.norm_embd.weight") {
                let (w, bb) = (b.w("v.norm_embd.weight"), b.w("v.norm_embd.bias"));
                inp = b.norm(inp, w, bb, true);
            }
            let learned = b.resized_pos(np).map(|l| b.merge_order(l, np, e.n_embd));
            let mut cur = b.vit_pos("v", inp, n, learned, true, &[positions]);
            let m = merge.max(1);
            let n_out = n / (m * m);
            cur = b.g.reshape(cur, [e.n_embd, m, m, n_out]);
            cur = b.g.permute(cur, [2, 0, 1, 3]);
            let cn = b.g.ne(cur);
            cur = b.g.cont(cur, cn);
            let mw = b.w("mm.patch_merger.weight");
            let mw = b.need(mw);
            cur = b.conv_2d_patch(mw, cur);
            let cn = b.g.ne(cur);
            cur = b.g.reshape(cur, [cn[2], n_out, 1, 1]);
            let mb = b.w("mm.patch_merger.bias");
            cur = b.add_opt(cur, mb);
            let fc = b.w("mm.model.fc.weight");
            let fc = b.need(fc);
            cur = b.g.mul_mat(fc, cur);
            let (nw, nb) = (b.w("mm.post_norm.weight"), b.w("mm.post_norm.bias"));
            cur = b.norm(cur, nw, nb, false);
            cur = b.g.unary(cur);
            let f = Ffn {
                up: b.w("mm.up.weight"),
                up_b: b.w("mm.up.bias"),
                gate: b.w("mm.gate.weight"),
                gate_b: b.w("mm.gate.bias"),
                down: b.w("mm.down.weight"),
                down_b: b.w("mm.down.bias"),
            };
            cur = b.ffn(cur, f);
            b.finish(cur)
        }
        Tail::InternVl => {
            let np = side / e.patch_size.max(1);
            let mut inp = b.inp(side);
            if let Some(cls) = b.w("v.class_embd") {
                let rep = b.g.repeat(cls, [e.n_embd, 1, 1, 1]);
                inp = b.g.concat(inp, rep, 1);
            }
            let pos = b.w("v.position_embd.weight");
            let rms = e.n_embd == 3200 && e.n_layer == 45;
            let cur = b.vit("v", inp, np * np + 1, pos, rms);
            let row = b.g.t[cur as usize].nb[1];
            let v = b.g.view(cur, [e.n_embd, np * np, 1, 1], [4, row, row * (np * np + 1), row * (np * np + 1)], &[cur]);
            let mut cur = b.g.cont(v, [e.n_embd, np * np, 1, 1]);
            let s = merge.max(1);
            cur = b.g.reshape(cur, [e.n_embd * s, np / s, np, 1]);
            cur = b.g.permute_0213(cur);
            cur = b.g.cont(cur, [e.n_embd * s * s, np / s, np / s, 1]);
            cur = b.g.permute_0213(cur);
            let n = b.g.ne(cur);
            cur = b.g.cont(cur, [n[0], n[1] * n[2], n[3], 1]);
            let (w0, b0) = (b.w("mm.model.mlp.0.weight"), b.w("mm.model.mlp.0.bias"));
            cur = b.norm(cur, w0, b0, false);
            let (u, ub, d, db) = (b.w("mm.model.mlp.1.weight"), b.w("mm.model.mlp.1.bias"), b.w("mm.model.mlp.3.weight"), b.w("mm.model.mlp.3.bias"));
            cur = b.ffn(cur, Ffn { up: u, up_b: ub, gate: None, gate_b: None, down: d, down_b: db });
            b.finish(cur)
        }
        Tail::Gemma4Ua => {
            let inp = b.g.input(Ty::F32, [frames, e.n_mel_bins, 1, 1]);
            let p = b.g.permute(inp, [1, 0, 2, 3]);
            let mut cur = b.g.cont(p, [e.n_mel_bins, frames, 1, 1]);
            cur = b.g.unary(cur);
            let proj = b.w("mm.a.input_projection.weight");
            let proj = b.need(proj);
            cur = b.g.mul_mat(proj, cur);
            b.finish(cur)
        }
        Tail::Conformer => {
            let frames = frames.max(1);
            let n_pos_embd = ((frames.div_ceil(2)).div_ceil(2)).div_ceil(2) * 2 - 1;
            let pos_emb = b.g.input(Ty::F32, [CONFORMER_POS_WIDTH, n_pos_embd, 1, 1]);
            // conformer.cpp expands it into the graph first: the first leaf, allocated first
            b.g.expand(pos_emb);
            let raw = b.g.input(Ty::F32, [frames, e.n_mel_bins, 1, 1]);
            let t = b.g.transpose(raw);
            let tn = b.g.ne(t);
            let mut cur = b.g.cont(t, tn);
            // conv.0 (im2col) + ReLU, conv.2 depthwise s2, conv.3 pointwise + ReLU, conv.5
            // depthwise s2, conv.6 pointwise + ReLU; each with its channel bias
            for (i, kind) in [(0, 0), (2, 1), (3, 2), (5, 1), (6, 2)] {
                let (w, bias) = (b.w(&format!("a.conv1d.{i}.weight")), b.w(&format!("a.conv1d.{i}.bias")));
                let w = b.need(w);
                cur = match kind {
                    0 => b.conv_2d_ty(w, cur, 2, 1),
                    1 => b.conv_2d_dw_direct(w, cur, 2, 1),
                    _ => b.conv_2d_direct(w, cur, 1, 0),
                };
                cur = b.add_opt(cur, bias);
                if i != 2 && i != 5 {
                    cur = b.g.unary(cur);
                }
            }
            let p = b.g.permute(cur, [0, 2, 1, 3]);
            let pn = b.g.ne(p);
            cur = b.g.cont(p, pn);
            cur = b.g.reshape(cur, [pn[0] * pn[1], pn[2], 1, 1]);
            let (ow, ob) = (b.w("a.pre_encode.out.weight"), b.w("a.pre_encode.out.bias"));
            let ow = b.need(ow);
            cur = b.mm(ow, cur);
            cur = b.add_opt(cur, ob);
            for il in 0..e.n_layer {
                cur = b.conformer_block(cur, il, pos_emb);
            }
            let (nw, nb) = (b.w("mm.a.mlp.0.weight"), b.w("mm.a.mlp.0.bias"));
            cur = b.norm(cur, nw, nb, false);
            let f = Ffn {
                up: b.w("mm.a.mlp.1.weight"),
                up_b: b.w("mm.a.mlp.1.bias"),
                gate: None,
                gate_b: None,
                down: b.w("mm.a.mlp.3.weight"),
                down_b: b.w("mm.a.mlp.3.bias"),
            };
            cur = b.ffn(cur, f);
            b.finish(cur)
        }
        Tail::Gemma4A => {
            let frames = frames.max(1);
            let raw = b.g.input(Ty::F32, [frames, e.n_mel_bins, 1, 1]);
            let t = b.g.transpose(raw);
            let tn = b.g.ne(t);
            let mut cur = b.g.cont(t, tn);
            for i in 0..2 {
                let w = b.w(&format!("a.conv1d.{i}.weight"));
                let w = b.need(w);
                cur = b.conv_2d_ty(w, cur, 2, 1);
                let bias = b.w(&format!("a.conv1d.{i}.bias"));
                cur = b.add_opt(cur, bias);
                if let Some(nw) = b.w(&format!("a.conv1d.{i}.norm.weight")) {
                    let p = b.g.permute(cur, [1, 2, 0, 3]);
                    let pn = b.g.ne(p);
                    cur = b.g.cont(p, pn);
                    cur = b.g.norm(cur);
                    cur = b.g.binary(cur, nw);
                    let p = b.g.permute(cur, [2, 0, 1, 3]);
                    let pn = b.g.ne(p);
                    cur = b.g.cont(p, pn);
                }
                cur = b.g.unary(cur);
            }
            let p = b.g.permute(cur, [1, 2, 0, 3]);
            let pn = b.g.ne(p);
            cur = b.g.cont(p, pn);
            cur = b.g.reshape(cur, [pn[0] * pn[1], pn[2], 1, 1]);
            if let Some(w) = b.w("a.input_projection.weight") {
                cur = b.clamped_mm(w, cur);
                let bias = b.w("a.input_projection.bias");
                cur = b.add_opt(cur, bias);
            }
            let n_pos = b.g.ne(cur)[1];
            let blocks = n_pos.div_ceil(G4A_CHUNK);
            let pos_emb = b.g.input(Ty::F32, [e.n_embd, G4A_PAST + 1, 1, 1]);
            let mask = b.g.input(Ty::F32, [G4A_CHUNK + G4A_PAST, G4A_CHUNK, blocks, 1]);
            for il in 0..e.n_layer {
                cur = b.gemma4a_block(cur, il, pos_emb, mask);
            }
            if let Some(w) = b.w("a.pre_encode.out.weight") {
                cur = b.clamped_mm(w, cur);
                let bias = b.w("a.pre_encode.out.bias");
                cur = b.add_opt(cur, bias);
            }
            cur = b.g.unary(cur);
            let sw = b.w("mm.a.soft_emb_norm.weight");
            cur = b.add_opt(cur, sw);
            if let Some(w) = b.w("mm.a.input_projection.weight") {
                cur = b.clamped_mm(w, cur);
            }
            b.finish(cur)
        }
        Tail::MobileNetV5 => {
            let raw = b.g.input(Ty::F32, [side, side, 3, 1]);
            let mut cur = b.pad_same(raw, 3, 2);
            let stem = b.w("v.conv_stem.conv.weight");
            let stem = b.need(stem);
            cur = b.conv_2d_direct(stem, cur, 2, 0);
            let sb = b.w("v.conv_stem.conv.bias");
            cur = b.add_opt(cur, sb);
            if let Some(w) = b.w("v.conv_stem.bn.weight") {
                cur = b.rms_norm_2d(cur, Some(w));
            }
            cur = b.g.unary(cur);
            // the loader's walk: per stage, blocks 0, 1, ... while one of their tensors exists
            let mut blocks: Vec<(u64, u64)> = Vec::new();
            let mut stage_ends: Vec<usize> = Vec::new();
            for st in 0..4u64 {
                let start = blocks.len();
                for bi in 0..MNV5_MAX_BLOCKS {
                    let pre = format!("v.blk.{st}.{bi}");
                    let found = ["conv_exp.weight", "dw_start.conv.weight", "pw_exp.conv.weight", "attn.query.proj.weight"]
                        .iter()
                        .any(|t| e.has(&format!("{pre}.{t}")));
                    if !found {
                        break;
                    }
                    blocks.push((st, bi));
                }
                if blocks.len() > start {
                    stage_ends.push(blocks.len() - 1);
                }
            }
            let total = blocks.len();
            let mut feats: Vec<Id> = Vec::new();
            for (i, &(st, bi)) in blocks.iter().enumerate() {
                let stage_start = i == 0 || stage_ends.iter().any(|&end| i == end + 1);
                let stride = if stage_start { 2 } else { 1 };
                let pre = format!("v.blk.{st}.{bi}");
                cur = if e.has(&format!("{pre}.conv_exp.weight")) {
                    b.mnv5_edge(cur, &pre, stride)
                } else if e.has(&format!("{pre}.attn.query.proj.weight")) {
                    b.mnv5_attn(cur, &pre)
                } else {
                    b.mnv5_uir(cur, &pre, stride)
                };
                let fusion = match stage_ends.get(2..4) {
                    Some(ends) => ends.contains(&i),
                    None => i + 1 == total,
                };
                if fusion {
                    feats.push(cur);
                }
            }
            if let Some(&first) = feats.first() {
                let (hw, hh) = (b.g.ne(first)[0], b.g.ne(first)[1]);
                let mut fused = NONE;
                for &f in &feats {
                    let fnn = b.g.ne(f);
                    let f = if fnn[0] < hw || fnn[1] < hh {
                        let sc = hw / fnn[0].max(1);
                        b.op(Ty::F32, [fnn[0] * sc, fnn[1] * sc, fnn[2], fnn[3]], &[f])
                    } else {
                        f
                    };
                    fused = if fused == NONE { f } else { b.g.concat(fused, f, 2) };
                }
                cur = fused;
                if let Some(w) = b.w("v.msfa.ffn.pw_exp.conv.weight") {
                    cur = b.conv_2d_direct(w, cur, 1, 0);
                    if let Some(n) = b.w("v.msfa.ffn.pw_exp.bn.weight") {
                        cur = b.rms_norm_2d(cur, Some(n));
                    }
                    cur = b.g.unary(cur);
                }
                if let Some(w) = b.w("v.msfa.ffn.pw_proj.conv.weight") {
                    cur = b.conv_2d_direct(w, cur, 1, 0);
                    if let Some(n) = b.w("v.msfa.ffn.pw_proj.bn.weight") {
                        cur = b.rms_norm_2d(cur, Some(n));
                    }
                }
                let cn = b.g.ne(cur);
                if cn[0] > MNV5_OUT_SIDE {
                    let k = cn[0] / MNV5_OUT_SIDE;
                    cur = b.op(Ty::F32, [cn[0] / k, cn[1] / k, cn[2], cn[3]], &[cur]);
                }
                if let Some(n) = b.w("v.msfa.norm.weight") {
                    cur = b.rms_norm_2d(cur, Some(n));
                }
            }
            let cn = b.g.ne(cur);
            let p1 = b.g.permute(cur, [2, 1, 0, 3]);
            let p2 = b.g.permute_0213(p1);
            let pn = b.g.ne(p2);
            cur = b.g.cont(p2, pn);
            cur = b.g.reshape(cur, [cn[2], cn[0] * cn[1], cn[3], 1]);
            let rn = b.g.ne(cur);
            cur = b.g.cont(cur, rn);
            cur = b.g.unary(cur);
            cur = b.g.unary(cur);
            let sw = b.w("mm.soft_emb_norm.weight");
            cur = b.add_opt(cur, sw);
            if let Some(w) = b.w("mm.input_projection.weight") {
                cur = b.g.mul_mat(w, cur);
            }
            cur = b.g.unary(cur);
            let pw = b.w("mm.post_proj_norm.weight");
            cur = b.add_opt(cur, pw);
            b.finish(cur)
        }
        Tail::MiniCpmV46 => {
            let np = side / e.patch_size.max(1);
            let n_pos = np * np;
            let half = np / 2;
            let n_ds = half * half;
            let four = merge == 2;
            let n_out = if four { n_ds } else { (half / 2) * (half / 2) };
            let positions = b.g.input(Ty::I32, [n_pos, 1, 1, 1]);
            let pe = b.w("v.position_embd.weight");
            let pe = b.need(pe);
            let learned = b.g.get_rows(pe, positions);
            let mut win = [NONE; 2];
            let mut mask = NONE;
            let mut ds_idx = [NONE; 4];
            if !four {
                win = [b.g.input(Ty::I32, [n_pos, 1, 1, 1]), b.g.input(Ty::I32, [n_pos, 1, 1, 1])];
                mask = b.g.input(Ty::F32, [n_pos, n_pos, 1, 1]);
                if b.flash_attn {
                    mask = b.g.cast(mask, Ty::F16);
                }
                for x in &mut ds_idx {
                    *x = b.g.input(Ty::I32, [n_ds, 1, 1, 1]);
                }
            }
            let mut merger_idx = [NONE; 4];
            for x in &mut merger_idx {
                *x = b.g.input(Ty::I32, [n_out, 1, 1, 1]);
            }
            let inp = b.inp(side);
            let mut cur;
            if four {
                cur = b.vit("v", inp, n_pos, Some(learned), false);
            } else {
                let insert = e.wa_layer_indexes.first().copied().unwrap_or(0).min(e.n_layer.saturating_sub(1));
                b.layers = Some(insert + 1);
                b.no_post_ln = true;
                cur = b.vit("v", inp, n_pos, Some(learned), false);
                // ViT merger: windowed self-attention (window-major order, block-diagonal mask)
                let residual = cur;
                let (w1, b1) = (b.w("v.vit_merger.ln1.weight"), b.w("v.vit_merger.ln1.bias"));
                let mut x = b.norm(cur, w1, b1, false);
                x = b.g.get_rows(x, win[0]);
                let d = e.n_embd / e.n_head.max(1);
                let mut qkv = [NONE; 3];
                for (slot, a) in qkv.iter_mut().zip(["q", "k", "v"]) {
                    let w = b.w(&format!("v.vit_merger.attn_{a}.weight"));
                    let w = b.need(w);
                    let m = b.mm(w, x);
                    let bias = b.w(&format!("v.vit_merger.attn_{a}.bias"));
                    let m = b.add_opt(m, bias);
                    *slot = b.g.reshape(m, [d, e.n_head.max(1), n_pos, 1]);
                }
                let (ow, ob) = (b.w("v.vit_merger.attn_out.weight"), b.w("v.vit_merger.attn_out.bias"));
                x = b.attn(qkv[0], qkv[1], qkv[2], ow, ob, mask);
                x = b.g.get_rows(x, win[1]);
                cur = b.g.binary(x, residual);
                // 2x2 downsample: the four patches concatenated through an MLP, plus their mean
                let parts: Vec<Id> = ds_idx.iter().map(|&i| b.g.get_rows(cur, i)).collect();
                let (p0, p1, p2, p3) = (parts[0], parts[1], parts[2], parts[3]);
                let mut mean = b.g.binary(p0, p1);
                mean = b.g.binary(mean, p2);
                mean = b.g.binary(mean, p3);
                mean = b.g.unary(mean);
                let mut cat = b.g.concat(p0, p1, 0);
                cat = b.g.concat(cat, p2, 0);
                cat = b.g.concat(cat, p3, 0);
                let (lw, lb) = (b.w("v.vit_merger.ds_ln.weight"), b.w("v.vit_merger.ds_ln.bias"));
                let mut y = b.norm(cat, lw, lb, false);
                let f = Ffn {
                    up: b.w("v.vit_merger.ds_ffn_up.weight"),
                    up_b: b.w("v.vit_merger.ds_ffn_up.bias"),
                    gate: None,
                    gate_b: None,
                    down: b.w("v.vit_merger.ds_ffn_down.weight"),
                    down_b: b.w("v.vit_merger.ds_ffn_down.bias"),
                };
                y = b.ffn(y, f);
                cur = b.g.binary(y, mean);
                b.first_layer = insert + 1;
                b.layers = None;
                b.no_pre_ln = true;
                b.no_post_ln = false;
                cur = b.vit("v", cur, n_ds, None, false);
            }
            let parts: Vec<Id> = merger_idx.iter().map(|&i| b.g.get_rows(cur, i)).collect();
            let mut cat = b.g.concat(parts[0], parts[1], 0);
            cat = b.g.concat(cat, parts[2], 0);
            cat = b.g.concat(cat, parts[3], 0);
            let (nw, nb) = (b.w("mm.input_norm.weight"), b.w("mm.input_norm.bias"));
            cur = b.norm(cat, nw, nb, false);
            let f =
                Ffn { up: b.w("mm.up.weight"), up_b: b.w("mm.up.bias"), gate: None, gate_b: None, down: b.w("mm.down.weight"), down_b: b.w("mm.down.bias") };
            cur = b.ffn(cur, f);
            b.finish(cur)
        }
        Tail::Parakeet => {
            let frames = frames.max(1);
            let raw = b.g.input(Ty::F32, [frames, e.n_mel_bins, 1, 1]);
            let t = b.g.transpose(raw);
            let tn = b.g.ne(t);
            let mut cur = b.g.cont(t, tn);
            // conv.0 (im2col) + ReLU, conv.2 depthwise s2, conv.3 pointwise (im2col) + ReLU,
            // conv.5 depthwise s2, conv.6 pointwise (im2col) + ReLU; each with its bias
            for (i, s2, relu) in [(0, true, true), (2, true, false), (3, false, true), (5, true, false), (6, false, true)] {
                let (w, bias) = (b.w(&format!("a.conv1d.{i}.weight")), b.w(&format!("a.conv1d.{i}.bias")));
                let w = b.need(w);
                cur = match (i, s2) {
                    (0, _) => b.conv_2d_ty(w, cur, 2, 1),
                    (_, true) => b.conv_2d_dw_direct(w, cur, 2, 1),
                    _ => b.conv_2d_ty(w, cur, 1, 0),
                };
                cur = b.add_opt(cur, bias);
                if relu {
                    cur = b.g.unary(cur);
                }
            }
            let p = b.g.permute(cur, [0, 2, 1, 3]);
            let pn = b.g.ne(p);
            cur = b.g.cont(p, pn);
            cur = b.g.reshape(cur, [pn[0] * pn[1], pn[2], 1, 1]);
            let (ow, ob) = (b.w("a.pre_encode.out.weight"), b.w("a.pre_encode.out.bias"));
            let ow = b.need(ow);
            cur = b.mm(ow, cur);
            cur = b.add_opt(cur, ob);
            let n_time = b.g.ne(cur)[1];
            if n_time > PARAKEET_LOCAL_ATTN_THRESHOLD {
                // the local-attention branch (inputs over 8192 positions) is not rebuilt
                return None;
            }
            let window = 2 * n_time - 1;
            let d_half = e.n_embd / 2;
            let mask = b.g.input(Ty::F32, [n_time, n_time, 1, 1]);
            let pos_freqs = b.g.input(Ty::F32, [d_half, 1, 1, 1]);
            let rel_positions = b.g.input(Ty::F32, [1, window, 1, 1]);
            let freqs = b.g.repeat(pos_freqs, [d_half, window, 1, 1]);
            let theta = b.g.binary(freqs, rel_positions);
            // ggml_sin / ggml_cos are not in-place-able ops for ggml-alloc
            let sin = b.g.norm(theta);
            let sin = b.g.reshape(sin, [1, d_half, window, 1]);
            let cos = b.g.norm(theta);
            let cos = b.g.reshape(cos, [1, d_half, window, 1]);
            let cat = b.g.concat(sin, cos, 0);
            let cn = b.g.ne(cat);
            let pos_emb = b.g.cont(cat, cn);
            let pos_emb = b.g.reshape(pos_emb, [e.n_embd, window, 1, 1]);
            for il in 0..e.n_layer {
                cur = b.parakeet_block(cur, il, pos_emb, mask);
            }
            cur = b.g.unary(cur);
            let nw = b.w("mm.a.norm_pre.weight");
            cur = b.add_opt(cur, nw);
            let (u, d) = (b.w("mm.a.mlp.1.weight"), b.w("mm.a.mlp.2.weight"));
            if let Some(u) = u {
                cur = b.mm(u, cur);
            }
            cur = b.g.unary(cur);
            cur = b.g.unary(cur);
            if let Some(d) = d {
                cur = b.mm(d, cur);
            }
            b.finish(cur)
        }
        Tail::GraniteSpeech => {
            // explicit feature layers (concatenated block outputs) are not rebuilt here
            if e.feature_layers {
                return None;
            }
            let n = frames.max(1);
            let ctx = e.audio_chunk.filter(|&c| c > 0)?;
            let (ws, ds) = e.audio_proj_window.filter(|&(w, d)| w > 0 && d > 0)?;
            let pheads = e.audio_proj_heads.filter(|&h| h > 0)?;
            let nblk = n.div_ceil(ctx);
            let padded = nblk * ctx;
            let dists = b.g.input(Ty::I32, [ctx * ctx, 1, 1, 1]);
            let mask = if !n.is_multiple_of(ctx) { b.g.input(Ty::F32, [ctx, ctx, 1, nblk]) } else { NONE };
            let raw = b.g.input(Ty::F32, [n, e.n_mel_bins, 1, 1]);
            let t = b.g.transpose(raw);
            let tn = b.g.ne(t);
            let mut cur = b.g.cont(t, tn);
            let (iw, ib) = (b.w("a.input_projection.weight"), b.w("a.input_projection.bias"));
            let iw = b.need(iw);
            cur = b.mm(iw, cur);
            cur = b.add_opt(cur, ib);
            let ctc_layer = e.n_layer / 2;
            for il in 0..e.n_layer {
                cur = b.granite_block(cur, il, ctx, nblk, padded, dists, mask);
                if il + 1 == ctc_layer {
                    let (w, bias) = (b.w("a.enc_ctc_out.weight"), b.w("a.enc_ctc_out.bias"));
                    let w = b.need(w);
                    let mut mid = b.mm(w, cur);
                    mid = b.add_opt(mid, bias);
                    mid = b.g.soft_max_ext(mid, NONE);
                    let (w, bias) = (b.w("a.enc_ctc_out_mid.weight"), b.w("a.enc_ctc_out_mid.bias"));
                    let w = b.need(w);
                    mid = b.mm(w, mid);
                    mid = b.add_opt(mid, bias);
                    cur = b.g.binary(cur, mid);
                }
            }
            // windowed Q-Former
            let e_w = e.n_embd;
            let nq = ws / ds;
            let pd = e_w / pheads;
            let nbp = n.div_ceil(ws);
            if nbp * ws > n {
                cur = b.op(Ty::F32, [e_w, nbp * ws, 1, 1], &[cur]);
            }
            let enc = b.g.reshape(cur, [e_w, ws, nbp, 1]);
            let qw = b.w("a.proj_query");
            let qw = b.need(qw);
            let (nw, nb) = (b.w("a.proj_norm.weight"), b.w("a.proj_norm.bias"));
            let mut q = b.norm(qw, nw, nb, false);
            q = b.g.reshape(q, [e_w, nq, 1, 1]);
            q = b.g.repeat(q, [e_w, nq, nbp, 1]);
            for il in 0..2u64 {
                let pre = format!("a.proj_blk.{il}");
                let lin = |b: &mut Builder, name: &str, x: Id| {
                    let w = b.w(&format!("{pre}.{name}.weight"));
                    let w = b.need(w);
                    let m = b.mm(w, x);
                    let bias = b.w(&format!("{pre}.{name}.bias"));
                    b.add_opt(m, bias)
                };
                for (kind, kv_src, kv_len) in [("self_attn", q, nq), ("cross_attn", enc, ws)] {
                    let kv_src = if kind == "self_attn" { q } else { kv_src };
                    let qq = lin(&mut b, &format!("{kind}_q"), q);
                    let kk = lin(&mut b, &format!("{kind}_k"), kv_src);
                    let vv = lin(&mut b, &format!("{kind}_v"), kv_src);
                    let qq = b.g.reshape(qq, [pd, pheads, nq, nbp]);
                    let kk = b.g.reshape(kk, [pd, pheads, kv_len, nbp]);
                    let vv = b.g.reshape(vv, [pd, pheads, kv_len, nbp]);
                    let (ow, ob) = (b.w(&format!("{pre}.{kind}_out.weight")), b.w(&format!("{pre}.{kind}_out.bias")));
                    let mut o = b.attn(qq, kk, vv, ow, ob, NONE);
                    o = b.g.reshape(o, [e_w, nq, nbp, 1]);
                    o = b.g.binary(o, q);
                    let (nw, nb) = (b.w(&format!("{pre}.{kind}_norm.weight")), b.w(&format!("{pre}.{kind}_norm.bias")));
                    q = b.norm(o, nw, nb, false);
                }
                let f = Ffn {
                    up: b.w(&format!("{pre}.ffn_up.weight")),
                    up_b: b.w(&format!("{pre}.ffn_up.bias")),
                    gate: None,
                    gate_b: None,
                    down: b.w(&format!("{pre}.ffn_down.weight")),
                    down_b: b.w(&format!("{pre}.ffn_down.bias")),
                };
                let mut o = b.ffn(q, f);
                o = b.g.binary(o, q);
                let (nw, nb) = (b.w(&format!("{pre}.ffn_norm.weight")), b.w(&format!("{pre}.ffn_norm.bias")));
                q = b.norm(o, nw, nb, false);
            }
            cur = b.g.reshape(q, [e_w, nq * nbp, 1, 1]);
            let (lw, lb) = (b.w("a.proj_linear.weight"), b.w("a.proj_linear.bias"));
            let lw = b.need(lw);
            cur = b.mm(lw, cur);
            cur = b.add_opt(cur, lb);
            b.finish(cur)
        }
        Tail::Deepseek4v => {
            let np = side / e.patch_size.max(1);
            let n = np * np;
            let m = merge.max(1);
            let positions = b.g.input(Ty::I32, [4 * n, 1, 1, 1]);
            let inp = b.inp(side);
            let mut cur = b.vit_pos("v", inp, n, None, true, &[positions]);
            cur = b.g.reshape(cur, [e.n_embd, np, np, 1]);
            cur = b.g.permute(cur, [2, 0, 1, 3]);
            cur = b.g.cont(cur, [np, np, e.n_embd, 1]);
            let padn = (m - np % m) % m;
            if padn > 0 {
                cur = b.op(Ty::F32, [np + padn, np + padn, e.n_embd, 1], &[cur]);
            }
            let g = (np + padn) / m;
            let kernel = b.g.view(cur, [m, m, e.n_embd, 1], [4, 0, 0, 0], &[cur]);
            cur = b.op(Ty::F32, [e.n_embd * m * m, g, g, 1], &[kernel, cur]);
            cur = b.g.reshape(cur, [e.n_embd * m * m, g * g, 1, 1]);
            let f = Ffn { up: b.w("mm.1.weight"), up_b: b.w("mm.1.bias"), gate: None, gate_b: None, down: b.w("mm.2.weight"), down_b: b.w("mm.2.bias") };
            cur = b.ffn(cur, f);
            let pe = b.g.ne(cur)[0];
            for name in ["v.token_embd.img_start", "v.token_embd.img_end", "v.image_newline", "v.token_embd.img_pad"] {
                let tok = b.w(name);
                let tok = b.need(tok);
                let tok = b.g.reshape(tok, [pe, 1, 1, 1]);
                cur = b.g.concat(cur, tok, 1);
            }
            let idx = b.g.input(Ty::I32, [crate::estimate::vision_compute::dsv4_tokens(g, g), 1, 1, 1]);
            cur = b.g.get_rows(cur, idx);
            b.finish(cur)
        }
        Tail::Dots3noteA => {
            let frames = frames.max(1);
            let mut cur = b.g.input(Ty::F32, [frames, e.n_mel_bins, 1, 1]);
            for i in 1..=3 {
                let (w, bias) = (b.w(&format!("a.conv2d.{i}.weight")), b.w(&format!("a.conv2d.{i}.bias")));
                let w = b.need(w);
                cur = b.conv_2d_ty(w, cur, 2, 1);
                if let Some(bias) = bias {
                    let c = b.g.ne(cur)[2];
                    let r = b.g.reshape(bias, [1, 1, c, 1]);
                    cur = b.g.binary(cur, r);
                }
                cur = b.g.unary(cur);
            }
            let p = b.g.permute(cur, [2, 0, 1, 3]);
            let pn = b.g.ne(p);
            cur = b.g.cont(p, pn);
            cur = b.g.reshape(cur, [pn[0] * pn[1], pn[2], 1, 1]);
            let w = b.w("a.conv_out.weight");
            let w = b.need(w);
            cur = b.g.mul_mat(w, cur);
            let n_pos = b.g.ne(cur)[1];
            let positions = b.g.input(Ty::I32, [n_pos, 1, 1, 1]);
            cur = b.vit_pos("a", cur, n_pos, None, true, &[positions]);
            let (nw, nb) = (b.w("mm.a.norm_pre.weight"), b.w("mm.a.norm_pre.bias"));
            cur = b.norm(cur, nw, nb, false);
            let f = Ffn {
                up: b.w("mm.a.mlp.1.weight"),
                up_b: b.w("mm.a.mlp.1.bias"),
                gate: None,
                gate_b: None,
                down: b.w("mm.a.mlp.3.weight"),
                down_b: b.w("mm.a.mlp.3.bias"),
            };
            cur = b.ffn(cur, f);
            b.finish(cur)
        }
        Tail::Yasa2 => {
            let raw = b.g.input(Ty::F32, [side, side, 3, 1]);
            let pw = b.w("v.patch_embd.weight");
            let pw = b.need(pw);
            let ps = e.patch_size.max(1);
            let mut cur = b.conv_2d_ty(pw, raw, ps, 0);
            cur = b.chan_bias(cur, "v.patch_embd.bias");
            cur = b.ln_channels(cur, "v.patch_ln.weight", "v.patch_ln.bias");
            for st in 0..YASA_MAX_STAGES {
                let down = e.has(&format!("v.stage.{st}.down.conv.weight"));
                let nblk = (0..YASA_MAX_STAGES).take_while(|bi| e.has(&format!("v.stage.{st}.blk.{bi}.dw.weight"))).count() as u64;
                if !down && nblk == 0 {
                    break;
                }
                if down {
                    cur = b.ln_channels(cur, &format!("v.stage.{st}.down.ln.weight"), &format!("v.stage.{st}.down.ln.bias"));
                    let w = b.w(&format!("v.stage.{st}.down.conv.weight"));
                    let w = b.need(w);
                    cur = b.conv_2d_ty(w, cur, 2, 0);
                    cur = b.chan_bias(cur, &format!("v.stage.{st}.down.conv.bias"));
                }
                for bi in 0..nblk {
                    cur = b.yasa_block(cur, &format!("v.stage.{st}.blk.{bi}"));
                }
            }
            let cn = b.g.ne(cur);
            let (w_, h_, c) = (cn[0], cn[1], cn[2]);
            let mut tok = b.g.reshape(cur, [w_ * h_, c, 1, 1]);
            tok = b.g.transpose(tok);
            tok = b.g.cont(tok, [c, w_ * h_, 1, 1]);
            if let Some(pe) = b.w("v.vision_pos_embed").filter(|&pe| b.g.ne(pe)[1] == w_ * h_) {
                let pn = b.g.ne(pe);
                let pe = b.g.reshape(pe, [pn[0], pn[1], 1, 1]);
                tok = b.g.binary(tok, pe);
            }
            let t = b.g.transpose(tok);
            cur = b.g.cont(t, [w_ * h_, c, 1, 1]);
            cur = b.g.reshape(cur, [w_, h_, c, 1]);
            let (pw_, ph_) = (w_.min(YASA_POOL), h_.min(YASA_POOL));
            let (kw, kh) = ((w_ / pw_.max(1)).max(1), (h_ / ph_.max(1)).max(1));
            let (ow, oh) = ((w_ - kw) / kw + 1, (h_ - kh) / kh + 1);
            cur = b.op(Ty::F32, [ow, oh, c, 1], &[cur]);
            let mut tokens = b.g.reshape(cur, [ow * oh, c, 1, 1]);
            tokens = b.g.transpose(tokens);
            tokens = b.g.cont(tokens, [c, ow * oh, 1, 1]);
            let f = Ffn { up: b.w("mm.0.weight"), up_b: b.w("mm.0.bias"), gate: None, gate_b: None, down: b.w("mm.2.weight"), down_b: b.w("mm.2.bias") };
            let out = b.ffn(tokens, f);
            b.finish(out)
        }
        Tail::Qwen3TtsSpkEnc => {
            let frames = frames.max(1);
            let raw = b.g.input(Ty::F32, [frames, e.n_mel_bins, 1, 1]);
            let t = b.g.transpose(raw);
            let mel = b.g.cont(t, [e.n_mel_bins, frames, 1, 1]);
            let mut cur = b.tdnn(mel, "a.conv1d.0", 1);
            cur = b.g.unary(cur);
            let mut outs = [NONE; 3];
            for (il, slot) in outs.iter_mut().enumerate() {
                cur = b.se_res2net(cur, il as u64 + 1, SPK_DILATIONS[il]);
                *slot = cur;
            }
            let mut cat = b.g.concat(outs[0], outs[1], 0);
            cat = b.g.concat(cat, outs[2], 0);
            let mut mfa = b.tdnn(cat, "a.conv_out", 1);
            mfa = b.g.unary(mfa);
            let stats = b.asp(mfa);
            let emb = b.tdnn(stats, "mm.a.fc", 1);
            let n = b.g.ne(emb)[0];
            let emb = b.g.reshape(emb, [n, 1, 1, 1]);
            let emb = b.g.cont(emb, [n, 1, 1, 1]);
            b.finish(emb)
        }
        Tail::Qwen3a => {
            let chunks = frames / 100;
            let mel = e.n_mel_bins;
            let raw = b.g.input(Ty::F32, [frames, mel, 1, 1]);
            let v = b.g.view_nd(raw, [100, mel, 1, chunks], frames * 4, 400, 400);
            let mut cur = b.g.cont(v, [100, mel, 1, chunks]);
            for i in 1..=3 {
                let (w, bias) = (b.w(&format!("a.conv2d.{i}.weight")), b.w(&format!("a.conv2d.{i}.bias")));
                let w = b.need(w);
                cur = b.conv_2d(w, cur, 2, 1);
                if let Some(bias) = bias {
                    let c = b.g.ne(cur)[2];
                    let r = b.g.reshape(bias, [1, 1, c, 1]);
                    cur = b.g.binary(cur, r);
                }
                cur = b.g.unary(cur);
            }
            let cn = b.g.ne(cur);
            cur = b.g.permute(cur, [2, 0, 1, 3]);
            cur = b.g.cont(cur, [cn[1], cn[2], cn[0], cn[3]]);
            cur = b.g.reshape(cur, [cn[1] * cn[2], cn[0] * cn[3], 1, 1]);
            let w = b.w("a.conv_out.weight");
            let w = b.need(w);
            cur = b.g.mul_mat(w, cur);
            let cb = b.w("a.conv_out.bias");
            cur = b.add_opt(cur, cb);
            let n_pos = b.g.ne(cur)[1];
            let per_chunk = n_pos / chunks.max(1);
            let pe = b.w("a.position_embd.weight");
            let pe = b.need(pe);
            let row = b.g.t[pe as usize].nb[1];
            let pn = b.g.ne(pe);
            let pv = b.g.view(pe, [pn[0], per_chunk, 1, 1], [4, row, row * per_chunk, row * per_chunk], &[pe]);
            let rep = b.g.repeat(pv, [pn[0], n_pos, 1, 1]);
            cur = b.g.binary(cur, rep);
            cur = b.vit("a", cur, n_pos, None, false);
            let f = Ffn {
                up: b.w("mm.a.mlp.1.weight"),
                up_b: b.w("mm.a.mlp.1.bias"),
                gate: None,
                gate_b: None,
                down: b.w("mm.a.mlp.2.weight"),
                down_b: b.w("mm.a.mlp.2.bias"),
            };
            cur = b.ffn(cur, f);
            b.finish(cur)
        }
        Tail::Ultravox | Tail::Voxtral | Tail::Qwen2a | Tail::Meralion | Tail::Glma => {
            let inp = b.g.input(Ty::F32, [frames, e.n_mel_bins, 1, 1]);
            let (c1, c1b, c2, c2b) = (b.w("a.conv1d.1.weight"), b.w("a.conv1d.1.bias"), b.w("a.conv1d.2.weight"), b.w("a.conv1d.2.bias"));
            let mut cur = {
                let k = b.need(c1);
                b.conv_1d_ph(k, inp, 1)
            };
            cur = b.add_opt(cur, c1b);
            cur = b.g.unary(cur);
            cur = {
                let k = b.need(c2);
                b.conv_1d_ph(k, cur, 2)
            };
            cur = b.add_opt(cur, c2b);
            cur = b.g.unary(cur);
            let tr = b.g.transpose(cur);
            let tn = b.g.ne(tr);
            let inp = b.g.cont(tr, tn);
            let n_pos = frames / 2;
            let pos = b.w("a.position_embd.weight").map(|p| {
                let pn = b.g.ne(p);
                let row = b.g.t[p as usize].nb[1];
                b.g.view(p, [pn[0], n_pos, 1, 1], [4, row, row * n_pos, row * n_pos], &[p])
            });
            let mut cur = b.vit("a", inp, n_pos, pos, false);
            // clip_model::audio_has_stack_frames
            if matches!(e.projector_type.as_str(), "ultravox" | "voxtral" | "meralion") {
                cur = b.stack(cur);
            }
            match t {
                Tail::Ultravox => {
                    cur = b.g.unary(cur);
                    if let Some(w) = b.w("mm.a.norm_pre.weight") {
                        cur = b.g.binary(cur, w);
                    }
                    if let Some(w) = b.w("mm.a.mlp.1.weight") {
                        cur = b.g.mul_mat(w, cur);
                    }
                    cur = b.g.glu(cur);
                    cur = b.g.unary(cur);
                    if let Some(w) = b.w("mm.a.norm_mid.weight") {
                        cur = b.g.binary(cur, w);
                    }
                    if let Some(w) = b.w("mm.a.mlp.2.weight") {
                        cur = b.g.mul_mat(w, cur);
                    }
                }
                Tail::Voxtral => {
                    let (u, ub, d, db) = (b.w("mm.a.mlp.1.weight"), b.w("mm.a.mlp.1.bias"), b.w("mm.a.mlp.2.weight"), b.w("mm.a.mlp.2.bias"));
                    cur = b.ffn(cur, Ffn { up: u, up_b: ub, gate: None, gate_b: None, down: d, down_b: db });
                }
                Tail::Meralion => {
                    let (nw, nb) = (b.w("mm.a.norm_pre.weight"), b.w("mm.a.norm_pre.bias"));
                    cur = b.norm(cur, nw, nb, false);
                    let mut lin = [NONE; 4];
                    for (i, l) in lin.iter_mut().enumerate() {
                        let w = b.w(&format!("mm.a.mlp.{i}.weight"));
                        *l = b.need(w);
                    }
                    let bias = |b: &mut Builder, i: usize| b.w(&format!("mm.a.mlp.{i}.bias"));
                    cur = b.g.mul_mat(lin[0], cur);
                    let b0 = bias(&mut b, 0);
                    cur = b.add_opt(cur, b0);
                    cur = b.g.unary(cur);
                    let mut gate = b.g.mul_mat(lin[1], cur);
                    let b1 = bias(&mut b, 1);
                    gate = b.add_opt(gate, b1);
                    gate = b.g.unary(gate);
                    let mut pool = b.g.mul_mat(lin[2], cur);
                    let b2 = bias(&mut b, 2);
                    pool = b.add_opt(pool, b2);
                    cur = b.g.binary(gate, pool);
                    cur = b.g.mul_mat(lin[3], cur);
                    let b3 = bias(&mut b, 3);
                    cur = b.add_opt(cur, b3);
                }
                Tail::Glma => {
                    let (nw, nb) = (b.w("mm.a.norm_pre.weight"), b.w("mm.a.norm_pre.bias"));
                    cur = b.norm(cur, nw, nb, false);
                    cur = b.stack(cur);
                    let (u, ub, d, db) = (b.w("mm.a.mlp.1.weight"), b.w("mm.a.mlp.1.bias"), b.w("mm.a.mlp.2.weight"), b.w("mm.a.mlp.2.bias"));
                    cur = b.ffn(cur, Ffn { up: u, up_b: ub, gate: None, gate_b: None, down: d, down_b: db });
                    let (boi, eoi) = (b.w("v.boi"), b.w("v.eoi"));
                    let (boi, eoi) = (b.need(boi), b.need(eoi));
                    cur = b.g.concat(boi, cur, 1);
                    cur = b.g.concat(cur, eoi, 1);
                }
                _ => {
                    if let Some(w) = b.w("mm.a.fc.weight") {
                        cur = b.g.mul_mat(w, cur);
                    }
                    let fb = b.w("mm.a.fc.bias");
                    cur = b.add_opt(cur, fb);
                }
            }
            b.finish(cur)
        }
    }
}

/// The generic ViT (`build_inp` + `build_vit`, learned positions, no projector) over an image of
/// `side` pixels: the estimate for projector types whose own graph is not rebuilt.
pub fn reserve_generic_vit(e: &ClipEncoder, flash_attn: bool, side: u64) -> Option<u64> {
    let mut b = Builder::new(e, flash_attn);
    let np = side / e.patch_size.max(1);
    let inp = b.inp(side);
    let pos = b.w("v.position_embd.weight").filter(|&p| b.g.ne(p)[1] == np * np);
    let cur = b.vit("v", inp, np * np, pos, false);
    b.finish(cur)
}

/// A plain pre-norm transformer of the encoder's declared geometry (width, heads, FFN width,
/// blocks) over `n_pos` positions, with weights of those shapes whatever the file's tensors are
/// named: the last-resort estimate for encoders that are neither rebuilt here nor a standard ViT
/// or whisper tower (conformers, MobileNet, SAM), so that every type mtmd loads gets a figure,
/// labelled an estimate. `None` without a width or positions.
pub fn reserve_declared(e: &ClipEncoder, flash_attn: bool, n_pos: u64) -> Option<u64> {
    let (n_embd, n_head) = (e.n_embd, e.n_head.max(1));
    // a file whose tensors are beyond any real projector is refused here as in the other graphs
    let hostile = e.tensors.iter().any(|(_, ne, _)| ne.iter().fold(1u64, |a, &x| a.saturating_mul(x)) > 1 << 40);
    if hostile || n_embd == 0 || n_pos == 0 || n_embd % n_head != 0 {
        return None;
    }
    let n_ff = if e.n_ff > 0 { e.n_ff } else { 4 * n_embd };
    let d = n_embd / n_head;
    let mut b = Builder::new(e, flash_attn);
    b.clamp_mm = false;
    let mut inp_l = b.g.input(Ty::F32, [n_embd, n_pos, 1, 1]);
    for _ in 0..e.n_layer.max(1) {
        let cur = b.g.norm(inp_l);
        let mut qkv = [NONE; 3];
        for x in &mut qkv {
            let w = b.g.external(Ty::F16, [n_embd, n_embd, 1, 1]);
            let m = b.g.mul_mat(w, cur);
            *x = b.g.reshape(m, [d, n_head, n_pos, 1]);
        }
        let wo = b.g.external(Ty::F16, [n_embd, n_embd, 1, 1]);
        let mut cur = b.attn(qkv[0], qkv[1], qkv[2], Some(wo), None, NONE);
        cur = b.g.binary(cur, inp_l);
        inp_l = cur;
        cur = b.g.norm(cur);
        let up = b.g.external(Ty::F16, [n_embd, n_ff, 1, 1]);
        let down = b.g.external(Ty::F16, [n_ff, n_embd, 1, 1]);
        cur = b.ffn(cur, Ffn { up: Some(up), up_b: None, gate: None, gate_b: None, down: Some(down), down_b: None });
        inp_l = b.g.binary(inp_l, cur);
    }
    b.finish(inp_l)
}
