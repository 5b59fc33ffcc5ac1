//! Fits the speed model's constants (`src/estimate/speed.rs`, `CALIBRATED`) on the calibration
//! split of `data/llama-bench.csv` and reports the error on both splits, per backend and test.
//!
//! `cargo run --release --example speed_calibration` fits and prints the constants to paste
//! into speed.rs, then the tables for data/README.md; `-- --check` only reports the committed
//! constants (what `tests/speed_dataset.rs` checks).

use gguf_meter::estimate::bench_data::{self, Kind, Run, is_validation, predict};
use gguf_meter::estimate::speed::{Backend, CALIBRATED, Constants, Efficiency, Workload};
use std::collections::BTreeMap;

type Rows = Vec<(Run, Workload)>;

fn load() -> (Rows, Vec<(Run, String)>) {
    let dir = env!("CARGO_MANIFEST_DIR");
    let read = |f: &str| std::fs::read_to_string(format!("{dir}/data/{f}")).unwrap_or_else(|e| panic!("data/{f}: {e}"));
    bench_data::load(&read("llama-bench.csv"), &read("bench-models.csv")).unwrap_or_else(|e| panic!("{e}"))
}

/// Predicted seconds for run `r` under `c` (the time llama-bench measured is n / t/s).
fn secs(r: &Run, w: &Workload, c: &Constants) -> f64 {
    let ts = predict(r, w, c);
    if ts > 0.0 { r.test.n as f64 / ts } else { 0.0 }
}

fn with(base: &Constants, b: Backend, f: impl Fn(&mut Efficiency)) -> Constants {
    let mut c = *base;
    f(c.of_mut(b));
    c
}

/// Solves the least-squares problem min sum (x_i . k - 1)^2 for k >= 0 (clamping and refitting).
fn nnls(xs: &[Vec<f64>]) -> Vec<f64> {
    let n = xs.first().map_or(0, Vec::len);
    let mut active: Vec<bool> = vec![true; n];
    loop {
        let idx: Vec<usize> = (0..n).filter(|&i| active[i]).collect();
        let m = idx.len();
        let mut a = vec![vec![0.0; m + 1]; m];
        for x in xs {
            for (r, &i) in idx.iter().enumerate() {
                for (c, &j) in idx.iter().enumerate() {
                    a[r][c] += x[i] * x[j];
                }
                a[r][m] += x[i];
            }
        }
        for (r, row) in a.iter_mut().enumerate() {
            row[r] += 1e-12;
        }
        // Gaussian elimination.
        for col in 0..m {
            let piv = (col..m).max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs())).unwrap_or(col);
            a.swap(col, piv);
            let d = a[col][col];
            if d.abs() < 1e-30 {
                continue;
            }
            let pivot = a[col].clone();
            for (r, row) in a.iter_mut().enumerate() {
                if r != col {
                    let f = row[col] / d;
                    for (x, p) in row.iter_mut().zip(&pivot).skip(col) {
                        *x -= f * p;
                    }
                }
            }
        }
        let sol: Vec<f64> = (0..m).map(|r| if a[r][r].abs() > 1e-30 { a[r][m] / a[r][r] } else { 0.0 }).collect();
        let mut k = vec![0.0; n];
        for (r, &i) in idx.iter().enumerate() {
            k[i] = sol[r];
        }
        match (0..m).find(|&r| sol[r] < 0.0) {
            Some(r) => active[idx[r]] = false,
            None => return k,
        }
    }
}

