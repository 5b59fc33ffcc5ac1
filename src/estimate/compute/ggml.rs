//! The ggml ops the simulated graphs use, with the output shape, type and view-ness each has
//! in ggml/src/ggml.c (same names as there). Only what ggml-alloc sees is kept: no data.

use super::graph::{EXTERNAL, Graph, INPUT, Id, MAX_SRC, NONE, Op, Tensor, Ty, UNPINNED, contiguous};

const INPLACE: Op = Op::Compute { inplace: true };
const PLAIN: Op = Op::Compute { inplace: false };

fn srcs(s: &[Id]) -> [Id; MAX_SRC] {
    let mut a = [NONE; MAX_SRC];
    for (d, &x) in a.iter_mut().zip(s) {
        *d = x;
    }
    a
}

impl Graph {
    /// Shape of a tensor.
    pub fn ne(&self, a: Id) -> [u64; 4] {
        self.t[a as usize].ne
    }

    fn new_tensor(&mut self, ty: Ty, ne: [u64; 4], op: Op, src: &[Id]) -> Id {
        self.push(Tensor { ne, nb: contiguous(ty, ne), ty, op, src: srcs(src), view_src: NONE, flags: 0 })
    }

    /// A weight or cache tensor living in its own buffer.
    pub fn external(&mut self, ty: Ty, ne: [u64; 4]) -> Id {
        let id = self.new_tensor(ty, ne, Op::Leaf, &[]);
        self.t[id as usize].flags = EXTERNAL;
        id
    }

    /// `ggml_new_tensor` + `ggml_set_input`.
    pub fn input(&mut self, ty: Ty, ne: [u64; 4]) -> Id {
        let id = self.new_tensor(ty, ne, Op::Leaf, &[]);
        self.t[id as usize].flags = INPUT;
        id
    }

    /// `ggml_view_4d` (and every other view: reshape, permute, transpose, view_tensor).
    pub fn view(&mut self, a: Id, ne: [u64; 4], nb: [u64; 4], src: &[Id]) -> Id {
        let at = &self.t[a as usize];
        let root = if at.view_src != NONE { at.view_src } else { a };
        let ty = at.ty;
        self.push(Tensor { ne, nb, ty, op: Op::View, src: srcs(src), view_src: root, flags: 0 })
    }

    /// `ggml_view_*d` with strides `nb1..3` (nb0 is the element size).
    pub fn view_nd(&mut self, a: Id, ne: [u64; 4], nb1: u64, nb2: u64, nb3: u64) -> Id {
        let nb0 = self.t[a as usize].ty.size();
        self.view(a, ne, [nb0, nb1, nb2, nb3], &[a])
    }

    /// `ggml_reshape_*d`: a contiguous view with a new shape.
    pub fn reshape(&mut self, a: Id, ne: [u64; 4]) -> Id {
        let nb = contiguous(self.t[a as usize].ty, ne);
        self.view(a, ne, nb, &[a])
    }

    /// `ggml_permute(a, 0, 2, 1, 3)` (the only permutation the graphs use).
    pub fn permute_0213(&mut self, a: Id) -> Id {
        let t = &self.t[a as usize];
        let (ne, nb) = ([t.ne[0], t.ne[2], t.ne[1], t.ne[3]], [t.nb[0], t.nb[2], t.nb[1], t.nb[3]]);
        self.view(a, ne, nb, &[a])
    }

    /// `ggml_permute(a, ax[0], ax[1], ax[2], ax[3])`: source dim i goes to position ax[i].
    pub fn permute(&mut self, a: Id, ax: [usize; 4]) -> Id {
        let t = &self.t[a as usize];
        let (mut ne, mut nb) = ([1; 4], [0; 4]);
        for (i, &p) in ax.iter().enumerate() {
            ne[p & 3] = t.ne[i];
            nb[p & 3] = t.nb[i];
        }
        self.view(a, ne, nb, &[a])
    }

    /// `ggml_view_1d(a, n, offset)`.
    pub fn view_1d(&mut self, a: Id, n: u64) -> Id {
        let row = n.saturating_mul(self.t[a as usize].ty.size());
        self.view_nd(a, [n, 1, 1, 1], row, row, row)
    }

    /// `ggml_transpose`: swaps dims 0 and 1.
    pub fn transpose(&mut self, a: Id) -> Id {
        let t = &self.t[a as usize];
        let (ne, nb) = ([t.ne[1], t.ne[0], t.ne[2], t.ne[3]], [t.nb[1], t.nb[0], t.nb[2], t.nb[3]]);
        self.view(a, ne, nb, &[a])
    }

