//! Graph of Qwen3.5 / Qwen3.5-MoE (src/models/qwen35.cpp, qwen35moe.cpp at 0c1e570): Gated
//! DeltaNet layers (`build_layer_attn_linear`, fused `ggml_gated_delta_net` as the recorded
//! runs use: fused_gdn_ar/ch) and gated full-attention layers (`build_layer_attn`), each
//! followed by a post-attention norm and a dense or MoE FFN (`build_layer_ffn`).

use super::graph::{Graph, Id, Ty};
use super::llm::{self, Batch, Inputs, KvLayer};
use super::moe;
use super::Weights;
use crate::model::{Geometry, LayerKind};

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let pos_per_embd = if geo.architecture == "qwen3next" { 1 } else { 4 };
    let tok = w.get(g, "token_embd.weight")?;
    let mut inp_l = llm::inp_embd(g, b, tok, geo.n_embd);
    let layers: Vec<_> = geo.layers.iter().filter(|l| !l.mtp).collect();
    let has_attn = layers.iter().any(|l| l.kind == LayerKind::Attention);
    let v_rows = layers.iter().map(|l| l.n_head_kv.saturating_mul(l.head_dim_v)).max().unwrap_or(0);
    let hd = |f: fn(&&&crate::model::LayerGeometry) -> u64| {
        let mut it = layers.iter().filter(|l| l.kind == LayerKind::Attention).map(|l| f(&l));
        let first = it.next().unwrap_or(0);
        if it.all(|x| x == first) { first } else { 0 }
    };
    let hd = (hd(|l| l.head_dim_k), hd(|l| l.head_dim_v));
    let inp = llm::inp_mem(g, b, v_rows, hd, true, has_attn);
    let pos = g.input(Ty::I32, [b.n_tokens.saturating_mul(pos_per_embd), 1, 1, 1]);
    let out_ids = g.input(Ty::I32, [b.n_outputs, 1, 1, 1]);
    for l in &layers {
        let il = l.index;
        let inp_sa = inp_l;
        let w_attn_norm = w.blk(g, il, "attn_norm.weight")?;
        let cur = llm::rms_norm(g, inp_l, w_attn_norm);
        g.expand(cur);
        let cur = match l.kind {
            LayerKind::Recurrent => linear_attn(g, w, b, &inp, il, cur)?,
            LayerKind::Attention => full_attn(g, w, b, &inp, il, cur, pos)?,
            _ => return None,
        };
        let cur = g.binary(cur, inp_sa);
        let ffn_residual = cur;
        let w_post_attention_norm = w.blk(g, il, "post_attention_norm.weight")?;
        let cur = llm::rms_norm(g, cur, w_post_attention_norm);
        let cur = if w.has_blk(il, "ffn_gate_inp.weight") {
            moe::qwen_moe_ffn(g, w, il, cur, l.n_experts_used)?
        } else {
            let w_ffn_up = w.blk(g, il, "ffn_up.weight")?;
            let w_ffn_gate = w.blk(g, il, "ffn_gate.weight")?;
            let w_ffn_down = w.blk(g, il, "ffn_down.weight")?;
            llm::ffn_swiglu(g, cur, w_ffn_up, w_ffn_gate, w_ffn_down)
        };
        inp_l = g.binary(cur, ffn_residual);
    }
    let w_output_norm = w.get(g, "output_norm.weight")?;
    let h = llm::rms_norm(g, inp_l, w_output_norm);
    let embd = g.get_rows(h, out_ids);
    let head = match w.get(g, "output.weight") {
        Some(o) => o,
        None => tok,
    };
    let logits = g.mul_mat(head, embd);
    for t in [h, embd, logits] {
        g.set_output(t);
    }
    g.expand(logits);
    Some(())
}

