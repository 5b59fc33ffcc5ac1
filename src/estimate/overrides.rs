//! `-ot PATTERN=BUFT` (`--override-tensor`) as llama.cpp applies it: every pattern is a regular
//! expression searched for in the tensor's name, in command-line order, and the first match
//! decides the tensor's buffer (`llama-model-loader.cpp:1234-1262`, `std::regex_search`).
//! `--cpu-moe` / `--n-cpu-moe N` are the same mechanism: llama.cpp appends patterns for them
//! after the user's (`common/arg.cpp:2760-2775`, `common/common.h`).

use super::weights::{buffer_bytes, is_loaded};
use crate::model::Geometry;
use crate::model::layers::block_of;
use crate::read::TensorEntry;
use regex::Regex;
use std::sync::LazyLock;

/// Where an override sends a tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Buft {
    /// System RAM (`CPU`; llama.cpp may pick `CPU_REPACK`, same bytes).
    Cpu,
    /// GPU number N (`CUDA0`, `ROCm1`, `Vulkan0`, `MTL0`, `SYCL0`).
    Gpu(u32),
}

/// Backend prefixes of GPU buffer names as llama.cpp spells them (`GGML_CUDA_NAME` is `CUDA`,
/// or `ROCm` for HIP builds; `GGML_VK_NAME`, `GGML_METAL_NAME`, `GGML_SYCL_NAME`).
pub const GPU_PREFIXES: [&str; 5] = ["CUDA", "ROCm", "Vulkan", "MTL", "SYCL"];

/// Largest GPU index accepted when the machine is not known (`footprint`).
const MAX_GPU: u32 = 63;

/// One `PATTERN=BUFT`.
#[derive(Clone, Debug)]
pub struct Override {
    /// The pattern as typed.
    pub pattern: String,
    /// The buffer name as typed.
    pub buffer: String,
    /// Where matching tensors go.
    pub buft: Buft,
    regex: Regex,
}

/// The user's overrides, in order, and the `-ot` values they came from.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// Parsed overrides, first match wins.
    pub list: Vec<Override>,
    /// The `-ot` values verbatim, for the command line.
    pub given: Vec<String>,
}

/// Why an `-ot` value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    /// No `=` in an item.
    #[error("-ot {0:?}: expected PATTERN=BUFFER (e.g. exps=CPU)")]
    Syntax(String),
    /// A buffer name gguf-meter does not know, or a GPU the machine lacks.
    #[error("-ot {item:?}: unknown buffer type {buffer:?}; {accepted}")]
    UnknownBuffer {
        /// The item.
        item: String,
        /// The buffer named.
        buffer: String,
        /// What is accepted here.
        accepted: String,
    },
    /// A pattern the `regex` crate cannot compile (look-around and backreferences are not supported).
    #[error("-ot pattern {pattern:?}: {why} (gguf-meter's regex engine has no look-around or backreferences)")]
    Regex {
        /// The pattern.
        pattern: String,
        /// The engine's complaint, on one line.
        why: String,
    },
}

fn parse_buft(name: &str, n_gpus: Option<u32>) -> Option<Buft> {
    if name == "CPU" {
        return Some(Buft::Cpu);
    }
    let idx = GPU_PREFIXES.iter().find_map(|p| name.strip_prefix(p))?;
    if idx.is_empty() || !idx.bytes().all(|b| b.is_ascii_digit()) || (idx.len() > 1 && idx.starts_with('0')) {
        return None;
    }
    let i: u32 = idx.parse().ok()?;
    (i < n_gpus.unwrap_or(MAX_GPU + 1)).then_some(Buft::Gpu(i))
}

fn accepted(n_gpus: Option<u32>) -> String {
    match n_gpus {
        Some(0) => "this machine has no GPU: only CPU is accepted".into(),
        Some(n) => format!("accepted: CPU, CUDA0..CUDA{} (or ROCm/Vulkan/MTL/SYCL with the same numbers)", n - 1),
        None => "accepted: CPU, CUDA0, CUDA1, ... (or ROCm/Vulkan/MTL/SYCL N)".into(),
    }
}