/// Fits one backend's tg (bandwidth share, per-layer cost) and pp (compute shares, per-layer
/// cost) on `rows`, with the global constants of `c` fixed.
fn fit_backend(c: &Constants, b: Backend, rows: &[&(Run, Workload)]) -> Efficiency {
    let zero = Efficiency { bandwidth: 0.0, layer_seconds: 0.0, compute_quant: 0.0, compute_float: 0.0, compute_vector: 0.0, pp_layer_seconds: 0.0 };
    let unit = |e: Efficiency| {
        let mut u = *c;
        *u.of_mut(b) = e;
        u.hop_seconds = 0.0;
        u.moe_layer = 0.0;
        u.recurrent_layer = 0.0;
        u.unfused_recurrent_layer = 0.0;
        u.moe_pp_layer = 0.0;
        u.recurrent_pp_layer = 0.0;
        u.unfused_recurrent_pp_layer = 0.0;
        u.dp4a_share = 0.0;
        u
    };
    // The global generation costs, kept fixed while this backend is fitted.
    let tg_globals = |e: Efficiency| Constants {
        hop_seconds: c.hop_seconds,
        moe_layer: c.moe_layer,
        recurrent_layer: c.recurrent_layer,
        unfused_recurrent_layer: c.unfused_recurrent_layer,
        ..unit(e)
    };
    let mut out = *c.of(b);
    // tg: T = x_bytes / bandwidth + layer_seconds * x_units + hop * x_hop.
    let tg: Vec<_> = rows.iter().filter(|(r, _)| r.test.kind == Kind::Tg).collect();
    if !tg.is_empty() && tg.len() < 4 {
        // Too few runs for two constants: keep the per-layer cost of the first backend (CUDA).
        let layer = c.backends[0].layer_seconds;
        let xs: Vec<Vec<f64>> = tg
            .iter()
            .map(|(r, w)| {
                let t = r.test.n as f64 / r.ts;
                let fixed = secs(r, w, &tg_globals(Efficiency { layer_seconds: layer, ..zero }));
                vec![secs(r, w, &unit(Efficiency { bandwidth: 1.0, ..zero })) / (t - fixed)]
            })
            .collect();
        let k = nnls(&xs);
        out.bandwidth = if k[0] > 0.0 { (1.0 / k[0]).min(1.0) } else { 1.0 };
        out.layer_seconds = layer;
    } else if tg.len() >= 4 {
        let xs: Vec<Vec<f64>> = tg
            .iter()
            .map(|(r, w)| {
                let t = r.test.n as f64 / r.ts;
                let hop = secs(r, w, &tg_globals(zero));
                let y = t - hop;
                let xb = secs(r, w, &unit(Efficiency { bandwidth: 1.0, ..zero }));
                let xu = secs(r, w, &unit(Efficiency { layer_seconds: 1.0, ..zero }));
                vec![xb / y, xu / y]
            })
            .collect();
        let k = nnls(&xs);
        out.bandwidth = if k[0] > 0.0 { (1.0 / k[0]).min(1.0) } else { 1.0 };
        out.layer_seconds = k[1];
    }
    // pp: T = x_quant / share_quant + x_float / share_float + x_vector / share_vector
    //        + pp_layer_seconds * x_units + (weights, scores, global costs: fixed).
    let pp: Vec<_> = rows.iter().filter(|(r, _)| r.test.kind == Kind::Pp).collect();
    if pp.len() >= 2 {
        let bw = out.bandwidth;
        let xs: Vec<Vec<f64>> = pp
            .iter()
            .map(|(r, w)| {
                let t = r.test.n as f64 / r.ts;
                let fixed = Constants {
                    moe_pp_layer: c.moe_pp_layer,
                    recurrent_pp_layer: c.recurrent_pp_layer,
                    unfused_recurrent_pp_layer: c.unfused_recurrent_pp_layer,
                    dp4a_share: c.dp4a_share,
                    ..unit(Efficiency { bandwidth: bw, ..zero })
                };
                let y = t - secs(r, w, &fixed);
                let xq = secs(r, w, &unit(Efficiency { compute_quant: 1.0, ..zero }));
                let xf = secs(r, w, &unit(Efficiency { compute_float: 1.0, ..zero }));
                let xv = secs(r, w, &unit(Efficiency { compute_vector: 1.0, ..zero }));
                let xl = secs(r, w, &unit(Efficiency { pp_layer_seconds: 1.0, ..zero }));
                vec![xq / y, xf / y, xv / y, xl / y]
            })
            .collect();
        // Few runs: no per-layer term (it would fit noise).
        let xs: Vec<Vec<f64>> = if pp.len() < 8 { xs.into_iter().map(|x| x[..3].to_vec()).collect() } else { xs };
        let k = nnls(&xs);
        out.compute_quant = if k[0] > 0.0 { 1.0 / k[0] } else { out.compute_quant };
        out.compute_float = if k[1] > 0.0 { 1.0 / k[1] } else { out.compute_quant };
        out.compute_vector = if k[2] > 0.0 { 1.0 / k[2] } else { out.compute_quant };
        out.pp_layer_seconds = k.get(3).copied().unwrap_or(0.0);
    }
    out
}

fn log_error(rows: &[&(Run, Workload)], c: &Constants) -> f64 {
    rows.iter().map(|(r, w)| (predict(r, w, c) / r.ts).ln().powi(2)).sum()
}

