//! Published llama-bench runs (`data/llama-bench.csv`) and the model shapes they ran
//! (`data/bench-models.csv`), turned into [`Workload`]s the speed model can predict, and the
//! fixed calibration / validation split. Used by the calibration example and the tests that
//! regenerate the README's figures.

use super::devices::{DeviceKind, find};
use super::speed::{Attention, Backend, Constants, Era, Part, Workload, generation_seconds, prompt_seconds};

/// One model shape (a row of `bench-models.csv`).
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    /// Key used by the runs.
    pub name: String,
    /// Exact parameter count.
    pub params: f64,
    /// Blocks.
    pub n_layers: f64,
    /// Full-attention blocks.
    pub n_attn: f64,
    /// Sliding-window blocks.
    pub n_swa: f64,
    /// Their window.
    pub swa_window: u64,
    /// Recurrent blocks.
    pub n_rec: f64,
    /// Query heads.
    pub n_head: f64,
    /// KV heads.
    pub n_head_kv: f64,
    /// Head dimension.
    pub head_dim: f64,
    /// Hidden size.
    pub n_embd: f64,
    /// Vocabulary.
    pub n_vocab: f64,
    /// Output reuses the token embedding.
    pub tied: bool,
    /// Elements in routed-expert tensors.
    pub expert_params: f64,
    /// Experts routed per token.
    pub experts_used: f64,
    /// Experts per layer.
    pub experts_total: f64,
    /// f32 elements of recurrent state per recurrent layer.
    pub rec_state: f64,
}

impl Shape {
    /// Matmul parameters one token uses: all but the embedding lookup and the unrouted experts.
    pub fn active_params(&self) -> f64 {
        let lookup = if self.tied { 0.0 } else { self.n_vocab * self.n_embd };
        let idle = if self.experts_total > 0.0 { self.expert_params * (1.0 - self.experts_used / self.experts_total) } else { 0.0 };
        self.params - lookup - idle
    }
}

/// Prompt processing or generation, as llama-bench names its tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `ppN`: a prompt of N tokens.
    Pp,
    /// `tgN`: N generated tokens.
    Tg,
}

/// A llama-bench test: `pp512`, `tg 128`, `tg128 @ d512`, `pp2048@d4096`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Test {
    /// pp or tg.
    pub kind: Kind,
    /// Tokens processed or generated.
    pub n: u64,
    /// Tokens already in the context (`@ dN`).
    pub depth: u64,
}

impl Test {
    /// Parses llama-bench's spelling; `None` for combined tests (`pp512+tg128`).
    pub fn parse(s: &str) -> Option<Test> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let (head, depth) = match s.split_once("@d") {
            Some((h, d)) => (h.to_string(), d.parse().ok()?),
            None => (s.clone(), 0),
        };
        let kind = match head.get(..2)? {
            "pp" => Kind::Pp,
            "tg" => Kind::Tg,
            _ => return None,
        };
        Some(Test { kind, n: head.get(2..)?.parse().ok()?, depth })
    }

    /// `pp` or `tg`.
    pub fn label(&self) -> &'static str {
        match self.kind {
            Kind::Pp => "pp",
            Kind::Tg => "tg",
        }
    }
}

/// One published run.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// Line in the CSV (1-based), for messages.
    pub line: usize,
    /// Where it was published.
    pub source: String,
    /// llama.cpp build as printed.
    pub build: String,
    /// Catalog device.
    pub device: String,
    /// How many of them.
    pub gpus: u32,
    /// Backend column.
    pub backend: Backend,
    /// Model as printed.
    pub model: String,
    /// Model size as printed (empty when not printed).
    pub size: String,
    /// Shape key.
    pub shape: String,
    /// Quant type.
    pub quant: String,
    /// Test.
    pub test: Test,
    /// Measured tokens per second.
    pub ts: f64,
    /// Flash attention as the run had it: the `fa` column when printed; otherwise llama-bench's
    /// default, off until ggml-org/llama.cpp#23714 (May 2026), unless tagged `fa-on`.
    pub flash_attn: bool,
    /// Older llama.cpp kernels the run used (the `kernels` column).
    pub era: Era,
}

fn fields(line: &str) -> Vec<&str> {
    line.split(',').map(str::trim).collect()
}

fn body(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().map(|(i, l)| (i + 1, l)).filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#')).skip(1)
}

