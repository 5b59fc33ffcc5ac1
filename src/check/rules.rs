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
///
/// The structural rules mirror llama.cpp's GGUF reader, `ggml/src/gguf.cpp` (`gguf_init_from_reader`,
/// as `llama_model_loader` calls it through `gguf_init_from_file` with `no_alloc`), and the loader's
/// bounds check (`src/llama-model-loader.h`), llama.cpp 0c1e570 as vendored by llama-cpp-python
/// 0.3.36: each cites the line. A file that reader refuses fails one of them; a file it accepts
/// fails none (`tests/gguf_corpus.rs` checks both on a corpus llama.cpp judged).
pub const RULES: &[Rule] = &[
    rule("unreadable", "error", "the file can be opened and read (exit 2)"),
    rule("magic", "error", "the file starts with the magic GGUF (not GGUF: exit 2) [gguf.cpp:482]"),
    rule("version", "error", "GGUF version 2 or 3 (0, 1 and above 3 are refused) [gguf.cpp:495, 512, 516]"),
    rule("byte-order", "error", "a little-endian file: llama.cpp on x86/ARM refuses big-endian ones (version reads as a huge number) [gguf.cpp:507]"),
    rule(
        "counts",
        "error",
        "tensor count <= 2^64/344, metadata count <= 2^64/88; beyond 2^24 (no real file) in a file that ends before its items [gguf.cpp:527, 538]",
    ),
    rule(
        "length",
        "error",
        "strings (keys, values, names) <= 2^30 bytes, arrays <= 2^30 elements, none running past the end of the file with a length no real file has [gguf.cpp:280, 349, 353]",
    ),
    rule("empty-key", "error", "no metadata key is empty [gguf.cpp:572]"),
    rule("duplicate-key", "error", "every metadata key appears once (compared as bytes) [gguf.cpp:576]"),
    rule("value-type", "error", "metadata value and array element types are 0..=12 [gguf.cpp:609]"),
    rule("nesting", "error", "no array of arrays [gguf.cpp:609]"),
    rule("alignment-type", "error", "general.alignment is stored as u32 [gguf.cpp:624]"),
    rule("alignment", "error", "general.alignment is a non-zero power of two [gguf.cpp:633]"),
    rule("tensor-name", "error", "tensor names are at most 63 bytes (GGML_MAX_NAME 64 with the NUL) [gguf.cpp:658]"),
    rule("duplicate-tensor", "error", "every tensor name appears once [gguf.cpp:666]"),
    rule("dims", "error", "at most 4 dimensions, none negative, element count below 2^63 [gguf.cpp:680, 693, 714]"),
    rule("unknown-type", "error", "every tensor type is one this llama.cpp knows (inspect infers its size and warns) [gguf.cpp:731, 742]"),
    rule("block-size", "error", "each row is a whole number of the type's blocks [gguf.cpp:742]"),
    rule("tensor-size", "error", "each tensor's byte size, and that size padded to the alignment, is below 2^64 [gguf.cpp:750, 806]"),
    rule("offset-alignment", "error", "tensor data offsets are multiples of the alignment [gguf.cpp:796]"),
    rule("overlap", "error", "tensor data ranges do not overlap [gguf.cpp:796]"),
    rule("gap", "error", "each tensor's data starts where the previous one's ends, padded to the alignment; the first at 0 [gguf.cpp:796]"),
    rule("offset-order", "error", "tensor data is in the order of the tensor infos [gguf.cpp:796]"),
    rule("offset-range", "error", "tensor sizes add up below 2^64 and the data ends below byte 2^64 of the file [gguf.cpp:813, llama-model-loader.h:47]"),
    rule("header-size", "error", "the header fits the reader's limit (1 GiB; 256 MiB for remote files)"),
    rule(
        "incomplete",
        "incomplete",
        "the file holds the whole header, its padding and all tensor data (exit 3 when not) [gguf.cpp:782, llama-model-loader.h:47]",
    ),
    rule("trailing-bytes", "warning", "nothing follows the last tensor's data (llama.cpp ignores such bytes)"),
    rule("split-missing", "error", "every shard of a split model is present"),
    rule("split-count", "error", "all shards agree on split.count and the file names"),
    rule("split-index", "error", "each shard's split.no matches its file name and is unique"),
    rule("split-tensors", "error", "no tensor appears in two shards; split.tensors.count matches"),
    rule("required-key", "error", "metadata llama.cpp needs to load the architecture is present"),
    rule("key-type", "error", "metadata values have the types llama.cpp's loader accepts"),
    rule("unknown-arch", "warning", "general.architecture is one llama.cpp knows (error when it knows but cannot load it)"),
    rule("tokenizer", "error", "a tokenizer llama.cpp can load: model, tokens, merges for BPE, known pre-tokenizer"),
    rule(
        "tensor-missing",
        "error",
        "every tensor llama.cpp's loader requires for the architecture and hyperparameters is present [llama-model-loader.cpp check_tensor_dims]",
    ),
    rule("tensor-shape", "error", "every tensor llama.cpp asks for has the shape it expects [llama-model-loader.cpp check_tensor_dims]"),
    rule(
        "tensor-count",
        "error",
        "the file holds no tensor llama.cpp never asks for (its tensor count equals the tensors created) [llama-model-loader.cpp done_getting_tensors]",
    ),
    rule("tensor-hparams", "error", "the hyperparameters pass the checks load_tensors makes (load_arch_tensors throws)"),
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

/// Ids of the structural rules: those a file llama.cpp's GGUF reader (and the loader's bounds
/// check) accepts never breaks, and one it refuses always breaks at least one of.
pub const STRUCTURAL: &[&str] = &[
    "magic",
    "version",
    "byte-order",
    "counts",
    "length",
    "empty-key",
    "duplicate-key",
    "value-type",
    "nesting",
    "alignment-type",
    "alignment",
    "tensor-name",
    "duplicate-tensor",
    "dims",
    "unknown-type",
    "block-size",
    "tensor-size",
    "offset-alignment",
    "overlap",
    "gap",
    "offset-order",
    "offset-range",
    "header-size",
    "incomplete",
];

/// Looks a rule up by id.
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}
