//! `gguf-meter watch`: follows a download as it is written. Reports the model as soon as its
//! header is in, then progress until the file is complete, then checks it. Reads only with
//! positioned reads: a growing file is never mapped.

mod args;
mod measure;
mod output;
mod ready;
mod track;
mod wait;

pub use args::Args;

use crate::read::GgufFile;
use crate::read::download::{Extent, Fill, aria2_control, classify, next_hole, pending};
use crate::report::watch::{Complete, DownloadInfo, Event, Measure, Reading};
use crate::report::watch_human::{describe, progress_line};
use crate::util::exit_code;
use measure::Plan;
use output::Sink;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use track::{Rate, Seen, Tracker};

/// Exit code after Ctrl-C (128 + SIGINT), as shells report it.
const INTERRUPTED: i32 = 130;

/// How a watch run ends.
enum Step<T> {
    Go(T),
    Exit(i32),
}

/// Watches until complete (0), stalled (3), interrupted (130) or failed (2).
pub fn run(a: Args) -> anyhow::Result<i32> {
    // Flags are checked before any waiting: a typo must not surface an hour later.
    a.runtime.settings()?;
    if a.machine.given() {
        super::fit::machine(&a.machine, &mut Vec::new())?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)).map_err(|e| anyhow::anyhow!("cannot handle Ctrl-C: {e}"))?;
    let mut w = Watch { tracker: Tracker::new(a.file.clone()), sink: Sink::new(a.json), stop, a, last: None, changed: Instant::now() };
    Ok(match w.run() {
        Ok(code) => code,
        Err(e) => {
            w.sink.error(&format!("{e:#}"));
            exit_code::ERROR
        }
    })
}

struct Watch {
    a: Args,
    tracker: Tracker,
    sink: Sink,
    stop: Arc<AtomicBool>,
    /// The last progress reading.
    last: Option<Reading>,
    /// When the file last changed.
    changed: Instant,
}

impl Watch {
    fn run(&mut self) -> anyhow::Result<i32> {
        let (file, extent) = match self.wait_header()? {
            Step::Go(x) => x,
            Step::Exit(code) => return Ok(code),
        };
        self.follow(file, extent)
    }

    /// Time a tool may take between removing the temporary name and the final one appearing.
    fn grace(&self) -> Duration {
        (self.a.interval * 3).max(Duration::from_secs(2))
    }

    /// Looks at the file; reports a rename. `None` while it is between names.
    fn look(&mut self) -> anyhow::Result<Option<Extent>> {
        Ok(match self.tracker.poll(self.grace())? {
            Seen::Same(e) => Some(e),
            Seen::Renamed { from, extent } => {
                let (from, to) = (from.display().to_string(), self.tracker.path.display().to_string());
                self.sink.note(&format!("renamed: {from} -> {to}"), &Event::Renamed { from: &from, to: &to });
                Some(extent)
            }
            Seen::Gone => None,
        })
    }

    /// Sleeps one interval (waking early on Ctrl-C); ends the run on Ctrl-C, a stall or a closed stdout.
    fn pause(&mut self) -> Step<()> {
        let until = Instant::now() + self.a.interval;
        while Instant::now() < until && !self.stop.load(Ordering::SeqCst) {
            std::thread::sleep((until - Instant::now()).min(Duration::from_millis(25)));
        }
        if self.sink.closed {
            return Step::Exit(exit_code::ERROR);
        }
        let status = self.last.as_ref().map_or_else(|| "header not in yet".to_string(), progress_line);
        if self.stop.load(Ordering::SeqCst) {
            self.sink.last(&format!("interrupted: {status}"), &Event::Interrupted { last: self.last.as_ref() });
            return Step::Exit(INTERRUPTED);
        }
        if let Some(limit) = self.a.stall_timeout {
            let idle = self.changed.elapsed();
            if idle >= limit {
                let msg = format!("stalled: {} unchanged for {}s; {status}", self.tracker.path.display(), idle.as_secs());
                self.sink.last(&msg, &Event::Stalled { seconds: idle.as_secs(), last: self.last.as_ref() });
                // Once: people read it on stdout; with --json, stdout is for programs, so say it on stderr too.
                if self.a.json {
                    super::out::error_line(&msg);
                }
                return Step::Exit(exit_code::INCOMPLETE);
            }
        }
        Step::Go(())
    }

