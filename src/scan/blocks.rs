//! What the deep scan checks in each ggml type, and where the scale fields of each block lie.
//!
//! Every offset below is read off the `block_*` structs of `ggml/src/ggml-common.h`
//! (llama.cpp as vendored by llama-cpp-python 0.3.36); a type whose scale layout cannot be
//! cited from ggml is reported as not scanned rather than guessed.

use crate::read::GgmlType;

/// How a scale field is encoded, and so which bit patterns make it NaN or infinite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScaleKind {
    /// `ggml_half`: IEEE binary16.
    F16,
    /// `float`: IEEE binary32 (only `block_q8_K`).
    F32,
    /// MXFP4's E8M0 exponent byte. 0xFF is NaN in the OCP MX spec and in CUDA's conversion
    /// (`__nv_cvt_e8m0_to_bf16raw`), +Inf in `ggml_e8m0_to_fp32` (ggml-impl.h).
    E8M0,
    /// IQ1_M's f16 scale, scattered over the top nibbles of its four `uint16_t` scales
    /// (`dequantize_row_iq1_m` in ggml-quants.c).
    Iq1m,
}

/// One scale field of a quantized block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaleField {
    /// Field name as in ggml-common.h.
    pub name: &'static str,
    /// Byte offset within the block.
    pub at: usize,
    /// Encoding.
    pub kind: ScaleKind,
}

impl ScaleField {
    /// Bytes the field occupies.
    pub fn width(self) -> usize {
        match self.kind {
            ScaleKind::E8M0 => 1,
            ScaleKind::F16 => 2,
            ScaleKind::F32 => 4,
            ScaleKind::Iq1m => 8,
        }
    }
}

/// Float element encodings checked value by value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatKind {
    /// IEEE binary32.
    F32,
    /// IEEE binary16.
    F16,
    /// bfloat16.
    Bf16,
    /// IEEE binary64.
    F64,
}

impl FloatKind {
    /// Bytes per element.
    pub fn width(self) -> usize {
        match self {
            FloatKind::F32 => 4,
            FloatKind::F16 | FloatKind::Bf16 => 2,
            FloatKind::F64 => 8,
        }
    }
}

