//! Pins the geometry `inspect` derives for each committed fixture. Expected values come from
//! the models' published configs (see fixtures/README.md), not from gguf-meter's output.

mod common;
use common::{fixture, inspect_json};
use serde_json::Value;

fn layers_of_kind(doc: &Value, kind: &str) -> Vec<u64> {
    doc["layers"].as_array().unwrap().iter().filter(|l| l["kind"] == kind && l["mtp"] == false).map(|l| l["index"].as_u64().unwrap()).collect()
}

fn every_fourth(n: u64) -> Vec<u64> {
    (0..n).filter(|i| (i + 1) % 4 == 0).collect()
}

struct Qwen35 {
    file: &'static str,
    arch: &'static str,
    layers: u64,
    mtp: u64,
    heads: u64,
    kv_heads: u64,
    experts: u64,
    used: u64,
    expert_ffn: u64,
    gdn_value_heads: u64,
}

#[test]
fn qwen35_family_has_three_recurrent_layers_per_attention_layer() {
    // shared/reference/qwen35-and-llama-cpp.md, from the HF configs.
    let models = [
        Qwen35 {
            file: "qwen35-27b-q4km.gguf",
            arch: "qwen35",
            layers: 64,
            mtp: 1,
            heads: 24,
            kv_heads: 4,
            experts: 0,
            used: 0,
            expert_ffn: 17408,
            gdn_value_heads: 48,
        },
        Qwen35 {
            file: "qwen35-35b-a3b-q4km.gguf",
            arch: "qwen35moe",
            layers: 40,
            mtp: 1,
            heads: 16,
            kv_heads: 2,
            experts: 256,
            used: 8,
            expert_ffn: 512,
            gdn_value_heads: 32,
        },
        Qwen35 {
            file: "qwen35-122b-a10b-q4km.gguf",
            arch: "qwen35moe",
            layers: 48,
            mtp: 0,
            heads: 32,
            kv_heads: 2,
            experts: 256,
            used: 8,
            expert_ffn: 1024,
            gdn_value_heads: 64,
        },
        Qwen35 {
            file: "qwen35-397b-a17b-q4km.gguf",
            arch: "qwen35moe",
            layers: 60,
            mtp: 0,
            heads: 32,
            kv_heads: 2,
            experts: 512,
            used: 10,
            expert_ffn: 1024,
            gdn_value_heads: 64,
        },
    ];
    for m in models {
        let (doc, code) = inspect_json(&fixture(m.file), &[]);
        assert_eq!(code, 3, "{}: header-only fixture is incomplete", m.file);
        assert_eq!(doc["architecture"], m.arch);
        assert_eq!(doc["n_layers"], m.layers, "{}", m.file);
        assert_eq!(doc["n_mtp_layers"], m.mtp, "{}", m.file);
        assert_eq!(doc["n_vocab"], 248320);
        assert_eq!(doc["context_length"], 262144);
        assert_eq!(doc["complete"], false);
        let attn = layers_of_kind(&doc, "attention");
        assert_eq!(attn, every_fourth(m.layers), "{}", m.file);
        assert_eq!(layers_of_kind(&doc, "recurrent").len() as u64, m.layers * 3 / 4);
        for l in doc["layers"].as_array().unwrap() {
            let i = l["index"].as_u64().unwrap();
            if l["kind"] == "attention" && l["mtp"] == false {
                assert_eq!((l["n_head"].as_u64(), l["n_head_kv"].as_u64()), (Some(m.heads), Some(m.kv_heads)), "{} blk.{i}", m.file);
                assert_eq!((l["head_dim_k"].as_u64(), l["head_dim_v"].as_u64()), (Some(256), Some(256)));
            }
            if l["kind"] == "recurrent" {
                assert_eq!(l["n_head_kv"], 0);
                // llama_hparams::n_embd_r/s: conv (4-1)*(inner + 2*16*128), delta 128*inner.
                let inner = m.gdn_value_heads * 128;
                assert_eq!(l["recurrent_state"]["conv_elements"], 3 * (inner + 2 * 16 * 128), "{}", m.file);
                assert_eq!(l["recurrent_state"]["state_elements"], 128 * inner);
            }
            if m.experts > 0 {
                assert_eq!((l["n_experts"].as_u64(), l["n_experts_used"].as_u64()), (Some(m.experts), Some(m.used)), "{} blk.{i}", m.file);
                assert_eq!(l["n_experts_shared"], 1);
            }
            assert_eq!(l["ffn_size"], m.expert_ffn, "{} blk.{i}", m.file);
        }
        assert_eq!(doc["n_experts"], m.experts);
        assert_eq!(doc["n_experts_used"], m.used);
        if m.mtp == 1 {
            let last = doc["layers"].as_array().unwrap().last().unwrap();
            assert_eq!(last["mtp"], true);
            assert_eq!(last["index"], m.layers);
        }
    }
}

