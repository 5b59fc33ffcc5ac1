//! Built-in catalog of devices: memory and bandwidth from vendors' published specifications.
//! GPU memory sizes are binary (a "24 GB" RTX 4090 has 24 GiB); bandwidths are decimal GB/s.
//! Compute is dense FP16 matrix throughput (NVIDIA: tensor cores with FP16 accumulate, no
//! sparsity, as on the vendor's spec sheet; AMD: WMMA / packed FP16; Apple: the GPU's FP32 rate,
//! which its FP16 matches, from core count x clock; CPUs: FP32 FMA peak of the named CPU, or of
//! the core count a RAM class assumes, as its label says). The speed model (`speed.rs`) divides
//! by it, scaled by calibrated per-backend efficiencies.

use super::speed::Backend;
use serde::Serialize;

/// What kind of memory a device has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// A discrete GPU with its own VRAM.
    Gpu,
    /// Apple Silicon: unified memory shared by CPU and GPU.
    Unified,
    /// System RAM only (CPU inference); capacity comes from `--ram`.
    Cpu,
}

/// One catalog entry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DeviceSpec {
    /// Canonical name (`rtx4090`, `m4max-128`, `ddr5-dual`).
    pub name: &'static str,
    /// What it is, for people.
    pub label: &'static str,
    /// Memory kind.
    pub kind: DeviceKind,
    /// Memory in bytes (0 for CPU entries: give `--ram`).
    pub memory_bytes: u64,
    /// Memory bandwidth in bytes per second.
    pub bandwidth: u64,
    /// Dense FP16 matrix throughput, FLOP/s (see the module comment).
    pub flops: u64,
    /// The llama.cpp backend people usually run on it (`--backend` overrides).
    pub backend: Backend,
    /// A GPU without matrix units (AMD RDNA1 / RDNA2: no WMMA, no tensor cores): `flops` is its
    /// packed-FP16 vector peak, and prompt processing reaches a different share of it
    /// (`Efficiency::compute_vector`).
    pub vector_only: bool,
}

const GIB: u64 = 1 << 30;
const GBS: u64 = 1_000_000_000;
const GFLOPS: u64 = 1_000_000_000;

const fn gpu(name: &'static str, label: &'static str, gib: u64, gbs: u64, gflops: u64) -> DeviceSpec {
    // NVIDIA runs CUDA; AMD's discrete cards ROCm (HIP).
    let backend = if label.as_bytes()[0] == b'A' { Backend::Rocm } else { Backend::Cuda };
    DeviceSpec { name, label, kind: DeviceKind::Gpu, memory_bytes: gib * GIB, bandwidth: gbs * GBS, flops: gflops * GFLOPS, backend, vector_only: false }
}
/// A discrete GPU without matrix units (see `DeviceSpec::vector_only`).
const fn gpu_vector(name: &'static str, label: &'static str, gib: u64, gbs: u64, gflops: u64) -> DeviceSpec {
    DeviceSpec { vector_only: true, ..gpu(name, label, gib, gbs, gflops) }
}
const fn mac(name: &'static str, label: &'static str, gib: u64, gbs: u64, gflops: u64) -> DeviceSpec {
    DeviceSpec { kind: DeviceKind::Unified, backend: Backend::Metal, ..gpu(name, label, gib, gbs, gflops) }
}
/// Unified memory that is not Apple's: an APU whose iGPU runs llama.cpp's Vulkan backend.
const fn apu(name: &'static str, label: &'static str, gib: u64, gbs: u64, gflops: u64) -> DeviceSpec {
    DeviceSpec { kind: DeviceKind::Unified, backend: Backend::Vulkan, ..gpu(name, label, gib, gbs, gflops) }
}
const fn cpu(name: &'static str, label: &'static str, mbs: u64, gflops: u64) -> DeviceSpec {
    DeviceSpec { kind: DeviceKind::Cpu, memory_bytes: 0, bandwidth: mbs * 1_000_000, backend: Backend::Cpu, ..gpu(name, label, 0, 0, gflops) }
}

