//! Command-line interface: parses arguments, runs a layer pipeline, prints, sets the exit code.

mod check;
mod deep;
mod files;
mod fit;
mod footprint;
mod inspect;
mod loaded;
mod mmproj;
mod runtime;
mod table;
mod watch;

use crate::read::ReadError;
use crate::util::exit_code;
use clap::{Parser, Subcommand};

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
    /// List the built-in device catalog.
    Gpus {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the CLI and returns the process exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse_from(runtime::llama_style_args(std::env::args())) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { exit_code::ERROR } else { exit_code::OK };
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
        Command::Gpus { json } => fit::list(json),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("gguf-meter: {}", one_line(&e));
            match e.downcast_ref::<ReadError>() {
                Some(r) if r.is_incomplete() => exit_code::INCOMPLETE,
                _ => exit_code::ERROR,
            }
        }
    }
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
        super::Cli::command().debug_assert();
    }
}