    /// `ggml_view_tensor(b)` as the result of `ggml_cpy(a, b)` / `ggml_set_rows(a, b, c)`.
    pub fn write_into(&mut self, dst: Id, src: &[Id]) -> Id {
        let t = &self.t[dst as usize];
        let (ne, nb) = (t.ne, t.nb);
        let id = self.view(dst, ne, nb, src);
        self.t[id as usize].op = PLAIN;
        id
    }

    /// `ggml_cpy(a, b)`: srcs a, b; a view of b.
    pub fn cpy(&mut self, a: Id, b: Id) -> Id {
        self.write_into(b, &[a, b])
    }

    /// `ggml_set_rows(a, b, c)`: srcs b, c, a; a view of a.
    pub fn set_rows(&mut self, a: Id, b: Id, c: Id) -> Id {
        self.write_into(a, &[b, c, a])
    }

    /// Element-wise ops returning `ggml_dup_tensor(a)`: `inplace` says whether ggml-alloc may
    /// reuse a source (add, mul, div, scale, unary, rms_norm, rope, soft_max, clamp, l2_norm
    /// is not).
    pub fn unary_like(&mut self, a: Id, inplace: bool, src: &[Id]) -> Id {
        let t = &self.t[a as usize];
        let (ty, ne) = (t.ty, t.ne);
        self.new_tensor(ty, ne, if inplace { INPLACE } else { PLAIN }, src)
    }

    /// `ggml_add` / `ggml_mul` / `ggml_div` (binary, in place possible).
    pub fn binary(&mut self, a: Id, b: Id) -> Id {
        self.unary_like(a, true, &[a, b])
    }

    /// `ggml_add_id(a, b, ids)`: shape of a, in place possible.
    pub fn add_id(&mut self, a: Id, b: Id, ids: Id) -> Id {
        self.unary_like(a, true, &[a, b, ids])
    }

    /// `ggml_rms_norm`, `ggml_scale`, `ggml_unary` (silu, sigmoid, softplus, ...).
    pub fn unary(&mut self, a: Id) -> Id {
        self.unary_like(a, true, &[a])
    }

    /// `ggml_norm` (LayerNorm without weights) and `ggml_l2_norm`: shape of a, never in place.
    pub fn norm(&mut self, a: Id) -> Id {
        self.unary_like(a, false, &[a])
    }

    /// `ggml_cont_*d`: a contiguous copy with the given shape.
    pub fn cont(&mut self, a: Id, ne: [u64; 4]) -> Id {
        let ty = self.t[a as usize].ty;
        self.new_tensor(ty, ne, PLAIN, &[a])
    }

    /// `ggml_cast(a, ty)` (ggml.c:3619): a contiguous copy, its own second source.
    pub fn cast(&mut self, a: Id, ty: Ty) -> Id {
        let ne = self.ne(a);
        let id = self.new_tensor(ty, ne, PLAIN, &[a]);
        self.t[id as usize].src[1] = id;
        id
    }

    /// `ggml_repeat_4d(a, ne)`: a new tensor of a's type.
    pub fn repeat(&mut self, a: Id, ne: [u64; 4]) -> Id {
        let ty = self.t[a as usize].ty;
        self.new_tensor(ty, ne, PLAIN, &[a])
    }

    /// `ggml_mul_mat(a, b)`: [a.ne1, b.ne1, b.ne2, b.ne3] f32.
    pub fn mul_mat(&mut self, a: Id, b: Id) -> Id {
        let (an, bn) = (self.ne(a), self.ne(b));
        self.new_tensor(Ty::F32, [an[1], bn[1], bn[2], bn[3]], PLAIN, &[a, b])
    }

    /// `ggml_mul_mat_id(as, b, ids)`: [as.ne1, ids.ne0, b.ne2, 1] f32.
    pub fn mul_mat_id(&mut self, a: Id, b: Id, ids: Id) -> Id {
        let (an, bn, idn) = (self.ne(a), self.ne(b), self.ne(ids));
        self.new_tensor(Ty::F32, [an[1], idn[0], bn[2], 1], PLAIN, &[a, b, ids])
    }

    /// `ggml_get_rows(a, b)`: [a.ne0, b.ne0, b.ne1, b.ne2], f32 (i32 rows stay i32).
    pub fn get_rows(&mut self, a: Id, b: Id) -> Id {
        let (an, bn) = (self.ne(a), self.ne(b));
        let ty = if self.t[a as usize].ty == Ty::I32 { Ty::I32 } else { Ty::F32 };
        self.new_tensor(ty, [an[0], bn[0], bn[1], bn[2]], PLAIN, &[a, b])
    }

