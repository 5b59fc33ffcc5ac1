//! The hot loops: NaN/Inf and zero detection over float elements, and the scale fields of
//! quantized blocks. Written so the compiler vectorizes the common case (no bad value in a
//! group of elements) and only looks closer at a group that has one.

use super::blocks::{FloatKind, ScaleField, ScaleKind, scale_is_bad};

/// What one pass over float elements found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ValueStats {
    /// NaN elements.
    pub nan: u64,
    /// Infinite elements.
    pub inf: u64,
    /// Index (within the slice) of the first NaN or infinite element.
    pub first_bad: Option<u64>,
    /// True when any element is other than +0 or -0.
    pub nonzero: bool,
}

/// Elements looked at per vectorized step before the slow path is considered.
const GROUP: usize = 256;

macro_rules! float_scan {
    ($fname:ident, $t:ty, $n:literal) => {
        fn $fname<const BE: bool>(bytes: &[u8], exp: $t, abs: $t) -> ValueStats {
            let load = |w: &[u8; $n]| if BE { <$t>::from_be_bytes(*w) } else { <$t>::from_le_bytes(*w) };
            let (words, _) = bytes.as_chunks::<$n>();
            let mut s = ValueStats::default();
            let mut nz: $t = 0;
            for (g, group) in words.chunks(GROUP).enumerate() {
                let mut bad = 0u32;
                for w in group {
                    let v = load(w);
                    bad += (v & exp == exp) as u32;
                    nz |= v & abs;
                }
                if bad == 0 {
                    continue;
                }
                for (i, w) in group.iter().enumerate() {
                    let v = load(w);
                    if v & exp == exp {
                        s.first_bad.get_or_insert((g * GROUP + i) as u64);
                        if v & abs & !exp != 0 { s.nan += 1 } else { s.inf += 1 }
                    }
                }
            }
            s.nonzero = nz != 0;
            s
        }
    };
}

float_scan!(scan_u16, u16, 2);
float_scan!(scan_u32, u32, 4);
float_scan!(scan_u64, u64, 8);

/// Scans whole elements of `kind` in `bytes` (a trailing partial element is ignored).
pub fn scan_floats(kind: FloatKind, bytes: &[u8], big_endian: bool) -> ValueStats {
    match (kind, big_endian) {
        (FloatKind::F32, false) => scan_u32::<false>(bytes, 0x7F80_0000, 0x7FFF_FFFF),
        (FloatKind::F32, true) => scan_u32::<true>(bytes, 0x7F80_0000, 0x7FFF_FFFF),
        (FloatKind::F16, false) => scan_u16::<false>(bytes, 0x7C00, 0x7FFF),
        (FloatKind::F16, true) => scan_u16::<true>(bytes, 0x7C00, 0x7FFF),
        (FloatKind::Bf16, false) => scan_u16::<false>(bytes, 0x7F80, 0x7FFF),
        (FloatKind::Bf16, true) => scan_u16::<true>(bytes, 0x7F80, 0x7FFF),
        (FloatKind::F64, false) => scan_u64::<false>(bytes, 0x7FF0 << 48, u64::MAX >> 1),
        (FloatKind::F64, true) => scan_u64::<true>(bytes, 0x7FF0 << 48, u64::MAX >> 1),
    }
}

/// What one pass over quantized blocks found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockStats {
    /// Blocks with at least one NaN or infinite scale field.
    pub bad_blocks: u64,
    /// (block index within the slice, field index) of the first bad scale.
    pub first_bad: Option<(u64, usize)>,
}

