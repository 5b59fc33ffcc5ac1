//! `watch` against files being written while it runs: a thread plays the download tool
//! (appending, renaming, truncating, filling a sparse file) and the events are checked.

mod common;
use common::fixture;
use gguf_meter::read::GgufFile;
use serde_json::Value;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::sleep;
use std::time::{Duration, Instant};

/// A complete model: tiny-llama's header (14,560 bytes) and 13 MB of tensor data.
fn model() -> (Vec<u8>, u64) {
    let mut bytes = std::fs::read(fixture("tiny/tiny-llama.gguf")).unwrap();
    let f = GgufFile::from_bytes(Path::new("tiny-llama.gguf"), &bytes).unwrap();
    bytes.resize(f.layout.expected_end as usize, 0x5a);
    (bytes, f.header.data_offset)
}

/// Starts `watch --json --interval 50ms PATH EXTRA...`; stdout lines arrive on the channel.
fn spawn_watch(path: &Path, extra: &[&str]) -> (Child, mpsc::Receiver<Value>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gguf-meter"))
        .args(["watch", "--json", "--interval", "50ms", path.to_str().unwrap()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            if tx.send(v).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Waits for the child to exit (killing it after `limit`) and returns its events and exit code.
fn finish(mut child: Child, rx: mpsc::Receiver<Value>, limit: Duration) -> (Vec<Value>, i32) {
    let start = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code().unwrap_or(-1);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("watch still running after {limit:?}; events: {:?}", rx.try_iter().collect::<Vec<_>>());
        }
        sleep(Duration::from_millis(20));
    };
    let events: Vec<Value> = rx.iter().collect();
    (events, code)
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["event"].as_str().unwrap()).collect()
}

/// Writes `bytes` to `f` in pieces: small ones with pauses through the header, larger after.
fn write_slowly(f: &mut File, bytes: &[u8], header_end: usize) {
    let mut at = 0;
    while at < bytes.len() {
        let n = if at < header_end { 2048 } else { 512 << 10 };
        let end = (at + n).min(bytes.len());
        f.write_all(&bytes[at..end]).unwrap();
        f.flush().unwrap();
        at = end;
        sleep(Duration::from_millis(if at < header_end { 60 } else { 15 }));
    }
}

fn progress_bytes(events: &[Value]) -> Vec<u64> {
    events.iter().filter(|e| e["event"] == "progress").map(|e| e["bytes"].as_u64().unwrap()).collect()
}

#[test]
fn appended_download_waits_for_the_header_then_reports_progress_and_completes() {
    let (bytes, data_offset) = model();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny-llama.gguf");
    let mut f = File::create(&path).unwrap();
    let (child, rx) = spawn_watch(&path, &["--gpu", "rtx4090", "--ram", "32GiB"]);
    sleep(Duration::from_millis(150));
    write_slowly(&mut f, &bytes, data_offset as usize);
    let (events, code) = finish(child, rx, Duration::from_secs(60));
    let k = kinds(&events);
    assert_eq!(code, 0, "{events:?}");
    assert_eq!(k.first(), Some(&"waiting"), "{k:?}");
    assert_eq!(k.last(), Some(&"complete"), "{k:?}");
    assert_eq!(k.iter().filter(|&&e| e == "header_ready").count(), 1);
    let ready = events.iter().find(|e| e["event"] == "header_ready").unwrap();
    assert!(ready["bytes"].as_u64().unwrap() >= data_offset, "{ready}");
    assert_eq!(ready["data_offset"], data_offset);
    assert_eq!((ready["tensor_count"].as_u64(), ready["architecture"].as_str()), (Some(39), Some("llama")));
    assert_eq!(ready["download"]["fill"], "appending");
    assert_eq!(ready["fit"]["plans"][0]["verdict"], "fits_fully");
    assert_eq!(ready["summary"]["n_layers"], 4);
    let waits_before = k.iter().position(|&e| e == "header_ready").unwrap();
    assert!(events[..waits_before].iter().all(|e| e["event"] == "waiting" && e["bytes"].as_u64().unwrap() < data_offset));
    let seen = progress_bytes(&events);
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert_eq!(seen.last(), Some(&(bytes.len() as u64)));
    let last = events.iter().rfind(|e| e["event"] == "progress").unwrap();
    assert_eq!((last["layers_complete"].as_u64(), last["layers_total"].as_u64()), (Some(4), Some(4)));
    let done = events.last().unwrap();
    assert_eq!((done["file_bytes"].as_u64(), done["tensor_count"].as_u64()), (Some(bytes.len() as u64), Some(39)));
}

#[test]
fn a_part_file_is_followed_through_its_rename_to_the_final_name() {
    let (bytes, data_offset) = model();
    let dir = tempfile::tempdir().unwrap();
    let part = dir.path().join("tiny-llama.gguf.part");
    let final_path = dir.path().join("tiny-llama.gguf");
    let mut f = File::create(&part).unwrap();
    let (child, rx) = spawn_watch(&part, &[]);
    write_slowly(&mut f, &bytes, data_offset as usize);
    drop(f);
    sleep(Duration::from_millis(200));
    std::fs::rename(&part, &final_path).unwrap();
    let (events, code) = finish(child, rx, Duration::from_secs(60));
    assert_eq!(code, 0, "{events:?}");
    let ready = events.iter().find(|e| e["event"] == "header_ready").unwrap();
    assert_eq!(ready["download"]["renamer"], "firefox");
    assert!(ready["footprint"]["total_bytes"].as_u64().unwrap() > 0, "no device given: a footprint");
    let renamed = events.iter().find(|e| e["event"] == "renamed").expect("a renamed event");
    assert_eq!(renamed["to"], final_path.to_str().unwrap());
    assert_eq!(events.last().unwrap()["file"], final_path.to_str().unwrap());
}

