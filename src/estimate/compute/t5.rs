//! Graphs of T5 (src/models/t5.cpp at 0c1e570) and its encoder alone (t5encoder.cpp, the same
//! `graph<true>`). The T5 context reserves its default graph, the decoder (`build_arch_graph`:
//! LLM_GRAPH_TYPE_DEFAULT builds `graph<false>`); `t5encoder` only has the encoder.
//!
//! Encoder: RMS-normed blocks attending over the micro-batch itself (`build_attn_inp_no_cache`)
//! with a relative position bias added to the scores (`build_pos_bias` on an
//! `[n_tokens, n_tokens]` bucket input), so attention never takes the flash path
//! (`build_attn_mha`: `use_flash_attn = flash_attn && kq_b == nullptr`); ReLU or gated-GELU FFN.
//! Decoder: self-attention over the KV cache with the bias of `[n_kv, n_tokens]` buckets, then
//! cross-attention over the encoder output, which at reserve time is an input of
//! `n_ctx_train` rows (`build_inp_cross_embd`: nothing has been encoded yet), with its own
//! `[n_enc, n_tokens]` mask (`build_attn_inp_cross`); then the FFN, the final norm and the LM head.

use super::Weights;
use super::graph::{Graph, Id, NONE, Ty};
use super::inputs;
use super::llm::{self, Batch, KvLayer};
use crate::model::Geometry;

/// Builds the encoder graph (`t5encoder`); `None` when a tensor the graph needs is missing.
pub fn build_encoder(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let tok = w.get(g, "token_embd.weight")?;
    let mut inp_l = inputs::inp_embd(g, b, tok, geo.n_embd);
    let pos_bucket = g.input(Ty::I32, [b.n_tokens, b.n_tokens, 1, 1]);
    let ty = if b.flash_attn { Ty::F16 } else { Ty::F32 };
    let mask = g.input(ty, [b.n_tokens, b.n_tokens, 1, 1]);
    let out_ids = g.input(Ty::I32, [b.n_outputs, 1, 1, 1]);
    let b1 = Batch { n_stream: 1, ..*b };
    let n_layer = blocks(w, "enc", "attn_q.weight");
    if n_layer == 0 {
        return None;
    }
    let rel_b0 = "enc.blk.0.attn_rel_b.weight";
    for il in 0..n_layer {
        let p = |n: &str| format!("enc.blk.{il}.{n}");
        let inp_sa = inp_l;
        let cur = norm(g, w, il, inp_l, &p("attn_norm.weight"))?;
        let (q, k, v) = qkv(g, w, il, cur, cur, geo, [&p("attn_q.weight"), &p("attn_k.weight"), &p("attn_v.weight")], [None; 3])?;
        let rel_b = get(g, w, il, &p("attn_rel_b.weight")).or_else(|| get(g, w, il, rel_b0))?;
        let kq_b = pos_bias(g, pos_bucket, rel_b);
        for t in [q, k, v] {
            g.expand(t);
        }
        let cur = llm::attn_mha_full(g, &b1, q, k, v, kq_b, mask, NONE, NONE);
        let wo = get(g, w, il, &p("attn_o.weight"))?;
        let mut cur = g.mul_mat(wo, cur);
        let mut inp_sa = inp_sa;
        if il + 1 == n_layer {
            cur = g.get_rows(cur, out_ids);
            inp_sa = g.get_rows(inp_sa, out_ids);
        }
        let ffn_inp = g.binary(cur, inp_sa);
        let cur = norm(g, w, il, ffn_inp, &p("ffn_norm.weight"))?;
        let cur = ffn(g, w, il, cur, &p("ffn_up.weight"), &p("ffn_gate.weight"), &p("ffn_down.weight"))?;
        inp_l = g.binary(cur, ffn_inp);
    }
    let onorm = w.get(g, "enc.output_norm.weight")?;
    let h = llm::rms_norm(g, inp_l, onorm);
    // `res->t_embd`, the graph's output.
    g.set_output(h);
    g.expand(h);
    Some(())
}

