//! The round trips of a remote read: files at once, connections reused, a signed CDN URL
//! reused for a file's further ranges and resolved again when it has expired.

use super::*;

/// The repo paths of REPO_FILES that `fit hf://test/repo` reads (the mmproj is left out).
const MODELS: [&str; 5] = [REPO_FILES[0], REPO_FILES[1], REPO_FILES[2], REPO_FILES[3], REPO_FILES[4]];

fn count(s: &Server, prefix: &str) -> usize {
    s.log().iter().filter(|l| l.path.starts_with(prefix)).count()
}

#[test]
fn every_file_of_a_repo_is_read_at_once_over_reused_connections() {
    let hub = Hub::start();
    // Each file's answer waits until all five files have been asked for: a client reading one
    // file after another would leave the first waiting (the gate gives up after 10 s).
    for p in MODELS {
        let f = p.rsplit('/').next().unwrap();
        hub.cdn.route(&format!("/cdn/{p}"), vec![Reply::Gate { name: "all".into(), n: MODELS.len(), then: Box::new(file(f)) }]);
    }
    // Small first ranges, so each single-file quant takes several range requests.
    let out = hub.run_with(&["fit", "hf://test/repo", "--gpu", "rtx3090", "--json"], &[("GGUF_METER_FIRST_RANGE", "4096")]);
    assert_eq!(out.status.code(), Some(3), "header-only fixtures are incomplete downloads: exit 3, as locally; {}", stderr(&out));
    let cdn = hub.cdn.log();
    assert!(cdn.iter().all(|l| l.gate_met == Some(true)), "files read one after another: {cdn:?}");
    for p in MODELS {
        // One resolve per file: its signed target served every further range.
        assert_eq!(count(&hub.api, &format!("/test/repo/resolve/main/{p}")), 1, "{p}");
    }
    let singles = count(&hub.cdn, &format!("/cdn/{}", MODELS[0]));
    assert!(singles >= 2, "a 18 KB header in 4 KB first range takes several ranges, got {singles}");
    let conns: std::collections::BTreeSet<usize> = cdn.iter().map(|l| l.conn).collect();
    assert!(conns.len() <= MODELS.len() && cdn.len() > conns.len(), "{} CDN requests over {} connections: not reused", cdn.len(), conns.len());
    // The Hub's answers (listing pages, redirects) are read to their end too.
    let api = hub.api.log();
    let api_conns: std::collections::BTreeSet<usize> = api.iter().map(|l| l.conn).collect();
    assert!(api_conns.len() < api.len(), "{} Hub requests over {} connections", api.len(), api_conns.len());
}

#[test]
fn the_shards_of_a_split_url_are_read_at_once() {
    let shard = |i: u32| format!("qwen35-35b-a3b-q4km-0000{i}-of-00003.gguf");
    let s = Server::start();
    for i in 1..=3 {
        s.route(&format!("/s/{}", shard(i)), vec![Reply::Gate { name: "split".into(), n: 3, then: Box::new(file(&shard(i))) }]);
    }
    same_as_local(&s.url(&format!("/s/{}", shard(1))), &fixture(&shard(1)), &[]);
    let log = s.log();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|l| l.gate_met == Some(true)), "{log:?}");
}

#[test]
fn an_expired_signed_url_is_resolved_once_more() {
    let hub = Hub::start();
    let (q4, q8) = (REPO_FILES[0], REPO_FILES[1]);
    // The CDN refuses the stored URL once (as it does when the signature has expired).
    let denied = Reply::Status { code: 403, headers: vec![], body: "<Error><Code>AccessDenied</Code></Error>".into() };
    hub.cdn.route(&format!("/cdn/{q4}"), vec![file(q4), denied, file(q4)]);
    let env = [("GGUF_METER_FIRST_RANGE", "4096")];
    let out = hub.run_with(&["inspect", "--json", &format!("hf://test/repo/{q4}")], &env);
    assert_eq!(out.status.code(), Some(3), "header-only fixture: incomplete, as locally; {}", stderr(&out));
    assert_eq!(doc(&out)["tensor_count"], doc(&meter(&["inspect", "--json", &local(q4)], &[]))["tensor_count"]);
    assert_eq!(count(&hub.api, &format!("/test/repo/resolve/main/{q4}")), 2, "resolved again after the 403, once");
    // A URL already past its Expires is never reused: every range goes through resolve.
    let headers = vec![("X-Linked-Size".to_string(), hub.size(q8).to_string())];
    let to = hub.cdn.url(&format!("/cdn/{q8}{}", signed(false)));
    hub.api.route(
        &format!("/test/repo/resolve/main/{q8}"),
        vec![Reply::Token { token: TOKEN.into(), then: Box::new(Reply::RedirectWith { code: 302, to, headers }) }],
    );
    let out = hub.run_with(&["inspect", &format!("hf://test/repo/{q8}")], &env);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let ranges = count(&hub.cdn, &format!("/cdn/{q8}"));
    assert!(ranges > 1);
    assert_eq!(count(&hub.api, &format!("/test/repo/resolve/main/{q8}")), ranges);
    // A CDN that keeps refusing is an error after that one retry, not a loop.
    hub.cdn.route(&format!("/cdn/{q4}"), vec![file(q4), Reply::Status { code: 403, headers: vec![], body: "denied".into() }]);
    let out = hub.run_with(&["inspect", &format!("hf://test/repo/{q4}")], &env);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("HTTP 403"), "{}", stderr(&out));
}