fn refit(mut c: Constants, calib: &[&(Run, Workload)]) -> Constants {
    for b in Backend::ALL {
        let rows: Vec<_> = calib.iter().copied().filter(|(r, _)| r.backend == b).collect();
        let e = fit_backend(&c, b, &rows);
        c = with(&c, b, |x| *x = e);
    }
    c
}

fn fit(calib: &[&(Run, Workload)]) -> Constants {
    let start = Constants { moe_pp_layer: 0.0, recurrent_pp_layer: 0.0, unfused_recurrent_pp_layer: 0.0, ..CALIBRATED };
    let mut best: Option<(f64, Constants)> = None;
    let consider = |best: &mut Option<(f64, Constants)>, c: Constants| {
        let err = log_error(calib, &c);
        if best.as_ref().is_none_or(|(e, _)| err < *e) {
            *best = Some((err, c));
        }
    };
    // Generation: the global per-layer costs, the GPU hop and how layer costs scale.
    let rec_grid = [0.0, 25e-6, 50e-6, 75e-6, 100e-6, 150e-6, 200e-6, 250e-6, 300e-6, 400e-6, 600e-6];
    for &moe in &[0.0, 10e-6, 20e-6, 40e-6, 60e-6, 80e-6, 120e-6] {
        for &rec in &rec_grid {
            for &unfused in &rec_grid {
                for (&hop, &scaling) in [0.0, 100e-6, 200e-6, 400e-6, 800e-6].iter().flat_map(|h| [0.0, 0.25, 0.5, 0.75, 1.0].iter().map(move |s| (h, s))) {
                    let c =
                        Constants { moe_layer: moe, recurrent_layer: rec, unfused_recurrent_layer: unfused, hop_seconds: hop, layer_scaling: scaling, ..start };
                    consider(&mut best, refit(c, calib));
                }
            }
        }
    }
    // Prompt processing: the MoE and recurrent costs per layer and token and the dp4a share, the rest kept.
    let tg = best.as_ref().map_or(start, |(_, c)| *c);
    let rec_pp = [0.0, 0.5e-6, 1e-6, 2e-6, 4e-6, 8e-6, 16e-6, 32e-6, 64e-6, 128e-6];
    for &moe in &[0.0, 0.5e-6, 1e-6, 2e-6, 4e-6, 8e-6, 16e-6] {
        for &rec in &rec_pp {
            for &unfused in &rec_pp {
                for &dp4a in &[0.1, 0.125, 0.15, 0.175, 0.2, 0.25, 0.3, 0.35, 0.4] {
                    let c = Constants { moe_pp_layer: moe, recurrent_pp_layer: rec, unfused_recurrent_pp_layer: unfused, dp4a_share: dp4a, ..tg };
                    consider(&mut best, refit(c, calib));
                }
            }
        }
    }
    polish(best.map(|(_, c)| c).unwrap_or(CALIBRATED), calib)
}

/// The least-squares fit weighs a run by its relative error, which lets a few far-off runs pull
/// a share; the objective everywhere else is the squared log error (over- and underestimates by
/// the same factor count the same). Each backend's compute shares are moved to its minimum.
fn polish(mut c: Constants, calib: &[&(Run, Workload)]) -> Constants {
    type Field = fn(&mut Efficiency) -> &mut f64;
    let fields: [Field; 3] = [|e| &mut e.compute_quant, |e| &mut e.compute_float, |e| &mut e.compute_vector];
    for b in Backend::ALL {
        let rows: Vec<_> = calib.iter().copied().filter(|(r, _)| r.backend == b && r.test.kind == Kind::Pp).collect();
        for field in fields {
            let base = *field(c.of_mut(b));
            let at = |k: f64| {
                let mut t = c;
                *field(t.of_mut(b)) = base * k;
                (log_error(&rows, &t), t)
            };
            let start = at(1.0).0;
            let best = (70..=140).map(|i| at(f64::from(i) / 100.0)).min_by(|x, y| x.0.total_cmp(&y.0));
            if let Some((err, t)) = best.filter(|(err, _)| *err < start - 1e-12) {
                let _ = err;
                c = t;
            }
        }
    }
    c
}

#[derive(Default)]
struct Cell {
    n: usize,
    within: usize,
    bound_within: usize,
    errors: Vec<f64>,
}

