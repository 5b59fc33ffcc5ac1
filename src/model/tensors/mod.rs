//! The tensors llama.cpp's loader asks a file for, and whether the file has them.
//!
//! llama.cpp's `llama_model_base::load_tensors` runs the architecture's `load_arch_tensors`, which
//! calls `create_tensor(name, shape, flags)` for every tensor under loops and conditions over the
//! hyperparameters; `llama_model_loader::create_tensor` refuses a required tensor that is missing
//! ("missing tensor") or any tensor whose shape differs ("wrong shape", `check_tensor_dims`), and
//! `done_getting_tensors` a file holding tensors nobody asked for ("wrong number of tensors").
//! `llama_cpp.rs`, generated from llama.cpp's source by `scripts/gen_tensor_rules.py`, holds each
//! model class's `load_arch_tensors` as a small program; this module runs it against a file's
//! hyperparameters and tensors, as the loader would, without llama.cpp.
//!
//! Values are three-valued: where the generator met code it could not translate, or a
//! hyperparameter gguf-meter cannot derive, the value is unknown. An unknown dimension is not
//! compared, tensors under an unknown condition are optional, and an unknown that may create
//! tensors turns the count check off: a file llama.cpp loads never fails here.

mod hparams;
mod llama_cpp;

use crate::read::{Header, TensorEntry};
use hparams::HParams;
use serde_json::Value as J;
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

const NOT_REQUIRED: i64 = 1;
const DUPLICATED: i64 = 2;
const SKIP: i64 = 4;
const ALLOW_RESHAPE: i64 = 16;

/// Loops beyond this many iterations (a hostile block count) are not run; the count check is off.
const MAX_ITERATIONS: i64 = 4096;
/// Helper calls nest at most this deep.
const MAX_DEPTH: usize = 16;
/// Statements run per file at most: nested loops over hostile counts (layers x experts) stop here,
/// with the count check off; real models need a few tens of thousands.
const MAX_STEPS: u64 = 2_000_000;
/// Missing and mis-shaped tensors kept at most (the rest are only counted).
const MAX_KEPT: usize = 1000;

/// A tensor llama.cpp asked for and the file lacks or has with another shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Tensor name.
    pub name: String,
    /// The shape llama.cpp expects, innermost first.
    pub expected: Vec<i64>,
    /// The shape in the file (`None`: the tensor is missing).
    pub found: Option<Vec<u64>>,
    /// The loader compares only the element count (`TENSOR_ALLOW_RESHAPE`).
    pub reshape: bool,
}

/// What llama.cpp's loader makes of the file's tensors.
#[derive(Clone, Debug, Default)]
pub struct TensorCheck {
    /// Required tensors the file lacks.
    pub missing: Vec<Mismatch>,
    /// Tensors whose shape differs from what the loader expects.
    pub wrong_shape: Vec<Mismatch>,
    /// `done_getting_tensors`: the file's tensor count, the fewest and most the loader creates,
    /// and the file's tensors it never asks for; `None` when the count could not be evaluated.
    pub count: Option<Count>,
    /// Messages of the `throw`s the loader reaches for these hyperparameters.
    pub refused: Vec<String>,
    /// Tensors asked for whose shape or presence could not be evaluated (checked only partly).
    pub unevaluated: usize,
    /// Why the count check is off, when it is.
    pub incomplete: Option<String>,
}

/// The tensor count check.
#[derive(Clone, Debug, Default)]
pub struct Count {
    /// Tensors in the file (`n_tensors`).
    pub in_file: u64,
    /// Tensors the loader creates, at least and at most (conditions it could not evaluate).
    pub created: (u64, u64),
    /// Tensors of the file the loader never asks for.
    pub unused: Vec<String>,
}

impl Count {
    /// True when llama.cpp refuses the file ("wrong number of tensors" / "too many tensors").
    pub fn fails(&self) -> bool {
        self.in_file < self.created.0 || self.in_file > self.created.1
    }
}

