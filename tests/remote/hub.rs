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
}

impl Hub {
    /// test/repo holding REPO_FILES and a README; its listing comes in two pages.
    fn start() -> Hub {
        let (api, cdn) = (Server::start(), Server::start());
        let guard = |r: Reply| Reply::Token { token: TOKEN.into(), then: Box::new(r) };
        let entry = |p: &str| {
            let size = std::fs::metadata(fixture(p.rsplit('/').next().unwrap())).unwrap().len();
            serde_json::json!({"type": "file", "oid": "0", "size": size, "path": p})
        };
        let mut page1 = vec![serde_json::json!({"type": "file", "size": 10, "path": "README.md"}), serde_json::json!({"type": "directory", "path": "split"})];
        page1.extend(REPO_FILES[..3].iter().map(|p| entry(p)));
        let page2: Vec<Value> = REPO_FILES[3..].iter().map(|p| entry(p)).collect();
        let json = |v: Vec<Value>| Arc::new(serde_json::to_vec(&v).unwrap());
        let tree = "/api/models/test/repo/tree/main";
        let next = vec![("Link".to_string(), format!("<{}{tree}?recursive=true&cursor=2>; rel=\"next\"", api.base))];
        let page = |v, headers| Reply::Status { code: 200, headers, body: String::from_utf8(json(v).to_vec()).unwrap() };
        api.route(&format!("{tree}?recursive=true"), vec![guard(page(page1, next))]);
        api.route(&format!("{tree}?recursive=true&cursor=2"), vec![guard(page(page2, vec![]))]);
        for p in REPO_FILES {
            api.route(&format!("/test/repo/resolve/main/{p}"), vec![guard(Reply::Redirect { code: 302, to: cdn.url(&format!("/cdn/{p}")) })]);
            cdn.route(&format!("/cdn/{p}"), vec![file(p.rsplit('/').next().unwrap())]);
        }
        Hub { api, cdn }
    }

    fn env(&self) -> [(&'static str, String); 2] {
        [("HF_ENDPOINT", self.api.base.clone()), ("HF_TOKEN", TOKEN.to_string())]
    }

    fn run(&self, args: &[&str]) -> Output {
        let env = self.env();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        meter(args, &env)
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