#[test]
fn a_file_truncated_while_watched_is_an_error_with_exit_2() {
    let (bytes, data_offset) = model();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.gguf");
    std::fs::write(&path, &bytes[..4 << 20]).unwrap();
    let (child, rx) = spawn_watch(&path, &[]);
    let first = rx.recv_timeout(Duration::from_secs(30)).expect("header_ready");
    assert_eq!(first["event"], "header_ready");
    OpenOptions::new().write(true).open(&path).unwrap().set_len(data_offset + 1000).unwrap();
    let (events, code) = finish(child, rx, Duration::from_secs(30));
    assert_eq!(code, 2, "{events:?}");
    let err = events.last().unwrap();
    assert_eq!(err["event"], "error");
    assert!(err["message"].as_str().unwrap().contains("truncated from 4194304 to"), "{err}");
}

#[test]
fn a_sparse_preallocated_file_is_measured_by_allocation_and_completes() {
    let (bytes, data_offset) = model();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.gguf");
    let mut f = File::create(&path).unwrap();
    f.set_len(bytes.len() as u64).unwrap();
    let (child, rx) = spawn_watch(&path, &[]);
    sleep(Duration::from_millis(200));
    for (i, chunk) in bytes.chunks(1 << 20).enumerate() {
        f.seek(SeekFrom::Start((i << 20) as u64)).unwrap();
        f.write_all(chunk).unwrap();
        sleep(Duration::from_millis(30));
    }
    f.sync_all().unwrap();
    let (events, code) = finish(child, rx, Duration::from_secs(60));
    assert_eq!(code, 0, "{events:?}");
    assert_eq!(events[0]["event"], "waiting", "a hole where the header will be is not a header yet");
    let ready = events.iter().find(|e| e["event"] == "header_ready").unwrap();
    assert_eq!((ready["download"]["fill"].as_str(), ready["download"]["measure"].as_str()), (Some("sparse"), Some("allocated_blocks")));
    assert!(ready["summary"]["data_bytes_present"].as_u64().unwrap() < bytes.len() as u64 - data_offset, "the full length is not data present");
    let seen = progress_bytes(&events);
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert!(events.iter().filter(|e| e["event"] == "progress").all(|e| e["measure"] == "allocated_blocks"));
    assert_eq!(events.last().unwrap()["event"], "complete");
}

#[test]
fn a_shard_reports_its_missing_siblings_and_a_stall_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let name = "qwen35-35b-a3b-q4km-00001-of-00003.gguf";
    let path: PathBuf = dir.path().join(format!("{name}.part"));
    std::fs::copy(fixture(name), &path).unwrap();
    let (child, rx) = spawn_watch(&path, &["--stall-timeout", "300ms"]);
    let (events, code) = finish(child, rx, Duration::from_secs(30));
    assert_eq!(code, 3, "{events:?}");
    let ready = events.iter().find(|e| e["event"] == "header_ready").unwrap();
    let states: Vec<&str> = ready["shards"].as_array().unwrap().iter().map(|s| s["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["watched", "missing", "missing"]);
    assert!(ready["estimate_skipped"].as_str().unwrap().contains("2 of 3 shards missing"));
    assert_eq!(events.last().unwrap()["event"], "stalled");
}

#[test]
fn ctrl_c_ends_with_a_last_event_and_exit_130() {
    let (bytes, _) = model();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.gguf");
    std::fs::write(&path, &bytes[..1 << 20]).unwrap();
    let (child, rx) = spawn_watch(&path, &[]);
    assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap()["event"], "header_ready");
    assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap()["event"], "progress");
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let (events, code) = finish(child, rx, Duration::from_secs(30));
    assert_eq!(code, 130, "{events:?}");
    let last = events.last().unwrap();
    assert_eq!((last["event"].as_str(), last["last"]["bytes"].as_u64()), (Some("interrupted"), Some(1 << 20)));
}

#[test]
fn a_file_that_is_not_gguf_is_an_error_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.gguf.part");
    std::fs::write(&path, b"<html>404 not found</html>").unwrap();
    let (child, rx) = spawn_watch(&path, &[]);
    let (events, code) = finish(child, rx, Duration::from_secs(30));
    assert_eq!(code, 2);
    assert_eq!(kinds(&events), ["error"]);
    assert!(events[0]["message"].as_str().unwrap().contains("malformed at byte 0"), "{events:?}");
}

#[test]
fn a_file_replaced_at_the_same_name_is_an_error() {
    let (bytes, _) = model();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.gguf");
    std::fs::write(&path, &bytes[..2 << 20]).unwrap();
    let (child, rx) = spawn_watch(&path, &[]);
    assert_eq!(rx.recv_timeout(Duration::from_secs(30)).unwrap()["event"], "header_ready");
    let other = dir.path().join("other");
    std::fs::write(&other, &bytes[..3 << 20]).unwrap();
    std::fs::rename(&other, &path).unwrap();
    let (events, code) = finish(child, rx, Duration::from_secs(30));
    assert_eq!(code, 2, "{events:?}");
    assert!(events.last().unwrap()["message"].as_str().unwrap().contains("replaced by another file"), "{events:?}");
}

#[test]
fn a_file_longer_than_its_tensors_fails_the_final_check() {
    let (mut bytes, _) = model();
    bytes.extend_from_slice(&[0u8; 4096]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.gguf");
    std::fs::write(&path, &bytes).unwrap();
    let (child, rx) = spawn_watch(&path, &[]);
    let (events, code) = finish(child, rx, Duration::from_secs(30));
    assert_eq!(code, 2, "{events:?}");
    let msg = events.last().unwrap()["message"].as_str().unwrap().to_string();
    assert!(msg.contains("longer than the 13402336 bytes"), "{msg}");
}
