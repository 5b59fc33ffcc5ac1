//! The library's entry point: open a model, read its geometry, size its memory at some
//! llama-server settings, plan it onto a machine, check it.
//!
//! Everything here works from the header alone (a download that has just started is enough)
//! and needs no I/O feature except [`Model::open`]'s file reads, which use only `std` without
//! the `mmap` feature. Bytes already in memory ([`Model::from_bytes`]) or read on demand from
//! anything ([`Model::from_source`]: a browser's `fetch`, an object store, a socket) need
//! nothing at all, so this module is the same on every target the core builds for.
//!
//! ```
//! use gguf_meter::api::{Model, Settings};
//!
//! let model = Model::open("fixtures/qwen35-35b-a3b-q4km.gguf")?;
//! let g = model.geometry();
//! assert_eq!((g.architecture.as_str(), g.n_layers), ("qwen35moe", 40));
//!
//! // 128K context, one sequence, otherwise llama-server's defaults.
//! let settings = Settings { ctx: Some(131072), parallel: Some(1), ..Settings::default() };
//! let fp = model.footprint(&settings)?;
//! assert_eq!(fp.kv_bytes, 2_684_354_560); // 10 attention layers x 2 KV heads x 256 x f16
//! assert!(fp.total_bytes > fp.weights_bytes);
//! # Ok::<(), gguf_meter::api::Error>(())
//! ```
//!
//! Items re-exported here are the library's stable surface; the modules they come from
//! ([`crate::read`], [`crate::model`], [`crate::estimate`], [`crate::check`]) are internals
//! whose shape may change.

use crate::check::Opened;
use crate::estimate::fit::plan;
use crate::estimate::machine::{MachineRequest, build};
use crate::estimate::overrides::Overrides;
use crate::model::{analyze, is_vocab_only};
use crate::read::growing::{GrowLimits, parse_growing};
use crate::read::{GgufFile, ShardSet, open_model};
use std::path::Path;

pub use crate::check::{Budget, Finding, ModelCheck, Options as CheckOptions, Outcome, Severity};
pub use crate::estimate::fit::{Plan, Verdict};
pub use crate::estimate::machine::{Gpu, Machine};
pub use crate::estimate::{CpuKind, FlashAttn, Footprint, Settings};
pub use crate::model::Geometry;
pub use crate::read::{GgmlType, ReadError, TensorEntry};
pub use crate::rules::{RULES, Rule, RuleId};

/// Why a model could not be read or an estimate not be made. Every message is one line naming
/// the model (and the byte offset, for a file that does not parse).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes are not a GGUF file, or not all of its header is there yet
    /// ([`Error::is_incomplete`]).
    #[error(transparent)]
    Read(#[from] ReadError),
    /// A shard of a split model is missing: estimates need every shard's header.
    #[error("{name}: {missing} of {total} shards missing; estimates need every shard's header")]
    MissingShards {
        /// The model.
        name: String,
        /// Shards not found.
        missing: usize,
        /// Shards the set has.
        total: usize,
    },
    /// A tokenizer file (0 tensors): llama.cpp loads it only with `vocab_only`, so there is no
    /// memory to estimate.
    #[error("{0}: vocab-only GGUF (a tokenizer file with 0 tensors), not a model")]
    VocabOnly(String),
    /// The settings or the model's geometry allow no estimate.
    #[error("{name}: {err}")]
    Estimate {
        /// The model.
        name: String,
        /// What went wrong.
        err: crate::estimate::FootprintError,
    },
    /// A machine description that names no known device or is out of range.
    #[error("machine: {0}")]
    Machine(String),
}

impl Error {
    /// True when the file is fine so far but its header is not all there (a download in
    /// progress): the CLI's exit code 3, "come back later".
    pub fn is_incomplete(&self) -> bool {
        matches!(self, Error::Read(e) if e.is_incomplete())
    }
}

/// A GGUF file's bytes, read at offsets: what [`Model::from_source`] parses a header from,
/// reading only the bytes the header needs.
pub trait ByteSource {
    /// The file's length in bytes (its full length, for a file not yet all there).
    fn total_len(&self) -> u64;
    /// Reads bytes at `offset` into `buf`; returns how many (0 only past the end).
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize>;
}

