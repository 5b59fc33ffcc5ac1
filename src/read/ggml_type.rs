//! The ggml tensor type table: block size and bytes per block for every known type id.
//!
//! Source of truth: `ggml/include/ggml.h` (ids) and `type_traits` in `ggml/src/ggml.c`
//! (block sizes, `sizeof(block_*)` in `ggml/src/ggml-common.h`), llama.cpp as vendored by
//! llama-cpp-python 0.3.36. Note that gguf-py 0.19 on PyPI says Q8_1 blocks are 40 bytes;
//! ggml's `block_q8_1` is 2 + 2 + 32 = 36 bytes, and ggml is what allocates.

use serde::Serialize;

/// A ggml tensor type id as stored in a GGUF tensor info; may be one we do not know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GgmlType(pub u32);

/// Layout of one ggml type: how many elements a block holds and how many bytes it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TypeTraits {
    /// Lower-case name as ggml prints it (`q4_K`), upper-cased for display.
    pub name: &'static str,
    /// Elements per block.
    pub block_size: u64,
    /// Bytes per block.
    pub type_size: u64,
}

const fn t(name: &'static str, block_size: u64, type_size: u64) -> Option<TypeTraits> {
    Some(TypeTraits { name, block_size, type_size })
}

/// Indexed by type id; `None` for ids that were removed from ggml or never assigned.
const TABLE: [Option<TypeTraits>; 43] = [
    t("F32", 1, 4),        // 0
    t("F16", 1, 2),        // 1
    t("Q4_0", 32, 18),     // 2
    t("Q4_1", 32, 20),     // 3
    None,                  // 4: Q4_2, removed
    None,                  // 5: Q4_3, removed
    t("Q5_0", 32, 22),     // 6
    t("Q5_1", 32, 24),     // 7
    t("Q8_0", 32, 34),     // 8
    t("Q8_1", 32, 36),     // 9
    t("Q2_K", 256, 84),    // 10
    t("Q3_K", 256, 110),   // 11
    t("Q4_K", 256, 144),   // 12
    t("Q5_K", 256, 176),   // 13
    t("Q6_K", 256, 210),   // 14
    t("Q8_K", 256, 292),   // 15
    t("IQ2_XXS", 256, 66), // 16
    t("IQ2_XS", 256, 74),  // 17
    t("IQ3_XXS", 256, 98), // 18
    t("IQ1_S", 256, 50),   // 19
    t("IQ4_NL", 32, 18),   // 20
    t("IQ3_S", 256, 110),  // 21
    t("IQ2_S", 256, 82),   // 22
    t("IQ4_XS", 256, 136), // 23
    t("I8", 1, 1),         // 24
    t("I16", 1, 2),        // 25
    t("I32", 1, 4),        // 26
    t("I64", 1, 8),        // 27
    t("F64", 1, 8),        // 28
    t("IQ1_M", 256, 56),   // 29
    t("BF16", 1, 2),       // 30
    None,                  // 31: Q4_0_4_4, removed (runtime repacking now)
    None,                  // 32: Q4_0_4_8, removed
    None,                  // 33: Q4_0_8_8, removed
    t("TQ1_0", 256, 54),   // 34
    t("TQ2_0", 256, 66),   // 35
    None,                  // 36: IQ4_NL_4_4, removed
    None,                  // 37: IQ4_NL_4_8, removed
    None,                  // 38: IQ4_NL_8_8, removed
    t("MXFP4", 32, 17),    // 39
    t("NVFP4", 64, 36),    // 40
    t("Q1_0", 128, 18),    // 41
    t("Q2_0", 64, 18),     // 42
];

impl GgmlType {
    /// F32, the type of norms and of recurrent state.
    pub const F32: GgmlType = GgmlType(0);
    /// F16, llama.cpp's default KV cache type.
    pub const F16: GgmlType = GgmlType(1);

    /// Block layout, or `None` when ggml does not (or no longer) know this id.
    pub fn traits(self) -> Option<TypeTraits> {
        TABLE.get(self.0 as usize).copied().flatten()
    }

    /// Display name: `Q4_K`, or `UNKNOWN(250)`.
    pub fn name(self) -> String {
        match self.traits() {
            Some(t) => t.name.to_string(),
            None => format!("UNKNOWN({})", self.0),
        }
    }

    /// Looks a type up by name, case-insensitively (`q8_0`, `F16`).
    pub fn from_name(name: &str) -> Option<GgmlType> {
        TABLE.iter().position(|t| t.is_some_and(|t| t.name.eq_ignore_ascii_case(name))).map(|i| GgmlType(i as u32))
    }

    /// Bytes of one row of `n` elements (ggml_row_size), `None` if unknown type,
    /// `n` not a whole number of blocks, or overflow.
    pub fn row_bytes(self, n: u64) -> Option<u64> {
        let t = self.traits()?;
        if !n.is_multiple_of(t.block_size) {
            return None;
        }
        (n / t.block_size).checked_mul(t.type_size)
    }
}

impl Serialize for GgmlType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_quants_are_256_element_blocks() {
        assert_eq!(GgmlType(12).row_bytes(4096), Some(16 * 144));
        assert_eq!(GgmlType(14).row_bytes(256), Some(210));
        assert_eq!(GgmlType(12).row_bytes(100), None);
    }

    #[test]
    fn removed_and_future_ids_are_unknown() {
        for id in [4, 5, 31, 36, 43, 250, u32::MAX] {
            assert!(GgmlType(id).traits().is_none(), "{id}");
        }
        assert_eq!(GgmlType(250).name(), "UNKNOWN(250)");
    }

    #[test]
    fn names_round_trip() {
        for id in 0..43u32 {
            if let Some(t) = GgmlType(id).traits() {
                assert_eq!(GgmlType::from_name(&t.name.to_lowercase()), Some(GgmlType(id)));
            }
        }
    }
}
