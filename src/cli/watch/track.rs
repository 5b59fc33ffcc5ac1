//! Following a file as a download tool writes it: its length, its identity, and the rename
//! to its final name; plus the download rate.

use crate::read::download::{Extent, Pending, pending};
use anyhow::bail;
use std::collections::VecDeque;
use std::fs::File;
use std::io::ErrorKind;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What one look at the file found.
pub enum Seen {
    /// The file, under the name it had.
    Same(Extent),
    /// The download tool renamed it to its final name.
    Renamed { from: PathBuf, extent: Extent },
    /// Neither name exists just now (a rename may be under way).
    Gone,
}

/// The watched file across polls.
pub struct Tracker {
    /// Its current name.
    pub path: PathBuf,
    /// The rename still to come, from its temporary suffix.
    pub pending: Option<Pending>,
    id: Option<(u64, u64)>,
    len: u64,
    gone_since: Option<Instant>,
}

impl Tracker {
    /// Starts following `path`.
    pub fn new(path: PathBuf) -> Tracker {
        Tracker { pending: pending(&path), path, id: None, len: 0, gone_since: None }
    }

    /// Looks at the file, following a rename to the final name. A file that shrank, was
    /// replaced at the same name, or stayed gone longer than `grace` is an error.
    pub fn poll(&mut self, grace: Duration) -> anyhow::Result<Seen> {
        let seen = match std::fs::metadata(&self.path) {
            Ok(m) => Seen::Same(Extent::of(&m)),
            Err(e) if e.kind() == ErrorKind::NotFound => self.follow_rename()?,
            Err(e) => bail!("{}: cannot read: {e}", self.path.display()),
        };
        let extent = match &seen {
            Seen::Same(e) | Seen::Renamed { extent: e, .. } => *e,
            Seen::Gone => {
                if self.id.is_none() && self.gone_since.is_none() {
                    bail!("{}: not found", self.path.display());
                }
                let since = *self.gone_since.get_or_insert_with(Instant::now);
                if since.elapsed() > grace {
                    bail!("{}: no longer exists (download cancelled or moved?)", self.path.display());
                }
                return Ok(Seen::Gone);
            }
        };
        self.gone_since = None;
        if let (Some(id), Seen::Same(_)) = (self.id, &seen)
            && id != extent.id
        {
            bail!("{}: replaced by another file while watched (inode changed)", self.path.display());
        }
        if extent.len < self.len {
            bail!("{}: truncated from {} to {} bytes while watched (download restarted?)", self.path.display(), self.len, extent.len);
        }
        self.id = Some(extent.id);
        self.len = extent.len;
        Ok(seen)
    }

    /// The temporary name is gone: continue on the final name if it is there.
    fn follow_rename(&mut self) -> anyhow::Result<Seen> {
        let Some(p) = &self.pending else { return Ok(Seen::Gone) };
        match std::fs::metadata(&p.final_path) {
            Ok(m) => {
                let from = std::mem::replace(&mut self.path, p.final_path.clone());
                self.pending = None;
                // A rename keeps the inode; a copy to the final name is accepted too (the
                // final check re-reads everything), so the identity starts afresh.
                self.id = None;
                Ok(Seen::Renamed { from, extent: Extent::of(&m) })
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Seen::Gone),
            Err(e) => bail!("{}: cannot read: {e}", p.final_path.display()),
        }
    }

    /// Opens the file read-only for positioned reads.
    pub fn open(&self) -> anyhow::Result<File> {
        File::open(&self.path).map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", self.path.display()))
    }
}

/// Download rate over a sliding window of recent readings.
#[derive(Default)]
pub struct Rate {
    samples: VecDeque<(Instant, u64)>,
}

/// How far back the rate looks.
const WINDOW: Duration = Duration::from_secs(10);
/// Bound on samples kept, whatever the interval.
const MAX_SAMPLES: usize = 256;

impl Rate {
    /// Records `bytes` now; returns bytes per second over the window (0 until two samples).
    pub fn add(&mut self, now: Instant, bytes: u64) -> u64 {
        self.samples.push_back((now, bytes));
        while self.samples.len() > MAX_SAMPLES || self.samples.front().is_some_and(|(t, _)| now.duration_since(*t) > WINDOW && self.samples.len() > 2) {
            self.samples.pop_front();
        }
        let (t0, b0) = self.samples[0];
        let dt = now.duration_since(t0).as_secs_f64();
        if dt <= 0.0 {
            return 0;
        }
        (bytes.saturating_sub(b0) as f64 / dt) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_is_bytes_over_the_window() {
        let mut r = Rate::default();
        let t = Instant::now();
        assert_eq!(r.add(t, 0), 0);
        assert_eq!(r.add(t + Duration::from_secs(2), 2000), 1000);
        // Old samples fall out of the window: only the last 10 s count.
        r.add(t + Duration::from_secs(20), 2000);
        assert_eq!(r.add(t + Duration::from_secs(22), 6000), 2000);
    }
}