    fn download_info(&self, e: &Extent, expected: u64) -> DownloadInfo {
        let control = aria2_control(&self.tracker.path);
        let has_control = control.is_file();
        let fill = classify(e, expected, has_control);
        let pend = pending(&self.tracker.path);
        DownloadInfo {
            renamer: pend.as_ref().map(|p| p.renamer),
            final_path: pend.map(|p| p.final_path.display().to_string()),
            fill,
            measure: Measure::of(fill),
            control_file: has_control.then(|| control.display().to_string()),
        }
    }

    /// `f` as far as its data is known to be written: all of its length for an appended
    /// file; for a sparse or preallocated one, up to the first hole, or the header alone when
    /// holes cannot be seen. The summary then counts only what is known present.
    fn known_part(&self, f: &GgufFile, e: &Extent, fill: Fill) -> GgufFile {
        let mut f = f.clone();
        if fill != Fill::Appending {
            let hole = self.tracker.open().ok().and_then(|file| next_hole(&file, 0)).filter(|&h| h < e.len);
            f.file_bytes = hole.unwrap_or(f.header.data_offset).max(f.header.data_offset).min(f.file_bytes);
            for s in &mut f.layout.spans {
                s.present = s.start.saturating_add(s.bytes) <= f.file_bytes;
            }
        }
        f
    }

    /// From the header to the end: report, progress, final check.
    fn follow(&mut self, first: GgufFile, extent: Extent) -> anyhow::Result<i32> {
        let plan = Plan::new(&first);
        let mut info = self.download_info(&extent, plan.expected);
        let ready = ready::header_ready(&self.known_part(&first, &extent, info.fill), extent.len, info.clone(), &self.a)?;
        self.sink.header_ready(&ready, &describe(&info), plan.expected);
        let mut rate = Rate::default();
        let mut prev: Option<(PathBuf, Extent)> = None;
        let mut complete_since: Option<Instant> = None;
        loop {
            if let Some(e) = self.look()? {
                if info.fill == Fill::Appending && e.looks_sparse() {
                    info.fill = Fill::Sparse;
                    info.measure = Measure::AllocatedBlocks;
                    self.sink.note(&describe(&info), &Event::DownloadChanged { download: &info });
                }
                let file = self.tracker.open().ok();
                let now = Instant::now();
                let steady = prev.as_ref().is_some_and(|(p, x)| *p == self.tracker.path && x.len == e.len && x.allocated == e.allocated);
                if !steady {
                    self.changed = now;
                }
                let mut r = plan.reading(&self.tracker.path, info.fill, &e, file.as_ref());
                if let Some(b) = r.bytes {
                    r.rate_bytes_per_s = rate.add(now, b);
                    r.eta_s = (r.rate_bytes_per_s > 0).then(|| plan.expected.saturating_sub(b) / r.rate_bytes_per_s);
                }
                let control = aria2_control(&self.tracker.path).is_file();
                let done = plan.done(info.fill, &e, file.as_ref(), steady, control);
                self.sink.progress(&r, !steady, done && complete_since.is_none());
                self.last = Some(r);
                prev = Some((self.tracker.path.clone(), e));
                if done {
                    let since = *complete_since.get_or_insert(now);
                    // Data complete under a temporary name: give the tool a moment to rename it.
                    if self.tracker.pending.is_none() || since.elapsed() >= self.grace() {
                        return self.finish(&first, &plan, info.fill);
                    }
                } else {
                    complete_since = None;
                }
            }
            if let Step::Exit(code) = self.pause() {
                return Ok(code);
            }
        }
    }

    fn finish(&mut self, first: &GgufFile, plan: &Plan, fill: Fill) -> anyhow::Result<i32> {
        let path: &Path = &self.tracker.path;
        let (f, checks) = measure::final_check(path, first, plan, fill)?;
        let set = ready::shard_set(&f);
        let mut checks = checks;
        if self.tracker.pending.is_some() {
            checks.push(format!("still named {}: the download tool renames it when it is done", path.display()));
        }
        let c = Complete {
            file: path.display().to_string(),
            file_bytes: f.file_bytes,
            expected_bytes: plan.expected,
            tensor_count: f.header.tensors.len() as u64,
            layers_total: plan.layers_total(),
            checks,
            shards: ready::shard_states(&set, path),
        };
        self.sink.complete(&c);
        Ok(exit_code::OK)
    }
}