/// `build_layer_attn` (qwen35.cpp): joint Q+gate projection, Q/K norms, RoPE, attention over
/// the KV cache, sigmoid gate, output projection.
fn full_attn(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, il: u32, cur: Id, pos: Id) -> Option<Id> {
    let hd = w.dim(il, "attn_q_norm.weight", 0)?;
    let w_attn_q = w.blk(g, il, "attn_q.weight")?;
    let q_full = g.mul_mat(w_attn_q, cur);
    let w_attn_k = w.blk(g, il, "attn_k.weight")?;
    let k = g.mul_mat(w_attn_k, cur);
    let w_attn_v = w.blk(g, il, "attn_v.weight")?;
    let v = g.mul_mat(w_attn_v, cur);
    let n_head = g.ne(q_full)[0] / hd.saturating_mul(2).max(1);
    let n_head_kv = g.ne(k)[0] / hd.max(1);
    let nt = b.n_tokens;
    let row = hd.saturating_mul(2).saturating_mul(4);
    let q = g.view_nd(q_full, [hd, n_head, nt, 1], row, row.saturating_mul(n_head), row.saturating_mul(n_head).saturating_mul(nt));
    let w_attn_q_norm = w.blk(g, il, "attn_q_norm.weight")?;
    let q = llm::rms_norm(g, q, w_attn_q_norm);
    let k = g.reshape(k, [hd, n_head_kv, nt, 1]);
    let w_attn_k_norm = w.blk(g, il, "attn_k_norm.weight")?;
    let k = llm::rms_norm(g, k, w_attn_k_norm);
    let gate = g.view_nd(q_full, [hd, n_head, nt, 1], row, row.saturating_mul(n_head), row.saturating_mul(n_head).saturating_mul(nt));
    let gate = g.cont(gate, [hd.saturating_mul(n_head), nt, 1, 1]);
    let v = g.reshape(v, [hd, n_head_kv, nt, 1]);
    let q = g.rope(q, pos);
    let k = g.rope(k, pos);
    let kv = KvLayer { k: w.cache(g, b.type_k, hd, n_head_kv, b), v: w.cache(g, b.type_v, hd, n_head_kv, b), hd_k: hd, hd_v: hd, n_head_kv };
    let cur = llm::attn_kv(g, b, inp, &kv, q, k, v);
    let gs = g.unary(gate);
    let cur = g.binary(cur, gs);
    let w_attn_output = w.blk(g, il, "attn_output.weight")?;
    Some(g.mul_mat(w_attn_output, cur))
}

