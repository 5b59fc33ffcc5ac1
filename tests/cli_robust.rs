//! The entry point never panics: output into a closed pipe (`gguf-meter ... | head -1`), file
//! names that are not UTF-8, a closed stderr. Each command is run as a user would run it.

mod common;

use common::fixture;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gguf-meter"))
}

/// Every command, with the file argument(s) last: `(args before the file, more args after)`.
fn commands() -> Vec<Vec<&'static str>> {
    vec![
        vec!["inspect", "--tensors"],
        vec!["inspect", "--json", "--tensors"],
        vec!["footprint"],
        vec!["footprint", "--json", "-c", "8192"],
        vec!["fit", "--gpu", "rtx4090", "--ram", "64GiB"],
        vec!["fit", "--json", "--gpu", "rtx4090", "--ram", "64GiB"],
        vec!["check"],
        vec!["check", "--format", "json"],
        vec!["check", "--format", "junit"],
        vec!["check", "--format", "github"],
        vec!["table", "--gpus", "rtx3060,rtx4090", "--ram", "64GiB"],
        vec!["table", "--format", "json", "--gpus", "rtx4090", "--ram", "64GiB"],
        vec!["watch", "--interval", "50ms", "--stall-timeout", "300ms"],
    ]
}

fn with_file(args: &[&str], file: &Path) -> Vec<OsString> {
    let mut v: Vec<OsString> = args.iter().map(OsString::from).collect();
    v.push(file.as_os_str().to_owned());
    v
}

fn no_panic(what: &str, out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{what}: panicked: {err}");
    assert_ne!(out.status.code(), Some(101), "{what}: exit 101: {err}");
    assert!(out.status.code().is_some(), "{what}: killed by a signal");
}

/// Runs `args` with stdout a pipe whose reading end is already closed.
fn into_closed_pipe(args: &[OsString]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let child = bin().args(args).stdout(writer).stderr(Stdio::piped()).spawn().unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn every_command_into_a_closed_pipe_ends_quietly_with_its_own_exit_code() {
    let f = fixture("qwen35-35b-a3b-q4km.gguf");
    let mut cases: Vec<Vec<OsString>> = commands().iter().map(|c| with_file(c, &f)).collect();
    for extra in [&["gpus"][..], &["gpus", "--json"], &["check", "--list-rules"], &["--help"], &["fit", "--help"]] {
        cases.push(extra.iter().map(OsString::from).collect());
    }
    for args in &cases {
        let what = format!("{args:?}");
        let closed = into_closed_pipe(args);
        no_panic(&what, &closed);
        let err = String::from_utf8_lossy(&closed.stderr);
        assert!(!err.contains("Broken pipe") && !err.contains("os error 32"), "{what}: not quiet: {err}");
        if args[0] != "watch" {
            // The same exit code as with a reader: a closed pipe changes nothing but the output.
            let normal = bin().args(args).stdout(Stdio::null()).output().unwrap();
            assert_eq!(closed.status.code(), normal.status.code(), "{what}");
        }
    }
}

#[test]
fn a_closed_stderr_does_not_panic_either() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = bin().args(["inspect", "/nonexistent/model.gguf"]).stderr(writer).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// A copy of `src` in `dir` under a name that is not UTF-8.
#[cfg(unix)]
fn non_utf8_copy(src: &Path, dir: &Path, stem: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let mut name = stem.to_vec();
    name.extend_from_slice(b"-\xff\xfe.gguf");
    let p = dir.join(std::ffi::OsStr::from_bytes(&name));
    std::fs::copy(src, &p).unwrap();
    p
}

#[cfg(unix)]
#[test]
fn non_utf8_file_names_work_in_every_command_as_utf8_ones_do() {
    let dir = tempfile::tempdir().unwrap();
    let odd = non_utf8_copy(&fixture("qwen35-35b-a3b-q4km.gguf"), dir.path(), b"model");
    let plain = dir.path().join("plain.gguf");
    std::fs::copy(fixture("qwen35-35b-a3b-q4km.gguf"), &plain).unwrap();
    for c in commands() {
        let a = bin().args(with_file(&c, &odd)).output().unwrap();
        let b = bin().args(with_file(&c, &plain)).output().unwrap();
        let what = format!("{c:?} on a non-UTF-8 name");
        no_panic(&what, &a);
        assert_eq!(a.status.code(), b.status.code(), "{what}: {}", String::from_utf8_lossy(&a.stderr));
        assert!(!a.stdout.is_empty() || c[0] == "watch", "{what}: no output");
    }
    // The name as a directory argument, and as --mmproj.
    let mm = non_utf8_copy(&fixture("mmproj-qwen35-f16.gguf"), dir.path(), b"mmproj");
    let out = bin().arg("footprint").arg(&odd).arg("--mmproj").arg(&mm).output().unwrap();
    no_panic("footprint --mmproj", &out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("mmproj"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = bin().arg("check").arg(dir.path()).output().unwrap();
    no_panic("check DIR", &out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("model-\u{fffd}\u{fffd}.gguf"), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn watch_prints_its_stall_message_once() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("m.gguf");
    std::fs::copy(fixture("qwen35-35b-a3b-q4km.gguf"), &f).unwrap();
    let out = bin().args(["watch", "--interval", "50ms", "--stall-timeout", "300ms"]).arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(all.matches("stalled:").count(), 1, "{all}");
}
