//! `model::required_keys`: headers llama.cpp loaded report nothing; a header without a key
//! llama.cpp needs (rewritten here, one KV pair removed or changed) reports exactly that key.

mod common;

use gguf_meter::model::required_keys::{KeyProblem, Problem, UnknownArchitecture, missing};
use gguf_meter::read::{GgufFile, Header, Value, header};
use std::path::{Path, PathBuf};

/// GGUF metadata surgery on a little-endian file: the KV pairs as raw byte spans, re-emitted with
/// the rest of the file (tensor infos; offsets are relative to the data section, so they survive).
struct Raw {
    head: Vec<u8>,               // magic, version, tensor count
    kvs: Vec<(String, Vec<u8>)>, // key -> type id + value bytes
    tail: Vec<u8>,
}

fn rd(b: &[u8], at: usize, n: usize) -> u64 {
    let mut v = [0u8; 8];
    v[..n].copy_from_slice(&b[at..at + n]);
    u64::from_le_bytes(v)
}

/// Bytes of a value of type `t` starting at `at`.
fn value_len(b: &[u8], at: usize, t: u64) -> usize {
    match t {
        0 | 1 | 7 => 1,
        2 | 3 => 2,
        4..=6 => 4,
        10..=12 => 8,
        8 => 8 + rd(b, at, 8) as usize,
        9 => {
            let (et, n) = (rd(b, at, 4), rd(b, at + 4, 8));
            let mut p = at + 12;
            for _ in 0..n {
                p += value_len(b, p, et);
            }
            p - at
        }
        _ => panic!("bad type {t}"),
    }
}

impl Raw {
    fn read(path: &Path) -> Raw {
        let b = std::fs::read(path).unwrap();
        assert_eq!(&b[..4], b"GGUF");
        assert!(matches!(rd(&b, 4, 4), 2 | 3), "{}: little-endian v2/v3 expected", path.display());
        let mut p = 24;
        let mut kvs = Vec::new();
        for _ in 0..rd(&b, 16, 8) {
            let kl = rd(&b, p, 8) as usize;
            let key = String::from_utf8(b[p + 8..p + 8 + kl].to_vec()).unwrap();
            let vstart = p + 8 + kl;
            let end = vstart + 4 + value_len(&b, vstart + 4, rd(&b, vstart, 4));
            kvs.push((key, b[vstart..end].to_vec()));
            p = end;
        }
        Raw { head: b[..16].to_vec(), kvs, tail: b[p..].to_vec() }
    }

    fn without(mut self, key: &str) -> Raw {
        let n = self.kvs.len();
        self.kvs.retain(|(k, _)| k != key);
        assert_eq!(self.kvs.len() + 1, n, "{key} not in the header");
        self
    }

    /// Sets `key` to a value given as type id + value bytes (replacing it if present).
    fn with(mut self, key: &str, t: u32, value: &[u8]) -> Raw {
        let mut v = t.to_le_bytes().to_vec();
        v.extend_from_slice(value);
        match self.kvs.iter_mut().find(|(k, _)| k == key) {
            Some(kv) => kv.1 = v,
            None => self.kvs.push((key.to_string(), v)),
        }
        self
    }

    fn with_str(self, key: &str, s: &str) -> Raw {
        let mut v = (s.len() as u64).to_le_bytes().to_vec();
        v.extend_from_slice(s.as_bytes());
        self.with(key, 8, &v)
    }

    fn header(&self) -> Header {
        let mut b = self.head.clone();
        b.extend_from_slice(&(self.kvs.len() as u64).to_le_bytes());
        for (k, v) in &self.kvs {
            b.extend_from_slice(&(k.len() as u64).to_le_bytes());
            b.extend_from_slice(k.as_bytes());
            b.extend_from_slice(v);
        }
        b.extend_from_slice(&self.tail);
        header::parse(&b).unwrap_or_else(|(e, _)| panic!("rewritten header does not parse: {e:?}"))
    }
}

fn check(h: &Header) -> Vec<KeyProblem> {
    missing(h).unwrap_or_else(|e| panic!("{e}"))
}

fn keys(ps: &[KeyProblem]) -> Vec<(&str, &Problem)> {
    ps.iter().map(|p| (p.key.as_str(), &p.problem)).collect()
}

fn gguf_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    v.retain(|p| p.extension().is_some_and(|e| e == "gguf"));
    v.sort();
    assert!(!v.is_empty(), "no fixtures in {}", dir.display());
    v
}

