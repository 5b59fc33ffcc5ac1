//! Budget rules: the footprint at a context must stay within limits and fit named devices.

use super::finding::Finding;
use crate::estimate::fit::{all_on_gpu, device_capacities, fits_gpus, gpu_capacity};
use crate::estimate::machine::{MachineRequest, build};
use crate::estimate::{Footprint, Settings, footprint};
use crate::model::Geometry;
use crate::read::TensorEntry;
use crate::rules::RuleId;
use crate::util::units::both;
use std::path::Path;

/// Limits a model must respect; `None` = not checked.
#[derive(Clone, Debug, Default)]
pub struct Budget {
    /// Everything llama.cpp allocates at the context (`total_bytes`).
    pub max_resident: Option<u64>,
    /// Model weights (`weights_bytes`).
    pub max_weights: Option<u64>,
    /// Bytes of the file(s) on disk when complete.
    pub max_file: Option<u64>,
    /// Devices (catalog names, `2x3090` allowed) the model must fit entirely at the context.
    pub must_fit: Vec<String>,
}

impl Budget {
    /// True when any limit is set.
    pub fn is_set(&self) -> bool {
        self.max_resident.is_some() || self.max_weights.is_some() || self.max_file.is_some() || !self.must_fit.is_empty()
    }
}

/// What the model needs, for checking a budget.
pub struct Need<'a> {
    /// Geometry.
    pub geometry: &'a Geometry,
    /// Every tensor.
    pub tensors: &'a [TensorEntry],
    /// Sum of all shards' complete sizes.
    pub file_bytes: u64,
    /// mmproj weights loaded alongside (0 without).
    pub mmproj_bytes: u64,
}

/// Checks `b` at `settings`; returns the footprint it computed (if any) for the report.
pub fn rules(b: &Budget, need: &Need, settings: &Settings, path: &Path, out: &mut Vec<Finding>) -> Option<Footprint> {
    if let Some(max) = b.max_file
        && need.file_bytes > max
    {
        out.push(Finding::error(RuleId::MaxFile, path, None, format!("files total {}, over the budget of {}", both(need.file_bytes), both(max))));
    }
    let fp = match footprint(need.geometry, need.tensors, settings, need.mmproj_bytes) {
        Ok(fp) => fp,
        Err(e) => {
            out.push(Finding::error(RuleId::Geometry, path, None, format!("no footprint: {e}")));
            return None;
        }
    };
    let ctx = fp.resolved.n_ctx;
    if let Some(max) = b.max_resident
        && fp.total_bytes > max
    {
        let msg = format!("llama.cpp allocates {} at {ctx} tokens, over the budget of {}", both(fp.total_bytes), both(max));
        out.push(Finding::error(RuleId::MaxResident, path, None, msg));
    }
    if let Some(max) = b.max_weights
        && fp.weights_bytes > max
    {
        out.push(Finding::error(RuleId::MaxWeights, path, None, format!("weights take {}, over the budget of {}", both(fp.weights_bytes), both(max))));
    }
    for device in &b.must_fit {
        match fits_device(device, need, &fp) {
            Ok(None) => {}
            Ok(Some(msg)) | Err(msg) => out.push(Finding::error(RuleId::MustFit, path, None, msg)),
        }
    }
    Some(fp)
}

/// `None` when everything fits on `device`'s GPU memory; otherwise why not.
fn fits_device(device: &str, need: &Need, fp: &Footprint) -> Result<Option<String>, String> {
    // RAM does not matter for "entirely on the GPU"; unified devices take their memory from the catalog.
    let m = if device == crate::estimate::host::THIS_MACHINE {
        crate::estimate::host::this_machine().clone()
    } else {
        build(&MachineRequest { gpu: Some(device.to_string()), ..Default::default() })?.0
    };
    if m.gpus.is_empty() {
        return Err(format!("--must-fit {device}: not a GPU or unified-memory device (use --max-resident for RAM)"));
    }
    let sp = all_on_gpu(need.geometry, need.tensors, fp, &m);
    let cap = gpu_capacity(&m);
    Ok((!fits_gpus(&sp, &m)).then(|| {
        // Several GPUs: each holds its own layers, so one card can overflow while the sum fits.
        let worst = sp.devices.iter().zip(device_capacities(&m)).find(|(d, c)| d.total_bytes > *c);
        let per_gpu = match worst {
            Some((d, c)) if m.gpus.len() > 1 => format!(" ({} needs {}, {} usable)", d.device, both(d.total_bytes), both(c)),
            _ => String::new(),
        };
        format!("does not fit entirely on {device} at {} tokens: the GPU side needs {}, {} usable{per_gpu}", fp.resolved.n_ctx, both(sp.gpu_bytes), both(cap))
    }))
}