/// Checks the scale fields of the whole blocks of `block` bytes in `bytes`.
pub fn scan_blocks(bytes: &[u8], block: usize, fields: &[ScaleField], big_endian: bool) -> BlockStats {
    if block == 0 {
        return BlockStats::default();
    }
    // Nearly every block is fine: count bad f16 scales with fixed offsets first (the common
    // layouts, one or two `ggml_half` fields), and walk the blocks field by field only when
    // a group has one, or for the other encodings.
    let f16_at = |i: usize| fields.get(i).filter(|f| f.kind == ScaleKind::F16 && f.at + 2 <= block).map(|f| f.at);
    let any_bad = match (fields.len(), f16_at(0), f16_at(1)) {
        (1, Some(a), _) => count_f16::<1>(bytes, block, [a], big_endian),
        (2, Some(a), Some(b)) => count_f16::<2>(bytes, block, [a, b], big_endian),
        _ => 1,
    };
    if any_bad == 0 { BlockStats::default() } else { scan_blocks_slow(bytes, block, fields, big_endian) }
}

/// Number of NaN/Inf f16 fields at offsets `at` of each block (vectorizable, no early exit).
fn count_f16<const N: usize>(bytes: &[u8], block: usize, at: [usize; N], big_endian: bool) -> u64 {
    let mut bad = 0u64;
    for b in bytes.chunks_exact(block) {
        for a in at {
            // The exponent lives in the high byte: NaN/Inf when its bits 0x7C are all set.
            let hi = b.get(if big_endian { a } else { a + 1 }).copied().unwrap_or(0);
            bad += (hi & 0x7C == 0x7C) as u64;
        }
    }
    bad
}