/// The catalog.
pub const CATALOG: &[DeviceSpec] = &[
    gpu("rtx2060", "NVIDIA GeForce RTX 2060 6GB", 6, 336, 51600),
    gpu("rtx2070", "NVIDIA GeForce RTX 2070 8GB", 8, 448, 59700),
    gpu("rtx2080", "NVIDIA GeForce RTX 2080 8GB", 8, 448, 80500),
    gpu("rtx2080ti", "NVIDIA GeForce RTX 2080 Ti 11GB", 11, 616, 107600),
    gpu("rtx3060", "NVIDIA GeForce RTX 3060 12GB", 12, 360, 51200),
    gpu("rtx3060ti", "NVIDIA GeForce RTX 3060 Ti 8GB", 8, 448, 64800),
    gpu("rtx3070", "NVIDIA GeForce RTX 3070 8GB", 8, 448, 81300),
    gpu("rtx3080", "NVIDIA GeForce RTX 3080 10GB", 10, 760, 119000),
    gpu("rtx3080-12", "NVIDIA GeForce RTX 3080 12GB", 12, 912, 122400),
    gpu("rtx3080ti", "NVIDIA GeForce RTX 3080 Ti 12GB", 12, 912, 136000),
    gpu("rtx3090", "NVIDIA GeForce RTX 3090 24GB", 24, 936, 142000),
    gpu("rtx3090ti", "NVIDIA GeForce RTX 3090 Ti 24GB", 24, 1008, 160000),
    gpu("rtx4060", "NVIDIA GeForce RTX 4060 8GB", 8, 272, 60500),
    gpu("rtx4060ti", "NVIDIA GeForce RTX 4060 Ti 8GB", 8, 288, 88400),
    gpu("rtx4060ti-16", "NVIDIA GeForce RTX 4060 Ti 16GB", 16, 288, 88400),
    gpu("rtx4070", "NVIDIA GeForce RTX 4070 12GB", 12, 504, 116800),
    gpu("rtx4070ti", "NVIDIA GeForce RTX 4070 Ti 12GB", 12, 504, 160400),
    gpu("rtx4070tisuper", "NVIDIA GeForce RTX 4070 Ti Super 16GB", 16, 672, 176400),
    gpu("rtx4080", "NVIDIA GeForce RTX 4080 16GB", 16, 717, 194900),
    gpu("rtx4080super", "NVIDIA GeForce RTX 4080 Super 16GB", 16, 736, 208900),
    gpu("rtx4090", "NVIDIA GeForce RTX 4090 24GB", 24, 1008, 330300),
    gpu("rtx5060", "NVIDIA GeForce RTX 5060 8GB", 8, 448, 76700),
    gpu("rtx5060ti", "NVIDIA GeForce RTX 5060 Ti 16GB", 16, 448, 94800),
    gpu("rtx5070", "NVIDIA GeForce RTX 5070 12GB", 12, 672, 123500),
    gpu("rtx5070ti", "NVIDIA GeForce RTX 5070 Ti 16GB", 16, 896, 175800),
    gpu("rtx5080", "NVIDIA GeForce RTX 5080 16GB", 16, 960, 225100),
    gpu("rtx5090", "NVIDIA GeForce RTX 5090 32GB", 32, 1792, 419000),
    gpu("rtxa6000", "NVIDIA RTX A6000 48GB", 48, 768, 154800),
    gpu("rtx6000ada", "NVIDIA RTX 6000 Ada 48GB", 48, 960, 364200),
    gpu("rtxpro6000", "NVIDIA RTX PRO 6000 Blackwell 96GB", 96, 1792, 503800),
    gpu("l40s", "NVIDIA L40S 48GB", 48, 864, 362100),
    gpu("a100-40", "NVIDIA A100 40GB", 40, 1555, 312000),
    gpu("a100-80", "NVIDIA A100 80GB SXM", 80, 2039, 312000),
    gpu("h100", "NVIDIA H100 80GB SXM", 80, 3350, 989000),
    gpu("h100-pcie", "NVIDIA H100 80GB PCIe", 80, 2000, 756000),
    gpu("h200", "NVIDIA H200 141GB", 141, 4800, 989000),
    gpu("b200", "NVIDIA B200 180GB", 180, 8000, 2250000),
    gpu("rx7900xt", "AMD Radeon RX 7900 XT 20GB", 20, 800, 103000),
    gpu("rx7900xtx", "AMD Radeon RX 7900 XTX 24GB", 24, 960, 122800),
    gpu_vector("rx5700xt", "AMD Radeon RX 5700 XT 8GB", 8, 448, 19500),
    gpu_vector("rx6700xt", "AMD Radeon RX 6700 XT 12GB", 12, 384, 26400),
    gpu_vector("rx6800xt", "AMD Radeon RX 6800 XT 16GB", 16, 512, 41500),
    gpu("mi300x", "AMD Instinct MI300X 192GB", 192, 5300, 1307400),
    mac("m1-8", "Apple M1 8GB (7-core GPU)", 8, 68, 2290),
    mac("m1-16", "Apple M1 16GB", 16, 68, 2600),
    mac("m1pro-32", "Apple M1 Pro 32GB", 32, 200, 5200),
    mac("m1max-64", "Apple M1 Max 64GB", 64, 400, 10400),
    mac("m1ultra-128", "Apple M1 Ultra 128GB", 128, 800, 20800),
    mac("m2-24", "Apple M2 24GB", 24, 100, 3600),
    mac("m2pro-32", "Apple M2 Pro 32GB", 32, 200, 6800),
    mac("m2max-96", "Apple M2 Max 96GB", 96, 400, 13600),
    mac("m2ultra-192", "Apple M2 Ultra 192GB", 192, 800, 27200),
    mac("m3-24", "Apple M3 24GB", 24, 100, 4100),
    mac("m3pro-36", "Apple M3 Pro 36GB", 36, 150, 7400),
    mac("m3max-64", "Apple M3 Max 64GB", 64, 400, 16400),
    mac("m3max-128", "Apple M3 Max 128GB", 128, 400, 16400),
    mac("m3ultra-256", "Apple M3 Ultra 256GB", 256, 819, 32800),
    mac("m3ultra-512", "Apple M3 Ultra 512GB", 512, 819, 32800),
    mac("m4-32", "Apple M4 32GB", 32, 120, 4300),
    mac("m4pro-48", "Apple M4 Pro 48GB", 48, 273, 9200),
    mac("m4pro-64", "Apple M4 Pro 64GB", 64, 273, 9200),
    mac("m4max-64", "Apple M4 Max 64GB", 64, 546, 18400),
    mac("m4max-128", "Apple M4 Max 128GB", 128, 546, 18400),
    apu("ryzen-ai-max-395", "AMD Ryzen AI Max+ 395 128GB (Radeon 8060S)", 128, 256, 59400),
    cpu("ddr4-dual", "DDR4-3200, 2 channels (compute: 8 cores assumed)", 51_200, 1024),
    cpu("ddr4-quad", "DDR4-3200, 4 channels (compute: 16 cores assumed)", 102_400, 2048),
    cpu("ddr5-dual", "DDR5-5600, 2 channels (compute: 16 cores assumed)", 89_600, 2048),
    cpu("ddr5-quad", "DDR5-5600, 4 channels (compute: 32 cores assumed)", 179_200, 4096),
    cpu("ddr5-8ch", "DDR5-4800, 8 channels (server; compute: 64 cores assumed)", 307_200, 8192),
    cpu("ryzen-7950x", "AMD Ryzen 9 7950X, DDR5-5600 2 channels", 89_600, 2560),
    cpu("tr-pro-5975wx", "AMD Threadripper PRO 5975WX, DDR4-3200 8 channels", 204_800, 3686),
    cpu("tr-pro-3995wx", "AMD Threadripper PRO 3995WX, DDR4-3200 8 channels", 204_800, 5530),
];

