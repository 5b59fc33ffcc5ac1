//! `check --deep`: flags, the progress bar, and the scan of every model's files.

use crate::check::deep::{DeepFacts, convert};
use crate::check::{Finding, ModelCheck, Opened};
use crate::scan::{self, ChecksumList, IoMode, ScanOptions};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Flags of the deep scan.
#[derive(clap::Args, Debug, Default)]
pub struct DeepArgs {
    /// Read all tensor data: NaN/Inf values and block scales, all-zero tensors, SHA-256 per file.
    #[arg(long)]
    pub deep: bool,
    /// Compare each file's SHA-256 with this list (sha256sum format); implies --deep.
    #[arg(long, value_name = "SUMS_FILE")]
    pub sha256: Option<PathBuf>,
    /// Files read at the same time by --deep (default: the number of CPUs).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub jobs: Option<u64>,
    /// How --deep reads (for benchmarks): pread into fixed buffers (default) or mmap.
    #[arg(long, hide = true, value_name = "pread|mmap")]
    pub deep_io: Option<String>,
    /// Bytes per read of --deep (for benchmarks; default 256 KiB).
    #[arg(long, hide = true, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(4096..=1 << 30))]
    pub deep_chunk: Option<u64>,
    /// Skip the SHA-256 of --deep (for benchmarks: the scan alone).
    #[arg(long, hide = true)]
    pub deep_no_hash: bool,
}

impl DeepArgs {
    /// True when a deep scan was asked for.
    pub fn enabled(&self) -> bool {
        self.deep || self.sha256.is_some()
    }

    /// Scan options from the flags (reads the checksum list).
    pub fn options(&self) -> anyhow::Result<ScanOptions> {
        let mut o = ScanOptions::default();
        if let Some(j) = self.jobs {
            o.jobs = j as usize;
        }
        match self.deep_io.as_deref() {
            None | Some("pread") => {}
            Some("mmap") => o.io = IoMode::Mmap,
            Some(other) => anyhow::bail!("--deep-io {other:?}: expected pread or mmap"),
        }
        if let Some(c) = self.deep_chunk {
            o.chunk_bytes = c as usize;
        }
        o.hash = !self.deep_no_hash;
        o.checksums = self.sha256.as_deref().map(ChecksumList::load).transpose()?;
        Ok(o)
    }
}

/// Scans the files of every model that opened, with a progress bar on stderr when it is a
/// terminal. Returns, per model, the findings to add to its check and the facts to report.
pub fn scan_models(args: &DeepArgs, opened: &[Result<Opened, ModelCheck>]) -> anyhow::Result<Vec<(Vec<Finding>, Option<DeepFacts>)>> {
    let opts = args.options()?;
    let files: Vec<(usize, &crate::read::GgufFile)> =
        opened.iter().enumerate().filter_map(|(i, o)| o.as_ref().ok().map(|m| (i, m))).flat_map(|(i, m)| m.set.files.iter().map(move |f| (i, f))).collect();
    let refs: Vec<&crate::read::GgufFile> = files.iter().map(|(_, f)| *f).collect();
    let bar = progress_bar(scan::total_bytes(&refs));
    let results = scan::scan_files(&refs, &opts, &|n| bar.inc(n));
    bar.finish_and_clear();
    let mut per_model: Vec<Vec<_>> = opened.iter().map(|_| Vec::new()).collect();
    for ((i, _), r) in files.iter().zip(results) {
        per_model[*i].push(r);
    }
    Ok(per_model
        .into_iter()
        .zip(opened)
        .map(|(results, o)| match o {
            Ok(_) => {
                let (findings, facts) = convert(results);
                (findings, Some(facts))
            }
            Err(_) => (Vec::new(), None),
        })
        .collect())
}

/// Bytes, rate and ETA on stderr; hidden when stderr is not a terminal (CI logs, pipes).
fn progress_bar(total: u64) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    if let Ok(style) = ProgressStyle::with_template("deep scan {bar:30} {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}") {
        bar.set_style(style);
    }
    bar
}
