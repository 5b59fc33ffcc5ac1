//! hf:// as Hub users name things: llama.cpp's -hf tags, pull-request revisions, browser URLs,
//! renamed repos, and the Hub's X-Error-Code errors.

use super::*;

fn unsloth_like() -> Hub {
    let f = |p: &str, fx: &str| (p.to_string(), fx.to_string());
    let shard = |i: u32| format!("qwen35-35b-a3b-q4km-0000{i}-of-00003.gguf");
    Hub::with(
        &[
            f("M-Q8_0.gguf", "llama3-8b-q8_0.gguf"),
            f("Q4_K_XL/M-Q4_K_XL.gguf", "llama3-8b-q4km.gguf"),
            f("UD-Q4_K_XL/M-UD-Q4_K_XL-00001-of-00003.gguf", &shard(1)),
            f("UD-Q4_K_XL/M-UD-Q4_K_XL-00002-of-00003.gguf", &shard(2)),
            f("UD-Q4_K_XL/M-UD-Q4_K_XL-00003-of-00003.gguf", &shard(3)),
            f("imatrix_unsloth.gguf", "llama3-8b-q4km.gguf"),
            f("mmproj-F16.gguf", "mmproj-qwen35-f16.gguf"),
        ],
        false,
    )
}

#[test]
fn unsloth_tags_folders_and_browser_urls() {
    let hub = unsloth_like();
    let env = hub.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // llama-server -hf repo:UD-Q4_K_XL: the first file matching the tag, in any case, with its shards.
    for tag in ["UD-Q4_K_XL", "ud-q4_k_xl"] {
        let d = same_as_local(&format!("hf://test/repo:{tag}"), &fixture("qwen35-35b-a3b-q4km-00001-of-00003.gguf"), &env);
        assert_eq!(d["files"].as_array().unwrap().len(), 3, "{tag}");
    }
    same_as_local("hf://test/repo:Q4_K_XL", &fixture("llama3-8b-q4km.gguf"), &env);
    // The URLs a browser shows: blob/ is the file, tree/ a folder, the repo page the repo.
    same_as_local(&hub.api.url("/test/repo/blob/main/M-Q8_0.gguf"), &fixture("llama3-8b-q8_0.gguf"), &env);
    let d = doc(&hub.run(&["inspect", "--json", &hub.api.url("/test/repo/tree/main/UD-Q4_K_XL")]));
    assert_eq!(d["files"].as_array().unwrap().len(), 3);
    // An imatrix is not a model (llama.cpp's gguf_filename_is_model); the projector is named.
    let out = hub.run(&["fit", &hub.api.url("/test/repo"), "--gpu", "rtx3090", "--json"]);
    assert_eq!(out.status.code(), Some(3), "header-only fixtures are incomplete downloads: exit 3, as locally; {}", stderr(&out));
    let d = doc(&out);
    assert_eq!(d["plans"].as_array().unwrap().len(), 3, "{}", d["plans"]);
    assert!(d["warnings"].to_string().contains("pass one with --mmproj"), "{}", d["warnings"]);
    // With --mmproj given, no advice to pass one.
    let out = hub.run(&["fit", "hf://test/repo", "--mmproj", "hf://test/repo/mmproj-F16.gguf", "--gpu", "rtx3090", "--json"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(!doc(&out)["warnings"].to_string().contains("pass one with --mmproj"), "{}", doc(&out)["warnings"]);
}

#[test]
fn a_pull_request_revision_is_read_there() {
    let hub = Hub::start();
    let (p, f) = (REPO_FILES[1], "llama3-8b-q8_0.gguf");
    let to = hub.cdn.url(&format!("/cdn/{p}{}", signed(true)));
    hub.api
        .route(&format!("/test/repo/resolve/refs%2Fpr%2F1/{p}"), vec![Reply::Token { token: TOKEN.into(), then: Box::new(Reply::Redirect { code: 302, to }) }]);
    let env = hub.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    same_as_local(&format!("hf://test/repo@refs/pr/1/{p}"), &fixture(f), &env);
    same_as_local(&hub.api.url(&format!("/test/repo/blob/refs%2Fpr%2F1/{p}")), &fixture(f), &env);
    hub.token_stayed_home();
}

#[test]
fn a_renamed_private_repo_keeps_the_token_on_the_hubs_own_redirect() {
    let hub = Hub::start();
    let guard = |r: Reply| Reply::Token { token: TOKEN.into(), then: Box::new(r) };
    // The Hub answers a renamed repo with a 307 on its own host, to a relative path.
    let p = REPO_FILES[0];
    hub.api.route(&format!("/old/name/resolve/main/{p}"), vec![guard(Reply::Redirect { code: 307, to: format!("/test/repo/resolve/main/{p}") })]);
    let tree = "/api/models/test/repo/tree/main?recursive=true";
    hub.api.route("/api/models/old/name/tree/main", vec![guard(Reply::Redirect { code: 307, to: tree.into() })]);
    let env = hub.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    same_as_local(&format!("hf://old/name/{p}"), &fixture(p), &env);
    let out = hub.run(&["fit", "hf://old/name", "--gpu", "rtx3090"]);
    assert_eq!(out.status.code(), Some(3), "header-only fixtures are incomplete downloads: exit 3, as locally; {}", stderr(&out));
    assert!(hub.api.log().iter().all(|l| l.auth.as_deref() == Some(&*format!("Bearer {TOKEN}"))), "every Hub hop carried the token");
    hub.token_stayed_home();
}

#[test]
fn the_hubs_errors_say_what_to_do() {
    let hub = Hub::start();
    let err = |code: u16, error_code: &str, message: &str| vec![Reply::HubError { code, error_code: error_code.into(), message: message.into() }];
    hub.api.route("/api/models/nobody/repo/tree/main", err(401, "RepoNotFound", "Repository not found"));
    hub.api.route("/gated/repo/resolve/main/m.gguf", err(403, "GatedRepo", "Access to model gated/repo is restricted"));
    hub.api.route("/test/repo/resolve/main/nope.gguf", err(404, "EntryNotFound", "Entry not found"));
    hub.api.route("/api/models/test/repo/tree/v9", err(404, "RevisionNotFound", "Invalid rev id: v9"));
    hub.api.route("/pub/repo/resolve/main/m.gguf", err(401, "", "Invalid credentials in Authorization header"));
    for (arg, expect) in [
        ("hf://nobody/repo", "repository not found: check the owner and repo name (the HF_TOKEN sent has no access"),
        ("hf://gated/repo/m.gguf", "gated repo: the HF_TOKEN's account has not been granted access"),
        ("hf://test/repo/nope.gguf", "no such file in the repo at this revision"),
        ("hf://test/repo@v9", "no such revision: check the branch, tag, commit or refs/pr/N after @"),
        ("hf://pub/repo/m.gguf", "HF_TOKEN is invalid or expired"),
    ] {
        let out = hub.run(&["fit", arg, "--gpu", "rtx3090"]);
        assert_eq!(out.status.code(), Some(2), "{arg}");
        let e = stderr(&out);
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(e.starts_with("gguf-meter: ") && e.contains(expect), "{arg}: {e}");
    }
    // Without a token, a missing (or private) repo says to set one.
    let out = meter(&["inspect", "hf://nobody/repo"], &[("HF_ENDPOINT", &hub.api.base)]);
    assert!(stderr(&out).contains("a private repo needs HF_TOKEN"), "{}", stderr(&out));
}

#[test]
fn answers_are_described_in_words_not_debug_output() {
    let s = serve(&[
        ("/no-range.gguf", vec![Reply::Status { code: 206, headers: vec![], body: "GGUF".into() }]),
        ("/refused.gguf", vec![Reply::Status { code: 416, headers: vec![("Content-Range".into(), "bytes */5".into())], body: String::new() }]),
    ]);
    for p in ["/no-range.gguf", "/refused.gguf"] {
        let e = stderr(&meter(&["inspect", &s.url(p)], &[]));
        assert!(!e.contains("Some(") && !e.contains("None") && e.lines().count() == 1, "{e}");
    }
    assert!(stderr(&meter(&["inspect", &s.url("/no-range.gguf")], &[])).contains("(none)"));
}
