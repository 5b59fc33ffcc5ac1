//! Writing to stdout and stderr without panicking: `print!` panics when the reader of a pipe
//! has gone (`gguf-meter inspect --tensors f.gguf | head -1`). As ripgrep does, a closed pipe
//! is a normal end: the rest of the output is dropped and the command keeps its exit code.

use std::io::{ErrorKind, Write};

/// Writes `text` to stdout. A reader that went away (EPIPE) is not an error; any other
/// write error is (a full disk behind a redirection must not pass silently).
pub fn print(text: &str) -> anyhow::Result<()> {
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
    let _ = writeln!(std::io::stderr().lock(), "gguf-meter: {message}");
}
