//! Command-line interface: parses arguments, runs a layer pipeline, prints, sets the exit code.

mod check;
mod deep;
mod fit;
mod flags;
mod footprint;
mod inputs;
mod inspect;
mod list;
mod loaded;
mod local;
mod mmproj;
mod out;
mod runtime;
mod table;
mod watch;

use crate::read::ReadError;
use crate::util::exit_code;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::ffi::OsString;

/// gguf-meter: exact layer geometry and memory footprints from GGUF files.
#[derive(Parser)]
#[command(name = "gguf-meter", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Remote models: read headers only from the header cache, make no request.
    #[arg(long, global = true, conflicts_with = "refresh")]
    offline: bool,
    /// Remote models: fetch every header again instead of using the header cache.
    #[arg(long, global = true)]
    refresh: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Read a GGUF file (or split set, or partial download) and report its structure.
    Inspect(inspect::Args),
    /// Memory llama.cpp will allocate: weights, KV cache, recurrent state, compute, output.
    Footprint(footprint::Args),
    /// Validate files for CI: structure, metadata, split sets, budgets, policy.
    Check(check::Args),
    /// Does it fit a GPU or machine, at which context, with which llama.cpp flags?
    Fit(fit::Args),
    /// What fits where: every quant x device x context, as a model-card table.
    Table(table::Args),
    /// Follow a download as it is written: the report as soon as the header is in, then progress, then a final check.
    Watch(watch::Args),
    /// Every GGUF model already on this machine (Hugging Face and llama.cpp caches, Ollama, LM Studio) and how it fits.
    List(list::Args),
    /// List the built-in device catalog.
    Gpus {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the CLI on the process's arguments and returns the process exit code.
pub fn run() -> i32 {
    run_args(std::env::args_os().collect())
}

/// Runs the CLI on `args` (the first is the program's name) and returns the exit code.
pub fn run_args(args: Vec<OsString>) -> i32 {
    let given = args;
    let cli = match flags::decorate(Cli::command()).try_get_matches_from(flags::normalise(given.clone())).and_then(|m| Cli::from_arg_matches(&m)) {
        Ok(c) => c,
        Err(e) => {
            if !e.use_stderr() {
                // --help, --version.
                let _ = out::print(&e.render().to_string());
                return exit_code::OK;
            }
            out::eprint(&as_typed(&e.render().to_string(), &given));
            return exit_code::ERROR;
        }
    };
    use crate::read::remote::cache;
    cache::set_mode(if cli.offline {
        cache::Mode::Offline
    } else if cli.refresh {
        cache::Mode::Refresh
    } else {
        cache::Mode::Normal
    });
    let result = match cli.command {
        Command::Inspect(a) => inspect::run(a),
        Command::Footprint(a) => footprint::run(a),
        Command::Fit(a) => fit::run(a),
        Command::Check(a) => check::run(a),
        Command::Table(a) => table::run(a),
        Command::Watch(a) => watch::run(a),
        Command::List(a) => list::run(a),
        Command::Gpus { json } => fit::list(json),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            out::error_line(&one_line(&e));
            if e.downcast_ref::<loaded::VocabOnly>().is_some() {
                return exit_code::NOT_A_MODEL;
            }
            match e.downcast_ref::<ReadError>() {
                Some(r) if r.is_incomplete() => exit_code::INCOMPLETE,
                _ => exit_code::ERROR,
            }
        }
    }
}

/// What a command printed, kept in memory: [`run_captured`]'s answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    /// The exit code (README, Exit codes).
    pub code: i32,
    /// What went to stdout (with `--json`, the JSON document).
    pub stdout: String,
    /// What went to stderr (warnings, the error line).
    pub stderr: String,
}

/// Runs the CLI on `args` (the first is the program's name) with its output kept in memory,
/// not printed: the same documents, messages and exit code as the command. `watch` and
/// `check --deep`'s progress bars still draw on the terminal, if there is one.
pub fn run_captured(args: Vec<OsString>) -> Captured {
    let (code, stdout, stderr) = out::capture(|| run_args(args));
    Captured { code, stdout, stderr }
}

/// A clap error names the long flag an argument was normalised to; name it as the user typed it.
fn as_typed(message: &str, given: &[OsString]) -> String {
    let mut m = message.to_string();
    for (short, long) in flags::LLAMA_SPELLINGS {
        if given.iter().any(|a| a == *short) {
            m = m.replace(&format!("'--{long}'"), &format!("'{short}' (--{long})"));
        }
    }
    m
}

/// The error and its causes on one line.
fn one_line(e: &anyhow::Error) -> String {
    e.chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        super::flags::decorate(super::Cli::command()).debug_assert();
    }
}