/// What the scan does with a tensor of a given type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Every element for NaN/Inf, and the tensor for all zeros.
    Floats(FloatKind),
    /// The scale fields of every block for NaN/Inf, and the tensor for all-zero bytes.
    Scales { block: usize, fields: &'static [ScaleField] },
    /// Only the all-zero check; `why` says why the scales are not read.
    ZeroOnly { block: usize, why: &'static str },
    /// Nothing: integers cannot be NaN, and zeros are legitimate there.
    Nothing,
    /// The type id is unknown: the bytes cannot be interpreted.
    Unknown,
}

const fn f16(name: &'static str, at: usize) -> ScaleField {
    ScaleField { name, at, kind: ScaleKind::F16 }
}

const D0: &[ScaleField] = &[f16("d", 0)];
const DM0: &[ScaleField] = &[f16("d", 0), f16("m", 2)];
const DDMIN0: &[ScaleField] = &[f16("d", 0), f16("dmin", 2)];
const DS0: &[ScaleField] = &[f16("d", 0), f16("s", 2)];
const Q2_K: &[ScaleField] = &[f16("d", 80), f16("dmin", 82)];
const Q3_K: &[ScaleField] = &[f16("d", 108)];
const Q6_K: &[ScaleField] = &[f16("d", 208)];
const TQ1_0: &[ScaleField] = &[f16("d", 52)];
const TQ2_0: &[ScaleField] = &[f16("d", 64)];

/// The check for `t`, with the block layouts of ggml-common.h.
pub fn check_for(t: GgmlType) -> Check {
    let Some(traits) = t.traits() else { return Check::Unknown };
    let block = traits.type_size as usize;
    let scales = |fields| Check::Scales { block, fields };
    match t.0 {
        0 => Check::Floats(FloatKind::F32),
        1 => Check::Floats(FloatKind::F16),
        30 => Check::Floats(FloatKind::Bf16),
        28 => Check::Floats(FloatKind::F64),
        24..=27 => Check::Nothing,
        // block_q4_0, q5_0, q8_0, iq2_xxs, iq2_xs, iq3_xxs, iq1_s, iq4_nl, iq3_s, iq2_s,
        // iq4_xs, q1_0, q2_0: `ggml_half d` first.
        2 | 6 | 8 | 16..=23 | 41 | 42 => scales(D0),
        // block_q4_1, q5_1: `{ d, m }` first.
        3 | 7 => scales(DM0),
        // block_q8_1: `{ d, s }` first.
        9 => scales(DS0),
        // block_q2_K: scales[16], qs[64], then `{ d, dmin }`.
        10 => scales(Q2_K),
        // block_q3_K: hmask[32], qs[64], scales[12], d.
        11 => scales(Q3_K),
        // block_q4_K, q5_K: `{ d, dmin }` first.
        12 | 13 => scales(DDMIN0),
        // block_q6_K: ql[128], qh[64], scales[16], d.
        14 => scales(Q6_K),
        // block_q8_K: `float d` first.
        15 => scales(&[ScaleField { name: "d", at: 0, kind: ScaleKind::F32 }]),
        // block_iq1_m: qs[32], qh[16], scales[8] carrying the f16 scale in their top nibbles.
        29 => scales(&[ScaleField { name: "scale", at: 48, kind: ScaleKind::Iq1m }]),
        // block_tq1_0: qs[48], qh[4], d.
        34 => scales(TQ1_0),
        // block_tq2_0: qs[64], d.
        35 => scales(TQ2_0),
        // block_mxfp4: `uint8_t e` (E8M0) first.
        39 => scales(&[ScaleField { name: "e", at: 0, kind: ScaleKind::E8M0 }]),
        // block_nvfp4: UE4M3 scales, which ggml_ue4m3_to_fp32 decodes to finite values only.
        40 => Check::ZeroOnly { block, why: "UE4M3 scales have no NaN/Inf encoding in ggml" },
        _ => Check::ZeroOnly { block, why: "scale layout not cited from ggml-common.h" },
    }
}

/// True when the scale field at the start of `b` decodes to NaN or an infinity.
#[inline]
pub fn scale_is_bad(kind: ScaleKind, b: &[u8], big_endian: bool) -> bool {
    // Callers pass the whole field; a byte past the end (none is) would read as 0, not bad.
    let byte = |i: usize| b.get(i).copied().unwrap_or(0);
    let u16_at = |i: usize| {
        let w = [byte(i), byte(i + 1)];
        if big_endian { u16::from_be_bytes(w) } else { u16::from_le_bytes(w) }
    };
    match kind {
        ScaleKind::F16 => u16_at(0) & 0x7C00 == 0x7C00,
        ScaleKind::F32 => {
            let w = [byte(0), byte(1), byte(2), byte(3)];
            let v = if big_endian { u32::from_be_bytes(w) } else { u32::from_le_bytes(w) };
            v & 0x7F80_0000 == 0x7F80_0000
        }
        ScaleKind::E8M0 => byte(0) == 0xFF,
        ScaleKind::Iq1m => {
            let sc = [u16_at(0), u16_at(2), u16_at(4), u16_at(6)];
            let h = (sc[0] >> 12) | ((sc[1] >> 8) & 0x00F0) | ((sc[2] >> 4) & 0x0F00) | (sc[3] & 0xF000);
            h & 0x7C00 == 0x7C00
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scale_field_lies_inside_its_block() {
        for id in 0..64u32 {
            if let Check::Scales { block, fields } = check_for(GgmlType(id)) {
                for f in fields {
                    assert!(f.at + f.width() <= block, "type {id} field {}", f.name);
                }
            }
        }
    }

    #[test]
    fn required_types_have_their_scales_checked() {
        for name in ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ4_NL", "IQ4_XS", "MXFP4"] {
            let t = GgmlType::from_name(name).unwrap();
            assert!(matches!(check_for(t), Check::Scales { .. }), "{name}");
        }
        assert_eq!(check_for(GgmlType(250)), Check::Unknown);
        assert_eq!(check_for(GgmlType(26)), Check::Nothing);
    }

    #[test]
    fn scale_encodings() {
        assert!(scale_is_bad(ScaleKind::F16, &0x7E00u16.to_le_bytes(), false));
        assert!(scale_is_bad(ScaleKind::F16, &0xFC00u16.to_le_bytes(), false));
        assert!(!scale_is_bad(ScaleKind::F16, &0x7BFFu16.to_le_bytes(), false));
        assert!(scale_is_bad(ScaleKind::F16, &0x7C00u16.to_be_bytes(), true));
        assert!(!scale_is_bad(ScaleKind::F16, &0x7C00u16.to_be_bytes(), false));
        assert!(scale_is_bad(ScaleKind::F32, &f32::NAN.to_le_bytes(), false));
        assert!(!scale_is_bad(ScaleKind::F32, &f32::MAX.to_le_bytes(), false));
        assert!(scale_is_bad(ScaleKind::E8M0, &[0xFF], false));
        assert!(!scale_is_bad(ScaleKind::E8M0, &[0xFE], false));
        // IQ1_M: f16 0x7C00 (+Inf) spread as nibbles 0x0, 0x0, 0xC, 0x7 over sc[0..4].
        let sc: [u16; 4] = [0x0123, 0x0456, 0xC789, 0x7ABC];
        let bytes: Vec<u8> = sc.iter().flat_map(|s| s.to_le_bytes()).collect();
        assert!(scale_is_bad(ScaleKind::Iq1m, &bytes, false));
        let sc: [u16; 4] = [0x0123, 0x0456, 0xC789, 0x3ABC];
        let bytes: Vec<u8> = sc.iter().flat_map(|s| s.to_le_bytes()).collect();
        assert!(!scale_is_bad(ScaleKind::Iq1m, &bytes, false));
    }
}
