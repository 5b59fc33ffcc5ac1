//! The [`Machine`] a fit is planned for, built from catalog names and overrides.

use super::devices::{DeviceKind, DeviceSpec, UNIFIED_GPU_SHARE_PERCENT, parse_gpu};
use super::speed::Backend;
use crate::util::units::gib;
use serde::{Serialize, Serializer};

/// One GPU.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Gpu {
    /// What it is, for people.
    pub label: String,
    /// Memory usable by llama.cpp, bytes (for unified memory: the GPU share).
    pub vram_bytes: u64,
    /// Memory bandwidth, bytes/s (0 = unknown).
    pub bandwidth: u64,
    /// Dense FP16 matrix throughput, FLOP/s (0 = unknown: no speed estimate).
    pub flops: u64,
    /// llama.cpp backend it runs.
    pub backend: Backend,
    /// No matrix units (catalog attribute, `DeviceSpec::vector_only`).
    pub vector_only: bool,
}

/// The hardware to fit: GPUs (none for CPU only), in llama.cpp's device order, and system RAM.
#[derive(Clone, Debug, PartialEq)]
pub struct Machine {
    /// GPUs, `GPU0` first.
    pub gpus: Vec<Gpu>,
    /// System RAM available for the CPU side, bytes.
    pub ram_bytes: u64,
    /// System RAM bandwidth, bytes/s.
    pub cpu_bandwidth: u64,
    /// CPU FP32 FMA throughput, FLOP/s (prompt processing of layers left on the CPU).
    pub cpu_flops: u64,
    /// Description for reports.
    pub label: String,
}

impl Machine {
    /// Number of GPUs.
    pub fn n_gpus(&self) -> u32 {
        self.gpus.len() as u32
    }

    /// True when the GPUs are not all alike (then `fit` prints `-ts`).
    pub fn mixed(&self) -> bool {
        self.gpus.windows(2).any(|w| w[0].vram_bytes != w[1].vram_bytes)
    }

    /// The tensor split gguf-meter assumes, as `-ts` proportions: each GPU's memory, reduced by
    /// their common divisor. llama.cpp's default splits by free memory at load time, which
    /// the catalog cannot know; for alike GPUs it is even either way.
    pub fn tensor_split(&self) -> Vec<u64> {
        let mib: Vec<u64> = self.gpus.iter().map(|g| (g.vram_bytes >> 20).max(1)).collect();
        let d = mib.iter().copied().fold(0, gcd).max(1);
        mib.iter().map(|m| m / d).collect()
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// JSON keeps the fields of one-GPU-kind machines (`gpus` is the count, `vram_bytes` and
/// `gpu_bandwidth` those of GPU0) and adds `devices`, one entry per GPU.
impl Serialize for Machine {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Doc<'a> {
            gpus: u32,
            vram_bytes: u64,
            gpu_bandwidth: u64,
            ram_bytes: u64,
            cpu_bandwidth: u64,
            cpu_flops: u64,
            label: &'a str,
            devices: &'a [Gpu],
        }
        let first = self.gpus.first();
        Doc {
            gpus: self.n_gpus(),
            vram_bytes: first.map_or(0, |g| g.vram_bytes),
            gpu_bandwidth: first.map_or(0, |g| g.bandwidth),
            ram_bytes: self.ram_bytes,
            cpu_bandwidth: self.cpu_bandwidth,
            cpu_flops: self.cpu_flops,
            label: &self.label,
            devices: &self.gpus,
        }
        .serialize(s)
    }
}

/// RAM assumed when none is given.
pub const DEFAULT_RAM: u64 = 32 << 30;
/// System RAM bandwidth assumed when not given: dual-channel DDR5-5600.
pub const DEFAULT_CPU_BANDWIDTH: u64 = 89_600_000_000;
/// CPU throughput assumed when not given: 16 cores x 4 GHz x 32 FP32 FLOP/cycle (AVX2 FMA).
pub const DEFAULT_CPU_FLOPS: u64 = 2_048_000_000_000;

/// What the user said about the hardware; `None` = not given.
#[derive(Clone, Debug, Default)]
pub struct MachineRequest {
    /// Catalog device with optional count (`rtx4090`, `2x3090`, `m4max-128`, `ddr5-dual`), or GPUs joined by `+` (`rtx4090+rtx3090`).
    pub gpu: Option<String>,
    /// Memory of each GPU, bytes (overrides the catalog).
    pub vram: Option<u64>,
    /// System RAM, bytes.
    pub ram: Option<u64>,
    /// GPU bandwidth, bytes/s (overrides the catalog).
    pub bandwidth: Option<u64>,
    /// System RAM bandwidth, bytes/s.
    pub cpu_bandwidth: Option<u64>,
    /// llama.cpp backend of the GPUs (overrides the catalog's usual one).
    pub backend: Option<Backend>,
}

