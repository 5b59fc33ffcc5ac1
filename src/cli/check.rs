//! `gguf-meter check`: rules for CI on model repositories.

use super::runtime::RuntimeArgs;
use crate::check::{self, Budget, ModelCheck, Opened, Options, Outcome, Policy, metadata};
use crate::report::check as report;
use crate::util::exit_code;
use anyhow::Context;
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Output formats of `check`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One block per model.
    Human,
    /// JSON (schema in the README).
    Json,
    /// GitHub Actions annotations, plus a markdown summary into $GITHUB_STEP_SUMMARY when set.
    Github,
    /// JUnit XML.
    Junit,
    /// Markdown tables (the summary `github` writes to $GITHUB_STEP_SUMMARY), for a PR comment.
    Markdown,
}

/// Arguments of `check`.
#[derive(clap::Args)]
pub struct Args {
    /// GGUF files or directories (searched below; a split model is checked once, with all its
    /// shards), or owner/repo[:TAG] / model:tag for a local copy (Hugging Face cache, Ollama, LM Studio).
    #[arg(required_unless_present = "list_rules")]
    pub files: Vec<PathBuf>,
    /// Vision projector loaded with every model: checked against it and counted in budgets.
    #[arg(long)]
    pub mmproj: Option<PathBuf>,
    /// Fail when llama.cpp's total allocation at --ctx exceeds this (e.g. 24GiB).
    #[arg(long, value_parser = super::runtime::size)]
    pub max_resident: Option<u64>,
    /// Fail when the model weights exceed this.
    #[arg(long, value_parser = super::runtime::size)]
    pub max_weights: Option<u64>,
    /// Fail when the file (all shards) exceeds this.
    #[arg(long, value_parser = super::runtime::size)]
    pub max_file: Option<u64>,
    /// Fail unless the model fits entirely on this device at --ctx (repeatable; catalog names as in
    /// `gpus`, or `this`: the GPUs of the machine the check runs on, as `fit` detects them).
    #[arg(long = "must-fit")]
    pub must_fit: Vec<String>,
    /// Policy file (TOML): budgets, allowed architectures and types, required keys.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Warnings fail the check too.
    #[arg(long)]
    pub strict: bool,
    /// List the rules and exit (with `--format json` or `markdown`: as data or a table).
    #[arg(long)]
    pub list_rules: bool,
    #[command(flatten)]
    pub runtime: RuntimeArgs,
    #[command(flatten)]
    pub deep: super::deep::DeepArgs,
}

/// Options from flags, merged over the policy's budget.
fn options(a: &Args) -> anyhow::Result<Options> {
    let policy = a.policy.as_deref().map(Policy::load).transpose()?;
    let mut budget = policy.as_ref().map(Policy::budget).unwrap_or_default();
    let flags = Budget { max_resident: a.max_resident, max_weights: a.max_weights, max_file: a.max_file, must_fit: a.must_fit.clone() };
    budget.max_resident = flags.max_resident.or(budget.max_resident);
    budget.max_weights = flags.max_weights.or(budget.max_weights);
    budget.max_file = flags.max_file.or(budget.max_file);
    budget.must_fit.extend(flags.must_fit);
    for d in budget.must_fit.iter().filter(|d| *d != crate::estimate::host::THIS_MACHINE) {
        crate::estimate::devices::parse_gpu(d).map_err(|e| anyhow::anyhow!("--must-fit: {e}"))?;
    }
    let mut settings = a.runtime.settings()?;
    if settings.ctx.is_none() {
        settings.ctx = policy.as_ref().and_then(|p| p.budget.ctx);
    }
    Ok(Options { settings, budget, policy, strict: a.strict })
}

