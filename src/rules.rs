//! The rule catalogue: every rule `check` (and its deep scan) can break, as data.
//!
//! One table says, for each rule, its stable id, the group it belongs to, how bad breaking it is,
//! when it fails and which llama.cpp check it mirrors. The reader (`read`), the deep scan (`scan`)
//! and `check` name rules by [`RuleId`], never by string; `check --list-rules` and the README's
//! rule table are printed from [`RULES`] (`tests/readme.rs` keeps the README equal to it). The
//! module is data only, below every layer, so the lowest layer that detects a problem can name
//! the rule without depending on `check`.
//!
//! Citations are to llama.cpp 0c1e570 as vendored by llama-cpp-python 0.3.36: `gguf.cpp` is
//! `ggml/src/gguf.cpp` (`gguf_init_from_reader`, which `llama_model_loader` calls through
//! `gguf_init_from_file` with `no_alloc`), `llama-model-loader.*` is `src/`.
//!
//! Adding a rule: one line in the `catalogue!` call below (variant, id, group, level, what, mirrors),
//! the code that reports it, a test that breaks it, then
//! `GGUF_METER_BLESS_README=1 cargo test --test readme` to regenerate the README's table.

use serde::{Serialize, Serializer};
use std::fmt;

/// Which part of the check a rule belongs to, in the order `check` runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// Whether llama.cpp's GGUF reader reads the file at all.
    Structure,
    /// A model split over several files.
    Split,
    /// Metadata llama.cpp's loader needs.
    Metadata,
    /// The tensors llama.cpp's model loader asks for.
    Tensors,
    /// Memory budgets at a given context.
    Budget,
    /// The bytes of the tensor data (`--deep`).
    Data,
    /// A repository's own policy file (`--policy`).
    Policy,
}

impl Group {
    /// The group's name as `check --list-rules` and the README print it.
    pub fn name(self) -> &'static str {
        match self {
            Group::Structure => "structure",
            Group::Split => "split",
            Group::Metadata => "metadata",
            Group::Tensors => "tensors",
            Group::Budget => "budget",
            Group::Data => "data",
            Group::Policy => "policy",
        }
    }
}

/// What breaking a rule does to the verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Fails the check (exit 1; exit 2 for an unreadable file).
    Error,
    /// Reported; fails the check only with `--strict`.
    Warning,
    /// Data still missing, nothing wrong so far: the check is incomplete (exit 3).
    Incomplete,
}

impl Level {
    /// The level's name as printed.
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Incomplete => "incomplete",
        }
    }
}

/// One rule of the catalogue (`check --list-rules --format json` prints them as objects).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// The rule.
    pub id: RuleId,
    /// Which part of the check it belongs to.
    pub group: Group,
    /// What breaking it does.
    pub level: Level,
    /// When it fails, in one sentence.
    pub what: &'static str,
    /// The llama.cpp check it mirrors (file:line or function), empty for gguf-meter's own rules.
    pub mirrors: &'static str,
}

macro_rules! catalogue {
    ($($variant:ident = $id:literal, $group:ident, $level:ident, $what:literal, $mirrors:literal;)*) => {
        /// A rule's identity. Its stable id (kebab-case) is [`RuleId::id`]; serialised as that id.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum RuleId {
            $(#[doc = $what] $variant,)*
        }

        impl RuleId {
            /// The stable id, as printed and in JSON.
            pub const fn id(self) -> &'static str {
                match self {
                    $(RuleId::$variant => $id,)*
                }
            }
        }

        /// Every rule, in the order `check` runs them.
        pub const RULES: &[Rule] = &[
            $(Rule { id: RuleId::$variant, group: Group::$group, level: Level::$level, what: $what, mirrors: $mirrors },)*
        ];
    };
}

