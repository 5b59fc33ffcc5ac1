//! The catalogue of rule ids `check` can report, for `check --list-rules` and the README.

/// A rule: id, default severity and what it checks.
pub struct Rule {
    /// Stable id.
    pub id: &'static str,
    /// "error" or "warning".
    pub severity: &'static str,
    /// What it checks.
    pub what: &'static str,
}

const fn rule(id: &'static str, severity: &'static str, what: &'static str) -> Rule {
    Rule { id, severity, what }
}

/// Every rule, grouped by layer: structure, split sets, metadata, data, budget, policy.
pub const RULES: &[Rule] = &[
    rule("unreadable", "error", "the file can be opened and read (exit 2)"),
    rule("magic", "error", "the file starts with the magic GGUF (not GGUF: exit 2)"),
    rule("version", "error", "GGUF version 2 or 3"),
    rule("counts", "error", "tensor and metadata counts are within what any real file has"),
    rule("length", "error", "string, name and array lengths are within what any real file has"),
    rule("utf8", "error", "strings are UTF-8"),
    rule("value-type", "error", "metadata value and array element types are 0..=12"),
    rule("nesting", "error", "arrays are not nested absurdly deep"),
    rule("duplicate-key", "error", "every metadata key appears once"),
    rule("alignment", "error", "general.alignment is a power of two"),
    rule("duplicate-tensor", "error", "every tensor name appears once"),
    rule("dims", "error", "1 to 4 dimensions whose element count fits in 64 bits"),
    rule("offset-alignment", "error", "tensor data offsets are multiples of the alignment"),
    rule("overlap", "error", "tensor data ranges do not overlap"),
    rule("block-size", "error", "each row is a whole number of the type's blocks"),
    rule("offset-range", "error", "tensor data ends below 2^64"),
    rule("header-size", "error", "the header fits the reader's limit"),
    rule("incomplete", "incomplete", "the file holds the whole header and all tensor data (exit 3 when not)"),
    rule("trailing-bytes", "warning", "nothing follows the last tensor's data"),
    rule("gap", "warning", "no unused bytes between tensors beyond alignment padding"),
    rule("unknown-type", "warning", "every tensor type is one ggml knows"),
    rule("split-missing", "error", "every shard of a split model is present"),
    rule("split-count", "error", "all shards agree on split.count and the file names"),
    rule("split-index", "error", "each shard's split.no matches its file name and is unique"),
    rule("split-tensors", "error", "no tensor appears in two shards; split.tensors.count matches"),
    rule("required-key", "error", "metadata llama.cpp needs to load the architecture is present"),
    rule("key-type", "error", "metadata values have the types llama.cpp's loader accepts"),
    rule("unknown-arch", "warning", "general.architecture is one llama.cpp knows (error when it knows but cannot load it)"),
    rule("tokenizer", "error", "a tokenizer llama.cpp can load: model, tokens, merges for BPE, known pre-tokenizer"),
    rule("geometry", "error", "the tensor shapes describe a model that can be estimated"),
    rule("mmproj-mismatch", "error", "an mmproj's projection width equals its model's embedding width"),
    rule("nan-inf", "error", "--deep: no NaN or Inf in F32/F16/BF16 tensors"),
    rule("scale-nan-inf", "error", "--deep: no NaN or Inf in quantized blocks' scale fields"),
    rule("all-zero", "warning", "--deep: no tensor is entirely zero (float values, or all data bytes of a quantized one)"),
    rule("sha256-mismatch", "error", "--deep --sha256: the file's sha256 matches the list"),
    rule("sha256-unlisted", "error", "--deep --sha256: the list names the file"),
    rule("max-resident", "error", "budget: llama.cpp's total allocation at --ctx is within --max-resident"),
    rule("max-weights", "error", "budget: model weights are within --max-weights"),
    rule("max-file", "error", "budget: the file (all shards) is within --max-file"),
    rule("must-fit", "error", "budget: the model fits entirely on each --must-fit device at --ctx"),
    rule("policy-arch", "error", "policy: the architecture is in allow.architectures"),
    rule("policy-type", "error", "policy: every tensor type is in allow.types"),
    rule("policy-key", "error", "policy: every key of require.keys is present"),
];

/// Looks a rule up by id.
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}
