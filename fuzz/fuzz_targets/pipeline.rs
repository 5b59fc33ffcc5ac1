//! libFuzzer target: any bytes through read -> model -> estimate -> fit -> report, the same
//! pipeline and invariants as the mutation suite (`tests/hostile/pipeline.rs`).
#![no_main]

#[path = "../../tests/hostile/pipeline.rs"]
mod pipeline;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(broken) = pipeline::run(data, true) {
        panic!("invariant broken: {broken}");
    }
});
