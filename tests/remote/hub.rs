//! hf:// against a fake Hub (HF_ENDPOINT): a token-protected API and resolve URLs that
//! redirect to a second server standing for the CDN, as the real Hub does.

use super::*;

const REPO_FILES: [&str; 6] = [
    "llama3-8b-q4km.gguf",
    "llama3-8b-q8_0.gguf",
    "split/qwen35-35b-a3b-q4km-00001-of-00003.gguf",
    "split/qwen35-35b-a3b-q4km-00002-of-00003.gguf",
    "split/qwen35-35b-a3b-q4km-00003-of-00003.gguf",
    "mmproj-qwen35-f16.gguf",
];
const TOKEN: &str = "hf_test_secret";

struct Hub {
    api: Arc<Server>,
    cdn: Arc<Server>,
    /// The fixture behind each repo path.
    files: Vec<(String, String)>,
}

/// The sha256 of a fixture, as the Hub lists it (`lfs.oid`) and names it (`X-Linked-Etag`).
fn sha256_hex(path: &Path) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A signed CDN URL's query, valid for an hour (or expired an hour ago).
fn signed(valid: bool) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let at = if valid { now + 3600 } else { now - 3600 };
    format!("?Expires={at}&Signature=abc&Key-Pair-Id=K")
}

impl Hub {
    /// test/repo holding REPO_FILES and a README; its listing comes in two pages.
    fn start() -> Hub {
        let files: Vec<(String, String)> = REPO_FILES.iter().map(|p| (p.to_string(), p.rsplit('/').next().unwrap().to_string())).collect();
        Hub::with(&files, true)
    }

    /// test/repo holding `files` (repo path, fixture), as the Hub serves it: the tree listing in
    /// two pages joined by `Link`, with each file's size, git oid and LFS sha256; `resolve`
    /// answering 302 with X-Linked-Etag / X-Linked-Size to a signed URL on the CDN (another
    /// server); everything on the Hub behind the token when `private`.
    fn with(files: &[(String, String)], private: bool) -> Hub {
        let (api, cdn) = (Server::start(), Server::start());
        cdn.refuse_tokens.store(true, std::sync::atomic::Ordering::SeqCst);
        let guard = move |r: Reply| if private { Reply::Token { token: TOKEN.into(), then: Box::new(r) } } else { r };
        let entry = |(p, f): &(String, String)| {
            let size = std::fs::metadata(fixture(f)).unwrap().len();
            let sha = sha256_hex(&fixture(f));
            serde_json::json!({"type": "file", "oid": "0123456789abcdef0123456789abcdef01234567", "size": size, "path": p,
                "lfs": {"oid": sha, "size": size, "pointerSize": 134}})
        };
        let mut page1 = vec![serde_json::json!({"type": "file", "oid": "1111111111111111111111111111111111111111", "size": 10, "path": "README.md"})];
        page1.push(serde_json::json!({"type": "directory", "oid": "2222222222222222222222222222222222222222", "size": 0, "path": "split"}));
        let half = files.len() / 2;
        page1.extend(files[..half].iter().map(entry));
        let page2: Vec<Value> = files[half..].iter().map(entry).collect();
        let json = |v: Vec<Value>| String::from_utf8(serde_json::to_vec(&v).unwrap()).unwrap();
        let tree = "/api/models/test/repo/tree/main";
        let next = vec![("Link".to_string(), format!("<{}{tree}?recursive=true&cursor=2>; rel=\"next\"", api.base))];
        api.route(&format!("{tree}?recursive=true"), vec![guard(Reply::Status { code: 200, headers: next, body: json(page1) })]);
        api.route(&format!("{tree}?recursive=true&cursor=2"), vec![guard(Reply::Status { code: 200, headers: vec![], body: json(page2) })]);
        for (p, f) in files {
            let size = std::fs::metadata(fixture(f)).unwrap().len();
            let headers = vec![
                ("X-Linked-Etag".to_string(), format!("\"{}\"", sha256_hex(&fixture(f)))),
                ("X-Linked-Size".to_string(), size.to_string()),
                ("X-Repo-Commit".to_string(), "0123456789abcdef0123456789abcdef01234567".to_string()),
            ];
            let to = cdn.url(&format!("/cdn/{p}{}", signed(true)));
            api.route(&format!("/test/repo/resolve/main/{p}"), vec![guard(Reply::RedirectWith { code: 302, to, headers })]);
            cdn.route(&format!("/cdn/{p}"), vec![file(f)]);
        }
        Hub { api, cdn, files: files.to_vec() }
    }

