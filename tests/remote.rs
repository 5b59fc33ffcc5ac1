//! Remote files over HTTP: a local server on 127.0.0.1 (never the internet) serves fixtures
//! with and without Range, misbehaves on purpose, and fakes the Hub API for hf://.
//!
//! A remote `inspect --json` must equal the local one except where the location shows:
//! `files[].path` and `missing_shards` hold URLs, and `bytes_fetched` is a number (null locally).

mod common;
#[path = "remote/server.rs"]
mod server;

use common::{fixture, real_file};
use serde_json::Value;
use server::{Reply, Server};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

/// The first range asked for (read::remote::REMOTE_LIMITS.first).
const FIRST_CHUNK: u64 = 12 << 20;

/// Runs the binary with a clean remote environment plus `env`; retries wait 1 ms. The header
/// cache is a fresh directory unless `env` names one (XDG_CACHE_HOME).
fn meter(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gguf-meter"));
    c.args(args);
    for v in [
        "HF_TOKEN",
        "HF_ENDPOINT",
        "GGUF_METER_HTTP_TIMEOUT_MS",
        "GGUF_METER_HTTP_ATTEMPTS",
        "GGUF_METER_FIRST_RANGE",
        "OLLAMA_REGISTRY",
        "MODELSCOPE_ENDPOINT",
    ] {
        c.env_remove(v);
    }
    let cache = tempfile::tempdir().expect("temp dir");
    c.env("XDG_CACHE_HOME", cache.path());
    c.env("GGUF_METER_HTTP_BACKOFF_MS", "1");
    c.envs(env.iter().copied());
    c.output().expect("run gguf-meter")
}

fn doc(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("bad JSON ({e}); stderr: {}", String::from_utf8_lossy(&out.stderr)))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// An inspect document with the location-dependent fields blanked.
fn located_fields_removed(mut d: Value) -> Value {
    let obj = d.as_object_mut().unwrap();
    obj.remove("bytes_fetched");
    for f in obj["files"].as_array_mut().unwrap() {
        f["path"] = Value::Null;
    }
    for m in obj["missing_shards"].as_array_mut().unwrap() {
        *m = Value::String(m.as_str().unwrap().rsplit('/').next().unwrap().to_string());
    }
    d
}

fn file(name: &str) -> Reply {
    Reply::File { path: fixture(name), ranges: true }
}

fn serve(routes: &[(&str, Vec<Reply>)]) -> Arc<Server> {
    let s = Server::start();
    for (path, replies) in routes {
        s.route(path, replies.clone());
    }
    s
}

/// Asserts `inspect --json URL` equals `inspect --json LOCAL` but for the location fields, with
/// the same exit code; returns the remote document.
fn same_as_local(url: &str, local: &Path, env: &[(&str, &str)]) -> Value {
    let remote = meter(&["inspect", "--json", "--tensors", url], env);
    let here = meter(&["inspect", "--json", "--tensors", local.to_str().unwrap()], &[]);
    assert_eq!(remote.status.code(), here.status.code(), "{url}: {}", stderr(&remote));
    let (r, l) = (doc(&remote), doc(&here));
    assert_eq!(l["bytes_fetched"], Value::Null);
    assert_eq!(located_fields_removed(r.clone()), located_fields_removed(l), "{url}");
    r
}

#[test]
fn a_served_fixture_reads_as_the_local_file() {
    let names = [
        "qwen35-35b-a3b-q4km.gguf",
        "llama3-8b-q4km.gguf",
        "deepseek-v3-q4km.gguf",
        "mmproj-qwen35-f16.gguf",
        "bigendian-llama.gguf",
        "tinyllama-v2-q4_0.gguf",
    ];
    let routes: Vec<(String, Vec<Reply>)> = names.iter().map(|n| (format!("/m/{n}"), vec![file(n)])).collect();
    let s = Server::start();
    for (p, r) in &routes {
        s.route(p, r.clone());
    }
    for n in names {
        let d = same_as_local(&s.url(&format!("/m/{n}")), &fixture(n), &[]);
        assert_eq!(d["files"][0]["path"], s.url(&format!("/m/{n}")));
        // Header-only fixtures are shorter than the first range: one request, the whole file.
        assert_eq!(d["bytes_fetched"], std::fs::metadata(fixture(n)).unwrap().len(), "{n}");
    }
    let human = meter(&["inspect", &s.url("/m/llama3-8b-q4km.gguf")], &[]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("fetched       18,432 bytes over HTTP"), "{}", String::from_utf8_lossy(&human.stdout));
}

