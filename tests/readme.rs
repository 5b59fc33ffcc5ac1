//! The README's examples are what the binary prints today. Two forms are checked:
//! - a fenced block whose first line is `$ gguf-meter ARGS` (a trailing `# comment` allowed):
//!   the rest of the block is the output, where a line `...` stands for any number of lines;
//! - text between `<!-- output of: gguf-meter ARGS -->` and `<!-- end of output -->`.
//!
//! Commands run from the repository root, stdout then stderr, trailing spaces ignored. An
//! example naming a file that is not in the repository (a real model fetched by a script) is
//! skipped, and said so; most are not (the test fails if fewer than 6 ran).
//! `GGUF_METER_BLESS_README=1 cargo test --test readme` rewrites the examples (except those
//! with `...`) with the real output.

use std::path::Path;
use std::process::Command;

const MARK_START: &str = "<!-- output of: gguf-meter ";
const MARK_END: &str = "<!-- end of output -->";

/// Shell words as `sh` splits a simple command line: quotes, backslashes, `#` comments.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                let w = cur.get_or_insert_with(String::new);
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    w.push(c);
                }
            }
            '"' => {
                let w = cur.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        c => w.push(c),
                    }
                }
            }
            '\\' => cur.get_or_insert_with(String::new).extend(chars.next()),
            '#' if cur.is_none() => break,
            c if c.is_whitespace() => words.extend(cur.take()),
            c => cur.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(cur);
    words
}

struct Example {
    /// 0-based line of the command.
    line: usize,
    args: Vec<String>,
    /// Lines of the expected output: `[first, end)` in the README.
    first: usize,
    end: usize,
}

fn examples(lines: &[&str]) -> Vec<Example> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l.starts_with("```") {
            let close = (i + 1..lines.len()).find(|&j| lines[j].starts_with("```")).unwrap_or(lines.len());
            if let Some(cmd) = lines.get(i + 1).and_then(|c| c.strip_prefix("$ gguf-meter ")) {
                out.push(Example { line: i + 1, args: shell_words(cmd), first: i + 2, end: close });
            }
            i = close + 1;
            continue;
        }
        if let Some(cmd) = l.strip_prefix(MARK_START).and_then(|c| c.strip_suffix(" -->")) {
            let end = (i + 1..lines.len()).find(|&j| lines[j] == MARK_END).expect("an output marker without its end");
            out.push(Example { line: i, args: shell_words(cmd), first: i + 1, end });
            i = end + 1;
            continue;
        }
        i += 1;
    }
    out
}

/// `expected` (with `...` wildcards) matches `actual`, line by line.
fn matches(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((e, rest)) if e == "..." => (0..=actual.len()).any(|k| matches(rest, &actual[k..])),
        Some((e, rest)) => actual.first() == Some(e) && matches(rest, &actual[1..]),
    }
}

fn trimmed(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text.lines().map(|l| l.trim_end().to_string()).collect();
    while v.first().is_some_and(String::is_empty) {
        v.remove(0);
    }
    while v.last().is_some_and(String::is_empty) {
        v.pop();
    }
    v
}

#[test]
fn readme_examples_are_the_binarys_real_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let lines: Vec<&str> = readme.lines().collect();
    let bless = std::env::var_os("GGUF_METER_BLESS_README").is_some();
    let mut new_lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let (mut ran, mut failures) = (0, Vec::new());
    // Later examples first, so that blessing one does not move the lines of those before it.
    for ex in examples(&lines).iter().rev() {
        let missing = ex.args.iter().find(|a| (a.ends_with(".gguf") || a.contains("SUMS")) && !a.contains("://") && !root.join(a).exists());
        if let Some(m) = missing {
            eprintln!("SKIPPED: README line {}: {m} is not in the repository", ex.line + 1);
            continue;
        }
        ran += 1;
        let out = Command::new(env!("CARGO_BIN_EXE_gguf-meter")).args(&ex.args).current_dir(root).output().unwrap();
        let code = out.status.code();
        assert!(
            code.is_some_and(|c| c != 2 && c != 101),
            "README line {}: {:?} exited {code:?}: {}",
            ex.line + 1,
            ex.args,
            String::from_utf8_lossy(&out.stderr)
        );
        let actual = trimmed(&format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
        let expected = trimmed(&lines[ex.first..ex.end].join("\n"));
        if matches(&expected, &actual) {
            continue;
        }
        if bless && !expected.iter().any(|l| l == "...") {
            let mut block = actual.clone();
            if lines[ex.line].starts_with(MARK_START) {
                block.insert(0, String::new());
                block.push(String::new());
            }
            new_lines.splice(ex.first..ex.end, block);
            continue;
        }
        let differ = expected.iter().zip(&actual).filter(|(e, a)| e != a).count() + expected.len().abs_diff(actual.len());
        failures.push(format!("README line {}: `gguf-meter {}`: {differ} lines differ; real output:\n{}", ex.line + 1, ex.args.join(" "), actual.join("\n")));
    }
    if bless {
        std::fs::write(root.join("README.md"), new_lines.join("\n") + "\n").unwrap();
    }
    assert!(failures.is_empty(), "{}\n(GGUF_METER_BLESS_README=1 cargo test --test readme rewrites them)", failures.join("\n\n"));
    assert!(ran >= 6, "only {ran} README examples ran");
}

#[test]
fn the_readme_installs_gguf_meter_before_any_example_calls_it() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let install = readme.find("cargo install --path .").expect("an install step");
    let first_use = readme.lines().scan(0, |at, l| {
        let here = *at;
        *at += l.len() + 1;
        Some((here, l))
    });
    let first_use = first_use.filter(|(_, l)| l.trim_start().starts_with("gguf-meter ") || l.starts_with("$ gguf-meter ")).map(|(at, _)| at).next().unwrap();
    assert!(install < first_use, "the first example calling gguf-meter comes before `cargo install --path .`");
}

#[test]
fn the_shell_words_and_wildcards_of_the_examples() {
    assert_eq!(shell_words(r"fit a.gguf -ot 'blk\.1=CUDA1' -c 8K   # comment"), ["fit", "a.gguf", "-ot", r"blk\.1=CUDA1", "-c", "8K"]);
    assert_eq!(shell_words(r#"a "b c" d\ e"#), ["a", "b c", "d e"]);
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert!(matches(&v(&["a", "...", "d"]), &v(&["a", "b", "c", "d"])));
    assert!(!matches(&v(&["a", "...", "d"]), &v(&["a", "b"])));
}

/// The lines of the first fenced block opening with `open` in `text`.
fn fenced(text: &str, open: &str) -> Option<Vec<String>> {
    let mut lines = text.lines().skip_while(|l| l.trim_end() != open).skip(1);
    let body: Vec<String> = lines.by_ref().take_while(|l| !l.starts_with("```")).map(str::to_string).collect();
    (!body.is_empty()).then_some(body)
}

#[test]
fn the_readmes_rust_example_is_the_crate_docs_doctest() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let lib = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    // The crate docs, as rustdoc reads them (`//! ` stripped); their first Rust block is run by `cargo test --doc`.
    let docs: String = lib.lines().filter_map(|l| l.strip_prefix("//!")).map(|l| l.strip_prefix(' ').unwrap_or(l)).collect::<Vec<_>>().join("\n");
    let example = fenced(&readme, "```rust").expect("README has a ```rust example");
    let doctest = fenced(&docs, "```rust").expect("src/lib.rs's crate docs have a ```rust example");
    assert_eq!(example, doctest, "README's Rust example and the crate docs' doc-test differ");
    assert!(example.iter().any(|l| l.contains("footprint(")), "the example computes a footprint");
}