/// Runs llama.cpp's `load_tensors` for this file's architecture. `None` when llama.cpp has no
/// program for it (an unknown architecture). `vocab_ok` false makes the vocabulary size unknown
/// (llama.cpp would refuse the tokenizer before it looks at tensors).
pub fn check(header: &Header, tensors: &[TensorEntry], vocab_ok: bool) -> Option<TensorCheck> {
    let arch = header.get("general.architecture")?.as_str()?;
    let (_, _, class, reads, assigned) = llama_cpp::ARCHS.iter().find(|a| a.0 == arch)?;
    let program = parsed(llama_cpp::CLASSES.iter().find(|c| c.0 == *class)?.1)?;
    let common = parsed(llama_cpp::COMMON)?;
    let epilogue = parsed(llama_cpp::EPILOGUE)?;
    let has = |name: &str| tensors.iter().any(|t| t.name == name);
    let hp = HParams::new(header, arch, reads, assigned, vocab_ok, &has)?;
    let mut fns: HashMap<&str, (&Vec<J>, &J)> = HashMap::new();
    for src in [common, &program["fns"]] {
        if let Some(m) = src.as_object() {
            for (k, v) in m {
                if let (Some(p), Some(b)) = (v.get(0).and_then(J::as_array), v.get(1)) {
                    fns.insert(k.as_str(), (p, b));
                }
            }
        }
    }
    let file: HashMap<&str, &TensorEntry> = tensors.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut run = Run { hp: &hp, arch, file: &file, fns, out: TensorCheck::default(), consumed: HashSet::new(), created: (0, 0), depth: 0, steps: 0 };
    let mut env = Env::default();
    if hp.n_expert().is_some_and(|n| n > 0) && hp.n_expert_used_max() == Some(0) {
        run.out.refused.push("model has expert layers but no expert layers are used".into());
        return Some(run.out);
    }
    let flow = run.stmt(&program["body"], &mut env, true);
    // a `return` ends load_arch_tensors only; load_tensors' generic pass still runs
    if flow != Flow::Throw && run.steps <= MAX_STEPS {
        run.stmt(epilogue, &mut env, true);
    }
    if flow == Flow::Throw {
        return Some(run.out);
    }
    if run.out.incomplete.is_none() {
        let mut unused: Vec<String> = tensors.iter().filter(|t| !run.consumed.contains(&t.name)).map(|t| t.name.clone()).collect();
        unused.sort();
        run.out.count = Some(Count { in_file: tensors.len() as u64, created: run.created, unused });
    }
    Some(run.out)
}

/// A generated program, parsed once per process (keyed by its text's address: each is a static).
fn parsed(text: &'static str) -> Option<&'static J> {
    static CACHE: OnceLock<Mutex<HashMap<usize, &'static J>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(j) = cache.get(&(text.as_ptr() as usize)) {
        return Some(j);
    }
    let j: &'static J = Box::leak(Box::new(serde_json::from_str(text).ok()?));
    cache.insert(text.as_ptr() as usize, j);
    Some(j)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    Normal,
    Return,
    Throw,
}

type V = Option<i64>;

#[derive(Clone, Default)]
struct Env {
    vars: HashMap<String, V>,
    fields: HashMap<(i64, String), V>,
    layer: V,
}

impl Env {
    /// After a branch that may or may not have run: values that differ become unknown.
    fn merge(&mut self, a: Env, b: Env) {
        let mut vars = HashMap::new();
        for k in a.vars.keys().chain(b.vars.keys()) {
            let (x, y) = (a.vars.get(k).copied().flatten(), b.vars.get(k).copied().flatten());
            vars.insert(k.clone(), if x == y && a.vars.contains_key(k) == b.vars.contains_key(k) { x } else { None });
        }
        let mut fields = HashMap::new();
        for k in a.fields.keys().chain(b.fields.keys()) {
            let (x, y) = (a.fields.get(k).copied().flatten().unwrap_or(0), b.fields.get(k).copied().flatten().unwrap_or(0));
            let known = a.fields.get(k).is_none_or(|v| v.is_some()) && b.fields.get(k).is_none_or(|v| v.is_some());
            fields.insert(k.clone(), if known && x == y { Some(x) } else { None });
        }
        self.vars = vars;
        self.fields = fields;
        self.layer = if a.layer == b.layer { a.layer } else { None };
    }
}

struct Run<'a> {
    hp: &'a HParams<'a>,
    arch: &'a str,
    file: &'a HashMap<&'a str, &'a TensorEntry>,
    fns: HashMap<&'a str, (&'a Vec<J>, &'a J)>,
    out: TensorCheck,
    consumed: HashSet<String>,
    created: (u64, u64),
    depth: usize,
    steps: u64,
}

