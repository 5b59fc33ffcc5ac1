//! Writing to stdout and stderr without panicking: `print!` panics when the reader of a pipe
//! has gone (`gguf-meter inspect --tensors f.gguf | head -1`). As ripgrep does, a closed pipe
//! is a normal end: the rest of the output is dropped and the command keeps its exit code.
//!
//! [`capture`] runs a command with what it prints kept in memory instead (the Python package
//! calls the CLI in-process and returns its `--json` documents).

use std::cell::RefCell;
use std::io::{ErrorKind, Write};

thread_local! {
    /// Stdout and stderr text while [`capture`] runs on this thread.
    static CAPTURED: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's output kept, not printed; returns its result, stdout and stderr.
/// Output from other threads (none of the commands print from one) is printed as usual.
pub fn capture<T>(f: impl FnOnce() -> T) -> (T, String, String) {
    let outer = CAPTURED.with(|c| c.borrow_mut().replace(Default::default()));
    let r = f();
    let (out, err) = CAPTURED.with(|c| std::mem::replace(&mut *c.borrow_mut(), outer)).unwrap_or_default();
    (r, out, err)
}

/// Appends to the capture (stdout when `to_stdout`) if one is running; false if none is.
fn captured(text: &str, to_stdout: bool) -> bool {
    CAPTURED.with(|c| match c.borrow_mut().as_mut() {
        Some((out, err)) => {
            if to_stdout { out } else { err }.push_str(text);
            true
        }
        None => false,
    })
}

/// Writes `text` to stdout. A reader that went away (EPIPE) is not an error; any other
/// write error is (a full disk behind a redirection must not pass silently).
pub fn print(text: &str) -> anyhow::Result<()> {
    if captured(text, true) {
        return Ok(());
    }
    let mut o = std::io::stdout().lock();
    match o.write_all(text.as_bytes()).and_then(|()| o.flush()) {
        Err(e) if e.kind() != ErrorKind::BrokenPipe => Err(anyhow::Error::new(e).context("cannot write to standard output")),
        _ => Ok(()),
    }
}

/// `text` and a newline to stdout (see [`print`]).
pub fn println(text: &str) -> anyhow::Result<()> {
    print(&format!("{text}\n"))
}

/// One line on stderr, prefixed `gguf-meter: `; a closed stderr is ignored (there is nowhere
/// left to report it).
pub fn error_line(message: &str) {
    eprint(&format!("gguf-meter: {message}\n"));
}

/// `text` to stderr as it is; a closed stderr is ignored.
pub fn eprint(text: &str) {
    if !captured(text, false) {
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}