/// Builds the decoder graph (`t5`); `None` when a tensor the graph needs is missing.
pub fn build_decoder(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let tok = w.get(g, "token_embd.weight")?;
    let mut inp_l = inputs::inp_embd(g, b, tok, geo.n_embd);
    let n_enc = geo.context_length.max(1);
    let embd_enc = g.input(Ty::F32, [geo.n_embd, n_enc, 1, 1]);
    let pos_bucket = g.input(Ty::I32, [b.n_kv, b.n_tokens, 1, 1]);
    let n_layer = blocks(w, "dec", "attn_q.weight");
    if n_layer == 0 {
        return None;
    }
    // `build_attn_inp_kv` (the decoder's cache) then `build_attn_inp_cross`.
    let layers: Vec<_> = geo.layers.iter().filter(|l| l.index < n_layer).collect();
    let inp = inputs::inp_layers(g, b, &layers, false);
    let ty = if b.flash_attn { Ty::F16 } else { Ty::F32 };
    let cross_mask = g.input(ty, [n_enc, b.n_tokens, 1, 1]);
    let out_ids = g.input(Ty::I32, [b.n_outputs, 1, 1, 1]);
    let b1 = Batch { n_stream: 1, ..*b };
    let rel_b0 = "dec.blk.0.attn_rel_b.weight";
    for il in 0..n_layer {
        let p = |n: &str| format!("dec.blk.{il}.{n}");
        let l = layers.iter().find(|l| l.index == il)?;
        let inp_sa = inp_l;
        let cur = norm(g, w, il, inp_l, &p("attn_norm.weight"))?;
        // `build_qkv` multiplies in the generic `.scale` tensors (`blk.N.attn_q.scale`, ...).
        let scales = [w.blk(g, il, "attn_q.scale"), w.blk(g, il, "attn_k.scale"), w.blk(g, il, "attn_v.scale")];
        let (q, k, v) = qkv(g, w, il, cur, cur, geo, [&p("attn_q.weight"), &p("attn_k.weight"), &p("attn_v.weight")], scales)?;
        let rel_b = get(g, w, il, &p("attn_rel_b.weight")).or_else(|| get(g, w, il, rel_b0))?;
        let kq_b = pos_bias(g, pos_bucket, rel_b);
        let hd = g.ne(q)[0];
        let mut kv = KvLayer::new(g, b, hd, hd, l.n_head_kv);
        kv.kq_b = kq_b;
        let cur = llm::attn_kv(g, b, &inp, &kv, q, k, v);
        let wo = get(g, w, il, &p("attn_o.weight"))?;
        let mut cur = g.mul_mat(wo, cur);
        if let Some(s) = w.blk(g, il, "attn_output.scale") {
            cur = g.binary(cur, s);
        }
        let cur = g.binary(cur, inp_sa);
        let mut inp_ca = cur;
        let cur = norm(g, w, il, cur, &p("cross_attn_norm.weight"))?;
        let names = [&p("cross_attn_q.weight"), &p("cross_attn_k.weight"), &p("cross_attn_v.weight")];
        let (q, k, v) = qkv(g, w, il, cur, embd_enc, geo, names, [None; 3])?;
        for t in [q, k, v] {
            g.expand(t);
        }
        let cur = llm::attn_mha(g, &b1, q, k, v, cross_mask, NONE);
        let wo = get(g, w, il, &p("cross_attn_o.weight"))?;
        let mut cur = g.mul_mat(wo, cur);
        if il + 1 == n_layer {
            cur = g.get_rows(cur, out_ids);
            inp_ca = g.get_rows(inp_ca, out_ids);
        }
        let ffn_inp = g.binary(cur, inp_ca);
        let cur = norm(g, w, il, ffn_inp, &p("ffn_norm.weight"))?;
        let cur = ffn(g, w, il, cur, &p("ffn_up.weight"), &p("ffn_gate.weight"), &p("ffn_down.weight"))?;
        inp_l = g.binary(cur, ffn_inp);
    }
    let onorm = w.get(g, "dec.output_norm.weight")?;
    let h = llm::rms_norm(g, inp_l, onorm);
    llm::lm_head(g, w, h, tok, &[]);
    Some(())
}