impl ByteSource for std::fs::File {
    fn total_len(&self) -> u64 {
        self.metadata().map_or(0, |m| m.len())
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        crate::read::file::read_at(self, buf, offset)
    }
}

/// A model: one GGUF file, or every shard of a split one, read and analysed.
pub struct Model {
    name: String,
    // The shards, tensors and geometry, as `check` takes them.
    m: Opened,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("name", &self.name).field("architecture", &self.m.geometry.architecture).finish_non_exhaustive()
    }
}

impl Model {
    /// Reads the model at `path` (any shard of a split model finds its siblings; a file still
    /// downloading works once its header is in). Reads only, never writes or locks.
    pub fn open(path: impl AsRef<Path>) -> Result<Model, Error> {
        let path = path.as_ref();
        Ok(Model::new(path.display().to_string(), open_model(path)?))
    }

    /// Parses a file whose first bytes are `bytes` (the whole file, or any prefix holding the
    /// header; what follows is taken as not there yet). `name` names it in messages.
    ///
    /// ```
    /// use gguf_meter::api::Model;
    ///
    /// let bytes = std::fs::read("fixtures/tiny/tiny-llama.gguf").unwrap();
    /// let model = Model::from_bytes("tiny-llama.gguf", &bytes)?;
    /// assert_eq!(model.geometry().architecture, "llama");
    /// assert!(!model.is_complete()); // a header without its tensor data
    ///
    /// // A header cut short is "not all there yet", not an error in the file.
    /// let err = Model::from_bytes("tiny-llama.gguf", &bytes[..4096]).unwrap_err();
    /// assert!(err.is_incomplete());
    /// # Ok::<(), gguf_meter::api::Error>(())
    /// ```
    pub fn from_bytes(name: &str, bytes: &[u8]) -> Result<Model, Error> {
        let file = GgufFile::from_bytes(Path::new(name), bytes)?;
        Ok(Model::single(name, file))
    }

    /// Parses the header of a file read piece by piece from `source`, asking for 1 MiB first
    /// and more only when the header needs it (at most 1 GiB). `name` names it in messages.
    ///
    /// ```
    /// use gguf_meter::api::{ByteSource, Model};
    ///
    /// /// Bytes that arrive over some transport the library knows nothing about.
    /// struct Remote { bytes: Vec<u8>, requests: usize }
    ///
    /// impl ByteSource for &mut Remote {
    ///     fn total_len(&self) -> u64 {
    ///         self.bytes.len() as u64
    ///     }
    ///     fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    ///         self.requests += 1;
    ///         let rest = self.bytes.get(offset as usize..).unwrap_or_default();
    ///         let n = rest.len().min(buf.len());
    ///         buf[..n].copy_from_slice(&rest[..n]);
    ///         Ok(n)
    ///     }
    /// }
    ///
    /// let mut remote = Remote { bytes: std::fs::read("fixtures/tiny/tiny-llama.gguf").unwrap(), requests: 0 };
    /// let model = Model::from_source("tiny-llama.gguf", &mut remote)?;
    /// assert_eq!(model.geometry().n_layers, 4);
    /// assert_eq!(remote.requests, 1); // a small header comes in one read
    /// # Ok::<(), gguf_meter::api::Error>(())
    /// ```
    pub fn from_source(name: &str, mut source: impl ByteSource) -> Result<Model, Error> {
        let total = source.total_len();
        let io = |err| ReadError::Io { path: name.into(), err };
        let (file, _) = parse_growing(Path::new(name), total, GrowLimits::default(), |buf, want| {
            let mut chunk = vec![0u8; 1 << 16];
            while (buf.len() as u64) < want {
                let n = usize::try_from(want - buf.len() as u64).unwrap_or(usize::MAX).min(chunk.len());
                let piece = chunk.get_mut(..n).unwrap_or_default();
                let got = source.read_at(buf.len() as u64, piece).map_err(io)?;
                if got == 0 {
                    break;
                }
                let Some(read) = piece.get(..got) else {
                    return Err(io(std::io::Error::other(format!("the byte source gave {got} bytes for a read of {n}"))));
                };
                buf.extend_from_slice(read);
            }
            Ok(())
        })?;
        Ok(Model::single(name, file))
    }