/// Parses `bench-models.csv`.
pub fn parse_shapes(text: &str) -> Result<Vec<Shape>, String> {
    body(text)
        .map(|(n, l)| {
            let f = fields(l);
            if f.len() != 17 {
                return Err(format!("bench-models.csv line {n}: expected 17 fields, found {}", f.len()));
            }
            let num = |i: usize| f[i].parse::<f64>().map_err(|_| format!("bench-models.csv line {n}: field {} is not a number: {:?}", i + 1, f[i]));
            Ok(Shape {
                name: f[0].to_string(),
                params: num(1)?,
                n_layers: num(2)?,
                n_attn: num(3)?,
                n_swa: num(4)?,
                swa_window: num(5)? as u64,
                n_rec: num(6)?,
                n_head: num(7)?,
                n_head_kv: num(8)?,
                head_dim: num(9)?,
                n_embd: num(10)?,
                n_vocab: num(11)?,
                tied: num(12)? != 0.0,
                expert_params: num(13)?,
                experts_used: num(14)?,
                experts_total: num(15)?,
                rec_state: num(16)?,
            })
        })
        .collect()
}

/// Parses `llama-bench.csv`.
pub fn parse_runs(text: &str) -> Result<Vec<Run>, String> {
    body(text)
        .map(|(n, l)| {
            let f = fields(l);
            if f.len() != 15 {
                return Err(format!("llama-bench.csv line {n}: expected 15 fields, found {}", f.len()));
            }
            let mut era = Era::default();
            let mut fa_on = false;
            for tag in f[14].split_whitespace() {
                match tag {
                    "cublas-dequant" => era.cublas_dequant = true,
                    "mmq-dp4a" => era.mmq_dp4a = true,
                    "unfused-gdn" => era.unfused_gdn = true,
                    "fa-on" => fa_on = true,
                    _ => return Err(format!("llama-bench.csv line {n}: unknown kernels tag {tag:?}")),
                }
            }
            let flash_attn = match f[12] {
                "" => fa_on,
                "0" => false,
                "1" => true,
                other => return Err(format!("llama-bench.csv line {n}: fa {other:?}: expected 0, 1 or empty")),
            };
            Ok(Run {
                line: n,
                source: f[0].to_string(),
                build: f[1].to_string(),
                device: f[2].to_string(),
                gpus: f[3].parse().map_err(|_| format!("llama-bench.csv line {n}: gpus {:?}", f[3]))?,
                backend: f[4].parse().map_err(|e| format!("llama-bench.csv line {n}: {e}"))?,
                model: f[5].to_string(),
                size: f[6].to_string(),
                shape: f[8].to_string(),
                quant: f[9].to_string(),
                test: Test::parse(f[10]).ok_or_else(|| format!("llama-bench.csv line {n}: test {:?}", f[10]))?,
                ts: f[11].parse().map_err(|_| format!("llama-bench.csv line {n}: t/s {:?}", f[11]))?,
                flash_attn,
                era,
            })
        })
        .collect()
}

/// Bytes of a size as llama-bench prints it (`4.58 GiB`, `636.18 MiB`).
pub fn parse_size(s: &str) -> Option<f64> {
    let (num, unit) = s.split_once(' ')?;
    let v: f64 = num.parse().ok()?;
    let scale = match unit {
        "GiB" => (1u64 << 30) as f64,
        "MiB" => (1u64 << 20) as f64,
        _ => return None,
    };
    Some(v * scale)
}

/// The model size of `r`: as printed, or as another run of the same shape and quant printed it,
/// or for F16 / BF16 files two bytes per parameter.
pub fn size_bytes(r: &Run, all: &[Run], params: f64) -> Option<f64> {
    parse_size(&r.size)
        .or_else(|| all.iter().filter(|o| o.shape == r.shape && o.quant == r.quant).find_map(|o| parse_size(&o.size)))
        .or_else(|| matches!(r.quant.as_str(), "F16" | "BF16").then_some(2.0 * params))
}

