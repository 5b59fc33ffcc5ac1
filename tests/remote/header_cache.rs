//! The header cache: keyed by content (the Hub's LFS sha256, a strong ETag with the length),
//! so a second look at a repo costs its listing; --offline and --refresh.

use super::*;

#[test]
fn a_second_look_at_a_repo_costs_its_listing() {
    let hub = Hub::start();
    let cache = tempfile::tempdir().unwrap();
    let dir = cache.path().to_str().unwrap();
    let fit = |extra: &[&str]| {
        let mut args = vec!["fit", "hf://test/repo", "--gpu", "rtx3090", "--json"];
        args.extend_from_slice(extra);
        let out = hub.run_with(&args, &[("XDG_CACHE_HOME", dir)]);
        assert_eq!(out.status.code(), Some(3), "header-only fixtures are incomplete downloads: exit 3, as locally; {}", stderr(&out));
        doc(&out)
    };
    let requests = || hub.api.log().len() + hub.cdn.log().len();
    let first = fit(&[]);
    let (api1, cdn1) = (hub.api.log().len(), hub.cdn.log().len());
    assert_eq!(cdn1, 5);
    assert!(std::path::Path::new(dir).join("gguf-meter/headers/blobs").is_dir());
    // Again: the listing (two pages here) and nothing else; the same answer.
    let second = fit(&[]);
    assert_eq!(hub.cdn.log().len(), cdn1, "no header fetched again");
    assert_eq!(hub.api.log().len() - api1, 2, "only the listing's two pages");
    assert_eq!(second["plans"], first["plans"]);
    // --offline: no request at all.
    let before = requests();
    assert_eq!(fit(&["--offline"])["plans"], first["plans"]);
    assert_eq!(requests(), before);
    // --refresh: every header again.
    fit(&["--refresh"]);
    assert_eq!(hub.cdn.log().len(), 2 * cdn1);
    // A file named directly: the Hub's redirect names its content (X-Linked-Etag), so the CDN
    // is not asked.
    let (api, cdn) = (hub.api.log().len(), hub.cdn.log().len());
    let out = hub.run_with(&["inspect", "--json", &format!("hf://test/repo/{}", REPO_FILES[0])], &[("XDG_CACHE_HOME", dir)]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!((hub.api.log().len() - api, hub.cdn.log().len() - cdn), (1, 0));
    assert_eq!(doc(&out)["bytes_fetched"], 0);
    // Offline, something never seen says so in one line.
    let out = hub.run_with(&["inspect", "hf://test/other", "--offline"], &[("XDG_CACHE_HOME", dir)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("run once without --offline"), "{}", stderr(&out));
}

#[test]
fn a_plain_url_is_cached_by_strong_etag_only() {
    let name = "llama3-8b-q4km.gguf";
    let data = Arc::new(std::fs::read(fixture(name)).unwrap());
    let s = serve(&[("/plain.gguf", vec![file(name)])]);
    let cache = tempfile::tempdir().unwrap();
    let env = [("XDG_CACHE_HOME", cache.path().to_str().unwrap()), ("GGUF_METER_FIRST_RANGE", "4096")];
    // No ETag: nothing cached, the second read fetches as the first did.
    meter(&["inspect", &s.url("/plain.gguf")], &env);
    let n = s.log().len();
    meter(&["inspect", &s.url("/plain.gguf")], &env);
    assert_eq!(s.log().len(), 2 * n);
    assert!(n > 1);
    // With a strong ETag: the second read takes its first range, then the cache.
    let s = serve(&[("/tagged.gguf", vec![Reply::Tagged { etag: "\"v1\"".into(), data: data.clone() }])]);
    let first = meter(&["inspect", "--json", &s.url("/tagged.gguf")], &env);
    let n = s.log().len();
    assert!(n > 1);
    let second = meter(&["inspect", "--json", &s.url("/tagged.gguf")], &env);
    assert_eq!(s.log().len() - n, 1, "one range request, then the cached header");
    assert_eq!(doc(&second)["tensors"], doc(&first)["tensors"]);
    // Another ETag is other content: fetched again.
    s.route("/tagged.gguf", vec![Reply::Tagged { etag: "\"v2\"".into(), data }]);
    meter(&["inspect", &s.url("/tagged.gguf")], &env);
    assert_eq!(s.log().len() - n - 1, n);
}
