//! `check` results as a human list, JSON, GitHub annotations and JUnit XML.

use crate::check::{ModelCheck, Outcome, Severity};
use crate::util::units::gib;
use serde_json::{Value, json};
use std::fmt::Write;

fn outcome_word(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "PASS",
        Outcome::Incomplete => "INCOMPLETE",
        Outcome::Fail => "FAIL",
        Outcome::Unreadable => "ERROR",
    }
}

fn at(offset: Option<u64>) -> String {
    offset.map_or(String::new(), |o| format!(" at byte {o}"))
}

/// One block per model: verdict, facts, then one line per finding; a summary line last.
pub fn render_human(checks: &[ModelCheck]) -> String {
    let mut s = String::new();
    for c in checks {
        let facts = c.facts.as_ref().map_or(String::new(), |f| {
            let fp = f.footprint.as_ref().map_or(String::new(), |fp| format!(", {} at {} tokens", gib(fp.total_bytes), fp.resolved.n_ctx));
            if f.vocab_only {
                return format!(" ({}, vocab only: a tokenizer file, not a model; {})", f.architecture, gib(f.expected_bytes));
            }
            format!(" ({}, {} tensors, {} shard(s), {}{fp})", f.architecture, f.tensor_count, f.shards, gib(f.expected_bytes))
        });
        let _ = writeln!(s, "{:<10} {}{facts}", outcome_word(c.outcome), c.path.display());
        if let Some(deep) = c.facts.as_ref().and_then(|f| f.deep.as_ref()) {
            for f in &deep.files {
                if let Some(h) = &f.sha256 {
                    let _ = writeln!(s, "  sha256  {h}  {}", f.path.display());
                }
            }
            for n in &deep.notes {
                let _ = writeln!(s, "  note    {n}");
            }
        }
        for f in &c.findings {
            let sev = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            let file = if f.file == c.path { String::new() } else { format!("{}: ", f.file.display()) };
            let _ = writeln!(s, "  {sev:<7} [{}] {file}{}{}", f.rule, f.message, at(f.offset));
        }
    }
    let count = |o| checks.iter().filter(|c| c.outcome == o).count();
    let _ = writeln!(
        s,
        "{} model(s): {} pass, {} fail, {} incomplete, {} unreadable",
        checks.len(),
        count(Outcome::Pass),
        count(Outcome::Fail),
        count(Outcome::Incomplete),
        count(Outcome::Unreadable)
    );
    s
}

/// JSON document (schema in the README).
pub fn to_json(checks: &[ModelCheck], exit_code: i32) -> Value {
    let count = |o| checks.iter().filter(|c| c.outcome == o).count();
    json!({
        "schema_version": 1,
        "models": checks,
        "summary": {
            "models": checks.len(),
            "pass": count(Outcome::Pass),
            "fail": count(Outcome::Fail),
            "incomplete": count(Outcome::Incomplete),
            "unreadable": count(Outcome::Unreadable),
        },
        "exit_code": exit_code,
    })
}

/// Escapes workflow-command data (`%`, CR, LF), and for properties also `:` and `,`.
fn gh_escape(s: &str, property: bool) -> String {
    let mut out = s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

/// GitHub Actions workflow commands: one `::error`/`::warning` per finding.
pub fn render_github(checks: &[ModelCheck]) -> String {
    let mut s = String::new();
    for c in checks {
        for f in &c.findings {
            let level = if f.severity == Severity::Error && !f.is_incomplete() { "error" } else { "warning" };
            let file = gh_escape(&f.file.display().to_string(), true);
            let title = gh_escape(&format!("gguf-meter {}", f.rule), true);
            let _ = writeln!(s, "::{level} file={file},title={title}::{}", gh_escape(&format!("{}{}", f.message, at(f.offset)), false));
        }
    }
    s
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Markdown for `$GITHUB_STEP_SUMMARY`: a table of models and one of findings.
pub fn render_step_summary(checks: &[ModelCheck]) -> String {
    let mut s = String::from("## gguf-meter check\n\n| model | verdict | architecture | size | findings |\n|---|---|---|---:|---:|\n");
    for c in checks {
        let (arch, size) = c.facts.as_ref().map_or((String::new(), String::new()), |f| (f.architecture.clone(), gib(f.expected_bytes)));
        let _ =
            writeln!(s, "| {} | {} | {} | {} | {} |", md_cell(&c.path.display().to_string()), outcome_word(c.outcome), md_cell(&arch), size, c.findings.len());
    }
    let all: Vec<_> = checks.iter().flat_map(|c| &c.findings).collect();
    if !all.is_empty() {
        s += "\n| severity | rule | file | offset | message |\n|---|---|---|---:|---|\n";
        for f in all {
            let sev = if f.severity == Severity::Error { "error" } else { "warning" };
            let off = f.offset.map_or(String::new(), |o| o.to_string());
            let _ = writeln!(s, "| {sev} | `{}` | {} | {off} | {} |", f.rule, md_cell(&f.file.display().to_string()), md_cell(&f.message));
        }
    }
    s
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one test case per model; errors as `<failure>`, warnings in `<system-out>`.
pub fn render_junit(checks: &[ModelCheck]) -> String {
    let failures = checks.iter().filter(|c| c.outcome == Outcome::Fail).count();
    let errors = checks.iter().filter(|c| c.outcome == Outcome::Unreadable).count();
    let skipped = checks.iter().filter(|c| c.outcome == Outcome::Incomplete).count();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(s, "<testsuites name=\"gguf-meter check\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">", checks.len());
    let _ = writeln!(s, "  <testsuite name=\"gguf-meter check\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">", checks.len());
    for c in checks {
        let name = xml_escape(&c.path.display().to_string());
        let _ = writeln!(s, "    <testcase classname=\"gguf-meter.check\" name=\"{name}\">");
        let line = |f: &crate::check::Finding| format!("[{}] {}: {}{}", f.rule, f.file.display(), f.message, at(f.offset));
        let errs: Vec<String> = c.findings.iter().filter(|f| f.severity == Severity::Error && !f.is_incomplete()).map(line).collect();
        let others: Vec<String> = c.findings.iter().filter(|f| f.severity != Severity::Error || f.is_incomplete()).map(line).collect();
        match c.outcome {
            Outcome::Fail | Outcome::Unreadable => {
                let tag = if c.outcome == Outcome::Fail { "failure" } else { "error" };
                let first = errs.first().cloned().unwrap_or_else(|| "warnings fail in --strict mode".into());
                let _ = writeln!(
                    s,
                    "      <{tag} message=\"{}\" type=\"{}\">{}</{tag}>",
                    xml_escape(&first),
                    c.findings.first().map_or("check", |f| f.rule.id()),
                    xml_escape(&errs.join("\n"))
                );
            }
            Outcome::Incomplete => {
                let _ = writeln!(s, "      <skipped message=\"download incomplete\"/>");
            }
            Outcome::Pass => {}
        }
        if !others.is_empty() {
            let _ = writeln!(s, "      <system-out>{}</system-out>", xml_escape(&others.join("\n")));
        }
        s += "    </testcase>\n";
    }
    s += "  </testsuite>\n</testsuites>\n";
    s
}