/// Compiles a pattern as llama.cpp would use it, or says why not.
fn compile(pattern: &str) -> Result<Regex, OverrideError> {
    Regex::new(pattern).map_err(|e| {
        let text = e.to_string();
        let why = text.lines().map(str::trim).find(|l| l.starts_with("error:")).unwrap_or_else(|| text.lines().next().unwrap_or("invalid")).to_string();
        OverrideError::Regex { pattern: pattern.to_string(), why }
    })
}

impl Overrides {
    /// Parses `-ot` values (each a comma-separated list, as llama.cpp splits them). `n_gpus`:
    /// the machine's GPU count, which bounds `CUDAn`; `None` when no machine is known.
    pub fn parse(values: &[String], n_gpus: Option<u32>) -> Result<Overrides, OverrideError> {
        let mut list = Vec::new();
        for v in values {
            for item in v.split(',') {
                let (pattern, buffer) = item.split_once('=').ok_or_else(|| OverrideError::Syntax(item.to_string()))?;
                let buft = parse_buft(buffer, n_gpus).ok_or_else(|| OverrideError::UnknownBuffer {
                    item: item.to_string(),
                    buffer: buffer.to_string(),
                    accepted: accepted(n_gpus),
                })?;
                list.push(Override { pattern: pattern.to_string(), buffer: buffer.to_string(), buft, regex: compile(pattern)? });
            }
        }
        Ok(Overrides { list, given: values.to_vec() })
    }

    /// True when no override was given.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The first override matching `name` (search semantics, as `std::regex_search`).
    pub fn find(&self, name: &str) -> Option<&Override> {
        self.list.iter().find(|o| o.regex.is_match(name))
    }
}

/// Weights one buffer receives, for `footprint -ot`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BufferWeights {
    /// The buffer as the user spelled it (`CPU`, `CUDA1`), or `input` / `layers` for tensors no
    /// override matched: the token embedding (always CPU) and the rest (placed by `-ngl`).
    pub buffer: String,
    /// True when overrides put these tensors there.
    pub via_override: bool,
    /// Tensors.
    pub tensors: u64,
    /// Buffer bytes (each tensor padded as in `weights_bytes`).
    pub weights_bytes: u64,
}

/// Splits the loaded weights by where the overrides send them (MTP blocks only if `load_mtp`).
pub fn weights_by_buffer(tensors: &[TensorEntry], g: &Geometry, ov: &Overrides, load_mtp: bool) -> Vec<BufferWeights> {
    let mut out: Vec<BufferWeights> = Vec::new();
    for t in tensors.iter().filter(|t| load_mtp || is_loaded(t, g)) {
        let (buffer, via) = match ov.find(&t.name) {
            // Buffers that mean the same device (CUDA0, Vulkan0) are one buffer.
            Some(o) => (ov.list.iter().find(|x| x.buft == o.buft).map_or(o.buffer.clone(), |x| x.buffer.clone()), true),
            None if t.name == "token_embd.weight" => ("input".to_string(), false),
            None => ("layers".to_string(), false),
        };
        let i = match out.iter().position(|b| b.buffer == buffer && b.via_override == via) {
            Some(i) => i,
            None => {
                out.push(BufferWeights { buffer, via_override: via, tensors: 0, weights_bytes: 0 });
                out.len() - 1
            }
        };
        out[i].tensors += 1;
        out[i].weights_bytes = out[i].weights_bytes.saturating_add(buffer_bytes(t));
    }
    // The user's order, then the tensors no override matched.
    let rank = |b: &BufferWeights| match (b.via_override, b.buffer.as_str()) {
        (true, name) => ov.list.iter().position(|o| o.buffer == name).unwrap_or(0),
        (false, "layers") => ov.list.len(),
        (false, _) => ov.list.len() + 1,
    };
    out.sort_by_key(rank);
    out
}