    fn env(&self) -> [(&'static str, String); 2] {
        [("HF_ENDPOINT", self.api.base.clone()), ("HF_TOKEN", TOKEN.to_string())]
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    fn run_with(&self, args: &[&str], more: &[(&str, &str)]) -> Output {
        let env = self.env();
        let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        env.extend_from_slice(more);
        let out = meter(args, &env);
        assert!(!String::from_utf8_lossy(&out.stdout).contains(TOKEN) && !stderr(&out).contains(TOKEN), "the token is never printed");
        self.token_stayed_home();
        out
    }

    /// The CDN never saw the token.
    fn token_stayed_home(&self) {
        assert!(self.cdn.log().iter().all(|l| l.auth.is_none()), "the token reached the CDN: {:?}", self.cdn.log());
    }

    fn size(&self, repo_path: &str) -> u64 {
        let f = &self.files.iter().find(|(p, _)| p == repo_path).unwrap().1;
        std::fs::metadata(fixture(f)).unwrap().len()
    }
}

fn local(p: &str) -> String {
    fixture(p.rsplit('/').next().unwrap()).to_str().unwrap().to_string()
}

#[test]
fn fit_on_a_repo_ranks_every_quant_as_the_local_files_would() {
    let hub = Hub::start();
    let out = hub.run(&["fit", "hf://test/repo", "--gpu", "rtx3090", "--json"]);
    // The served fixtures are header-only: complete on the server, no; incomplete (3) as locally.
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let remote = doc(&out);
    let here = doc(&meter(&["fit", &local(REPO_FILES[0]), &local(REPO_FILES[1]), &local(REPO_FILES[2]), "--gpu", "rtx3090", "--json"], &[]));
    let plans = |d: &Value| {
        let mut v = d["plans"].as_array().unwrap().clone();
        v.iter_mut().for_each(|p| p["command"] = Value::Null);
        v
    };
    assert_eq!(plans(&remote).len(), 3, "two single-file quants and one split model; the mmproj is left out");
    assert_eq!(plans(&remote), plans(&here));
    assert_eq!(remote["best"], here["best"]);
    let q8 = remote["plans"].as_array().unwrap().iter().find(|p| p["file"] == "llama3-8b-q8_0.gguf").unwrap();
    assert!(q8["command"].as_str().unwrap().starts_with("llama-server -hf test/repo -hff llama3-8b-q8_0.gguf -c "), "{}", q8["command"]);
    assert!(remote["warnings"].to_string().contains("not ranked as models: hf://test/repo/mmproj-qwen35-f16.gguf"), "{}", remote["warnings"]);
    // The token goes to the Hub only, never to the CDN it redirects to; only headers are read.
    assert!(hub.api.log().iter().all(|l| l.auth.as_deref() == Some(&*format!("Bearer {TOKEN}"))));
    assert!(hub.cdn.log().iter().all(|l| l.auth.is_none() && l.range.is_some()));
    assert_eq!(hub.cdn.log().len(), 5, "one range request per file (headers < 1 MiB)");
    // The first range is the file's listed size, not a guess.
    for l in hub.cdn.log() {
        let p = l.path.trim_start_matches("/cdn/").split('?').next().unwrap().to_string();
        assert_eq!(l.range.as_deref(), Some(&*format!("bytes=0-{}", hub.size(&p) - 1)), "{p}");
    }
}

#[test]
fn inspect_and_footprint_take_hub_files_folders_and_repos() {
    let hub = Hub::start();
    let env = hub.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    same_as_local("hf://test/repo/llama3-8b-q4km.gguf", &fixture(REPO_FILES[0]), &env);
    // A folder holding one (split) model opens it; a repo of several names them.
    let split = doc(&hub.run(&["inspect", "--json", "hf://test/repo/split"]));
    assert_eq!(split["files"].as_array().unwrap().len(), 3);
    let out = hub.run(&["inspect", "hf://test/repo"]);
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(e.contains("hf://test/repo: cannot read: 3 GGUF models here; name one: hf://test/repo/llama3-8b-q4km.gguf, hf://test/repo/llama3-8b-q8_0.gguf, hf://test/repo/split/qwen35-35b-a3b-q4km-00001-of-00003.gguf"), "{e}");
    // footprint, with the mmproj remote too, equals the local footprint.
    let args =
        |m: &str, mm: &str| vec!["footprint".to_string(), m.to_string(), "--ctx".into(), "32768".into(), "--mmproj".into(), mm.to_string(), "--json".into()];
    let remote = hub.run(
        &args("hf://test/repo/split/qwen35-35b-a3b-q4km-00002-of-00003.gguf", "hf://test/repo/mmproj-qwen35-f16.gguf")
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let here = meter(&args(&local(REPO_FILES[3]), &local(REPO_FILES[5])).iter().map(String::as_str).collect::<Vec<_>>(), &[]);
    assert_eq!(remote.status.code(), Some(3), "{}", stderr(&remote));
    assert_eq!(doc(&remote), doc(&here));
    assert!(doc(&here)["mmproj_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn a_protected_repo_without_hf_token_says_to_set_it() {
    let hub = Hub::start();
    let out = meter(&["fit", "hf://test/repo", "--gpu", "rtx3090"], &[("HF_ENDPOINT", &hub.api.base)]);
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(e.contains("hf://test/repo: cannot read: HTTP 401: Unauthorized: set HF_TOKEN"), "{e}");
    // The token is never sent to a host other than the Hub's.
    let out = meter(&["inspect", &hub.cdn.url("/cdn/llama3-8b-q4km.gguf")], &[("HF_ENDPOINT", &hub.api.base), ("HF_TOKEN", TOKEN)]);
    assert_eq!(out.status.code(), Some(3), "header-only fixture: incomplete, as locally");
    assert!(hub.cdn.log().iter().all(|l| l.auth.is_none()));
}

#[test]
fn a_quant_tag_picks_one_model_and_a_revision_is_read_at_that_revision() {
    let hub = Hub::start();
    let env = hub.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // llama.cpp's -hf repo:TAG: the first path (in order) holding TAG followed by '.' or '-'.
    same_as_local("hf://test/repo:Q8_0", &fixture(REPO_FILES[1]), &env);
    same_as_local("hf://test/repo:q4km", &fixture(REPO_FILES[0]), &env);
    let out = hub.run(&["inspect", "hf://test/repo:IQ2_XXS"]);
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(e.contains("no GGUF model matches the tag :IQ2_XXS; the models here: hf://test/repo/llama3-8b-q4km.gguf"), "{e}");
    // A revision changes both the listing and the download URLs; the fake Hub has only main.
    let out = hub.run(&["inspect", "hf://test/repo@v2/llama3-8b-q4km.gguf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        hub.api.log().iter().any(|l| l.path.contains("/resolve/v2/llama3-8b-q4km.gguf")),
        "{:?}",
        hub.api.log().iter().map(|l| l.path.clone()).collect::<Vec<_>>()
    );
    let out = hub.run(&["fit", "hf://test/repo@v2", "--gpu", "rtx3090"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(hub.api.log().iter().any(|l| l.path.starts_with("/api/models/test/repo/tree/v2")));
}

#[path = "header_cache.rs"]
mod header_cache;
#[path = "latency.rs"]
mod latency;
#[path = "places.rs"]
mod places;
#[path = "semantics.rs"]
mod semantics;