    fn single(name: &str, file: GgufFile) -> Model {
        Model::new(name.to_string(), ShardSet { files: vec![file], missing: vec![], warnings: vec![] })
    }

    fn new(name: String, set: ShardSet) -> Model {
        let tensors = set.tensors();
        let geometry = analyze(set.metadata(), &tensors);
        Model { name, m: Opened { set, tensors, geometry } }
    }

    /// The name messages use (the path, or the name given).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Layers and their kinds, heads, experts, recurrent state, context: what llama.cpp will
    /// build, derived from the tensors and hyperparameters.
    pub fn geometry(&self) -> &Geometry {
        &self.m.geometry
    }

    /// Every tensor over all shards, with its type, shape, bytes and whether its data is there.
    pub fn tensors(&self) -> &[TensorEntry] {
        &self.m.tensors
    }

    /// The shards as read: headers, data layout, shards missing, read warnings.
    pub fn shards(&self) -> &ShardSet {
        &self.m.set
    }

    /// True when every shard is there with all its data. Estimates need only the header.
    pub fn is_complete(&self) -> bool {
        self.m.set.is_complete()
    }

    /// What the reader and the analysis noticed (shard disagreements, an architecture read
    /// from its tensors alone, ...), one line each.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = self.m.set.warnings.clone();
        w.extend(self.m.geometry.warnings.iter().cloned());
        w
    }

    fn estimable(&self) -> Result<(), Error> {
        if !self.m.set.missing.is_empty() {
            let (missing, total) = (self.m.set.missing.len(), self.m.set.missing.len() + self.m.set.files.len());
            return Err(Error::MissingShards { name: self.name.clone(), missing, total });
        }
        if is_vocab_only(self.m.set.metadata(), &self.m.tensors) {
            return Err(Error::VocabOnly(self.name.clone()));
        }
        Ok(())
    }

    /// The memory llama.cpp allocates for this model at `settings`: weights, KV cache,
    /// recurrent state, compute and output buffers, in bytes. [`Footprint::estimated`] names
    /// any component that is an estimate rather than llama.cpp's rule applied exactly.
    pub fn footprint(&self, settings: &Settings) -> Result<Footprint, Error> {
        self.estimable()?;
        crate::estimate::footprint(&self.m.geometry, &self.m.tensors, settings, 0u64).map_err(|err| Error::Estimate { name: self.name.clone(), err })
    }

    /// How to run this model on `machine`: the verdict, the placement (`-ngl`, `--n-cpu-moe`,
    /// `-ts`) and the context, as `gguf-meter fit` plans it. With `settings.ctx` unset, the
    /// largest context that fits is chosen, as llama.cpp's `--fit` does.
    ///
    /// ```
    /// use gguf_meter::api::{Model, Settings, Verdict, machine};
    ///
    /// let model = Model::open("fixtures/qwen35-35b-a3b-q4km.gguf")?;
    /// let rtx4090 = machine(Some("rtx4090"), Some(64 << 30))?;
    /// let settings = Settings { ctx: Some(131072), parallel: Some(1), ..Settings::default() };
    /// let plan = model.fit(&rtx4090, &settings)?;
    /// assert_eq!(plan.verdict, Verdict::FitsFully);
    /// assert!(model.command("model.gguf", &plan, &settings).contains("-ngl 42"));
    /// # Ok::<(), gguf_meter::api::Error>(())
    /// ```
    pub fn fit(&self, machine: &Machine, settings: &Settings) -> Result<Plan, Error> {
        self.estimable()?;
        plan(&self.m.geometry, &self.m.tensors, settings, machine, 0u64, &Overrides::default()).map_err(|err| Error::Estimate { name: self.name.clone(), err })
    }

    /// The llama-server command line that runs `plan` (`-m model_arg -c ... -ngl ...`).
    pub fn command(&self, model_arg: &str, plan: &Plan, settings: &Settings) -> String {
        crate::estimate::fit::command_line(model_arg, plan, settings, None, &Overrides::default())
    }

    /// Runs `gguf-meter check`'s rules (structure as llama.cpp's reader sees it, metadata
    /// llama.cpp needs to load the file, and the budget in `options`, if any) on this model.
    ///
    /// ```
    /// use gguf_meter::api::{CheckOptions, Model, Outcome, RuleId};
    ///
    /// let model = Model::open("fixtures/tiny/tiny-llama.gguf")?;
    /// let report = model.check(&CheckOptions::default());
    /// // The fixture is a header without its tensor data: sound so far, but not all there.
    /// assert_eq!(report.outcome, Outcome::Incomplete);
    /// assert_eq!(report.findings[0].rule, RuleId::Incomplete);
    /// # Ok::<(), gguf_meter::api::Error>(())
    /// ```
    pub fn check(&self, options: &CheckOptions) -> ModelCheck {
        crate::check::check(Path::new(&self.name), &self.m, options, 0, Vec::new())
    }
}

