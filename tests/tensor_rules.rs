//! Model-level tensor rules (`model::tensors`, generated from llama.cpp's `load_arch_tensors`):
//! every header llama.cpp's own loader wrote and loaded (the zoo) and every real fixture passes,
//! and the rules really evaluate those files (shapes compared, tensor count checked).

mod common;
use common::fixture;
use gguf_meter::model::tensors;
use gguf_meter::read::open_model;

#[test]
fn every_zoo_header_passes_and_most_are_fully_evaluated() {
    let mut files: Vec<_> =
        std::fs::read_dir(fixture("archs")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "gguf")).collect();
    files.sort();
    let (mut counted, mut with_program, mut unevaluated, mut total) = (0, 0, 0, 0);
    let mut bad = Vec::new();
    let mut partial = Vec::new();
    let mut refused_by_both = 0;
    for f in &files {
        let set = open_model(f).unwrap();
        let all = set.tensors();
        total += all.len();
        let Some(c) = tensors::check(&set.files[0].header, &all, true) else {
            partial.push(format!("{}: no program", f.display()));
            continue;
        };
        with_program += 1;
        unevaluated += c.unevaluated;
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let refuses = !c.missing.is_empty() || !c.wrong_shape.is_empty() || !c.refused.is_empty() || c.count.as_ref().is_some_and(|n| n.fails());
        // What llama.cpp said when the oracle loaded this header (fixtures/oracle/arch-NAME.json).
        let oracle: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fixture(&format!("oracle/arch-{}.json", f.file_stem().unwrap().to_string_lossy()))).unwrap())
                .unwrap();
        if oracle["ok"] == false && oracle["error_stage"] == "load_model" {
            assert!(refuses, "{name}: llama.cpp refused it ({:?}), the tensor rules do not", oracle["log"]);
            refused_by_both += 1;
            continue;
        }
        if refuses {
            bad.push(format!(
                "{name}: missing {:?} shape {:?} refused {:?} count {:?}",
                c.missing,
                c.wrong_shape,
                c.refused,
                c.count.as_ref().map(|n| (n.in_file, n.created, n.unused.iter().take(4).collect::<Vec<_>>()))
            ));
        }
        match &c.count {
            Some(_) => counted += 1,
            None => partial.push(format!("{name}: {}", c.incomplete.clone().unwrap_or_default())),
        }
    }
    eprintln!("{} headers, {with_program} with a program, {counted} with the count checked; {unevaluated} of {total} tensors not fully evaluated", files.len());
    for p in &partial {
        eprintln!("  partial: {p}");
    }
    assert!(bad.is_empty(), "{} zoo headers fail:\n{}", bad.len(), bad.join("\n"));
    assert_eq!(refused_by_both, 1, "eagle3, which llama.cpp refuses: too many tensors created");
    assert!(counted >= 160, "the tensor count is checked on {counted} headers");
    assert!(unevaluated * 50 < total, "{unevaluated} of {total} tensors not fully evaluated");
}
