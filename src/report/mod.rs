//! Report layer: formats computed results (human tables, JSON). Never computes footprints.

pub mod check;
pub mod fit;
pub mod footprint;
pub mod inspect_human;
pub mod inspect_json;
pub mod list;
pub mod table;
pub mod watch;
pub mod watch_human;

use crate::model::{Geometry, summary::Summary};
use crate::read::{Header, TensorEntry};

/// Everything `inspect` shows, borrowed from the layers below.
pub struct InspectView<'a> {
    /// Metadata of the first shard.
    pub header: &'a Header,
    /// All tensors.
    pub tensors: &'a [TensorEntry],
    /// Derived geometry.
    pub geometry: &'a Geometry,
    /// Totals.
    pub summary: &'a Summary,
    /// Include one row per tensor.
    pub with_tensors: bool,
    /// Bytes fetched over HTTP for a remote model (`None` for a local one).
    pub bytes_fetched: Option<u64>,
}