#[test]
fn a_real_file_is_complete_and_only_its_header_is_fetched() {
    let Some(real) = real_file("gemma-3-270m-q4_k_m.gguf") else { return };
    let s = serve(&[("/gemma.gguf", vec![Reply::File { path: real.clone(), ranges: true }])]);
    let d = same_as_local(&s.url("/gemma.gguf"), &real, &[]);
    assert_eq!(d["complete"], true);
    let data_offset = d["files"][0]["data_offset"].as_u64().unwrap();
    let fetched = d["bytes_fetched"].as_u64().unwrap();
    assert!(fetched >= data_offset - 64 && fetched < 2 * data_offset + FIRST_CHUNK, "fetched {fetched} for a {data_offset} byte header");
    let sent: u64 = s.log().iter().filter(|l| l.path == "/gemma.gguf" && l.range.is_some()).map(|l| l.sent).sum();
    assert_eq!(sent, fetched, "the server sent what the client counted");
    assert!(meter(&["footprint", &s.url("/gemma.gguf"), "--ctx", "32768"], &[]).status.success());
}

#[test]
fn a_server_ignoring_range_is_read_up_to_the_header_then_dropped() {
    let Some(real) = real_file("gemma-3-270m-q4_k_m.gguf") else { return };
    let s = serve(&[("/g.gguf", vec![Reply::File { path: real.clone(), ranges: false }])]);
    let out = meter(&["inspect", "--json", &s.url("/g.gguf")], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let d = doc(&out);
    let data_offset = d["files"][0]["data_offset"].as_u64().unwrap();
    assert!(d["bytes_fetched"].as_u64().unwrap() < 2 * data_offset + FIRST_CHUNK);
    assert!(d["warnings"].to_string().contains("ignores Range"), "{}", d["warnings"]);
    let sent = s.log().iter().map(|l| l.sent).sum::<u64>();
    assert!(sent < 64 << 20, "sent {sent} of a 253 MB file");
}

/// A GGUF whose first string claims 512 MiB, served as a 70 GB body without Range support.
#[test]
fn a_header_beyond_the_limit_is_refused_without_downloading_it() {
    let mut p = b"GGUF".to_vec();
    p.extend(3u32.to_le_bytes());
    p.extend(0u64.to_le_bytes());
    p.extend(1u64.to_le_bytes());
    p.extend(12u64.to_le_bytes());
    p.extend(b"general.name");
    p.extend(8u32.to_le_bytes());
    p.extend((512u64 << 20).to_le_bytes());
    let s = serve(&[("/huge.gguf", vec![Reply::Endless { prefix: Arc::new(p), len: 70_000_000_000 }])]);
    let out = meter(&["inspect", &s.url("/huge.gguf")], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("a header within the first 268435456 bytes"), "{}", stderr(&out));
    assert!(s.log()[0].sent < 64 << 20, "sent {}", s.log()[0].sent);
}

#[test]
fn a_split_model_is_fetched_shard_by_shard() {
    let shard = |i: u32| format!("qwen35-35b-a3b-q4km-0000{i}-of-00003.gguf");
    let s = serve(&[
        (&format!("/s/{}", shard(1)), vec![file(&shard(1))]),
        (&format!("/s/{}", shard(2)), vec![file(&shard(2))]),
        (&format!("/s/{}", shard(3)), vec![file(&shard(3))]),
    ]);
    let d = same_as_local(&s.url(&format!("/s/{}", shard(2))), &fixture(&shard(2)), &[]);
    assert_eq!(d["files"].as_array().unwrap().len(), 3);
    let asked: Vec<String> = s.log().iter().map(|l| l.path.clone()).collect();
    for i in 1..=3 {
        assert!(asked.contains(&format!("/s/{}", shard(i))), "{asked:?}");
    }
    let total: u64 = (1..=3).map(|i| std::fs::metadata(fixture(&shard(i))).unwrap().len()).sum();
    assert_eq!(d["bytes_fetched"], total);
    // A shard the server does not have is reported missing, as on disk.
    let s = serve(&[(&format!("/s/{}", shard(1)), vec![file(&shard(1))]), (&format!("/s/{}", shard(2)), vec![file(&shard(2))])]);
    let out = meter(&["inspect", "--json", &s.url(&format!("/s/{}", shard(1)))], &[]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(doc(&out)["missing_shards"][0], s.url(&format!("/s/{}", shard(3))));
}

#[test]
fn timeouts_end_a_silent_or_stalled_server() {
    let slow = Reply::Slow { delay: Duration::from_secs(20), then: Box::new(file("llama3-8b-q4km.gguf")) };
    let stall = Reply::Cut { keep: 100, stall: Duration::from_secs(20), then: Box::new(file("llama3-8b-q4km.gguf")) };
    let s = serve(&[("/slow.gguf", vec![slow]), ("/stall.gguf", vec![stall])]);
    for (p, phase) in [("/slow.gguf", "waiting for the response"), ("/stall.gguf", "waiting for more bytes")] {
        let out = meter(&["inspect", &s.url(p)], &[("GGUF_METER_HTTP_TIMEOUT_MS", "300")]);
        assert_eq!(out.status.code(), Some(2), "{p}");
        assert!(stderr(&out).contains(&format!("cannot read: no answer within 300 ms ({phase}); set GGUF_METER_HTTP_TIMEOUT_MS")), "{p}: {}", stderr(&out));
    }
}

#[test]
fn truncated_bodies_are_resumed_or_reported() {
    let cut = Reply::Cut { keep: 1000, stall: Duration::ZERO, then: Box::new(file("llama3-8b-q4km.gguf")) };
    let s = serve(&[("/once.gguf", vec![cut.clone(), file("llama3-8b-q4km.gguf")]), ("/always.gguf", vec![cut])]);
    let d = same_as_local(&s.url("/once.gguf"), &fixture("llama3-8b-q4km.gguf"), &[]);
    assert_eq!(d["bytes_fetched"], 18432, "1000 bytes, then the rest from byte 1000");
    assert_eq!(s.log()[1].range.as_deref(), Some("bytes=1000-18431"), "resumed where the body broke, up to the end the first answer gave");
    let out = meter(&["inspect", &s.url("/always.gguf")], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/always.gguf: cannot read: connection broke while reading"), "{}", stderr(&out));
    assert_eq!(s.log().iter().filter(|l| l.path == "/always.gguf").count(), 4, "bounded attempts");
}

#[test]
fn redirect_chains_are_followed_and_loops_stopped() {
    let to = |s: &Server, p: &str| Reply::Redirect { code: 302, to: s.url(p) };
    let s = Server::start();
    s.route("/a", vec![to(&s, "/b")]);
    s.route("/b", vec![Reply::Redirect { code: 307, to: "/c/m.gguf".into() }]);
    s.route("/c/m.gguf", vec![file("gemma3-4b-q4km.gguf")]);
    s.route("/x", vec![to(&s, "/y")]);
    s.route("/y", vec![to(&s, "/x")]);
    same_as_local(&s.url("/a"), &fixture("gemma3-4b-q4km.gguf"), &[]);
    let out = meter(&["inspect", &s.url("/x")], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("more than 10 redirects"), "{}", stderr(&out));
}

#[test]
fn server_errors_and_rate_limits_are_retried() {
    let status = |code: u16, headers: Vec<(String, String)>| Reply::Status { code, headers, body: "busy".into() };
    let retry_after = |secs: &str| vec![("Retry-After".to_string(), secs.to_string())];
    let s = serve(&[
        ("/flaky.gguf", vec![status(500, vec![]), status(503, vec![]), file("qwen2.5-7b-q4km.gguf")]),
        ("/down.gguf", vec![status(502, vec![])]),
        ("/busy.gguf", vec![status(429, retry_after("1")), file("qwen2.5-7b-q4km.gguf")]),
        ("/later.gguf", vec![status(429, retry_after("3600"))]),
    ]);
    same_as_local(&s.url("/flaky.gguf"), &fixture("qwen2.5-7b-q4km.gguf"), &[]);
    same_as_local(&s.url("/busy.gguf"), &fixture("qwen2.5-7b-q4km.gguf"), &[]);
    let count = |p: &str| s.log().iter().filter(|l| l.path == p).count();
    assert_eq!((count("/flaky.gguf"), count("/busy.gguf")), (3, 2));
    let out = meter(&["inspect", &s.url("/down.gguf")], &[("GGUF_METER_HTTP_ATTEMPTS", "3")]);
    assert!(stderr(&out).contains("HTTP 502: Bad Gateway, still after 3 attempts"), "{}", stderr(&out));
    assert_eq!(count("/down.gguf"), 3);
    let out = meter(&["inspect", &s.url("/later.gguf")], &[]);
    assert!(stderr(&out).contains("retry after 3600 s"), "{}", stderr(&out));
    assert_eq!(count("/later.gguf"), 1, "a long Retry-After is not waited for");
}

#[test]
fn denied_missing_and_html_answers_say_so_in_one_line() {
    let html = Reply::Bytes {
        data: Arc::new(b"<!DOCTYPE html><html><body>Sign in</body></html>".to_vec()),
        content_type: "text/html; charset=utf-8".into(),
        ranges: false,
    };
    let s = serve(&[("/private.gguf", vec![Reply::Status { code: 401, headers: vec![], body: "no".into() }]), ("/page.gguf", vec![html])]);
    for (path, expect) in [
        ("/private.gguf", "HTTP 401: Unauthorized: set HF_TOKEN"),
        ("/gone.gguf", "HTTP 404: Not Found: check the owner, repo and file name"),
        ("/page.gguf", "not a GGUF file: the server sent an HTML page (Content-Type: text/html; charset=utf-8)"),
    ] {
        let out = meter(&["inspect", &s.url(path)], &[("HF_ENDPOINT", &s.base)]);
        assert_eq!(out.status.code(), Some(2), "{path}");
        let e = stderr(&out);
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(e.starts_with(&format!("gguf-meter: {}: cannot read: {expect}", s.url(path))), "{e}");
    }
    // Elsewhere than the Hub, a 401 says where HF_TOKEN goes instead.
    let e = stderr(&meter(&["inspect", &s.url("/private.gguf")], &[]));
    assert!(e.contains("HTTP 401: Unauthorized: this server wants credentials; HF_TOKEN is sent only to huggingface.co"), "{e}");
}

#[path = "remote/hub.rs"]
mod hub;