#[test]
fn llama3_is_plain_gqa() {
    let (doc, _) = inspect_json(&fixture("llama3-8b-q4km.gguf"), &[]);
    assert_eq!(doc["n_layers"], 32);
    assert_eq!(layers_of_kind(&doc, "attention").len(), 32);
    for l in doc["layers"].as_array().unwrap() {
        assert_eq!((l["n_head"].as_u64(), l["n_head_kv"].as_u64(), l["head_dim_k"].as_u64()), (Some(32), Some(8), Some(128)));
        assert_eq!(l["ffn_size"], 14336);
    }
    assert_eq!(doc["n_vocab"], 128256);
    assert_eq!(doc["n_experts"], 0);
    assert_eq!(doc["parameter_count"], 8_030_261_312u64);
}

#[test]
fn gemma3_slides_five_layers_of_six() {
    let (doc, _) = inspect_json(&fixture("gemma3-4b-q4km.gguf"), &[]);
    assert_eq!(doc["n_layers"], 34);
    // llama.cpp gemma3: set_swa_pattern(6): layer il slides unless il % 6 == 5.
    assert_eq!(layers_of_kind(&doc, "attention"), vec![5, 11, 17, 23, 29]);
    assert_eq!(layers_of_kind(&doc, "sliding").len(), 29);
    let l0 = &doc["layers"][0];
    assert_eq!((l0["window"].as_u64(), l0["n_head_kv"].as_u64(), l0["head_dim_k"].as_u64()), (Some(1024), Some(4), Some(256)));
    assert_eq!(doc["layers"][5]["window"], Value::Null);
}

#[test]
fn gpt_oss_alternates_sliding_and_full() {
    let (doc, _) = inspect_json(&fixture("gpt-oss-20b-mxfp4.gguf"), &[]);
    assert_eq!(doc["n_layers"], 24);
    assert_eq!(layers_of_kind(&doc, "sliding"), (0..24).step_by(2).collect::<Vec<u64>>());
    assert_eq!(doc["layers"][0]["window"], 128);
    assert_eq!((doc["n_experts"].as_u64(), doc["n_experts_used"].as_u64()), (Some(32), Some(4)));
    assert_eq!(doc["layers"][1]["n_head_kv"], 8);
    assert!(doc["types"]["MXFP4"]["tensors"].as_u64().unwrap() >= 72);
}

#[test]
fn deepseek_v3_is_mla_with_three_dense_layers() {
    let (doc, _) = inspect_json(&fixture("deepseek-v3-q4km.gguf"), &[]);
    assert_eq!(doc["n_layers"], 61);
    assert_eq!(layers_of_kind(&doc, "mla").len(), 61);
    let l = &doc["layers"][10];
    // kv_lora_rank 512 + qk_rope_head_dim 64 per token, one "head".
    assert_eq!((l["n_head_kv"].as_u64(), l["head_dim_k"].as_u64(), l["head_dim_v"].as_u64()), (Some(1), Some(576), Some(512)));
    for i in 0..3 {
        assert_eq!(doc["layers"][i]["n_experts"], 0, "blk.{i} is dense");
    }
    assert_eq!((l["n_experts"].as_u64(), l["n_experts_used"].as_u64(), l["n_experts_shared"].as_u64()), (Some(256), Some(8), Some(1)));
    assert_eq!(l["ffn_size"], 2048);
}

#[test]
fn mamba2_is_all_recurrent() {
    let (doc, _) = inspect_json(&fixture("mamba2-2.7b.gguf"), &[]);
    assert_eq!(doc["n_layers"], 64);
    assert_eq!(layers_of_kind(&doc, "recurrent").len(), 64);
    // d_inner 5120, d_state 128, n_group 1, d_conv 4.
    assert_eq!(doc["layers"][0]["recurrent_state"]["conv_elements"], 3 * (5120 + 2 * 128));
    assert_eq!(doc["layers"][0]["recurrent_state"]["state_elements"], 128 * 5120);
}

#[test]
fn granite_hybrid_attention_layers_follow_head_count_kv() {
    let (doc, _) = inspect_json(&fixture("granite-4.0-h-tiny-q4km.gguf"), &[]);
    assert_eq!(doc["n_layers"], 40);
    assert_eq!(layers_of_kind(&doc, "attention").len(), 4);
    assert_eq!(layers_of_kind(&doc, "recurrent").len(), 36);
    let w: Vec<&Value> = doc["warnings"].as_array().unwrap().iter().collect();
    assert!(w.is_empty(), "metadata and tensors agree: {w:?}");
}