/// An mmproj among the files is checked against the models in its directory, when those are
/// all one model family (one architecture and width): a repository's quants, not a mixed folder.
fn pairing_findings(paths: &[PathBuf], opened: &[Result<Opened, ModelCheck>]) -> Vec<Vec<check::Finding>> {
    let dir = |p: &Path| p.parent().map(Path::to_path_buf);
    let mut extra = vec![Vec::new(); paths.len()];
    let family = |d: &Option<PathBuf>| -> HashSet<(String, u64)> {
        opened
            .iter()
            .zip(paths)
            .filter_map(|(o, p)| o.as_ref().ok().filter(|m| m.geometry.vision.is_none() && dir(p) == *d))
            .map(|m| (m.geometry.architecture.clone(), m.geometry.n_embd))
            .collect()
    };
    for (i, mm) in opened.iter().enumerate() {
        let Ok(mm) = mm else { continue };
        if mm.geometry.vision.is_none() || family(&dir(&paths[i])).len() != 1 {
            continue;
        }
        for (j, model) in opened.iter().enumerate() {
            if let Ok(model) = model
                && model.geometry.vision.is_none()
                && dir(&paths[j]) == dir(&paths[i])
            {
                let name = paths[j].file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                extra[i].extend(metadata::mmproj_matches(&mm.geometry, &paths[i], &model.geometry, &name));
            }
        }
    }
    extra
}

/// Checks every model and prints the report; the exit code is the worst outcome's.
pub fn run(a: Args) -> anyhow::Result<i32> {
    if a.list_rules {
        match a.format {
            Format::Json => super::out::println(&serde_json::to_string_pretty(crate::rules::RULES)?)?,
            Format::Markdown => super::out::print(&crate::rules::markdown())?,
            Format::Human | Format::Github | Format::Junit => super::out::print(&crate::rules::listing())?,
        }
        return Ok(exit_code::OK);
    }
    let opts = options(&a)?;
    let inputs = super::inputs::resolve(&a.files)?;
    // Projectors are files of the repository too: checked like models, and paired with them below.
    if let Some(remote) = inputs.models.iter().find(|m| m.is_remote()) {
        anyhow::bail!("{remote}: check reads local files only; download the model first");
    }
    let paths = inputs.local;
    let mmproj = match &a.mmproj {
        Some(p) => Some(check::open(p).map_err(|c| anyhow::anyhow!("--mmproj {}: {}", p.display(), c.findings[0].message))?),
        None => None,
    };
    let mmproj_bytes = mmproj.as_ref().map_or(0, |m| crate::estimate::weights::all_buffer_bytes(&m.tensors));
    #[allow(clippy::result_large_err)]
    let opened: Vec<Result<Opened, ModelCheck>> = paths.iter().map(|p| check::open(p)).collect();
    let mut extra = pairing_findings(&paths, &opened);
    let mut deep_facts = Vec::new();
    if a.deep.enabled() {
        for (e, (findings, facts)) in extra.iter_mut().zip(super::deep::scan_models(&a.deep, &opened)?) {
            e.extend(findings);
            deep_facts.push(facts);
        }
    }
    let mut checks = Vec::new();
    for ((path, o), extra) in paths.iter().zip(opened).zip(extra.iter_mut()) {
        match o {
            Err(done) => checks.push(done),
            Ok(m) => {
                if let (Some(mm), Some(mm_path)) = (&mmproj, &a.mmproj)
                    && m.geometry.vision.is_none()
                {
                    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    extra.extend(metadata::mmproj_matches(&mm.geometry, mm_path, &m.geometry, &name));
                }
                checks.push(check::check(path, &m, &opts, mmproj_bytes, std::mem::take(extra)));
            }
        }
    }
    for (c, d) in checks.iter_mut().zip(deep_facts) {
        if let Some(f) = c.facts.as_mut() {
            f.deep = d;
        }
    }
    let code = Outcome::combined_exit_code(checks.iter().map(|c| c.outcome));
    match a.format {
        Format::Human => super::out::print(&report::render_human(&checks))?,
        Format::Json => super::out::println(&serde_json::to_string_pretty(&report::to_json(&checks, code))?)?,
        Format::Junit => super::out::print(&report::render_junit(&checks))?,
        Format::Markdown => super::out::print(&report::render_step_summary(&checks))?,
        Format::Github => {
            super::out::print(&format!("{}{}", report::render_human(&checks), report::render_github(&checks)))?;
            if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY") {
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(&summary)
                    .with_context(|| format!("GITHUB_STEP_SUMMARY {}: cannot open", Path::new(&summary).display()))?;
                f.write_all(report::render_step_summary(&checks).as_bytes())?;
            }
        }
    }
    Ok(code)
}