/// FNV-1a of a run's identity (source, device, GPU count, backend, shape, quant, test).
fn identity_hash(r: &Run) -> u64 {
    let key = format!("{}|{}|{}|{}|{}|{}|{:?}", r.source, r.device, r.gpus, r.backend.name(), r.shape, r.quant, r.test);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// True for runs in the validation split: every run whose identity hash is divisible by 3,
/// except that in each stratum (model shape, pp or tg) the run with the smallest hash is
/// always a calibration run, so no model is validated on a test it was never calibrated on.
pub fn is_validation(r: &Run, all: &[&Run]) -> bool {
    let h = identity_hash(r);
    if !h.is_multiple_of(3) {
        return false;
    }
    let stratum = |o: &&&Run| o.shape == r.shape && o.test.kind == r.test.kind;
    let first = all.iter().filter(stratum).map(|o| identity_hash(o)).min();
    first != Some(h)
}

/// The workload of run `r`: the model split evenly over `r.gpus` devices of the catalog entry.
pub fn workload(r: &Run, shapes: &[Shape], all: &[Run]) -> Result<Workload, String> {
    let s = shapes.iter().find(|s| s.name == r.shape).ok_or_else(|| format!("line {}: unknown shape {:?}", r.line, r.shape))?;
    let d = find(&r.device).ok_or_else(|| format!("line {}: device {:?} not in the catalog", r.line, r.device))?;
    let size = size_bytes(r, all, s.params).ok_or_else(|| format!("line {}: model size not printed", r.line))?;
    let active = s.active_params();
    let n = f64::from(r.gpus.max(1));
    let kv_row = 2.0 * s.n_head_kv * s.head_dim * 2.0; // K + V, f16
    let flops_row = 2.0 * s.n_head * 2.0 * s.head_dim;
    let mut attention = vec![Attention {
        kv_bytes_per_position: kv_row * s.n_attn / n,
        flops_per_position: flops_row * s.n_attn / n,
        window: None,
        score_heads: s.n_head * s.n_attn / n,
    }];
    if s.n_swa > 0.0 {
        attention.push(Attention {
            kv_bytes_per_position: kv_row * s.n_swa / n,
            flops_per_position: flops_row * s.n_swa / n,
            window: Some(s.swa_window),
            score_heads: s.n_head * s.n_swa / n,
        });
    }
    let (bandwidth, flops) = (d.bandwidth as f64, d.flops as f64);
    let part = Part {
        backend: r.backend,
        bandwidth,
        flops,
        weight_bytes: size * active / s.params / n,
        matmul_params: active / n,
        layers: s.n_layers / n,
        moe_layers: if s.experts_total > 0.0 { s.n_layers / n } else { 0.0 },
        recurrent_layers: s.n_rec / n,
        attention,
        state_bytes: s.rec_state * 4.0 * s.n_rec / n,
        host_weight_bytes: 0.0,
        resident_weight_bytes: size / n,
        vector_only: d.vector_only,
    };
    if d.kind == DeviceKind::Cpu && r.backend != Backend::Cpu {
        return Err(format!("line {}: a {} run on CPU entry {:?}", r.line, r.backend.name(), r.device));
    }
    let quantized = !matches!(r.quant.as_str(), "F16" | "BF16" | "F32");
    Ok(Workload { parts: vec![part; r.gpus.max(1) as usize], quantized, flash_attn: r.flash_attn, era: r.era })
}

/// Predicted tokens per second for run `r`.
pub fn predict(r: &Run, w: &Workload, c: &Constants) -> f64 {
    let t = &r.test;
    let secs = match t.kind {
        Kind::Pp => prompt_seconds(w, t.depth, t.n, 512, c),
        Kind::Tg => generation_seconds(w, t.depth, t.n, c),
    };
    if secs > 0.0 { t.n as f64 / secs } else { 0.0 }
}

/// Runs with their workloads, and the runs that cannot be modelled with the reason.
pub type Loaded = (Vec<(Run, Workload)>, Vec<(Run, String)>);

/// Runs with their workloads; runs that cannot be modelled are returned with the reason.
pub fn load(runs_csv: &str, shapes_csv: &str) -> Result<Loaded, String> {
    let shapes = parse_shapes(shapes_csv)?;
    let runs = parse_runs(runs_csv)?;
    let mut ok = Vec::new();
    let mut skipped = Vec::new();
    for r in &runs {
        match workload(r, &shapes, &runs) {
            Ok(w) => ok.push((r.clone(), w)),
            Err(e) => skipped.push((r.clone(), e)),
        }
    }
    Ok((ok, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_llama_bench_test_names() {
        assert_eq!(Test::parse("pp512"), Some(Test { kind: Kind::Pp, n: 512, depth: 0 }));
        assert_eq!(Test::parse("tg 128"), Some(Test { kind: Kind::Tg, n: 128, depth: 0 }));
        assert_eq!(Test::parse("tg128 @ d512"), Some(Test { kind: Kind::Tg, n: 128, depth: 512 }));
        assert_eq!(Test::parse("pp2048@d4096"), Some(Test { kind: Kind::Pp, n: 2048, depth: 4096 }));
        assert_eq!(Test::parse("pp512+tg128"), None);
        assert_eq!(parse_size("636.18 MiB"), Some(636.18 * 1048576.0));
    }
}