/// A machine from the device catalog (`gguf-meter gpus`): `gpu` is an entry with an optional
/// count (`rtx4090`, `2x3090`, `m4max-128`), GPUs joined by `+` in device order
/// (`rtx4090+rtx3090`), or `None` for a CPU-only machine; `ram_bytes` is its system RAM.
pub fn machine(gpu: Option<&str>, ram_bytes: Option<u64>) -> Result<Machine, Error> {
    let r = MachineRequest { gpu: gpu.map(str::to_string), ram: ram_bytes, ..MachineRequest::default() };
    build(&r).map(|(m, _)| m).map_err(Error::Machine)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source serving `bytes`, but claiming `len` bytes and answering each read with `answer`.
    struct Source {
        bytes: Vec<u8>,
        len: u64,
        answer: fn(usize, usize) -> usize,
    }

    impl ByteSource for Source {
        fn total_len(&self) -> u64 {
            self.len
        }
        fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
            let rest = self.bytes.get(offset as usize..).unwrap_or_default();
            let n = rest.len().min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            Ok((self.answer)(n, buf.len()))
        }
    }

    fn fixture() -> Vec<u8> {
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/qwen35-35b-a3b-q4km.gguf")).unwrap()
    }

    #[test]
    fn a_source_read_in_pieces_gives_the_model_bytes_give() {
        let bytes = fixture();
        let whole = Model::from_bytes("m.gguf", &bytes).unwrap();
        // One byte at a time: the loop asks again until the header is in.
        let slow = Model::from_source("m.gguf", Source { len: bytes.len() as u64, bytes: bytes.clone(), answer: |n, _| n.min(1) }).unwrap();
        assert_eq!(slow.geometry(), whole.geometry());
        assert_eq!(slow.tensors(), whole.tensors());
    }

    #[test]
    fn a_source_that_ends_early_or_lies_is_an_error_not_a_hang() {
        let bytes = fixture();
        let cut = Source { len: bytes.len() as u64, bytes: bytes[..20_000].to_vec(), answer: |n, _| n };
        assert!(Model::from_source("m.gguf", cut).unwrap_err().is_incomplete());
        let liar = Source { len: bytes.len() as u64, bytes, answer: |_, asked| asked + 1 };
        let err = Model::from_source("m.gguf", liar).unwrap_err().to_string();
        assert!(err.starts_with("m.gguf: ") && err.contains("bytes for a read of"), "{err}");
    }

    #[test]
    fn estimates_refuse_what_is_not_a_whole_model() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let vocab = Model::open(dir.join("vocab/ggml-vocab-gpt-2-64.gguf")).unwrap();
        assert!(matches!(vocab.footprint(&Settings::default()), Err(Error::VocabOnly(_))));
        assert!(matches!(machine(Some("no-such-gpu"), None), Err(Error::Machine(_))));
    }
}
