//! Graph of WavTokenizer's decoder (src/models/wavtokenizer-dec.cpp at 0c1e570): no attention
//! over a cache, only convolutions over the micro-batch's tokens as a time axis. Embeddings
//! transposed, a 1-D convolution, the PosNet blocks (group-normed ResNet blocks with swish, one
//! self-attention block over all tokens, a final group norm), a layer norm, the ConvNeXt blocks
//! (depth-wise convolution, layer norm, GELU MLP, layer scale, residual), a final layer norm and
//! the output projection; the result is the embeddings. `ggml_conv_1d_ph` is im2col (F16, F32
//! for a BF16 kernel) then a matrix product (ggml.c:4625).

use super::Weights;
use super::graph::{Graph, Id, Ty};
use super::inputs;
use super::llm::{self, Batch};
use crate::model::Geometry;

/// Builds the pp graph into `g`; `None` when a tensor the graph needs is missing.
pub fn build(g: &mut Graph, w: &Weights, geo: &Geometry, b: &Batch) -> Option<()> {
    let tok = w.get(g, "token_embd.weight")?;
    let inp = inputs::inp_embd(g, b, tok, geo.n_embd);
    let t = g.transpose(inp);
    let mut cur = g.cont(t, g.ne(t));
    cur = conv_bias(g, w, cur, "conv1d.weight", "conv1d.bias", false)?;
    let has = |n: &str| w.has(n);
    let n_posnet = (0..u32::MAX).find(|il| !["norm1", "attn_norm", "norm"].iter().any(|n| has(&format!("posnet.{il}.{n}.weight")))).unwrap_or(0);
    for il in 0..n_posnet {
        let p = |n: &str| format!("posnet.{il}.{n}");
        let inp_l = cur;
        match il {
            0 | 1 | 3 | 4 => {
                cur = group_norm(g, w, cur, &p("norm1.weight"), &p("norm1.bias"))?;
                cur = swish(g, cur);
                cur = conv_bias(g, w, cur, &p("conv1.weight"), &p("conv1.bias"), false)?;
                cur = group_norm(g, w, cur, &p("norm2.weight"), &p("norm2.bias"))?;
                cur = swish(g, cur);
                cur = conv_bias(g, w, cur, &p("conv2.weight"), &p("conv2.bias"), false)?;
                cur = g.binary(cur, inp_l);
            }
            2 => {
                cur = group_norm(g, w, cur, &p("attn_norm.weight"), &p("attn_norm.bias"))?;
                let q = conv(g, w, cur, &p("attn_q.weight"), false)?;
                let k = conv(g, w, cur, &p("attn_k.weight"), false)?;
                let v = conv(g, w, cur, &p("attn_v.weight"), false)?;
                let q = add_bias(g, w, q, &p("attn_q.bias"))?;
                let k = add_bias(g, w, k, &p("attn_k.bias"))?;
                let v = add_bias(g, w, v, &p("attn_v.bias"))?;
                let q = cont_t(g, q);
                let k = cont_t(g, k);
                let kq = g.mul_mat(k, q);
                let kq = g.unary(kq); // ggml_soft_max_ext without a mask
                cur = g.mul_mat(kq, v);
                cur = conv_bias(g, w, cur, &p("attn_output.weight"), &p("attn_output.bias"), false)?;
                cur = g.binary(cur, inp_l);
            }
            5 => cur = group_norm(g, w, cur, &p("norm.weight"), &p("norm.bias"))?,
            _ => return None,
        }
    }
    cur = cont_t(g, cur);
    cur = layer_norm(g, w, cur, "token_embd_norm.weight", "token_embd_norm.bias")?;
    cur = cont_t(g, cur);
    let mut inp_l = cur;
    let n_convnext = (0..u32::MAX).find(|il| !has(&format!("convnext.{il}.dw.weight"))).unwrap_or(0);
    for il in 0..n_convnext {
        let p = |n: &str| format!("convnext.{il}.{n}");
        let mut cur = conv_bias(g, w, inp_l, &p("dw.weight"), &p("dw.bias"), true)?;
        cur = cont_t(g, cur);
        cur = layer_norm(g, w, cur, &p("norm.weight"), &p("norm.bias"))?;
        // build_ffn, GELU, sequential: pw1 (+ bias), gelu, pw2 (+ bias).
        let pw1 = w.get(g, &p("pw1.weight"))?;
        cur = g.mul_mat(pw1, cur);
        cur = add_bias(g, w, cur, &p("pw1.bias"))?;
        cur = g.unary(cur);
        let pw2 = w.get(g, &p("pw2.weight"))?;
        cur = g.mul_mat(pw2, cur);
        cur = add_bias(g, w, cur, &p("pw2.bias"))?;
        let gamma = w.get(g, &p("gamma.weight"))?;
        cur = g.binary(cur, gamma);
        cur = cont_t(g, cur);
        inp_l = g.binary(cur, inp_l);
    }
    let mut cur = cont_t(g, inp_l);
    cur = layer_norm(g, w, cur, "output_norm.weight", "output_norm.bias")?;
    let out = w.get(g, "output.weight")?;
    cur = g.mul_mat(out, cur);
    cur = add_bias(g, w, cur, "output.bias")?;
    // `res->t_embd`, the graph's output.
    g.set_output(cur);
    g.expand(cur);
    Some(())
}