/// Parses `--gpu`: one catalog entry with an optional count (`rtx4090`, `2x3090`), or discrete
/// GPUs joined by `+` in llama.cpp's device order (`rtx4090+rtx3090`, `4090+2x3060`).
fn parse_gpus(name: &str) -> Result<Vec<(u32, &'static DeviceSpec)>, String> {
    let parts: Vec<_> = name.split('+').map(|p| parse_gpu(p.trim())).collect::<Result<_, _>>()?;
    if parts.len() > 1 && parts.iter().any(|(_, d)| d.kind != DeviceKind::Gpu) {
        return Err(format!("{name:?}: only discrete GPUs combine with '+' (unified-memory and CPU entries stand alone)"));
    }
    if parts.iter().map(|(n, _)| n).sum::<u32>() > 64 {
        return Err(format!("{name:?}: at most 64 GPUs"));
    }
    Ok(parts)
}

/// The machine described by `r`, with warnings about what had to be assumed.
pub fn build(r: &MachineRequest) -> Result<(Machine, Vec<String>), String> {
    let mut warnings = Vec::new();
    let mut m = Machine {
        gpus: Vec::new(),
        ram_bytes: 0,
        cpu_bandwidth: r.cpu_bandwidth.unwrap_or(DEFAULT_CPU_BANDWIDTH),
        cpu_flops: DEFAULT_CPU_FLOPS,
        label: String::new(),
    };
    let gpu = |d: &DeviceSpec, vram_bytes: u64| Gpu {
        label: d.label.to_string(),
        vram_bytes,
        bandwidth: d.bandwidth,
        flops: d.flops,
        backend: d.backend,
        vector_only: d.vector_only,
    };
    match &r.gpu {
        Some(name) => {
            let parts = parse_gpus(name)?;
            let mut labels = Vec::new();
            for (count, d) in parts {
                match d.kind {
                    DeviceKind::Gpu => {
                        m.gpus.extend((0..count).map(|_| gpu(d, d.memory_bytes)));
                        labels.push(format!("{count}x {}", d.label));
                    }
                    DeviceKind::Unified => {
                        // The GPU may wire ~75% of unified memory; the rest is the CPU side.
                        let total = r.ram.unwrap_or(d.memory_bytes);
                        let vram = total / 100 * UNIFIED_GPU_SHARE_PERCENT;
                        m.gpus.push(gpu(d, vram));
                        m.ram_bytes = total - vram;
                        m.cpu_bandwidth = d.bandwidth;
                        labels.push(format!("{} (GPU may use {}% of unified memory)", d.label, UNIFIED_GPU_SHARE_PERCENT));
                    }
                    DeviceKind::Cpu => {
                        m.cpu_bandwidth = r.cpu_bandwidth.unwrap_or(d.bandwidth);
                        m.cpu_flops = d.flops;
                        labels.push(format!("CPU only, {}", d.label));
                    }
                }
            }
            m.label = labels.join(" + ");
        }
        None if r.vram.is_some() => m.label = "1 GPU".into(),
        None => m.label = "CPU only".into(),
    }
    if m.gpus.is_empty() && r.vram.is_some() {
        m.gpus.push(Gpu { label: "GPU".into(), vram_bytes: 0, bandwidth: 0, flops: 0, backend: r.backend.unwrap_or(Backend::Cuda), vector_only: false });
    }
    for g in &mut m.gpus {
        g.vram_bytes = r.vram.unwrap_or(g.vram_bytes);
        g.bandwidth = r.bandwidth.unwrap_or(g.bandwidth);
        g.backend = r.backend.unwrap_or(g.backend);
    }
    if m.ram_bytes == 0 {
        m.ram_bytes = r.ram.unwrap_or_else(|| {
            warnings.push(format!("system RAM not given: assuming {} (pass --ram)", gib(DEFAULT_RAM)));
            DEFAULT_RAM
        });
    }
    if m.gpus.iter().any(|g| g.bandwidth == 0) {
        warnings.push("GPU bandwidth unknown: no speed bound (pass --bandwidth)".into());
    }
    m.label = format!("{} + {} RAM", m.label, gib(m.ram_bytes));
    Ok((m, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(gpu: &str) -> Result<Machine, String> {
        build(&MachineRequest { gpu: Some(gpu.into()), ram: Some(64 << 30), ..Default::default() }).map(|(m, _)| m)
    }

    #[test]
    fn gpus_combine_with_plus_and_counts_still_work() {
        let m = machine("rtx4090+2x3060").unwrap();
        assert_eq!(m.n_gpus(), 3);
        assert_eq!(m.gpus[0].vram_bytes, 24 << 30);
        assert_eq!(m.tensor_split(), vec![2, 1, 1]);
        assert!(m.mixed());
        let m = machine("2x3090").unwrap();
        assert_eq!((m.n_gpus(), m.mixed(), m.tensor_split()), (2, false, vec![1, 1]));
        assert!(machine("4090+m4max-128").unwrap_err().contains("only discrete GPUs"));
        assert!(machine("4090+rtx4099").is_err());
    }
}