    /// `ggml_concat(a, b, dim)`.
    pub fn concat(&mut self, a: Id, b: Id, dim: usize) -> Id {
        let (mut ne, bn) = (self.ne(a), self.ne(b));
        ne[dim] = ne[dim].saturating_add(bn[dim]);
        let ty = self.t[a as usize].ty;
        self.new_tensor(ty, ne, PLAIN, &[a, b])
    }

    /// `ggml_glu_impl` with a separate gate (`ggml_swiglu_split` etc.): shape of a.
    pub fn glu_split(&mut self, a: Id, b: Id) -> Id {
        self.unary_like(a, false, &[a, b])
    }

    /// `ggml_glu` on one tensor (`ggml_swiglu`, `ggml_geglu`): the first half of dim 0 gates
    /// the second, so dim 0 halves.
    pub fn glu(&mut self, a: Id) -> Id {
        let mut ne = self.ne(a);
        ne[0] /= 2;
        let ty = self.t[a as usize].ty;
        self.new_tensor(ty, ne, PLAIN, &[a])
    }

    /// `ggml_im2col(a, b, ..)` unfolding 1-D (ggml.c:4556) for a kernel `a` [K, IC, ..] over
    /// `b` [L, IC, N]: [IC * K, out_len, N] of type `ty`.
    pub fn im2col_1d(&mut self, a: Id, b: Id, out_len: u64, ty: Ty) -> Id {
        let (an, bn) = (self.ne(a), self.ne(b));
        self.new_tensor(ty, [an[0].saturating_mul(an[1]), out_len, bn[2], 1], PLAIN, &[a, b])
    }

    /// `ggml_argsort`: i32, shape of a.
    pub fn argsort(&mut self, a: Id) -> Id {
        let ne = self.ne(a);
        self.new_tensor(Ty::I32, ne, PLAIN, &[a])
    }

    /// `ggml_sum_rows`: [1, ne1, ne2, ne3].
    pub fn sum_rows(&mut self, a: Id) -> Id {
        let ne = self.ne(a);
        let ty = self.t[a as usize].ty;
        self.new_tensor(ty, [1, ne[1], ne[2], ne[3]], PLAIN, &[a])
    }

    /// `ggml_ssm_conv(sx, c)`: [c.ne1, sx.ne0 - c.ne0 + 1, sx.ne2] f32.
    pub fn ssm_conv(&mut self, sx: Id, c: Id) -> Id {
        let (sn, cn) = (self.ne(sx), self.ne(c));
        let n_t = sn[0].saturating_add(1).saturating_sub(cn[0]);
        self.new_tensor(Ty::F32, [cn[1], n_t, sn[2], 1], PLAIN, &[sx, c])
    }

    /// `ggml_gated_delta_net(q, k, v, g, beta, state, K)`: [S_v*H, T*B + K*S_v*B] f32.
    pub fn gated_delta_net(&mut self, src: [Id; 6], k_snap: u64) -> Id {
        let vn = self.ne(src[2]);
        let rows = vn[2].saturating_mul(vn[3]).saturating_add(k_snap.saturating_mul(vn[0]).saturating_mul(vn[3]));
        self.new_tensor(Ty::F32, [vn[0].saturating_mul(vn[1]), rows, 1, 1], PLAIN, &src)
    }

    /// `ggml_ssm_scan(s, x, dt, A, B, C, ids, K)` (ggml.c:5696): y and K states per sequence,
    /// one f32 row of nelements(x) + K * s.ne0 * s.ne1 * s.ne2 * ids.ne0.
    pub fn ssm_scan(&mut self, src: [Id; 7], k_snap: u64) -> Id {
        let (sn, xn, idn) = (self.ne(src[0]), self.ne(src[1]), self.ne(src[6]));
        let prod = |ne: &[u64]| ne.iter().fold(1u64, |a, &x| a.saturating_mul(x));
        let n = prod(&xn).saturating_add(prod(&[k_snap, sn[0], sn[1], sn[2], idn[0]]));
        self.new_tensor(Ty::F32, [n, 1, 1, 1], PLAIN, &src)
    }

