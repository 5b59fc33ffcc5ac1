//! `gguf-meter list`: every GGUF model already on this machine (see `local.rs` for where it
//! looks), and how each fits this machine (or the one `--gpu`/`--ram` describe).

use super::fit::{MachineArgs, machine_or_host, plan_row};
use super::loaded::Loaded;
use super::runtime::RuntimeArgs;
use crate::read::Location;
use crate::report::list::{self as report, Entry, ListView};
use crate::util::exit_code;

/// Arguments of `list`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub machine: MachineArgs,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Finds, plans and prints; exit code 0 (an empty list too).
pub fn run(a: Args) -> anyhow::Result<i32> {
    let mut warnings = Vec::new();
    let (m, detected) = machine_or_host(&a.machine, &mut warnings)?;
    let settings = a.runtime.settings()?;
    let mut entries = Vec::new();
    let mut sets = std::collections::HashSet::new();
    for found in super::local::all().into_iter().filter(|f| !f.projector) {
        let loc = Location::Local(found.path.clone());
        let name = found.name();
        let (plan, bytes) = match Loaded::open(&loc) {
            Ok(model) => {
                // A split model is one entry, named by the shard listed first.
                let key = model.tensors.first().map(|t| (found.repo.clone(), model.expected_bytes, t.name.clone(), model.tensors.len()));
                if !sets.insert(key) {
                    continue;
                }
                let mut notes = Vec::new();
                let row = plan_row(&model, &loc, &settings, &m, None, &Default::default(), &Default::default(), &Default::default(), &mut notes);
                (row.map_err(|e| super::one_line(&e)), model.expected_bytes)
            }
            Err(e) => (Err(super::one_line(&e)), std::fs::metadata(&found.path).map_or(0, |md| md.len())),
        };
        entries.push(Entry { store: found.store.to_string(), name, path: found.path.display().to_string(), bytes, plan });
    }
    let view = ListView { machine: &m, entries: &entries, warnings: &warnings };
    if a.json {
        let mut doc = report::to_json(&view);
        if let Some(h) = &detected {
            doc["detected"] = serde_json::to_value(h)?;
        }
        super::out::println(&serde_json::to_string_pretty(&doc)?)?;
    } else {
        super::out::print(&report::render(&view))?;
    }
    Ok(exit_code::OK)
}
