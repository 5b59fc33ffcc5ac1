//! `gguf_meter._native`: the gguf-meter CLI, run in-process. The Python side
//! (`pysrc/gguf_meter/__init__.py`) turns keyword arguments into flags and `--json` output
//! into dicts, so the documents are the CLI's own, field for field.
#![forbid(unsafe_code)]

use pyo3::prelude::*;
use std::ffi::OsString;

/// Runs `gguf-meter ARGS` (args[0] is the program name) with its output kept: returns
/// `(exit_code, stdout, stderr)`. Other Python threads run meanwhile.
#[pyfunction]
fn run(py: Python<'_>, args: Vec<OsString>) -> (i32, String, String) {
    let c = py.detach(|| gguf_meter::cli::run_captured(args));
    (c.code, c.stdout, c.stderr)
}

/// Runs `gguf-meter ARGS` printing to this process's stdout and stderr, as the binary does;
/// returns the exit code.
#[pyfunction]
fn main(py: Python<'_>, args: Vec<OsString>) -> i32 {
    py.detach(|| gguf_meter::cli::run_args(args))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(main, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