/// `ggml_cont(ggml_transpose(x))`.
fn cont_t(g: &mut Graph, x: Id) -> Id {
    let t = g.transpose(x);
    g.cont(t, g.ne(t))
}

/// `x + bias` with a top-level bias.
fn add_bias(g: &mut Graph, w: &Weights, x: Id, bias: &str) -> Option<Id> {
    let bt = w.get(g, bias)?;
    Some(g.binary(x, bt))
}

/// `ggml_mul(ggml_sigmoid(x), x)`.
fn swish(g: &mut Graph, x: Id) -> Id {
    let s = g.unary(x);
    g.binary(s, x)
}

/// `build_norm(.., LLM_NORM)` with a top-level weight and bias.
fn layer_norm(g: &mut Graph, w: &Weights, x: Id, name: &str, bias: &str) -> Option<Id> {
    let (wt, bt) = (w.get(g, name)?, w.get(g, bias)?);
    Some(llm::layer_norm(g, x, wt, bt))
}

/// `build_norm(.., LLM_NORM_GROUP)`: [L, C] viewed as [L, 1, C], `ggml_group_norm` (a new
/// tensor: GROUP_NORM is never computed in place), viewed back, then weight and bias.
fn group_norm(g: &mut Graph, w: &Weights, x: Id, name: &str, bias: &str) -> Option<Id> {
    let ne = g.ne(x);
    let v = g.reshape(x, [ne[0], 1, ne[1], 1]);
    let n = g.norm(v);
    let n = g.reshape(n, [ne[0], ne[1], 1, 1]);
    let (wt, bt) = (w.get(g, name)?, w.get(g, bias)?);
    let n = g.binary(n, wt);
    Some(g.binary(n, bt))
}

/// A "same"-padded 1-D convolution of `x` ([L, C]) by the top-level kernel `name` plus its bias.
fn conv_bias(g: &mut Graph, w: &Weights, x: Id, name: &str, bias: &str, depthwise: bool) -> Option<Id> {
    let y = conv(g, w, x, name, depthwise)?;
    add_bias(g, w, y, bias)
}

/// `ggml_conv_1d_ph` (stride 1, dilation 1, padding K/2; ggml.c:4625) or, with `depthwise`,
/// `ggml_conv_1d_dw_ph` (ggml.c:4657): im2col, then one matrix product.
fn conv(g: &mut Graph, w: &Weights, x: Id, name: &str, depthwise: bool) -> Option<Id> {
    let a = w.get(g, name)?;
    let ty = if w.is_bf16(name) { Ty::F32 } else { Ty::F16 };
    let (an, xn) = (g.ne(a), g.ne(x));
    let k = an[0];
    // ggml_calc_conv_output_size with s = 1, d = 1, p = K / 2.
    let out_len = xn[0].saturating_add((k / 2).saturating_mul(2)).saturating_sub(k.saturating_sub(1)).saturating_sub(1).saturating_add(1);
    if depthwise {
        let b4 = g.reshape(x, [xn[0], 1, xn[1], xn[2]]);
        let im = g.im2col_1d(a, b4, out_len, ty);
        let r = g.mul_mat(im, a);
        let rn = g.ne(r);
        return Some(g.reshape(r, [rn[0], rn[2], 1, 1]));
    }
    let im = g.im2col_1d(a, x, out_len, ty);
    let imn = g.ne(im);
    let im2 = g.reshape(im, [imn[0], imn[2].saturating_mul(imn[1]), 1, 1]);
    let a2 = g.reshape(a, [an[0].saturating_mul(an[1]), an[2], 1, 1]);
    let r = g.mul_mat(im2, a2);
    Some(g.reshape(r, [imn[1], an[2], imn[2], 1]))
}