fn op(node: &J) -> &str {
    node.get(0).and_then(J::as_str).unwrap_or("")
}

impl<'a> Run<'a> {
    fn give_up(&mut self, why: impl Into<String>) {
        if self.out.incomplete.is_none() {
            self.out.incomplete = Some(why.into());
        }
    }

    fn stmt(&mut self, s: &'a J, env: &mut Env, certain: bool) -> Flow {
        let Some(a) = s.as_array() else { return Flow::Normal };
        self.steps += 1;
        if self.steps > MAX_STEPS {
            self.give_up("more tensors than any real model asks for");
            return Flow::Return;
        }
        match op(s) {
            "seq" => {
                for x in &a[1..] {
                    let f = self.stmt(x, env, certain);
                    if f != Flow::Normal {
                        return f;
                    }
                }
                Flow::Normal
            }
            "let" => {
                if let Some(name) = a.get(1).and_then(J::as_str) {
                    let v = a.get(2).and_then(|e| self.expr(e, env));
                    env.vars.insert(name.to_string(), v);
                }
                Flow::Normal
            }
            "layer" => {
                env.layer = a.get(1).and_then(|e| self.expr(e, env));
                Flow::Normal
            }
            "setf" => {
                let v = a.get(2).and_then(|e| self.expr(e, env));
                self.set_field(env, a.get(1).and_then(J::as_str).unwrap_or(""), v);
                Flow::Normal
            }
            "def" => Flow::Normal,
            "if" => {
                let c = a.get(1).and_then(|e| self.expr(e, env));
                let (Some(then), Some(els)) = (a.get(2), a.get(3)) else { return Flow::Normal };
                match c {
                    Some(c) => self.stmt(if c != 0 { then } else { els }, env, certain),
                    None => {
                        // the copies cost as much as the statements they stand for
                        self.steps += (env.vars.len() + env.fields.len()) as u64;
                        let (mut x, mut y) = (env.clone(), env.clone());
                        let fx = self.stmt(then, &mut x, false);
                        let fy = self.stmt(els, &mut y, false);
                        if fx == Flow::Return || fy == Flow::Return {
                            self.give_up("a return under a condition gguf-meter cannot evaluate");
                        }
                        match (fx, fy) {
                            (Flow::Throw, Flow::Normal) => *env = y,
                            (Flow::Normal, Flow::Throw) => *env = x,
                            _ => env.merge(x, y),
                        }
                        Flow::Normal
                    }
                }
            }
            "for" => {
                let var = a.get(1).and_then(J::as_str).unwrap_or("");
                let from = a.get(2).and_then(|e| self.expr(e, env));
                let to = a.get(3).and_then(|e| self.expr(e, env));
                let (Some(from), Some(to)) = (from, to) else {
                    self.give_up("a loop whose bounds gguf-meter cannot evaluate");
                    return Flow::Normal;
                };
                if to.saturating_sub(from) > MAX_ITERATIONS {
                    self.give_up("a loop beyond the layers gguf-meter believes");
                    return Flow::Normal;
                }
                let Some(body) = a.get(4) else { return Flow::Normal };
                for i in from..to {
                    env.vars.insert(var.to_string(), Some(i));
                    let f = self.stmt(body, env, certain);
                    if f != Flow::Normal {
                        return f;
                    }
                }
                Flow::Normal
            }
            "call" => {
                let name = a.get(1).and_then(J::as_str).unwrap_or("");
                let Some(&(params, body)) = self.fns.get(name) else {
                    self.give_up(format!("a call to {name}, which the generator did not translate"));
                    return Flow::Normal;
                };
                if self.depth >= MAX_DEPTH {
                    self.give_up("helpers nested too deep");
                    return Flow::Normal;
                }
                let args: Vec<V> = a[2..].iter().map(|e| self.expr(e, env)).collect();
                let saved = env.vars.clone();
                for (p, v) in params.iter().zip(args) {
                    if let Some(p) = p.as_str() {
                        env.vars.insert(p.to_string(), v);
                    }
                }
                self.depth += 1;
                let f = self.stmt(body, env, certain);
                self.depth -= 1;
                env.vars = saved;
                if f == Flow::Throw { Flow::Throw } else { Flow::Normal }
            }
            "throw" => {
                if certain {
                    self.out.refused.push(a.get(1).and_then(J::as_str).unwrap_or("").to_string());
                }
                Flow::Throw
            }
            "ret" => Flow::Return,
            "unk" => {
                let what = a.get(1).and_then(J::as_str).unwrap_or("");
                self.give_up(format!("code the generator did not translate ({what})"));
                Flow::Normal
            }
            "t" => {
                self.create(a, env, certain);
                Flow::Normal
            }
            _ => Flow::Normal,
        }
    }