/// What scripts/oracle/run.py did before llama.cpp loaded a header-only fixture: its token list is
/// shortened, so the tokenizer is replaced by llama.cpp's "none" vocabulary with `{arch}.vocab_size`.
fn oracle_patch(path: &Path, h: &Header) -> Header {
    let arch = h.get("general.architecture").and_then(Value::as_str).unwrap().to_string();
    let n_tok = h.get("tokenizer.ggml.tokens").and_then(Value::as_array).map(|a| a.len);
    let emb = h.tensors.iter().find(|t| t.name == "token_embd.weight" || t.name == "output.weight");
    let n_vocab = emb.and_then(|t| t.dims.get(1).copied());
    if n_tok.is_none() || n_tok == n_vocab {
        return h.clone();
    }
    let mut raw = Raw::read(path);
    let drop = ["tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.merges"];
    raw.kvs.retain(|(k, _)| !drop.contains(&k.as_str()));
    let vocab = u32::try_from(n_vocab.unwrap()).unwrap().to_le_bytes();
    raw.with_str("tokenizer.ggml.model", "none").with(&format!("{arch}.vocab_size"), 4, &vocab).header()
}

#[test]
fn tiny_models_llama_cpp_loaded_report_nothing() {
    for p in gguf_files(&common::fixture("tiny")) {
        let h = GgufFile::open(&p).unwrap().header;
        assert_eq!(keys(&check(&h)), vec![], "{}", p.display());
    }
}

#[test]
fn real_gemma_reports_nothing() {
    let Some(p) = common::real_file("gemma-3-270m-q4_k_m.gguf") else { return };
    assert_eq!(keys(&check(&GgufFile::open(&p).unwrap().header)), vec![]);
}

#[test]
fn generated_fixtures_report_only_the_merges_their_shortened_vocab_lacks() {
    for p in gguf_files(&common::fixture("")) {
        let h = GgufFile::open(&p).unwrap().header;
        if h.get("split.no").and_then(Value::as_u64).is_some_and(|n| n > 0) {
            continue; // metadata lives in the first shard
        }
        // as generated: BPE tokenizers come without merges (fixtures/README.md), nothing else
        let ps = check(&h);
        let bpe = h.get("tokenizer.ggml.model").and_then(Value::as_str) == Some("gpt2");
        let expected = if bpe { vec![("tokenizer.ggml.merges", &Problem::Missing)] } else { vec![] };
        assert_eq!(keys(&ps), expected, "{}", p.display());
        // as llama.cpp loaded them
        let patched = if h.big_endian { h.clone() } else { oracle_patch(&p, &h) };
        assert_eq!(keys(&check(&patched)), vec![], "{} (oracle header patch applied)", p.display());
    }
}

/// Removes each KV pair in turn: the result is nothing (llama.cpp can do without it) or exactly
/// that key missing. Returns the keys that were reported.
fn required_by_removal(path: &Path) -> Vec<String> {
    let raw = Raw::read(path);
    let mut required = Vec::new();
    for (key, _) in &raw.kvs {
        let h = Raw::read(path).without(key).header();
        let ps = check(&h);
        if !ps.is_empty() {
            assert_eq!(keys(&ps), vec![(key.as_str(), &Problem::Missing)], "{} without {key}", path.display());
            required.push(key.clone());
        }
    }
    required
}

#[test]
fn removing_a_required_key_reports_exactly_that_key() {
    let tok = ["tokenizer.ggml.model", "tokenizer.ggml.tokens"];
    let cases: &[(&str, &[&str])] = &[
        ("tiny/tiny-llama.gguf", &["llama.attention.layer_norm_rms_epsilon"]),
        (
            "tiny/tiny-qwen35moe.gguf",
            &[
                "qwen35moe.attention.layer_norm_rms_epsilon",
                "qwen35moe.rope.dimension_sections",
                "qwen35moe.ssm.conv_kernel",
                "qwen35moe.ssm.inner_size",
                "qwen35moe.ssm.state_size",
                "qwen35moe.ssm.time_step_rank",
                "qwen35moe.ssm.group_count",
            ],
        ),
        ("tiny/tiny-gpt-oss.gguf", &["gpt-oss.attention.layer_norm_rms_epsilon", "gpt-oss.expert_feed_forward_length", "gpt-oss.attention.sliding_window"]),
    ];
    for (file, own) in cases {
        let arch = own[0].split('.').next().unwrap();
        let mut expected: Vec<String> = ["general.architecture".to_string()].into();
        expected.extend(["context_length", "embedding_length", "block_count"].map(|k| format!("{arch}.{k}")));
        expected.extend(own.iter().map(|k| k.to_string()));
        expected.extend(tok.map(String::from));
        expected.sort();
        let mut got = required_by_removal(&common::fixture(file));
        got.sort();
        assert_eq!(got, expected, "{file}");
    }
}

