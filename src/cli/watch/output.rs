//! Where `watch` events go: JSON lines, a progress bar on a terminal, or plain periodic lines.

use super::ready::Ready;
use crate::report::watch::{Complete, Event, Reading};
use crate::report::watch_human::{complete_text, progress_line};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Plain lines at most this often when stdout is not a terminal.
const LINE_EVERY: Duration = Duration::from_secs(5);

enum Mode {
    Json(Option<Instant>),
    Bar(Option<ProgressBar>),
    Lines(Option<Instant>),
}

/// The output of one `watch` run.
pub struct Sink {
    mode: Mode,
    /// Set when stdout is gone (a closed pipe): nobody is listening any more.
    pub closed: bool,
}

impl Sink {
    /// JSON lines with `json`; else a bar on a terminal, plain lines otherwise.
    pub fn new(json: bool) -> Sink {
        let mode = if json {
            Mode::Json(None)
        } else if std::io::stdout().is_terminal() {
            Mode::Bar(None)
        } else {
            Mode::Lines(None)
        };
        Sink { mode, closed: false }
    }

    fn out(&mut self, text: &str) {
        if let Mode::Bar(Some(bar)) = &self.mode {
            bar.suspend(|| self.closed |= write_out(text).is_err());
        } else {
            self.closed |= write_out(text).is_err();
        }
    }

    fn event(&mut self, e: &Event) {
        match serde_json::to_string(e) {
            Ok(line) => self.out(&format!("{line}\n")),
            Err(err) => super::super::out::error_line(&format!("cannot encode an event: {err}")),
        }
    }

    /// The header is not in yet.
    pub fn waiting(&mut self, file: &str, bytes: u64, file_bytes: u64, reason: &str) {
        match &mut self.mode {
            Mode::Json(_) => self.event(&Event::Waiting { file, bytes, file_bytes, reason }),
            Mode::Bar(bar) => {
                let b = bar.get_or_insert_with(|| {
                    let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout());
                    b.set_style(ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()));
                    b.enable_steady_tick(Duration::from_millis(200));
                    b
                });
                b.set_message(format!("waiting for the header: {bytes} bytes readable ({reason})"));
            }
            Mode::Lines(last) => {
                if last.is_none_or(|t| t.elapsed() >= LINE_EVERY) {
                    *last = Some(Instant::now());
                    self.out(&format!("waiting for the header: {bytes} bytes readable ({reason})\n"));
                }
            }
        }
    }

    /// The header is in: the full report, then the progress display.
    pub fn header_ready(&mut self, r: &Ready, download: &str, expected: u64) {
        match &mut self.mode {
            Mode::Json(_) => self.event(&Event::HeaderReady(&r.event)),
            Mode::Bar(bar) => {
                if let Some(b) = bar.take() {
                    b.finish_and_clear();
                }
                self.out(&format!("{}\n{download}\n", r.human));
                let b = ProgressBar::with_draw_target(Some(expected), ProgressDrawTarget::stdout());
                b.set_style(ProgressStyle::with_template("[{bar:30}] {msg}").unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> "));
                self.mode = Mode::Bar(Some(b));
            }
            Mode::Lines(last) => {
                *last = None;
                self.out(&format!("{}\n{download}\n", r.human));
            }
        }
    }

    /// A line of news (a rename, a change of measure).
    pub fn note(&mut self, text: &str, e: &Event) {
        match &self.mode {
            Mode::Json(_) => self.event(e),
            _ => self.out(&format!("{text}\n")),
        }
    }

    /// A progress reading. Shown when `changed` (JSON) or periodically (lines), always when `done`.
    pub fn progress(&mut self, r: &Reading, changed: bool, done: bool) {
        match &mut self.mode {
            Mode::Json(last) => {
                if changed || done || last.is_none_or(|t| t.elapsed() >= LINE_EVERY) {
                    *last = Some(Instant::now());
                    self.event(&Event::Progress(r));
                }
            }
            Mode::Bar(Some(b)) => {
                b.set_position(r.bytes.unwrap_or(0).min(r.expected_bytes));
                b.set_message(progress_line(r));
            }
            Mode::Bar(None) => {}
            Mode::Lines(last) => {
                if done || last.is_none_or(|t| t.elapsed() >= LINE_EVERY) {
                    *last = Some(Instant::now());
                    self.out(&format!("{}\n", progress_line(r)));
                }
            }
        }
    }

    /// The final check passed.
    pub fn complete(&mut self, c: &Complete) {
        self.finish_bar();
        match self.mode {
            Mode::Json(_) => self.event(&Event::Complete(c)),
            _ => self.out(&complete_text(c)),
        }
    }

    /// The run ends early (stall, Ctrl-C): the last status, as a line or an event.
    pub fn last(&mut self, text: &str, e: &Event) {
        self.finish_bar();
        match self.mode {
            Mode::Json(_) => self.event(e),
            _ => self.out(&format!("{text}\n")),
        }
    }

    /// An error: an event with `--json`, and always one line on stderr.
    pub fn error(&mut self, message: &str) {
        self.finish_bar();
        if let Mode::Json(_) = self.mode {
            self.event(&Event::Error { message });
        }
        super::super::out::error_line(message);
    }

    fn finish_bar(&mut self) {
        if let Mode::Bar(bar) = &mut self.mode
            && let Some(b) = bar.take()
        {
            b.abandon();
        }
    }
}

fn write_out(text: &str) -> std::io::Result<()> {
    let mut o = std::io::stdout().lock();
    o.write_all(text.as_bytes())?;
    o.flush()
}