fn report(rows: &[&(Run, Workload)], c: &Constants, title: &str) {
    let mut cells: BTreeMap<(Backend, &'static str), Cell> = BTreeMap::new();
    for (r, w) in rows {
        let p = predict(r, w, c);
        let e = p / r.ts - 1.0;
        let cell = cells.entry((r.backend, r.test.label())).or_default();
        cell.n += 1;
        cell.within += usize::from(e.abs() <= 0.25);
        cell.errors.push(e.abs());
        if r.test.kind == Kind::Tg {
            // The upper bound: bandwidth / bytes read per token (weights only), devices in turn.
            let t: f64 = w.parts.iter().map(|p| p.weight_bytes / p.bandwidth).sum();
            cell.bound_within += usize::from(((1.0 / t) / r.ts - 1.0).abs() <= 0.25);
        }
    }
    println!("\n{title}\n");
    println!("| backend | test | runs | within 25% | share | median error | bound within 25% |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for ((b, t), mut cell) in cells {
        cell.errors.sort_by(f64::total_cmp);
        let med = cell.errors[cell.errors.len() / 2];
        let bound = if t == "tg" { format!("{}/{}", cell.bound_within, cell.n) } else { "-".into() };
        println!("| {} | {t} | {} | {} | {:.0}% | {:.0}% | {bound} |", b.name(), cell.n, cell.within, 100.0 * cell.within as f64 / cell.n as f64, 100.0 * med);
    }
}

fn rust(c: &Constants) -> String {
    let mut o = String::from("pub const CALIBRATED: Constants = Constants {\n    backends: [\n");
    for b in Backend::ALL {
        let e = c.of(b);
        o += &format!(
            "        // {}\n        Efficiency {{ bandwidth: {:.3}, layer_seconds: {:.2}e-6, compute_quant: {:.3}, compute_float: {:.3}, compute_vector: {:.3}, pp_layer_seconds: {:.1}e-6 }},\n",
            b.name(),
            e.bandwidth,
            e.layer_seconds * 1e6,
            e.compute_quant,
            e.compute_float,
            e.compute_vector,
            e.pp_layer_seconds * 1e6
        );
    }
    o += &format!(
        "    ],\n    moe_layer: {:.0}e-6,\n    recurrent_layer: {:.0}e-6,\n    unfused_recurrent_layer: {:.0}e-6,\n    hop_seconds: {:.0}e-6,\n    moe_pp_layer: {:.1}e-6,\n    recurrent_pp_layer: {:.1}e-6,\n    unfused_recurrent_pp_layer: {:.1}e-6,\n    dp4a_share: {:.3},\n    layer_scaling: {:.2},\n}};",
        c.moe_layer * 1e6,
        c.recurrent_layer * 1e6,
        c.unfused_recurrent_layer * 1e6,
        c.hop_seconds * 1e6,
        c.moe_pp_layer * 1e6,
        c.recurrent_pp_layer * 1e6,
        c.unfused_recurrent_pp_layer * 1e6,
        c.dp4a_share,
        c.layer_scaling
    );
    o
}

fn main() {
    let check = std::env::args().any(|a| a == "--check");
    let (rows, skipped) = load();
    let all: Vec<&Run> = rows.iter().map(|(r, _)| r).collect();
    let calib: Vec<_> = rows.iter().filter(|(r, _)| !is_validation(r, &all)).collect();
    let valid: Vec<_> = rows.iter().filter(|(r, _)| is_validation(r, &all)).collect();
    println!("{} runs: {} calibration, {} validation; {} not modelled", rows.len() + skipped.len(), calib.len(), valid.len(), skipped.len());
    for (r, why) in &skipped {
        println!("  not modelled: {} {} {} {}: {why}", r.source, r.device, r.model, r.test.label());
    }
    let c = if check { CALIBRATED } else { fit(&calib) };
    if !check {
        println!("\nconstants (paste into src/estimate/speed.rs):\n{}", rust(&c));
    }
    report(&calib, &c, "Calibration split");
    report(&valid, &c, "Validation split");
    if std::env::args().any(|a| a == "--rows") {
        let all_rows = std::env::args().any(|a| a == "--all");
        let listed: Vec<_> = if all_rows { rows.iter().collect() } else { valid.clone() };
        for (r, w) in &listed {
            let p = predict(r, w, &c);
            let split = if is_validation(r, &all) { "V" } else { "C" };
            println!(
                "{split} {:>8.1} {:>8.1} {:+5.0}% {} {}x{} {} {} {:?}",
                r.ts,
                p,
                100.0 * (p / r.ts - 1.0),
                r.backend.name(),
                r.gpus,
                r.device,
                r.model,
                r.quant,
                r.test
            );
        }
    }
}