#[test]
fn bpe_merges_required_unless_the_pre_tokenizer_exempts_them() {
    let p = common::fixture("qwen35-27b-q4km.gguf");
    let merges = [&8u32.to_le_bytes()[..], &1u64.to_le_bytes(), &3u64.to_le_bytes(), b"a b"].concat(); // ["a b"]
    let with_merges = || Raw::read(&p).with("tokenizer.ggml.merges", 9, &merges);
    assert_eq!(keys(&check(&with_merges().header())), vec![]);
    let kimi = Raw::read(&p).with_str("tokenizer.ggml.pre", "kimi-k2").header();
    assert_eq!(keys(&check(&kimi)), vec![], "kimi-k2 needs no merges");
    let unknown = with_merges().with_str("tokenizer.ggml.pre", "no-such-pre").header();
    assert_eq!(keys(&check(&unknown)), vec![("tokenizer.ggml.pre", &Problem::UnknownValue { value: "no-such-pre".into() })]);
}

#[test]
fn wrong_types_are_reported() {
    let p = common::fixture("tiny/tiny-qwen35moe.gguf");
    let u64_ctx = Raw::read(&p).with("qwen35moe.context_length", 10, &4096u64.to_le_bytes()).header();
    let expected = Problem::WrongType { expected: "u32".into(), found: "u64".into() };
    assert_eq!(keys(&check(&u64_ctx)), vec![("qwen35moe.context_length", &expected)]);
    // optional keys are type-checked too: llama.cpp throws on a present key of the wrong type
    let f64_base = Raw::read(&p).with("qwen35moe.rope.freq_base", 12, &1e6f64.to_le_bytes()).header();
    let expected = Problem::WrongType { expected: "f32".into(), found: "f64".into() };
    assert_eq!(keys(&check(&f64_base)), vec![("qwen35moe.rope.freq_base", &expected)]);
    // get_key_or_arr takes a scalar as well as a per-layer array
    let scalar = Raw::read(&p).with("qwen35moe.attention.head_count_kv", 4, &2u32.to_le_bytes()).header();
    assert_eq!(keys(&check(&scalar)), vec![]);
}

#[test]
fn unknown_and_unsupported_architectures() {
    let p = common::fixture("tiny/tiny-llama.gguf");
    let h = Raw::read(&p).with_str("general.architecture", "no-such-arch").header();
    assert_eq!(missing(&h), Err(UnknownArchitecture::Unknown("no-such-arch".into())));
    let h = Raw::read(&p).with_str("general.architecture", "gptj").header();
    assert_eq!(missing(&h), Err(UnknownArchitecture::Unsupported("gptj".into())));
}

#[test]
fn mmproj_needs_its_encoder_and_projector_keys() {
    let p = common::fixture("mmproj-qwen35-f16.gguf");
    assert_eq!(keys(&check(&Raw::read(&p).header())), vec![]);
    let mut got = required_by_removal(&p);
    got.sort();
    let mut expected = vec![
        "general.architecture",
        "clip.has_vision_encoder",
        "clip.projector_type",
        "clip.vision.embedding_length",
        "clip.vision.attention.head_count",
        "clip.vision.feed_forward_length",
        "clip.vision.block_count",
        "clip.vision.projection_dim",
        "clip.vision.attention.layer_norm_epsilon",
        "clip.vision.image_size",
        "clip.vision.patch_size",
        "clip.vision.image_mean",
        "clip.vision.image_std",
    ];
    expected.sort();
    assert_eq!(got, expected);
    let h = Raw::read(&p).with_str("clip.projector_type", "no-such-projector").header();
    let expected = Problem::UnknownValue { value: "no-such-projector".into() };
    assert_eq!(keys(&check(&h)), vec![("clip.projector_type", &expected)]);
}