#[test]
fn qwen3_next_and_moe_families() {
    let (doc, _) = inspect_json(&fixture("qwen3-next-80b-a3b-q4km.gguf"), &[]);
    assert_eq!(layers_of_kind(&doc, "attention"), every_fourth(48));
    assert_eq!((doc["n_experts"].as_u64(), doc["n_experts_used"].as_u64()), (Some(512), Some(10)));
    let (doc, _) = inspect_json(&fixture("qwen3-30b-a3b-q4km.gguf"), &[]);
    assert_eq!(doc["n_layers"], 48);
    assert_eq!((doc["n_experts"].as_u64(), doc["n_experts_used"].as_u64(), doc["n_experts_shared"].as_u64()), (Some(128), Some(8), Some(0)));
    assert_eq!(doc["layers"][0]["n_head_kv"], 4);
    let (doc, _) = inspect_json(&fixture("mixtral-8x7b-q4km.gguf"), &[]);
    assert_eq!((doc["n_experts"].as_u64(), doc["n_experts_used"].as_u64()), (Some(8), Some(2)));
    let (doc, _) = inspect_json(&fixture("qwen2.5-7b-q4km.gguf"), &[]);
    assert_eq!((doc["n_layers"].as_u64(), doc["layers"][0]["n_head_kv"].as_u64()), (Some(28), Some(4)));
}

#[test]
fn mmproj_reports_the_vision_tower() {
    let (doc, _) = inspect_json(&fixture("mmproj-qwen35-f16.gguf"), &[]);
    assert_eq!(doc["architecture"], "clip");
    assert_eq!(doc["vision"]["n_layers"], 27);
    assert_eq!(doc["vision"]["n_embd"], 1152);
    assert_eq!(doc["vision"]["projection_dim"], 2048);
    assert_eq!(doc["vision"]["bytes"], doc["tensor_bytes"]);
}

#[test]
fn split_set_sums_to_the_single_file() {
    let (single, _) = inspect_json(&fixture("qwen35-35b-a3b-q4km.gguf"), &["--tensors"]);
    for shard in 1..=3 {
        let name = format!("qwen35-35b-a3b-q4km-0000{shard}-of-00003.gguf");
        let (split, code) = inspect_json(&fixture(&name), &["--tensors"]);
        assert_eq!(code, 3);
        assert_eq!(split["files"].as_array().unwrap().len(), 3, "{name}: all shards found");
        for key in ["tensor_count", "tensor_bytes", "parameter_count", "n_layers", "layers", "types", "n_experts"] {
            assert_eq!(split[key], single[key], "{name}: {key}");
        }
        let names = |d: &Value| {
            let mut v: Vec<String> = d["tensors"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect();
            v.sort();
            v
        };
        assert_eq!(names(&split), names(&single));
    }
}

#[test]
fn big_endian_and_v2_files_parse() {
    let (doc, code) = inspect_json(&fixture("bigendian-llama.gguf"), &[]);
    assert_eq!(code, 3);
    assert_eq!(doc["files"][0]["big_endian"], true);
    assert_eq!((doc["n_layers"].as_u64(), doc["layers"][0]["n_head_kv"].as_u64()), (Some(22), Some(4)));
    let (doc, _) = inspect_json(&fixture("tinyllama-v2-q4_0.gguf"), &[]);
    assert_eq!(doc["gguf_version"], 2);
    assert_eq!(doc["n_layers"], 22);
}

#[test]
fn header_only_fixtures_report_no_data_present() {
    let (doc, code) = inspect_json(&fixture("llama3-8b-q4km.gguf"), &["--tensors"]);
    assert_eq!(code, 3);
    assert_eq!(doc["data_bytes_present"], 0);
    assert!(doc["tensors"].as_array().unwrap().iter().all(|t| t["present"] == false));
    assert_eq!(doc["file_bytes"], std::fs::metadata(fixture("llama3-8b-q4km.gguf")).unwrap().len());
}

#[test]
fn an_mmproj_is_summarised_per_encoder_with_its_own_projector_type() {
    // The TTS file names its projectors per modality (clip.audio.projector_type,
    // clip.gen.audio.projector_type) and has no clip.projector_type: each encoder clip_init
    // creates gets its line with its own type, never "?", and no vision line is invented.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gguf-meter")).arg("inspect").arg(fixture("mmproj/qwen3tts_gen.gguf")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("vision ") || l.starts_with("audio ") || l.starts_with("gen audio ")).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("audio ") && lines[0].contains("projector qwen3tts_spkenc"), "{text}");
    assert!(lines[1].starts_with("gen audio ") && lines[1].contains("projector qwen3tts_gen"), "{text}");
}