/// Consecutive blocks `prefix.blk.N` having `name`, from 0 (llama.cpp loads exactly `n_layer`
/// encoder and `dec_n_layer` decoder blocks, so a loadable file has no others).
fn blocks(w: &Weights, prefix: &str, name: &str) -> u32 {
    (0..u32::MAX).find(|il| !w.has(&format!("{prefix}.blk.{il}.{name}"))).unwrap_or(0)
}

/// A `enc.blk.N` / `dec.blk.N` weight, attributed to block `il`.
fn get(g: &mut Graph, w: &Weights, il: u32, name: &str) -> Option<Id> {
    let id = w.get(g, name)?;
    g.cur_layer = il;
    Some(id)
}

/// `build_norm(.., LLM_NORM_RMS, il)`.
fn norm(g: &mut Graph, w: &Weights, il: u32, x: Id, name: &str) -> Option<Id> {
    let wt = get(g, w, il, name)?;
    Some(llm::rms_norm(g, x, wt))
}

/// Q from `xq`, K and V from `xkv` (the same input but in cross-attention), each multiplied by
/// its optional scale, reshaped to [head_dim, heads, rows].
#[allow(clippy::too_many_arguments)] // the projections' names and scales
fn qkv(g: &mut Graph, w: &Weights, il: u32, xq: Id, xkv: Id, geo: &Geometry, names: [&String; 3], scales: [Option<Id>; 3]) -> Option<(Id, Id, Id)> {
    let l = geo.layers.iter().find(|l| l.index == il).or_else(|| geo.layers.first())?;
    let mut out = [NONE; 3];
    for (i, (name, scale)) in names.iter().zip(scales).enumerate() {
        let wt = get(g, w, il, name)?;
        let x = if i == 0 { xq } else { xkv };
        let mut y = g.mul_mat(wt, x);
        if let Some(s) = scale {
            y = g.binary(y, s);
        }
        let heads = if i == 0 { l.n_head } else { l.n_head_kv }.max(1);
        let yn = g.ne(y);
        out[i] = g.reshape(y, [yn[0] / heads, heads, yn[1], 1]);
    }
    Some((out[0], out[1], out[2]))
}

/// `build_pos_bias` (llama-graph.cpp:2601): the bias of each head for each bucket, gathered
/// for every (key, query) pair, made [keys, queries, heads] and contiguous.
fn pos_bias(g: &mut Graph, bucket: Id, rel_b: Id) -> Id {
    let bn = g.ne(bucket);
    let flat = g.reshape(bucket, [bn[0].saturating_mul(bn[1]), 1, 1, 1]);
    let bias = g.get_rows(rel_b, flat);
    let n_head = g.ne(bias)[0];
    let bias = g.reshape(bias, [n_head, bn[0], bn[1], 1]);
    let bias = g.permute(bias, [2, 0, 1, 3]);
    let ne = g.ne(bias);
    g.cont(bias, ne)
}

/// `build_ffn` as T5 calls it: gated GELU with a parallel gate when the block has `ffn_gate`,
/// else ReLU (up, relu, down).
fn ffn(g: &mut Graph, w: &Weights, il: u32, x: Id, up: &str, gate: &str, down: &str) -> Option<Id> {
    let up = get(g, w, il, up)?;
    let gate = get(g, w, il, gate);
    let down = get(g, w, il, down)?;
    Some(match gate {
        Some(gate) => llm::ffn_biased(g, x, [up, gate, down], [NONE; 3]),
        None => {
            let cur = g.mul_mat(up, x);
            let cur = g.unary(cur);
            g.mul_mat(down, cur)
        }
    })
}