/// `build_layer_attn_linear` (qwen35.cpp) with `build_conv_state`, `build_rs` and the fused
/// `build_delta_net_fused` (delta-net-base.cpp:373-606).
fn linear_attn(g: &mut Graph, w: &Weights, b: &Batch, inp: &Inputs, il: u32, cur: Id) -> Option<Id> {
    let (nst, ns) = (b.n_seq_tokens, b.n_seqs);
    let n_v_heads = w.dim(il, "ssm_a", 0)?;
    let head_v = w.dim(il, "ssm_norm.weight", 0)?;
    let conv_k = w.dim(il, "ssm_conv1d.weight", 0)?;
    let channels = w.dim(il, "ssm_conv1d.weight", 1)?;
    let d_inner = head_v.saturating_mul(n_v_heads);
    let key_dim = channels.saturating_sub(d_inner) / 2;
    let (head_k, n_k_heads) = (head_v, key_dim / head_v.max(1));
    let w_attn_qkv = w.blk(g, il, "attn_qkv.weight")?;
    let qkv = g.mul_mat(w_attn_qkv, cur);
    let qkv_n = g.ne(qkv);
    let qkv = g.reshape(qkv, [qkv_n[0], nst, ns, 1]);
    let w_attn_gate = w.blk(g, il, "attn_gate.weight")?;
    let z = g.mul_mat(w_attn_gate, cur);
    let w_ssm_beta = w.blk(g, il, "ssm_beta.weight")?;
    let beta = g.mul_mat(w_ssm_beta, cur);
    let beta = g.reshape(beta, [1, n_v_heads, nst, ns]);
    let beta = g.unary(beta);
    let w_ssm_alpha = w.blk(g, il, "ssm_alpha.weight")?;
    let alpha = g.mul_mat(w_ssm_alpha, cur);
    let alpha = g.reshape(alpha, [n_v_heads, nst, ns, 1]);
    let w_ssm_dt_bias = w.blk(g, il, "ssm_dt.bias")?;
    let alpha = g.binary(alpha, w_ssm_dt_bias);
    let alpha = g.unary(alpha);
    let w_ssm_a = w.blk(g, il, "ssm_a")?;
    let gate = g.binary(alpha, w_ssm_a);
    let gate = g.reshape(gate, [1, n_v_heads, nst, ns]);
    let n_embd_r = conv_k.saturating_sub(1).saturating_mul(channels);
    let n_embd_s = head_v.saturating_mul(head_v).saturating_mul(n_v_heads);
    let conv_all = g.external(Ty::F32, [n_embd_r, b.n_rs, 1, 1]);
    let ssm_all = g.external(Ty::F32, [n_embd_s, b.n_rs, 1, 1]);
    // build_conv_state
    let conv_states = llm::build_rs(g, inp, b, conv_all, n_embd_r);
    let conv_states = g.reshape(conv_states, [conv_k.saturating_sub(1), channels, ns, 1]);
    let qkv_t = g.transpose(qkv);
    let conv_input = g.concat(conv_states, qkv_t, 0);
    let ci = g.t[conv_input as usize].clone();
    let last = g.view_nd(conv_input, [conv_k.saturating_sub(1), channels, ns, 1], ci.nb[1], ci.nb[2], ci.nb[3]);
    let upd = g.view_nd(conv_all, [n_embd_r, ns, 1, 1], n_embd_r.saturating_mul(4), 0, 0);
    let c = g.cpy(last, upd);
    g.expand(c);
    let state = llm::build_rs(g, inp, b, ssm_all, n_embd_s);
    let state = g.reshape(state, [head_v, head_v, n_v_heads, ns]);
    let w_ssm_conv1d = w.blk(g, il, "ssm_conv1d.weight")?;
    let conv_out = g.ssm_conv(conv_input, w_ssm_conv1d);
    let conv_out = g.unary(conv_out);
    let nb1 = channels.saturating_mul(4);
    let (nb2, nb3) = (nb1.saturating_mul(nst), nb1.saturating_mul(nst).saturating_mul(ns));
    let q = g.view_nd(conv_out, [head_k, n_k_heads, nst, ns], nb1, nb2, nb3);
    let k = g.view_nd(conv_out, [head_k, n_k_heads, nst, ns], nb1, nb2, nb3);
    let v = g.view_nd(conv_out, [head_v, n_v_heads, nst, ns], nb1, nb2, nb3);
    let q = g.unary(q); // build_gdn_l2_norm: rms_norm then scale
    let q = g.unary(q);
    let k = g.unary(k);
    let k = g.unary(k);
    let result = g.gated_delta_net([q, k, v, gate, beta, state], 1);
    let output = g.view_nd(result, [head_v, n_v_heads, nst, ns], head_v * 4, head_v.saturating_mul(n_v_heads) * 4, head_v.saturating_mul(n_v_heads).saturating_mul(nst) * 4);
    let new_state = g.view_nd(result, [head_v, head_v, n_v_heads, ns], head_v * 4, head_v.saturating_mul(head_v) * 4, n_embd_s * 4);
    let dst = g.view_nd(ssm_all, [n_embd_s, ns, 1, 1], n_embd_s.saturating_mul(4), 0, 0);
    let c = g.cpy(new_state, dst);
    g.expand(c);
    let z = g.reshape(z, [head_v, n_v_heads, nst, ns]);
    let w_ssm_norm = w.blk(g, il, "ssm_norm.weight")?;
    let normed = llm::rms_norm(g, output, w_ssm_norm);
    let zs = g.unary(z);
    let gated = g.binary(normed, zs);
    let fin = g.reshape(gated, [d_inner, nst, ns, 1]);
    let w_ssm_out = w.blk(g, il, "ssm_out.weight")?;
    let out = g.mul_mat(w_ssm_out, fin);
    let n = g.ne(out)[0];
    Some(g.reshape(out, [n, nst.saturating_mul(ns), 1, 1]))
}