fn scan_blocks_slow(bytes: &[u8], block: usize, fields: &[ScaleField], big_endian: bool) -> BlockStats {
    let mut s = BlockStats::default();
    for (i, b) in bytes.chunks_exact(block).enumerate() {
        let mut block_bad = false;
        for (k, f) in fields.iter().enumerate() {
            if b.get(f.at..f.at + f.width()).is_some_and(|field| scale_is_bad(f.kind, field, big_endian)) {
                s.first_bad.get_or_insert((i as u64, k));
                block_bad = true;
            }
        }
        s.bad_blocks += block_bad as u64;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::GgmlType;
    use crate::scan::blocks::{Check, check_for};

    fn f32s(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn f32_nan_inf_and_zero() {
        let mut v = vec![0.0f32; 1000];
        assert_eq!(scan_floats(FloatKind::F32, &f32s(&v), false), ValueStats::default());
        v[3] = -0.0;
        assert!(!scan_floats(FloatKind::F32, &f32s(&v), false).nonzero);
        v[700] = f32::NAN;
        v[900] = f32::NEG_INFINITY;
        v[999] = 1.0;
        let s = scan_floats(FloatKind::F32, &f32s(&v), false);
        assert_eq!((s.nan, s.inf, s.first_bad, s.nonzero), (1, 1, Some(700), true));
        assert!(scan_floats(FloatKind::F32, &f32s(&[f32::MAX, f32::MIN_POSITIVE]), false).first_bad.is_none());
    }

    #[test]
    fn half_and_bfloat_and_double() {
        let h: Vec<u8> = [0x3C00u16, 0x7E00, 0x7C00].iter().flat_map(|x| x.to_le_bytes()).collect();
        let s = scan_floats(FloatKind::F16, &h, false);
        assert_eq!((s.nan, s.inf, s.first_bad), (1, 1, Some(1)));
        // 0x7C00 is a finite bfloat16 (2^121); 0x7FC0 is its NaN.
        let b: Vec<u8> = [0x7C00u16, 0x7FC0, 0xFF80].iter().flat_map(|x| x.to_be_bytes()).collect();
        let s = scan_floats(FloatKind::Bf16, &b, true);
        assert_eq!((s.nan, s.inf, s.first_bad), (1, 1, Some(1)));
        let d: Vec<u8> = [1.0f64, f64::INFINITY].iter().flat_map(|x| x.to_le_bytes()).collect();
        assert_eq!(scan_floats(FloatKind::F64, &d, false).first_bad, Some(1));
    }

    /// Builds `n` blocks of type `name` filled with `fill`, with f16 `bits` at `field` of block `at`.
    fn blocks(name: &str, n: usize, at: usize, field: usize, bits: u16) -> (Vec<u8>, usize, &'static [ScaleField]) {
        let Check::Scales { block, fields } = check_for(GgmlType::from_name(name).unwrap()) else { panic!("{name}") };
        let mut v = vec![0x11u8; n * block];
        let f = fields[field];
        let o = at * block + f.at;
        v[o..o + 2].copy_from_slice(&bits.to_le_bytes());
        (v, block, fields)
    }

    #[test]
    fn every_f16_scale_layout_finds_a_planted_nan() {
        for name in [
            "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "IQ1_S",
            "IQ4_NL", "IQ4_XS", "TQ1_0", "TQ2_0", "Q1_0", "Q2_0",
        ] {
            let Check::Scales { fields, .. } = check_for(GgmlType::from_name(name).unwrap()) else { panic!("{name}") };
            for k in 0..fields.len() {
                let (v, block, fields) = blocks(name, 5, 3, k, 0x7E00);
                let s = scan_blocks(&v, block, fields, false);
                assert_eq!((s.bad_blocks, s.first_bad), (1, Some((3, k))), "{name} field {k}");
                // The same bits anywhere else in a block are quants, not a scale.
                let mut clean = vec![0x11u8; 5 * block];
                for f in fields {
                    clean[block + f.at..block + f.at + 2].copy_from_slice(&0x3C00u16.to_le_bytes());
                }
                let other = (0..block).find(|i| fields.iter().all(|f| *i + 1 < f.at || *i >= f.at + 2)).unwrap();
                clean[other..other + 2].copy_from_slice(&0x7E00u16.to_le_bytes());
                assert_eq!(scan_blocks(&clean, block, fields, false).bad_blocks, 0, "{name}");
            }
        }
    }

    #[test]
    fn big_endian_scales() {
        let Check::Scales { block, fields } = check_for(GgmlType::from_name("Q4_K").unwrap()) else { panic!() };
        let mut v = vec![0x11u8; 3 * block];
        v[block + 2..block + 4].copy_from_slice(&0x7C00u16.to_be_bytes());
        assert_eq!(scan_blocks(&v, block, fields, true).first_bad, Some((1, 1)));
        // The same bytes read little-endian are 0x007C, a finite subnormal.
        assert_eq!(scan_blocks(&v, block, fields, false).bad_blocks, 0);
    }

    #[test]
    fn q8_k_mxfp4_and_iq1_m_scales() {
        let Check::Scales { block, fields } = check_for(GgmlType::from_name("Q8_K").unwrap()) else { panic!() };
        let mut v = vec![0u8; 2 * block];
        v[block..block + 4].copy_from_slice(&f32::INFINITY.to_le_bytes());
        assert_eq!(scan_blocks(&v, block, fields, false).first_bad, Some((1, 0)));
        let Check::Scales { block, fields } = check_for(GgmlType::from_name("MXFP4").unwrap()) else { panic!() };
        let mut v = vec![0xFFu8; 4 * block];
        for b in 0..4 {
            v[b * block] = 0x7F;
        }
        assert_eq!(scan_blocks(&v, block, fields, false).bad_blocks, 0);
        v[2 * block] = 0xFF;
        assert_eq!(scan_blocks(&v, block, fields, false).first_bad, Some((2, 0)));
        let Check::Scales { block, fields } = check_for(GgmlType::from_name("IQ1_M").unwrap()) else { panic!() };
        let mut v = vec![0u8; 2 * block];
        v[block + 48 + 7] = 0x7C; // top nibble of sc[3] = 0x7, so the scale's top nibble is 7
        v[block + 48 + 5] = 0xC0; // top nibble of sc[2] = 0xC
        assert_eq!(scan_blocks(&v, block, fields, false).first_bad, Some((1, 0)));
    }
}