catalogue! {
    Unreadable = "unreadable", Structure, Error, "the file cannot be opened or read; exit 2", "";
    Magic = "magic", Structure, Error, "the file does not start with `GGUF`; exit 2", "gguf.cpp:482";
    Version = "version", Structure, Error, "GGUF version 0, 1 or above 3", "gguf.cpp:495, 512, 516";
    ByteOrder = "byte-order", Structure, Error,
        "a big-endian file: its version reads as a huge number on a little-endian host, which llama.cpp refuses; `inspect` still reads it",
        "gguf.cpp:507";
    Counts = "counts", Structure, Error,
        "more than 2^64/344 tensors or 2^64/88 metadata pairs, or a count beyond any real file (2^24) in a file that ends before them",
        "gguf.cpp:527, 538";
    Length = "length", Structure, Error,
        "a string (key, value, tensor name) over 2^30 bytes, an array over 2^30 elements, or a string or array running past the end of the file with a length no real file has (a key over 64 KiB, a name of 64 bytes or more, a value or array over 256 MiB)",
        "gguf.cpp:280, 288, 295, 349, 353";
    EmptyKey = "empty-key", Structure, Error, "an empty metadata key", "gguf.cpp:572";
    DuplicateKey = "duplicate-key", Structure, Error, "a metadata key seen before, compared as bytes", "gguf.cpp:576";
    ValueType = "value-type", Structure, Error, "a value or array element type outside 0..=12", "gguf.cpp:609";
    Nesting = "nesting", Structure, Error, "an array of arrays", "gguf.cpp:609";
    AlignmentType = "alignment-type", Structure, Error, "`general.alignment` stored as anything but u32", "gguf.cpp:624";
    Alignment = "alignment", Structure, Error, "`general.alignment` 0 or not a power of two", "gguf.cpp:633";
    TensorName = "tensor-name", Structure, Error, "a tensor name of 64 bytes or more (`GGML_MAX_NAME` with the NUL)", "gguf.cpp:658";
    DuplicateTensor = "duplicate-tensor", Structure, Error, "a tensor name seen before", "gguf.cpp:666";
    Dims = "dims", Structure, Error, "more than 4 dimensions, a negative one, or an element count beyond 2^63", "gguf.cpp:680, 693, 714";
    UnknownType = "unknown-type", Structure, Error,
        "a tensor type id this llama.cpp does not know, removed ones included; `inspect` infers its size and warns",
        "gguf.cpp:731, 742";
    BlockSize = "block-size", Structure, Error, "a row that is not a whole number of the type's blocks", "gguf.cpp:742";
    TensorSize = "tensor-size", Structure, Error, "a tensor's byte size, or that size padded to the alignment, beyond 2^64", "gguf.cpp:750, 806";
    OffsetAlignment = "offset-alignment", Structure, Error, "a tensor's data offset that is not a multiple of the alignment", "gguf.cpp:796";
    Overlap = "overlap", Structure, Error, "tensor data overlapping the previous tensor's", "gguf.cpp:796";
    Gap = "gap", Structure, Error,
        "a tensor's data not starting where the previous one's ends, padded to the alignment (the first at 0): unused bytes",
        "gguf.cpp:796";
    OffsetOrder = "offset-order", Structure, Error, "tensor data out of the order of the tensor infos", "gguf.cpp:796";
    OffsetRange = "offset-range", Structure, Error,
        "the padded sizes add up past 2^64, or the data would end past byte 2^64 of the file",
        "gguf.cpp:813, llama-model-loader.h:47";
    HeaderSize = "header-size", Structure, Error, "a header bigger than gguf-meter reads (1 GiB; 256 MiB remote)", "";
    Incomplete = "incomplete", Structure, Incomplete,
        "the file ends before its header, the padding after it or its tensor data: a download in progress; exit 3",
        "gguf.cpp:782, llama-model-loader.h:47";
    TrailingBytes = "trailing-bytes", Structure, Warning, "bytes after the last tensor's data (llama.cpp ignores them)", "";
    SplitMissing = "split-missing", Split, Error, "a shard of a split model is not there (nor a .part/.incomplete of it)", "llama-model-loader.cpp (split files)";
    SplitCount = "split-count", Split, Error, "shards disagree on `split.count` or with their file names", "llama-model-loader.cpp (split files)";
    SplitIndex = "split-index", Split, Error, "a shard's `split.no` (0-based) differs from its file name, or repeats", "llama-model-loader.cpp (split files)";
    SplitTensors = "split-tensors", Split, Error, "a tensor in two shards, or `split.tensors.count` not matching the shards", "llama-model-loader.cpp (split files)";
    RequiredKey = "required-key", Metadata, Error,
        "metadata llama.cpp's loader requires for the architecture is missing or has a value it does not know (`scripts/gen_required_keys.py`)",
        "llama-model.cpp load_hparams";
    KeyType = "key-type", Metadata, Error, "a metadata value stored with a type the loader rejects", "llama-model-loader.cpp get_key";
    UnknownArch = "unknown-arch", Metadata, Warning,
        "`general.architecture` is one this llama.cpp build does not know (an error when it knows it but cannot load it)",
        "llama-arch.cpp llm_arch_from_string";
    Tokenizer = "tokenizer", Metadata, Error,
        "no tokenizer llama.cpp can load: model, token list, merges for BPE, a known pre-tokenizer",
        "llama-vocab.cpp load";
    MmprojMismatch = "mmproj-mismatch", Metadata, Error,
        "an mmproj's projection width (`clip.vision.projection_dim`) differs from its model's embedding width",
        "tools/mtmd mtmd.cpp";
    TensorMissing = "tensor-missing", Tensors, Error,
        "a tensor llama.cpp's loader requires for the architecture and hyperparameters is not there (`scripts/gen_tensor_rules.py`)",
        "llama-model-loader.cpp check_tensor_dims";
    TensorShape = "tensor-shape", Tensors, Error, "a tensor llama.cpp asks for has another shape than it expects", "llama-model-loader.cpp check_tensor_dims";
    TensorCount = "tensor-count", Tensors, Error,
        "the file holds tensors llama.cpp never asks for, or one is counted twice",
        "llama-model-loader.cpp done_getting_tensors";
    TensorHparams = "tensor-hparams", Tensors, Error, "the hyperparameters fail a check `load_arch_tensors` makes", "llama-model.cpp load_tensors";
    Geometry = "geometry", Budget, Error, "the tensor shapes do not describe a model gguf-meter can estimate, so no budget can be checked", "";
    MaxResident = "max-resident", Budget, Error, "llama.cpp's total allocation at `--ctx` (mmproj included) is over `--max-resident`", "";
    MaxWeights = "max-weights", Budget, Error, "the model's weights are over `--max-weights`", "";
    MaxFile = "max-file", Budget, Error, "the file (all shards, complete size) is over `--max-file`", "";
    MustFit = "must-fit", Budget, Error,
        "the model does not fit entirely on a `--must-fit` device at `--ctx` (its GPU memory minus `--fit`'s 1 GiB margin)",
        "common/arg.cpp --fit";
    NanInf = "nan-inf", Data, Error, "`--deep`: a NaN or Inf in F32/F16/BF16/F64 tensor data", "";
    ScaleNanInf = "scale-nan-inf", Data, Error, "`--deep`: a NaN or Inf in a quantized block's scale fields", "";
    AllZero = "all-zero", Data, Warning, "`--deep`: a tensor entirely zero (float values, or every data byte of a quantized one)", "";
    Sha256Mismatch = "sha256-mismatch", Data, Error, "`--deep --sha256`: the file's SHA-256 differs from the list", "";
    Sha256Unlisted = "sha256-unlisted", Data, Error, "`--deep --sha256`: the list does not name the file", "";
    PolicyArch = "policy-arch", Policy, Error, "the architecture is not in `allow.architectures`", "";
    PolicyType = "policy-type", Policy, Error, "a tensor type is not in `allow.types`", "";
    PolicyKey = "policy-key", Policy, Error, "a key of `require.keys` is missing", "";
}

