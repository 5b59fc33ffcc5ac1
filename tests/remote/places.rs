//! Where else models live: the Ollama registry (manifest -> GGUF blob) and ModelScope.

use super::*;

#[test]
fn an_ollama_model_is_read_from_its_manifest_blob() {
    let (reg, cdn) = (Server::start(), Server::start());
    cdn.refuse_tokens.store(true, std::sync::atomic::Ordering::SeqCst);
    let name = "llama3-8b-q4km.gguf";
    let sha = sha256_hex(&fixture(name));
    let size = std::fs::metadata(fixture(name)).unwrap().len();
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": "sha256:00", "size": 10},
        "layers": [
            {"mediaType": "application/vnd.ollama.image.license", "digest": "sha256:11", "size": 10},
            {"mediaType": "application/vnd.ollama.image.model", "digest": format!("sha256:{sha}"), "size": size},
            {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:22", "size": 10}
        ]
    });
    reg.route("/v2/library/qwen3.5/manifests/35b", vec![Reply::Status { code: 200, headers: vec![], body: manifest.to_string() }]);
    // The registry redirects blobs to its CDN, as registry.ollama.ai does.
    reg.route(&format!("/v2/library/qwen3.5/blobs/sha256:{sha}"), vec![Reply::Redirect { code: 307, to: cdn.url(&format!("/blob{}", signed(true))) }]);
    cdn.route("/blob", vec![file(name)]);
    let env = [("OLLAMA_REGISTRY", reg.base.as_str()), ("HF_TOKEN", TOKEN)];
    for arg in ["ollama://qwen3.5:35b", "ollama://library/qwen3.5:35b"] {
        let d = same_as_local(arg, &fixture(name), &env);
        assert_eq!(d["files"][0]["path"], reg.url(&format!("/v2/library/qwen3.5/blobs/sha256:{sha}")));
    }
    assert_eq!(cdn.log()[0].range.as_deref(), Some(&*format!("bytes=0-{}", size - 1)), "the first range is the blob's size from the manifest");
    assert!(reg.log().iter().chain(cdn.log().iter()).all(|l| l.auth.is_none()), "HF_TOKEN goes to the Hub only");
    let accept = reg.log()[0].accept.clone().unwrap_or_default();
    assert!(accept.contains("application/vnd.docker.distribution.manifest.v2+json"), "{accept}");
    let out = meter(&["fit", "ollama://qwen3.5:35b", "--gpu", "rtx3090"], &env);
    assert_eq!(out.status.code(), Some(3), "header-only fixtures are incomplete downloads: exit 3, as locally; {}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("-mu {}", reg.url(&format!("/v2/library/qwen3.5/blobs/sha256:{sha}")))));
    // A second look costs the manifest only: the digest is the cache key.
    let cache = tempfile::tempdir().unwrap();
    let env = [("OLLAMA_REGISTRY", reg.base.as_str()), ("XDG_CACHE_HOME", cache.path().to_str().unwrap())];
    meter(&["inspect", "ollama://qwen3.5:35b"], &env);
    let n = cdn.log().len();
    let r = reg.log().len();
    meter(&["inspect", "ollama://qwen3.5:35b"], &env);
    assert_eq!((reg.log().len() - r, cdn.log().len() - n), (1, 0));
    let e = stderr(&meter(&["inspect", "ollama://nope:1b"], &env));
    assert!(e.contains("no model ollama://nope:1b in the Ollama registry"), "{e}");
}

#[test]
fn a_modelscope_repo_is_listed_and_ranked() {
    let ms = Server::start();
    let names = ["llama3-8b-q4km.gguf", "llama3-8b-q8_0.gguf"];
    let files: Vec<Value> = names
        .iter()
        .map(|n| {
            let size = std::fs::metadata(fixture(n)).unwrap().len();
            serde_json::json!({"Name": n, "Path": n, "Type": "blob", "Size": size, "Sha256": sha256_hex(&fixture(n)), "Revision": "abc"})
        })
        .chain([serde_json::json!({"Name": "README.md", "Path": "README.md", "Type": "blob", "Size": 5, "Sha256": ""})])
        .collect();
    let listing = serde_json::json!({"Code": 200, "Data": {"Files": files}, "Message": "success", "Success": true});
    ms.route("/api/v1/models/owner/repo/repo/files", vec![Reply::Status { code: 200, headers: vec![], body: listing.to_string() }]);
    for n in names {
        ms.route(&format!("/models/owner/repo/resolve/master/{n}"), vec![file(n)]);
    }
    let env = [("MODELSCOPE_ENDPOINT", ms.base.as_str()), ("HF_TOKEN", TOKEN)];
    same_as_local("modelscope://owner/repo:Q8_0", &fixture(names[1]), &env);
    let out = meter(&["fit", "modelscope://owner/repo", "--gpu", "rtx3090", "--json"], &env);
    assert_eq!(out.status.code(), Some(3), "header-only fixtures are incomplete downloads: exit 3, as locally; {}", stderr(&out));
    assert_eq!(doc(&out)["plans"].as_array().unwrap().len(), 2);
    let here = doc(&meter(&["fit", &local(names[0]), &local(names[1]), "--gpu", "rtx3090", "--json"], &[]));
    assert_eq!(doc(&out)["best"], here["best"]);
    assert!(ms.log().iter().any(|l| l.path.contains("Revision=master&Recursive=true")), "{:?}", ms.log());
    assert!(ms.log().iter().all(|l| l.auth.is_none()), "HF_TOKEN goes to the Hugging Face Hub only");
}