    /// `ggml_rwkv_wkv6`, `ggml_gated_linear_attn`, `ggml_rwkv_wkv7` (ggml.c:5882-6010): the
    /// output and the new states in one f32 [S*H, n_tokens + S*n_seqs] tensor, where k is
    /// [S, H, n_tokens] and `state` has n_seqs rows.
    pub fn wkv(&mut self, k: Id, state: Id, src: &[Id]) -> Id {
        let (kn, sn) = (self.ne(k), self.ne(state));
        let rows = kn[2].saturating_add(kn[0].saturating_mul(sn[1]));
        self.new_tensor(Ty::F32, [kn[0].saturating_mul(kn[1]), rows, 1, 1], PLAIN, src)
    }

    /// `ggml_dsv4_hc_pre(x, weights)` (ggml.c:6519): a new f32 tensor of shape `ne`
    /// ([n_embd, n_tokens]).
    pub fn hc_pre(&mut self, x: Id, weights: Id, ne: [u64; 4]) -> Id {
        self.new_tensor(Ty::F32, ne, PLAIN, &[x, weights])
    }

    /// `ggml_new_tensor` without `ggml_set_input`: a leaf ggml-alloc allocates like any
    /// tensor (DSA's zeros, filled by `ggml_fill`).
    pub fn new_leaf(&mut self, ty: Ty, ne: [u64; 4]) -> Id {
        self.new_tensor(ty, ne, Op::Leaf, &[])
    }

    /// `ggml_pool_2d(a, op, k0, 1, k0, 1, 0, 0)` (ggml.c:5108), windows of `k0` along dim 0
    /// only: [(a.ne0 - k0) / k0 + 1, a.ne1, a.ne2, a.ne3] f32.
    pub fn pool_2d_rows(&mut self, a: Id, k0: u64) -> Id {
        let ne = self.ne(a);
        let n0 = ne[0].saturating_sub(k0) / k0.max(1) + 1;
        self.new_tensor(Ty::F32, [n0, ne[1], ne[2], ne[3]], PLAIN, &[a])
    }

    /// `ggml_is_contiguous` (ggml.c `ggml_is_contiguous_n(t, 0)`): rows packed, dimensions of
    /// size 1 skipped.
    pub fn is_contiguous(&self, a: Id) -> bool {
        let t = &self.t[a as usize];
        let mut next = t.ty.size();
        if t.ne[0] != t.ty.block() && t.nb[0] != next {
            return false;
        }
        next = next.saturating_mul(t.ne[0] / t.ty.block());
        for i in 1..4 {
            if t.ne[i] != 1 {
                if t.nb[i] != next {
                    return false;
                }
                next = next.saturating_mul(t.ne[i]);
            }
        }
        true
    }

    /// `ggml_dsv4_hc_comb(mixes, scale, base)` (ggml.c:6468): [hc, hc, n_tokens] f32.
    pub fn hc_comb(&mut self, mixes: Id, scale: Id, base: Id, hc: u64) -> Id {
        let nt = self.ne(mixes)[1];
        self.new_tensor(Ty::F32, [hc, hc, nt, 1], PLAIN, &[mixes, scale, base])
    }

    /// `ggml_dsv4_hc_post(x, residual, post, comb)` (ggml.c:6574): [n_embd, hc, n_tokens] f32.
    pub fn hc_post(&mut self, x: Id, residual: Id, post: Id, comb: Id) -> Id {
        let (xn, rn) = (self.ne(x), self.ne(residual));
        self.new_tensor(Ty::F32, [xn[0], rn[1], xn[1], 1], PLAIN, &[x, residual, post, comb])
    }

    /// `ggml_arange(start, start + n, 1)`: an f32 [n] computed from nothing.
    pub fn arange(&mut self, n: u64) -> Id {
        self.new_tensor(Ty::F32, [n, 1, 1, 1], PLAIN, &[])
    }

    /// `ggml_top_k(a, k)` (ggml.c:5468): [k, a.ne1, a.ne2, a.ne3] i32.
    pub fn top_k(&mut self, a: Id, k: u64) -> Id {
        let ne = self.ne(a);
        self.new_tensor(Ty::I32, [k, ne[1], ne[2], ne[3]], PLAIN, &[a])
    }

    /// `ggml_lightning_indexer(q, k, weights, mask)` (ggml.c:6432): [k.ne2, q.ne2, 1, q.ne3] f32.
    pub fn lightning_indexer(&mut self, q: Id, k: Id, weights: Id, mask: Id) -> Id {
        let (qn, kn) = (self.ne(q), self.ne(k));
        self.new_tensor(Ty::F32, [kn[2], qn[2], 1, qn[3]], PLAIN, &[q, k, weights, mask])
    }

