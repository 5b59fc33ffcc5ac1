//! Hand-computed cases for the ggml-alloc port: free-list rules, in-place reuse, and the
//! hole a freed input leaves (whether a later tensor fits in it decides the buffer size).

use super::alloc::{Dyn, Gallocr};
use super::graph::{Graph, Ty};

#[test]
fn best_fit_padding_and_merging() {
    let mut d = Dyn::default();
    d.reset();
    assert_eq!(d.alloc(100), 0); // padded to 128
    assert_eq!(d.alloc(64), 128);
    assert_eq!(d.alloc(256), 192);
    assert_eq!(d.max_size, 448);
    d.free(0, 100); // a hole [0, 128) below the live tensors
    d.free(192, 256); // merges into the unbounded last block, which now starts at 192
    assert_eq!(d.alloc(128), 0, "best fit takes the hole");
    assert_eq!(d.alloc(32), 192, "nothing else fits: the last block");
    assert_eq!(d.max_size, 448);
}

#[test]
fn ties_go_to_the_later_block_and_neighbours_merge() {
    let mut d = Dyn::default();
    d.reset();
    let offs: Vec<u64> = (0..5).map(|_| d.alloc(32)).collect();
    assert_eq!(offs, [0, 32, 64, 96, 128]);
    d.free(0, 32);
    d.free(64, 32);
    assert_eq!(d.alloc(32), 64, "two equal holes: the later one");
    d.free(64, 32);
    d.free(32, 32); // joins [0, 32) and [64, 96) into [0, 96)
    assert_eq!(d.alloc(96), 0);
    assert_eq!(d.max_size, 160);
}

/// x (input, 64 B) and mask (input, 1024 B) at the bottom (leafs in first-visit order); n1 = f(x) 512 B; n2 = softmax(n1,
/// mask) in place over n1; then a `logits`-like output of `out` bytes computed from n2.
fn mask_hole(out: u64) -> u64 {
    let mut g = Graph::default();
    let mask = g.input(Ty::F32, [256, 1, 1, 1]);
    let x = g.input(Ty::F32, [16, 1, 1, 1]);
    let w = g.external(Ty::Other, [16, 128, 1, 1]);
    let n1 = g.mul_mat(w, x); // [128] f32 = 512 B
    let n2 = g.soft_max_ext(n1, mask);
    let w2 = g.external(Ty::Other, [128, out / 4, 1, 1]);
    let logits = g.mul_mat(w2, n2);
    g.set_output(logits);
    g.expand(logits);
    Gallocr::default().reserve(&g)
}

#[test]
fn a_freed_input_leaves_a_hole_the_output_may_fill() {
    // x @0, mask @64, n1 @1088 (n2 reuses it): 1600 B. Freeing x and mask leaves [0, 1088).
    assert_eq!(mask_hole(1024), 1600, "logits fit in the hole");
    assert_eq!(mask_hole(1088), 1600, "exactly fits");
    // A row more (1092 B, padded to 1120) does not: it goes above n2, at 1600.
    assert_eq!(mask_hole(1092), 1600 + 1120);
}

/// x (input, 256 B) -> a = silu(x) -> [optionally through a reshape] -> b = silu -> c = silu,
/// with b optionally an output.
fn chain(through_view: bool, b_output: bool) -> u64 {
    let mut g = Graph::default();
    let x = g.input(Ty::F32, [64, 1, 1, 1]);
    let a = g.unary(x); // x has one child and is not an output: a takes its memory
    let p = if through_view { g.reshape(a, [8, 8, 1, 1]) } else { a };
    let b = g.unary(p);
    if b_output {
        g.set_output(b);
    }
    let c = g.unary(b);
    g.expand(c);
    Gallocr::default().reserve(&g)
}

#[test]
fn in_place_reuse_skips_views_and_outputs() {
    assert_eq!(chain(false, false), 256, "every op runs in place over x");
    // A view parent is never "own": b gets new memory; c then runs in place over b.
    assert_eq!(chain(true, false), 512);
    // An output is never reused: c gets new memory above b.
    assert_eq!(chain(false, true), 512);
}

#[test]
fn quantized_copies_and_casts_are_sized_like_ggml() {
    let mut g = Graph::default();
    // A q8_0 cache (32 elements in 34 bytes) viewed transposed, then copied (MLA's V).
    let q8 = Ty::Q { block: 32, bytes: 34 };
    let cache = g.external(q8, [4096, 3, 1, 1]);
    let c = g.cont(cache, [4096, 3, 1, 1]);
    assert_eq!(g.t[c as usize].nbytes(), 4096 / 32 * 34 * 3);
    // ggml_cast lists itself as its second source: it is still allocated once, then freed.
    let x = g.input(Ty::F32, [8, 8, 1, 1]);
    let v = g.transpose(x);
    let h = g.cast(v, Ty::F16);
    assert_eq!(g.t[h as usize].src[1], h);
    let y = g.unary(h);
    g.expand(y);
    g.expand(c);
    // x (256 B) and h (128 B) are live together, y reuses h in place; c (13056 B) comes last
    // and fits nowhere below, so it lands on top of the 384 B already used.
    assert_eq!(Gallocr::default().reserve(&g), 384 + 13056);
}