/// llama.cpp's expert pattern (`LLM_FFN_EXPS_REGEX`, common/common.h); `--n-cpu-moe N` adds
/// `blk\.I\.` + it for I in 0..N, `--cpu-moe` adds `\.` + it.
pub const FFN_EXPS: &str = r"ffn_(up|down|gate|gate_up)_(ch|)exps";

static BLOCK_EXPS: LazyLock<Regex> = LazyLock::new(|| Regex::new(&format!(r"blk\.(\d+)\.{FFN_EXPS}")).expect("constant pattern"));

/// The block whose `--n-cpu-moe` pattern matches `name`: `Some(i)` means `--n-cpu-moe N` moves
/// it for every N > i. One regex with a capture stands for llama.cpp's N patterns (the same
/// matches: `blk\.I\.` cannot match inside `blk.1I.`).
pub fn cpu_moe_block(name: &str) -> Option<u32> {
    let c = BLOCK_EXPS.captures(name)?;
    let n: u32 = c.get(1)?.as_str().parse().ok()?;
    // The capture must be the tensor's own block (a name with `blk.` twice is not a real one).
    (block_of(name).map(|(b, _)| b) == Some(n)).then_some(n)
}

/// The patterns llama.cpp adds for `--n-cpu-moe n` (for tests and documentation).
pub fn n_cpu_moe_patterns(n: u32) -> Vec<String> {
    (0..n).map(|i| format!(r"blk\.{i}\.{FFN_EXPS}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_spelled_as_llama_cpp_spells_them() {
        assert_eq!(parse_buft("CPU", Some(0)), Some(Buft::Cpu));
        assert_eq!(parse_buft("CUDA1", Some(2)), Some(Buft::Gpu(1)));
        assert_eq!(parse_buft("CUDA2", Some(2)), None);
        assert_eq!(parse_buft("cuda0", Some(2)), None);
        assert_eq!(parse_buft("CUDA01", None), None);
        assert_eq!(parse_buft("MTL0", Some(1)), Some(Buft::Gpu(0)));
    }

    #[test]
    fn first_match_wins_and_lists_split_on_commas() {
        let o = Overrides::parse(&["blk\\.1\\..*exps=CUDA0,exps=CPU".into(), "attn=CUDA1".into()], Some(2)).unwrap();
        assert_eq!(o.find("blk.1.ffn_up_exps.weight").unwrap().buft, Buft::Gpu(0));
        assert_eq!(o.find("blk.11.ffn_up_exps.weight").unwrap().buft, Buft::Cpu);
        assert_eq!(o.find("blk.2.attn_q.weight").unwrap().buft, Buft::Gpu(1));
        assert!(o.find("output.weight").is_none());
    }

    #[test]
    fn bad_items_are_refused_with_the_reason() {
        assert!(matches!(Overrides::parse(&["exps".into()], None), Err(OverrideError::Syntax(_))));
        assert!(matches!(Overrides::parse(&["exps=GPU0".into()], None), Err(OverrideError::UnknownBuffer { .. })));
        let e = Overrides::parse(&["(?=x)exps=CPU".into()], None).unwrap_err().to_string();
        assert!(e.contains("(?=x)exps") && !e.contains('\n'), "{e}");
    }

    #[test]
    fn one_capture_matches_exactly_what_the_n_patterns_match() {
        let names = [
            "blk.1.ffn_up_exps.weight",
            "blk.11.ffn_down_exps.weight",
            "blk.3.ffn_gate_up_exps.weight",
            "blk.2.ffn_up_chexps.weight",
            "blk.4.ffn_up_shexp.weight",
            "blk.5.ffn_gate_inp.weight",
        ];
        let pats: Vec<Regex> = n_cpu_moe_patterns(12).iter().map(|p| Regex::new(p).unwrap()).collect();
        for n in names {
            let by_patterns = pats.iter().position(|p| p.is_match(n)).map(|i| i as u32);
            assert_eq!(cpu_moe_block(n), by_patterns, "{n}");
        }
    }
}