/// Share of unified memory macOS lets the GPU wire by default (recommendedMaxWorkingSetSize
/// is about 75% on 64 GB+ machines; `sudo sysctl iogpu.wired_limit_mb` raises it).
pub const UNIFIED_GPU_SHARE_PERCENT: u64 = 75;

/// Normalises a user-typed name: `RTX 4090`, `rtx-4090`, `4090` -> `rtx4090`.
fn normalise(s: &str) -> String {
    let s: String = s.to_ascii_lowercase().chars().filter(|c| !matches!(c, ' ' | '_')).collect();
    let s = s.replace("geforce", "").replace("nvidia", "").replace("radeon", "");
    let s = s.strip_prefix("rtx-").map(|r| format!("rtx{r}")).unwrap_or(s);
    if s.chars().next().is_some_and(|c| c.is_ascii_digit()) && s.len() >= 4 && !s.starts_with("7900") {
        format!("rtx{s}")
    } else if s.starts_with("7900") {
        format!("rx{s}")
    } else {
        s
    }
}

/// Looks a device up by name.
pub fn find(name: &str) -> Option<&'static DeviceSpec> {
    let n = normalise(name);
    CATALOG.iter().find(|d| d.name == n)
}

/// Up to three catalog names closest to `name`, for "did you mean".
pub fn suggest(name: &str) -> Vec<&'static str> {
    let n = normalise(name);
    let mut scored: Vec<(usize, &'static str)> = CATALOG.iter().map(|d| (edit_distance(&n, d.name), d.name)).collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push((prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Parses `--gpu` values: `rtx4090`, `2x3090`, `3090x2`.
pub fn parse_gpu(s: &str) -> Result<(u32, &'static DeviceSpec), String> {
    let lower = s.to_ascii_lowercase();
    let (count, name) = match lower.split_once('x') {
        Some((n, rest)) if n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty() => (n.parse::<u32>().map_err(|e| e.to_string())?, rest.to_string()),
        _ => match lower.rsplit_once('x') {
            Some((rest, n)) if n.chars().all(|c| c.is_ascii_digit()) && !n.is_empty() && n.len() <= 2 => {
                (n.parse::<u32>().map_err(|e| e.to_string())?, rest.to_string())
            }
            _ => (1, lower.clone()),
        },
    };
    if count == 0 || count > 64 {
        return Err(format!("{s:?}: device count must be 1..=64"));
    }
    match find(&name) {
        Some(d) => Ok((count, d)),
        None => Err(format!("unknown device {s:?}; did you mean {}? (`gguf-meter gpus` lists all)", suggest(&name).join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_devices_by_loose_names() {
        assert_eq!(find("RTX 4090").unwrap().name, "rtx4090");
        assert_eq!(find("4090").unwrap().name, "rtx4090");
        assert_eq!(find("7900xtx").unwrap().name, "rx7900xtx");
        assert_eq!(parse_gpu("2x3090").unwrap().0, 2);
        assert_eq!(parse_gpu("2x3090").unwrap().1.name, "rtx3090");
        assert_eq!(parse_gpu("m4max-128").unwrap().1.kind, DeviceKind::Unified);
        assert!(parse_gpu("rtx4099").unwrap_err().contains("rtx4090"));
        assert!(CATALOG.iter().all(|d| d.bandwidth > 0 && d.flops > 0));
        assert_eq!(find("rx7900xtx").unwrap().backend, Backend::Rocm);
        assert_eq!(find("rtx3090").unwrap().backend, Backend::Cuda);
    }
}