    fn set_field(&mut self, env: &mut Env, field: &str, v: V) {
        match env.layer {
            Some(l) => {
                env.fields.insert((l, field.to_string()), v);
            }
            None => self.give_up("a layer gguf-meter cannot evaluate"),
        }
    }

    fn name(&mut self, n: &J, env: &Env) -> Option<String> {
        let a = n.as_array()?;
        let mut s = String::new();
        for p in &a[1..] {
            match p {
                J::String(x) => s.push_str(x),
                e => s.push_str(&self.expr(e, env)?.to_string()),
            }
        }
        Some(s)
    }

    /// `llama_model_loader::create_tensor` on a file: presence, `check_tensor_dims`, the count.
    fn create(&mut self, a: &'a [J], env: &mut Env, certain: bool) {
        let target = a.get(1).and_then(J::as_str).unwrap_or("");
        let Some(name) = a.get(2).and_then(|n| self.name(n, env)) else {
            self.out.unevaluated += 1;
            self.give_up("a tensor name gguf-meter cannot evaluate");
            self.assign(env, target, None);
            return;
        };
        let dims: Option<Vec<V>> = a.get(3).and_then(J::as_array).map(|d| d.iter().map(|e| self.expr(e, env)).collect());
        let flags = a.get(4).and_then(|e| self.expr(e, env));
        let op_none = a.get(5).and_then(J::as_i64) == Some(1);
        let known: Option<Vec<i64>> = dims.as_ref().and_then(|d| d.iter().copied().collect());
        if known.is_none() || flags.is_none() {
            self.out.unevaluated += 1;
        }
        let result: V = match self.file.get(name.as_str()) {
            None => {
                if certain && flags.is_some_and(|f| f & NOT_REQUIRED == 0) && self.out.missing.len() < MAX_KEPT {
                    let expected = known.clone().unwrap_or_default();
                    self.out.missing.push(Mismatch { name: name.clone(), expected, found: None, reshape: false });
                }
                Some(0)
            }
            Some(t) => {
                if let (Some(exp), Some(f)) = (&known, flags)
                    && certain
                    && self.out.wrong_shape.len() < MAX_KEPT
                    && !shape_ok(exp, &t.dims, f & ALLOW_RESHAPE != 0)
                {
                    self.out.wrong_shape.push(Mismatch {
                        name: name.clone(),
                        expected: exp.clone(),
                        found: Some(t.dims.clone()),
                        reshape: f & ALLOW_RESHAPE != 0,
                    });
                }
                self.consumed.insert(name.clone());
                match flags {
                    Some(f) if f & DUPLICATED != 0 => Some(1),
                    Some(f) => {
                        self.created.1 += 1;
                        if certain {
                            self.created.0 += 1;
                        }
                        Some(i64::from(f & SKIP == 0 && !op_none))
                    }
                    None => {
                        self.created.1 += 1;
                        None
                    }
                }
            }
        };
        self.assign(env, target, result);
    }

    fn assign(&mut self, env: &mut Env, target: &str, v: V) {
        if let Some(var) = target.strip_prefix("v:") {
            env.vars.insert(var.to_string(), v);
        } else if let Some(f) = target.strip_prefix("f:") {
            self.set_field(env, f, v);
        }
    }