impl RuleId {
    /// The rule's catalogue entry.
    pub fn rule(self) -> &'static Rule {
        // RULES lists every variant in declaration order (the macro writes both from one list).
        RULES.get(self as usize).unwrap_or(&RULES[0])
    }

    /// The rule with this stable id.
    pub fn from_id(id: &str) -> Option<RuleId> {
        RULES.iter().find(|r| r.id.id() == id).map(|r| r.id)
    }

    /// True for the structural rules: those a file llama.cpp's GGUF reader (and the loader's
    /// bounds check) accepts never breaks, and one it refuses always breaks at least one of.
    /// `unreadable` (no file to judge) and `trailing-bytes` (llama.cpp ignores them) are not.
    pub fn is_structural(self) -> bool {
        self.rule().group == Group::Structure && !matches!(self, RuleId::Unreadable | RuleId::TrailingBytes)
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for RuleId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// The catalogue as `check --list-rules` prints it: a line per rule, grouped.
pub fn listing() -> String {
    let mut out = String::new();
    for r in RULES {
        let cite = if r.mirrors.is_empty() { String::new() } else { format!(" [{}]", r.mirrors) };
        out.push_str(&format!("{:<10} {:<18} {:<10} {}{}\n", r.group.name(), r.id.id(), r.level.name(), r.what, cite));
    }
    out
}

/// The catalogue as the README's markdown table.
pub fn markdown() -> String {
    let mut out = String::from("| group | rule | level | fails when | llama.cpp check |\n|---|---|---|---|---|\n");
    for r in RULES {
        let cite = if r.mirrors.is_empty() { "(gguf-meter's own)".to_string() } else { format!("`{}`", r.mirrors) };
        out.push_str(&format!("| {} | `{}` | {} | {} | {} |\n", r.group.name(), r.id.id(), r.level.name(), r.what, cite));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_in_declaration_order_with_unique_ids() {
        for (i, r) in RULES.iter().enumerate() {
            assert_eq!(r.id as usize, i, "{} out of place", r.id);
            assert_eq!(RuleId::from_id(r.id.id()), Some(r.id));
            assert!(!r.what.is_empty());
        }
        assert_eq!(RuleId::from_id("no-such-rule"), None);
    }

    #[test]
    fn groups_run_in_order() {
        assert!(RULES.windows(2).all(|w| w[0].group <= w[1].group), "rules of one group are listed together");
    }

    #[test]
    fn structural_rules_are_the_readers() {
        let structural: Vec<&str> = RULES.iter().filter(|r| r.id.is_structural()).map(|r| r.id.id()).collect();
        assert_eq!(structural.len(), 24);
        assert!(structural.contains(&"incomplete") && !structural.contains(&"unreadable"));
    }

    #[test]
    fn serialises_as_its_id() {
        assert_eq!(serde_json::to_string(&RuleId::Sha256Mismatch).unwrap(), "\"sha256-mismatch\"");
        assert_eq!(RuleId::OffsetOrder.to_string(), "offset-order");
        let v = serde_json::to_value(RuleId::Incomplete.rule()).unwrap();
        assert_eq!(v["group"], "structure");
        assert_eq!(v["level"], "incomplete");
        for (r, name) in RULES.iter().map(|r| (r, serde_json::to_value(r.group).unwrap())) {
            assert_eq!(name, r.group.name());
        }
    }
}