    /// `ggml_flash_attn_ext(q, k, v, mask)`: [v.ne0, q.ne2, q.ne1, q.ne3] f32.
    pub fn flash_attn_ext(&mut self, q: Id, k: Id, v: Id, mask: Id) -> Id {
        let (qn, vn) = (self.ne(q), self.ne(v));
        let id = self.new_tensor(Ty::F32, [vn[0], qn[2], qn[1], qn[3]], PLAIN, &[q, k, v, mask]);
        self.t[id as usize].flags |= UNPINNED;
        id
    }

    /// `ggml_soft_max_ext(a, mask)`: shape of a, in place possible.
    pub fn soft_max_ext(&mut self, a: Id, mask: Id) -> Id {
        self.unary_like(a, true, &[a, mask])
    }

    /// `ggml_rope_ext` / `ggml_rope_multi(a, pos)`: shape of a, in place possible.
    pub fn rope(&mut self, a: Id, pos: Id) -> Id {
        let id = self.unary_like(a, true, &[a, pos]);
        self.t[id as usize].flags |= UNPINNED;
        id
    }
}

#[cfg(test)]
mod tests {
    //! Shapes of the ops the recurrent builders added, as ggml.c computes them, and the in-place
    //! rule that separates `ggml_norm` from `ggml_rms_norm` (ggml-alloc.c `ggml_op_can_inplace`).
    use super::super::alloc::Gallocr;
    use super::*;

    #[test]
    fn permute_moves_dims_and_strides() {
        let mut g = Graph::default();
        let a = g.input(Ty::F32, [2, 3, 5, 7]);
        let p = g.permute(a, [1, 2, 0, 3]); // ggml_permute(a, 1, 2, 0, 3)
        assert_eq!(g.ne(p), [5, 2, 3, 7]);
        assert_eq!(g.t[p as usize].nb, [24, 4, 8, 120]);
        let q = g.permute(a, [0, 1, 3, 2]);
        assert_eq!(g.ne(q), [2, 3, 7, 5]);
    }

    #[test]
    fn wkv_glu_and_hc_pre_shapes() {
        let mut g = Graph::default();
        let k = g.input(Ty::F32, [64, 4, 512, 1]); // S = 64, H = 4, 512 tokens
        let state = g.input(Ty::F32, [64 * 64 * 4, 3, 1, 1]); // 3 sequences
        let out = g.wkv(k, state, &[k, state]);
        assert_eq!(g.ne(out), [256, 512 + 64 * 3, 1, 1]);
        let x = g.input(Ty::F32, [768, 10, 1, 1]);
        let glu = g.glu(x);
        assert_eq!(g.ne(glu), [384, 10, 1, 1]);
        let stack = g.input(Ty::F32, [128, 2, 10, 1]);
        let p = g.input(Ty::F32, [2, 10, 1, 1]);
        let h = g.hc_pre(stack, p, [128, 10, 1, 1]);
        assert_eq!(g.ne(h), [128, 10, 1, 1]);
    }

    #[test]
    fn im2col_1d_unfolds_kernel_times_channels() {
        let mut g = Graph::default();
        let kernel = g.external(Ty::Other, [7, 256, 512, 1]); // K = 7, IC = 256, OC = 512
        let x = g.input(Ty::F32, [100, 256, 1, 1]); // 100 steps of 256 channels
        let im = g.im2col_1d(kernel, x, 100, Ty::F16);
        assert_eq!(g.ne(im), [7 * 256, 100, 1, 1]);
        assert_eq!(g.t[im as usize].nbytes(), 7 * 256 * 100 * 2);
    }

    /// x (input, 64 B) -> w·x (512 B) -> norm -> w2·(...) (32 B, into x's freed hole):
    /// `ggml_rms_norm` reuses the product's memory, `ggml_norm` needs a second 512 B block.
    fn peak(layer_norm: bool) -> u64 {
        let mut g = Graph::default();
        let x = g.input(Ty::F32, [16, 1, 1, 1]);
        let w = g.external(Ty::Other, [16, 128, 1, 1]);
        let y = g.mul_mat(w, x);
        let n = if layer_norm { g.norm(y) } else { g.unary(y) };
        let w2 = g.external(Ty::Other, [128, 8, 1, 1]);
        let out = g.mul_mat(w2, n);
        g.set_output(out);
        g.expand(out);
        Gallocr::default().reserve(&g)
    }

    #[test]
    fn layer_norm_is_never_in_place() {
        assert_eq!(peak(false), 64 + 512);
        assert_eq!(peak(true), 64 + 512 + 512);
    }
}
