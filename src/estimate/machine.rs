//! Builds the [`Machine`] a fit is planned for, from a catalog name and overrides.

use super::devices::{parse_gpu, DeviceKind, UNIFIED_GPU_SHARE_PERCENT};
use super::fit::Machine;
use crate::util::units::gib;

/// RAM assumed when none is given.
pub const DEFAULT_RAM: u64 = 32 << 30;
/// System RAM bandwidth assumed when not given: dual-channel DDR5-5600.
pub const DEFAULT_CPU_BANDWIDTH: u64 = 89_600_000_000;

/// What the user said about the hardware; `None` = not given.
#[derive(Clone, Debug, Default)]
pub struct MachineRequest {
    /// Catalog device with optional count (`rtx4090`, `2x3090`, `m4max-128`, `ddr5-dual`).
    pub gpu: Option<String>,
    /// Memory of one GPU, bytes (overrides the catalog).
    pub vram: Option<u64>,
    /// System RAM, bytes.
    pub ram: Option<u64>,
    /// GPU bandwidth, bytes/s (overrides the catalog).
    pub bandwidth: Option<u64>,
    /// System RAM bandwidth, bytes/s.
    pub cpu_bandwidth: Option<u64>,
}

/// The machine described by `r`, with warnings about what had to be assumed.
pub fn build(r: &MachineRequest) -> Result<(Machine, Vec<String>), String> {
    let mut warnings = Vec::new();
    let mut m = Machine {
        gpus: 0,
        vram_bytes: 0,
        gpu_bandwidth: 0,
        ram_bytes: 0,
        cpu_bandwidth: r.cpu_bandwidth.unwrap_or(DEFAULT_CPU_BANDWIDTH),
        label: String::new(),
    };
    match &r.gpu {
        Some(name) => {
            let (count, d) = parse_gpu(name)?;
            match d.kind {
                DeviceKind::Gpu => {
                    m.gpus = count;
                    m.vram_bytes = d.memory_bytes;
                    m.gpu_bandwidth = d.bandwidth;
                    m.label = format!("{count}x {}", d.label);
                }
                DeviceKind::Unified => {
                    // The GPU may wire ~75% of unified memory; the rest is the CPU side.
                    let total = r.ram.unwrap_or(d.memory_bytes);
                    m.gpus = 1;
                    m.vram_bytes = total / 100 * UNIFIED_GPU_SHARE_PERCENT;
                    m.ram_bytes = total - m.vram_bytes;
                    m.gpu_bandwidth = d.bandwidth;
                    m.cpu_bandwidth = d.bandwidth;
                    m.label = format!("{} (GPU may use {}% of unified memory)", d.label, UNIFIED_GPU_SHARE_PERCENT);
                }
                DeviceKind::Cpu => {
                    m.cpu_bandwidth = r.cpu_bandwidth.unwrap_or(d.bandwidth);
                    m.label = format!("CPU only, {}", d.label);
                }
            }
        }
        None if r.vram.is_some() => {
            m.gpus = 1;
            m.label = "1 GPU".into();
        }
        None => m.label = "CPU only".into(),
    }
    if let Some(v) = r.vram {
        m.vram_bytes = v;
        m.gpus = m.gpus.max(1);
    }
    if let Some(b) = r.bandwidth {
        m.gpu_bandwidth = b;
    }
    if m.ram_bytes == 0 {
        m.ram_bytes = r.ram.unwrap_or_else(|| {
            warnings.push(format!("system RAM not given: assuming {} (pass --ram)", gib(DEFAULT_RAM)));
            DEFAULT_RAM
        });
    }
    if m.gpus > 0 && m.gpu_bandwidth == 0 {
        warnings.push("GPU bandwidth unknown: no speed bound (pass --bandwidth)".into());
    }
    m.label = format!("{} + {} RAM", m.label, gib(m.ram_bytes));
    Ok((m, warnings))
}