    fn expr(&mut self, e: &J, env: &Env) -> V {
        match e {
            J::Number(n) => n.as_i64(),
            J::Array(a) => {
                let arg = |i: usize| a.get(i);
                match op(e) {
                    "v" => env.vars.get(arg(1)?.as_str()?).copied().flatten(),
                    "hp" => {
                        let field = arg(1)?.as_str()?;
                        let il = match arg(2) {
                            Some(x) => Some(self.expr(x, env)?),
                            None => None,
                        };
                        self.hp.get(field, il)
                    }
                    "fld" => {
                        let l = env.layer?;
                        Some(env.fields.get(&(l, arg(1)?.as_str()?.to_string())).copied().unwrap_or(Some(0))?)
                    }
                    "fldi" => {
                        let l = self.expr(arg(1)?, env)?;
                        Some(env.fields.get(&(l, arg(2)?.as_str()?.to_string())).copied().unwrap_or(Some(0))?)
                    }
                    "has" => {
                        let n = self.name(arg(1)?, env)?;
                        Some(i64::from(self.file.contains_key(n.as_str())))
                    }
                    "arch" => {
                        let want = arg(1)?.as_str()?;
                        Some(i64::from(hparams::arch_enum(self.arch).is_some_and(|x| x == want)))
                    }
                    "!" => Some(i64::from(self.expr(arg(1)?, env)? == 0)),
                    "neg" => self.expr(arg(1)?, env)?.checked_neg(),
                    "~" => Some(!self.expr(arg(1)?, env)?),
                    "?:" => match self.expr(arg(1)?, env) {
                        Some(c) => self.expr(arg(if c != 0 { 2 } else { 3 })?, env),
                        None => {
                            let (x, y) = (self.expr(arg(2)?, env), self.expr(arg(3)?, env));
                            if x == y { x } else { None }
                        }
                    },
                    "&&" => match (self.expr(arg(1)?, env), self.expr(arg(2)?, env)) {
                        (Some(0), _) | (_, Some(0)) => Some(0),
                        (Some(_), Some(_)) => Some(1),
                        _ => None,
                    },
                    "||" => match (self.expr(arg(1)?, env), self.expr(arg(2)?, env)) {
                        (Some(x), _) | (_, Some(x)) if x != 0 => Some(1),
                        (Some(_), Some(_)) => Some(0),
                        _ => None,
                    },
                    "max" | "min" => {
                        let (x, y) = (self.expr(arg(1)?, env)?, self.expr(arg(2)?, env)?);
                        Some(if op(e) == "max" { x.max(y) } else { x.min(y) })
                    }
                    o => {
                        let x = self.expr(arg(1)?, env)?;
                        let y = self.expr(arg(2)?, env)?;
                        match o {
                            "+" => x.checked_add(y),
                            "-" => x.checked_sub(y),
                            "*" => x.checked_mul(y),
                            "/" => x.checked_div(y),
                            "%" => x.checked_rem(y),
                            "==" => Some(i64::from(x == y)),
                            "!=" => Some(i64::from(x != y)),
                            "<" => Some(i64::from(x < y)),
                            ">" => Some(i64::from(x > y)),
                            "<=" => Some(i64::from(x <= y)),
                            ">=" => Some(i64::from(x >= y)),
                            "&" => Some(x & y),
                            "|" => Some(x | y),
                            "^" => Some(x ^ y),
                            "<<" => u32::try_from(y).ok().and_then(|y| x.checked_shl(y)),
                            ">>" => u32::try_from(y).ok().and_then(|y| x.checked_shr(y)),
                            _ => None,
                        }
                    }
                }
            }
            _ => None,
        }
    }
}

/// `check_tensor_dims`: every dimension equal (the rest 1), or with `TENSOR_ALLOW_RESHAPE` only
/// the element count.
fn shape_ok(expected: &[i64], found: &[u64], reshape: bool) -> bool {
    if reshape {
        let e = expected.iter().try_fold(1i128, |p, &d| Some(p * i128::from(d)).filter(|p| p.abs() < 1 << 100));
        let f = found.iter().try_fold(1i128, |p, &d| Some(p * i128::from(d)).filter(|p| p.abs() < 1 << 100));
        return e.is_some() && e == f;
    }
    (0..4).all(|i| {
        let e = expected.get(i).copied().unwrap_or(1);
        let f = found.get(i).map_or(1, |&d| i64::try_from(d).unwrap_or(-1));
        e == f
    }) && found.len() <= 4
}

/// A shape as llama.cpp prints it (`llama_format_tensor_shape`): `  4096, 151936`.
pub fn format_shape(dims: &[i64]) -> String {
    dims.iter().map(|d| format!("{d:5}")).collect::<Vec<_>>().join(", ")
}
