#!/usr/bin/env python3
"""Generate src/model/required_keys/llama_cpp.rs: the metadata llama.cpp needs to load a GGUF.

    python3 scripts/gen_required_keys.py [LLAMA_CPP_DIR] [-o OUT]

LLAMA_CPP_DIR defaults to the llama.cpp vendored in the llama-cpp-python 0.3.36 sdist:
    mkdir -p /tmp/llcp && cd /tmp/llcp && pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36 \
        && tar xzf llama_cpp_python-0.3.36.tar.gz
(-> /tmp/llcp/llama_cpp_python-0.3.36/vendor/llama.cpp). Nothing is guessed: every entry comes from a
loader call in that source.

What is read:
  * src/llama-arch.cpp      LLM_ARCH_NAMES (enum -> name), LLM_KV_NAMES (enum -> key template, "%s" = arch)
  * src/llama-model.cpp     llama_model_mapping (arch -> class), llama_model_base::load_hparams (generic keys)
  * src/models/models.h     class inheritance (a class without its own load_arch_hparams uses its parent's)
  * src/models/*.cpp        llama_model_<class>::load_arch_hparams (per-architecture keys)
  * src/llama-model-loader.cpp   get_key / get_key_or_arr / get_arr / get_arr_n semantics (types checked)
  * src/llama-vocab.cpp     llama_vocab::impl::load (tokenizer models, merges, pre-tokenizers)
  * tools/mtmd/clip.cpp, clip-impl.h   clip_model_loader::load_hparams (mmproj files)

A loader call counts as *required* when its `required` argument is absent or true. It counts as
*unconditional* for an architecture when every enclosing condition is known to hold for it: the
function bodies are parsed into statements, and the only conditions evaluated are comparisons of the
architecture (`arch == LLM_ARCH_X`), `hparams.vocab_only` (false: a full load), and for clip.cpp the
modality and projector type. Calls under any other if/switch/loop, after `||`/`&&`/`?`, inside a
lambda, or after an early `return` under an unknown condition are conditional: listed as such, never
enforced. Types are those the loader checks (GGUFMeta::GKV: exact scalar type; arrays by element type).
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SRC = Path("/tmp/llcp/llama_cpp_python-0.3.36/vendor/llama.cpp")
REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "src/model/required_keys/llama_cpp.rs"
LOADER_CALLS = {"get_key", "get_key_or_arr", "get_arr", "get_arr_n"}
CLIP_CALLS = {"get_bool": "bool", "get_i32": "i32", "get_u32": "u32", "get_f32": "f32", "get_string": "str",
              "get_arr_int": "[i32]", "get_arr_f32": "[f32]"}

# ------------------------------------------------------------------ tokens


@dataclass
class Tok:
    s: str
    pp: bool = False  # inside a preprocessor #if block


TOKEN_RE = re.compile(r"""
    (?P<ws>\s+) | (?P<lc>//[^\n]*) | (?P<bc>/\*.*?\*/) | (?P<pp>^[ \t]*\#[^\n]*(?:\\\n[^\n]*)*)
  | (?P<str>"(?:\\.|[^"\\])*") | (?P<chr>'(?:\\.|[^'\\])*')
  | (?P<num>\d[\w.]*) | (?P<id>[A-Za-z_]\w*)
  | (?P<op>::|->|&&|\|\||==|!=|<=|>=|[^\s])
""", re.S | re.M | re.X)


def tokenize(text: str) -> list[Tok]:
    out, depth = [], 0
    for m in TOKEN_RE.finditer(text):
        kind = m.lastgroup
        if kind in ("ws", "lc", "bc"):
            continue
        if kind == "pp":
            d = m.group().strip()
            if re.match(r"#\s*if", d):
                depth += 1
            elif re.match(r"#\s*endif", d):
                depth = max(0, depth - 1)
            continue
        out.append(Tok(m.group(), depth > 0))
    return out


def match_close(toks: list[Tok], i: int) -> int:
    """Index of the bracket closing the one at toks[i]."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack = []
    for j in range(i, len(toks)):
        s = toks[j].s
        if s in pairs:
            stack.append(pairs[s])
        elif s in (")", "]", "}"):
            if not stack or stack.pop() != s:
                raise ValueError(f"unbalanced {s!r} near token {j}")
            if not stack:
                return j
    raise ValueError("unclosed bracket")


def split_args(toks: list[Tok]) -> list[list[Tok]]:
    args, cur, depth = [], [], 0
    for t in toks:
        if t.s in "([{":
            depth += 1
        elif t.s in ")]}":
            depth -= 1
        if t.s == "," and depth == 0:
            args.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur:
        args.append(cur)
    return args


BINOPS = {"==", "!=", "&&", "||", "<", ">", "<=", ">=", "=", "?", ":", "+", "-", "*", "/", "%", "|", "&"}


def text(toks: list[Tok]) -> str:
    """Tokens back to readable C++ (for atoms, messages and comments)."""
    out = ""
    prev = None
    for t in toks:
        s = t.s
        if prev is not None:
            wordy = (prev[-1].isalnum() or prev[-1] in "_\"'") and (s[0].isalnum() or s[0] in "_\"'")
            if wordy or s in BINOPS or prev in BINOPS or prev == ",":
                out += " "
        out += s
        prev = s
    return out


# ------------------------------------------------------------------ statement walk

@dataclass
class Cond:
    kind: str            # "expr": if-condition tokens (neg = else branch); "case": switch label; "opaque"
    toks: list = field(default_factory=list)
    neg: bool = False
    labels: list = field(default_factory=list)      # case labels of this branch ([] = default)
    all_labels: list = field(default_factory=list)  # every label of the switch
    what: str = ""

    def describe(self) -> str:
        if self.kind == "expr":
            return ("not " if self.neg else "if ") + text(self.toks)
        if self.kind == "case":
            return f"switch ({text(self.toks)}) case {'/'.join(self.labels) or 'default'}"
        return self.what


@dataclass
class Call:
    fn: str
    args: list
    conds: list
    forced: bool = False  # `if (!ml.get_x(..., false)) throw ...;`: optional in name, required in effect


def negated_call(c: list[Tok]) -> bool:
    """True for a condition that is `!f(...)` or `!ml.f(...)` and nothing else."""
    p = next((k for k, x in enumerate(c) if x.s == "("), None)
    return (bool(c) and c[0].s == "!" and p is not None and all(x.s == "." or x.s.isidentifier() for x in c[1:p])
            and match_close(c, p) == len(c) - 1)


class Walker:
    """Walks a function body statement by statement, collecting calls with their enclosing conditions.

    A statement's exit is None (falls through), "return", "break", or a list of conditions under
    which execution continues (a return or break taken only under some condition). `throw` and
    aborts are not exits: a load that takes them fails anyway, so keys read later are still needed.
    """

    def __init__(self, toks: list[Tok], callees: set[str], helpers: dict):
        self.t, self.callees, self.helpers, self.calls = toks, callees, helpers, []

    def block(self, i: int, end: int, conds: list):
        conds = list(conds)
        while i < end:
            i, ex = self.stmt(i, conds)
            if ex in ("return", "break"):
                return ex
            if ex:
                conds = conds + ex
        return None

    def stmt(self, i: int, conds: list):
        t = self.t
        s = t[i].s
        if t[i].pp:
            conds = conds + [Cond("opaque", what="inside #if")]
        if s == "{":
            j = match_close(t, i)
            return j + 1, self.block(i + 1, j, conds)
        if s == ";":
            return i + 1, None
        if s == "if":
            if t[i + 1].s == "constexpr":
                i += 1
            j = match_close(t, i + 1)
            c = t[i + 2:j]
            n_calls = len(self.calls)
            self.expr(c, conds)
            first = j + 2 if t[j + 1].s == "{" else j + 1
            if len(self.calls) == n_calls + 1 and negated_call(c) and t[first].s == "throw":
                self.calls[-1].forced = True
            k, r1 = self.stmt(j + 1, conds + [Cond("expr", c)])
            r2 = None
            if k < len(t) and t[k].s == "else":
                k, r2 = self.stmt(k + 1, conds + [Cond("expr", c, neg=True)])
            exits = ("return", "break")
            if r1 in exits and r2 in exits:
                return k, ("return" if r1 == r2 == "return" else "break")
            cont = []
            if r1:
                cont += [Cond("expr", c, neg=True)] if r1 in exits else [Cond("opaque", what="after a conditional exit")]
            if r2:
                cont += [Cond("expr", c)] if r2 in exits else [Cond("opaque", what="after a conditional exit")]
            return k, (cont or None)
        if s == "switch":
            j = match_close(t, i + 1)
            sw = t[i + 2:j]
            self.expr(sw, conds)
            body_end = match_close(t, j + 1)
            returned = self.switch_body(sw, j + 2, body_end, conds)
            return body_end + 1, ([Cond("opaque", what="after a switch with a returning case")] if returned else None)
        if s in ("for", "while"):
            j = match_close(t, i + 1)
            self.expr(t[i + 2:j], conds + [Cond("opaque", what=f"{s} loop header")])
            k, ex = self.stmt(j + 1, conds + [Cond("opaque", what=f"inside a {s} loop")])
            return k, ([Cond("opaque", what="after a loop that may return")] if ex and ex != "break" else None)
        if s == "do":
            k, ex = self.stmt(i + 1, conds)
            j = match_close(t, k + 1)
            return j + 2, ([Cond("opaque", what="after a loop that may return")] if ex else None)
        if s == "try":
            k, ex = self.stmt(i + 1, conds)
            while k < len(t) and t[k].s == "catch":
                j = match_close(t, k + 1)
                k, _ = self.stmt(j + 1, conds + [Cond("opaque", what="inside catch")])
            return k, ex
        j, depth = i, 0
        while True:  # expression statement, up to ';' at depth 0
            x = t[j].s
            if x in "([{":
                depth += 1
            elif x in ")]}":
                depth -= 1
            elif x == ";" and depth == 0:
                break
            j += 1
        self.expr(t[i:j], conds)
        if s == "return":
            return j + 1, "return"
        if s == "break":
            return j + 1, "break"
        return j + 1, None

    def labels_at(self, i: int):
        """(label text or None for default, index after ':') if toks[i] starts a case label."""
        t = self.t
        if t[i].s not in ("case", "default"):
            return None
        m = i + 1
        while t[m].s != ":":  # "::" is one token
            m += 1
        return (text(t[i + 1:m]) if t[i].s == "case" else None), m + 1

    def switch_body(self, sw, i: int, end: int, conds: list) -> bool:
        """Statements run for the labels seen since the last break (fall-through accumulates)."""
        t = self.t
        all_labels, k = [], i
        while k < end:
            if t[k].s == "{":
                k = match_close(t, k) + 1
                continue
            if t[k].s == "switch":
                k = match_close(t, match_close(t, k + 1) + 1) + 1
                continue
            lab = self.labels_at(k)
            if lab:
                if lab[0] is not None:
                    all_labels.append(lab[0])
                k = lab[1]
                continue
            k += 1
        active, has_default, returned, k = [], False, False, i
        while k < end:
            lab = self.labels_at(k)
            if lab:
                if lab[0] is None:
                    has_default = True
                else:
                    active.append(lab[0])
                k = lab[1]
                continue
            cond = Cond("case", sw, labels=list(active), all_labels=all_labels if has_default else None)
            k, ex = self.stmt(k, conds + [cond])
            if ex == "return":
                returned = True
            if ex in ("return", "break"):
                active, has_default = [], False
            elif ex:
                returned = True
        return returned

    def expr(self, toks: list[Tok], conds: list):
        """Calls in an expression; anything after &&, || or ?, or inside braces (a lambda), is conditional."""
        late = False
        i = 0
        while i < len(toks):
            s = toks[i].s
            if s in ("&&", "||", "?"):
                late = True
            if s == "{":
                j = match_close(toks, i)
                sub = Walker(toks[i + 1:j] + [Tok(";")], self.callees, self.helpers)
                sub.block(0, len(sub.t), conds + [Cond("opaque", what="inside a lambda or initializer")])
                self.calls.extend(sub.calls)
                i = j + 1
                continue
            is_call = i + 1 < len(toks) and toks[i + 1].s == "("
            prev = toks[i - 1].s if i else ""
            if is_call and (s in self.helpers or s in self.callees and prev not in ("::", "->")):
                j = match_close(toks, i + 1)
                args = split_args(toks[i + 2:j])
                c = conds + ([Cond("opaque", what="after && / || / ?")] if late else [])
                if s in self.helpers:
                    self.inline(s, args, c)
                else:
                    self.calls.append(Call(s, args, c))
                self.expr(toks[i + 2:j], c)
                i = j + 1
                continue
            i += 1

    def inline(self, name: str, args, conds):
        """A helper taking the loader: its calls, with parameters replaced by the arguments."""
        params, body = self.helpers[name]
        sub = Walker(body, self.callees, {})
        sub.block(0, len(body), [])
        for call in sub.calls:
            new_args = []
            for a in call.args:
                na = []
                for tk in a:
                    if tk.s in params and params.index(tk.s) < len(args):
                        na.extend(args[params.index(tk.s)])
                    else:
                        na.append(tk)
                new_args.append(na)
            self.calls.append(Call(call.fn, new_args, conds + call.conds, call.forced))


# ------------------------------------------------------------------ source helpers

def read(p: Path) -> str:
    return p.read_text(encoding="utf-8", errors="replace")


def function_body(src: str, signature_re: str):
    """(params, body tokens) of the first function whose header matches signature_re."""
    m = re.search(signature_re, src)
    if not m:
        return None
    toks = tokenize(src[m.start():])
    i = next(k for k, x in enumerate(toks) if x.s == "(")
    j = match_close(toks, i)
    params = [a[-1].s for a in split_args(toks[i + 1:j]) if a and a[-1].s not in ("&", "*")]
    b = next(k for k in range(j, len(toks)) if toks[k].s == "{")
    e = match_close(toks, b)
    return params, toks[b + 1:e]


def parse_map(src: str, name: str) -> dict:
    body = re.search(name + r"\s*=\s*\{(.*?)\n\};", src, re.S).group(1)
    return {m.group(1): m.group(2) for m in re.finditer(r'\{\s*(\w+)\s*,\s*"([^"]*)"\s*\}', body)}


def git_commit(src_dir: Path) -> str:
    try:
        return subprocess.run(["git", "-C", str(src_dir), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# ------------------------------------------------------------------ condition evaluation

def eval_bool(toks: list[Tok], atom) -> bool | None:
    """Kleene evaluation of a C++ boolean expression; `atom` maps a leaf to True/False/None."""
    pos = 0

    def or_():
        nonlocal pos
        v = and_()
        while pos < len(toks) and toks[pos].s == "||":
            pos += 1
            w = and_()
            v = True if (v is True or w is True) else (None if (v is None or w is None) else False)
        return v

    def and_():
        nonlocal pos
        v = unary()
        while pos < len(toks) and toks[pos].s == "&&":
            pos += 1
            w = unary()
            v = False if (v is False or w is False) else (None if (v is None or w is None) else True)
        return v

    def unary():
        nonlocal pos
        if toks[pos].s == "!":
            pos += 1
            v = unary()
            return None if v is None else not v
        if toks[pos].s == "(":
            end = match_close(toks, pos)
            if end + 1 == len(toks) or toks[end + 1].s in ("&&", "||"):
                v = eval_bool(toks[pos + 1:end], atom)
                pos = end + 1
                return v
        start, depth = pos, 0
        while pos < len(toks):
            s = toks[pos].s
            if s in "([{":
                depth += 1
            elif s in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif s in ("&&", "||") and depth == 0:
                break
            pos += 1
        return atom(text(toks[start:pos]))

    try:
        v = or_()
        return v if pos == len(toks) else None
    except (IndexError, ValueError):
        return None


LITERALS = {"true": True, "1": True, "false": False, "0": False, "0.0f": False, "nullptr": False}


class Facts:
    """What is known while evaluating conditions: the architecture, or clip modality and projector."""

    def __init__(self, arch_enum=None, modality=None, projector=None, bools=None):
        self.arch, self.modality, self.projector = arch_enum, modality, projector
        self.bools = bools or {}

    def atom(self, a: str):
        if a in LITERALS:
            return LITERALS[a]
        if a in self.bools:  # a local `bool x = <expr>;` assigned once
            return eval_bool(self.bools[a], self.atom)
        if a == "hparams.vocab_only":
            return False  # gguf-meter asks about a full load
        m = re.fullmatch(r"(?:arch|ml\.get_arch\(\)|model\.arch|this->arch) (==|!=) (LLM_ARCH_\w+)", a)
        if m and self.arch:
            return (self.arch == m.group(2)) == (m.group(1) == "==")
        if self.modality:
            flags = {"is_vision": "VISION", "is_audio": "AUDIO", "is_gen_audio": "GEN_AUDIO"}
            if a in flags:
                return self.modality == flags[a]
            m = re.fullmatch(r"(?:model\.)?modality (==|!=) CLIP_MODALITY_(\w+)", a)
            if m:
                return (self.modality == m.group(2)) == (m.group(1) == "==")
            m = re.fullmatch(r"model\.proj_type (==|!=) (PROJECTOR_TYPE_\w+)", a)
            if m and self.projector:
                return (self.projector == m.group(2)) == (m.group(1) == "==")
        return None

    def switch_value(self, sw: str):
        if sw in ("arch", "ml.get_arch()", "model.arch") and self.arch:
            return self.arch
        if sw == "model.proj_type" and self.projector:
            return self.projector
        return None

    def cond(self, c: Cond):
        if c.kind == "expr":
            v = eval_bool(c.toks, self.atom)
            return None if v is None else (v != c.neg)
        if c.kind == "case":
            v = self.switch_value(text(c.toks))
            if v is None:
                return None
            return v in c.labels or (c.all_labels is not None and v not in c.all_labels)
        return None

    def status(self, conds: list):
        """True when every condition holds, False when one fails, else the unknown ones."""
        unknown = []
        for c in conds:
            v = self.cond(c)
            if v is False:
                return False
            if v is None:
                unknown.append(c)
        return True if not unknown else unknown


def bool_locals(body: list[Tok]) -> dict:
    """Local `[const] bool name = expr;` that are never assigned again: name -> expr tokens."""
    out, assigned = {}, {}
    for i in range(len(body) - 2):
        if body[i + 1].s == "=" and re.fullmatch(r"[A-Za-z_]\w*", body[i].s):
            assigned[body[i].s] = assigned.get(body[i].s, 0) + 1
            if body[i - 1].s == "bool" if i else False:
                j = i + 2
                depth = 0
                while not (body[j].s == ";" and depth == 0):
                    depth += body[j].s in "([{"
                    depth -= body[j].s in ")]}"
                    j += 1
                out[body[i].s] = body[i + 2:j]
    return {k: v for k, v in out.items() if assigned.get(k) == 1}


# ------------------------------------------------------------------ llama.cpp model loader

SCALAR_TYPES = {"uint8_t": "u8", "int8_t": "i8", "uint16_t": "u16", "int16_t": "i16", "uint32_t": "u32",
                "int32_t": "i32", "int": "i32", "float": "f32", "bool": "bool", "std::string": "str",
                "uint64_t": "u64", "int64_t": "i64", "double": "f64", "llama_pooling_type": "u32",
                "enum llama_pooling_type": "u32"}
ARRAY_ELEMS = {"u32": "u32,i32", "i32": "u32,i32", "f32": "f32", "str": "str", "u64": "u64"}


class Source:
    def __init__(self, root: Path):
        self.root = root
        arch_src = read(root / "src/llama-arch.cpp")
        self.arch_names = parse_map(arch_src, "LLM_ARCH_NAMES")          # LLM_ARCH_X -> "name"
        self.kv_names = parse_map(arch_src, "LLM_KV_NAMES")              # LLM_KV_X -> "%s.key"
        self.model_cpp = read(root / "src/llama-model.cpp")
        self.models_h = read(root / "src/models/models.h")
        self.model_h = read(root / "src/llama-model.h")
        self.hparams_h = read(root / "src/llama-hparams.h")
        self.model_files = {p: read(p) for p in sorted((root / "src/models").glob("*.cpp"))}
        self.warnings: list[str] = []

    def mapping(self) -> dict:
        body = re.search(r"llama_model_mapping\(llm_arch arch.*?\n}\n", self.model_cpp, re.S).group(0)
        out, pending = {}, []
        for m in re.finditer(r"case (LLM_ARCH_\w+):|return new (llama_model_\w+)\(", body):
            if m.group(1):
                pending.append(m.group(1))
            else:
                for a in pending:
                    out[a] = m.group(2)
                pending = []
        return out

    def parent(self, cls: str):
        m = re.search(r"struct " + cls + r"\s*:\s*public (\w+)", self.models_h)
        return m.group(1) if m else None

    def arch_hparams_fn(self, cls: str):
        """(file, params, body) of the load_arch_hparams a class uses (its own or an ancestor's)."""
        c = cls
        while c and c != "llama_model_base":
            sig = r"void " + c + r"::load_arch_hparams\s*\("
            for p, src in self.model_files.items():
                if re.search(sig, src):
                    params, body = function_body(src, sig)
                    return p, c, body, self.helpers(src)
            c = self.parent(c)
        raise SystemExit(f"no load_arch_hparams for {cls}")

    def helpers(self, src: str) -> dict:
        """Functions in the file (and llama_model_base methods) that take the loader."""
        out = {}
        for m in re.finditer(r"(?:static\s+)?\w[\w:<>]*\s+(\w+)\s*\(\s*(?:const\s+)?llama_model_loader\s*&", src):
            name = m.group(1)
            if name in ("load_arch_hparams", "load_arch_tensors"):
                continue
            fb = function_body(src[m.start():], re.escape(name) + r"\s*\(")
            if fb:
                out[name] = fb
        fb = function_body(self.model_cpp, r"void llama_model_base::load_swa_pattern\s*\(")
        out["load_swa_pattern"] = fb
        return out

    def base_calls(self):
        _, body = function_body(self.model_cpp, r"void llama_model_base::load_hparams\s*\(")
        w = Walker(body, LOADER_CALLS | {"load_arch_hparams"}, {})
        w.block(0, len(body), [])
        return w.calls

    def key_of(self, arg: list[Tok]):
        s = [t.s for t in arg]
        if len(s) == 1 and s[0] in self.kv_names:
            return self.kv_names[s[0]]
        if len(s) == 4 and s[0] in ("kv", "llm_kv") and s[2] in self.kv_names:
            return self.kv_names[s[2]]
        if len(s) == 1 and s[0].startswith('"'):
            return s[0][1:-1]
        return None

    def cxx_type(self, target: list[Tok], body_text: str):
        name = target[-1].s if target else ""
        decl = None
        if len(target) >= 3 and target[0].s == "hparams":
            m = re.search(r"^\s*((?:std::array<[^;>]*>)|(?:enum\s+)?[\w:]+(?:<[^;]*>)?)\s+" + re.escape(name) + r"\b\s*[;=\[{]",
                          self.hparams_h, re.M)
            decl = m and m.group(1)
        elif len(target) == 1:
            m = re.search(r"((?:std::array<[^;>]*>)|(?:std::vector<[^;>]*>)|(?:enum\s+)?[\w:]+)\s+" + re.escape(name)
                          + r"\s*[;={(]", body_text)
            if not m:
                m = re.search(r"^\s*((?:std::array<[^;>]*>)|(?:std::vector<[^;>]*>)|[\w:]+)\s+" + re.escape(name)
                              + r"\s*[;={]", self.model_h, re.M)
            decl = m and m.group(1)
        return decl.strip() if decl else None

    def type_spec(self, fn: str, cxx: str | None, required: bool):
        """The GGUF value types the loader accepts for this call (see llama-model-loader.cpp)."""
        if fn == "get_arr_n":
            return "[*]"  # GKV<ArrayInfo>: any array, a scalar throws even when optional
        if cxx is None:
            return ""
        arr = re.fullmatch(r"std::(array|vector)<\s*([\w:]+)\s*(?:,[^>]*)?>", cxx)
        if fn == "get_key":
            return SCALAR_TYPES.get(cxx, "")
        if fn == "get_key_or_arr":
            if arr:
                scalar = SCALAR_TYPES.get(arr.group(2), "")
                elems = ARRAY_ELEMS.get(scalar)
                if not scalar or not elems:
                    return ""
                if elems == "u32,i32":
                    elems += ",bool"  # get_arr into std::array also takes bool arrays
                return f"{scalar}|[{elems}]"
            # scalar overload: an array throws when required, is skipped when optional
            return "u32" if required else "u32|[*]"
        if fn == "get_arr" and arr:
            elems = ARRAY_ELEMS.get(SCALAR_TYPES.get(arr.group(2), ""))
            if not elems:
                return ""
            if arr.group(1) == "array" and elems == "u32,i32":
                elems += ",bool"
            # a scalar under this key throws only when required; otherwise the call just returns false
            return f"[{elems}]" if required else f"*|[{elems}]"
        return ""

    def analyze(self, call: Call, body_text: str):
        """(key template, required: bool|None, type spec) of one loader call."""
        key = self.key_of(call.args[0]) if call.args else None
        if key is None:
            self.warnings.append(f"unresolved key in {call.fn}({text(call.args[0]) if call.args else ''})")
            return None
        target = call.args[1] if len(call.args) > 1 else []
        cxx = self.cxx_type(target, body_text)
        n = len(call.args)
        if call.fn == "get_key_or_arr":
            is_array = cxx is not None and cxx.startswith("std::array")
            req_arg = call.args[3] if n == 4 else (call.args[2] if n == 3 and not is_array else None)
        else:
            req_arg = call.args[2] if n >= 3 else None
        req = True if req_arg is None or call.forced else LITERALS.get(text(req_arg))
        return key, req, req_arg, self.type_spec(call.fn, cxx, req is True)


def parse_spec(spec: str):
    """Type spec -> set of alternatives: scalar names and ("[]", frozenset of element names or None=any)."""
    if not spec:
        return None
    alts = set()
    for alt in spec.split("|"):
        if alt.startswith("["):  # "*" alone (not in brackets) = any scalar
            inner = alt[1:-1]
            alts.add(("[]", None if inner == "*" else frozenset(inner.split(","))))
        else:
            alts.add(alt)
    return alts


ORDER = ["*", "u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64", "bool", "str"]


def format_spec(alts) -> str:
    if alts is None:
        return ""
    scal = sorted((a for a in alts if isinstance(a, str)), key=ORDER.index)
    arrs = [a[1] for a in alts if not isinstance(a, str)]
    out = list(scal)
    if any(x is None for x in arrs):
        out.append("[*]")
    else:
        elems = set().union(*arrs) if arrs else set()
        if elems:
            out.append("[" + ",".join(sorted(elems, key=ORDER.index)) + "]")
    return "|".join(out)


def intersect(a: str, b: str) -> str:
    """Types a key must have to pass two readers' checks ("" = unchecked)."""
    pa, pb = parse_spec(a), parse_spec(b)
    if pa is None or pb is None:
        return b if pa is None else a
    sa, sb = {x for x in pa if isinstance(x, str)}, {x for x in pb if isinstance(x, str)}
    out = (sa & sb) | ({x for x in sb if "*" in sa}) | ({x for x in sa if "*" in sb})
    for xa in (x for x in pa if not isinstance(x, str)):
        for xb in (x for x in pb if not isinstance(x, str)):
            e = xb[1] if xa[1] is None else (xa[1] if xb[1] is None else xa[1] & xb[1])
            if e is None or e:
                out.add(("[]", e))
    if not out:
        raise SystemExit(f"no value satisfies both {a!r} and {b!r}")
    return format_spec(out)


@dataclass
class KeyUse:
    key: str
    type: str
    need: str         # "r" required, "o" optional (type checked when present), "c" conditional
    cond: str = ""    # for "c": the conditions left unknown


def merge(uses: list[KeyUse]) -> list[KeyUse]:
    """One entry per key and need; every unconditional reader's type check applies."""
    out: dict[str, KeyUse] = {}
    for u in uses:
        if u.need == "c":
            continue
        if u.key not in out:
            out[u.key] = KeyUse(u.key, u.type, u.need)
        else:
            o = out[u.key]
            o.type = intersect(o.type, u.type)
            if u.need == "r":
                o.need = "r"
    done = set(out)
    conds: dict[str, KeyUse] = {}
    for u in uses:
        if u.need == "c" and u.key not in done and u.key not in conds:
            conds[u.key] = u
    return [u for u in out.values() if u.need == "r" or u.type] + list(conds.values())


def classify(src, facts: Facts, calls) -> list[KeyUse]:
    """KeyUses of loader calls under the given facts; calls known not to run are dropped."""
    uses = []
    for call, btext in calls:
        st = facts.status(call.conds)
        if st is False:
            continue
        a = src.analyze(call, btext)
        if a is None:
            continue
        key, required, req_arg, ty = a
        if required is None:  # the required flag is an expression
            required = eval_bool(req_arg, facts.atom)
        if st is True and required is True:
            uses.append(KeyUse(key, ty, "r"))
        elif required is not False:
            unknown = [] if st is True else st
            cond = [c.describe() for c in unknown] + ([f"required = {text(req_arg)}"] if required is None else [])
            uses.append(KeyUse(key, ty, "c", "; ".join(cond)))
        elif st is True:
            uses.append(KeyUse(key, ty, "o"))
    return merge(uses)


def arch_requirements(src: Source):
    """Per architecture: (name, file that reads its keys, key uses); and names llama.cpp cannot build."""
    mapping = src.mapping()
    base = src.base_calls()
    base_text = text(function_body(src.model_cpp, r"void llama_model_base::load_hparams\s*\(")[1])
    rows, unsupported = [], []
    for enum, name in src.arch_names.items():
        if enum in ("LLM_ARCH_UNKNOWN", "LLM_ARCH_CLIP"):
            continue
        cls = mapping.get(enum)
        if cls is None:
            unsupported.append(name)
            continue
        path, owner, body, helpers = src.arch_hparams_fn(cls)
        w = Walker(body, LOADER_CALLS, helpers)
        w.block(0, len(body), [])
        body_text = text(body)
        calls = []
        for c in base:  # the per-arch calls run where the base calls load_arch_hparams, under its conditions
            if c.fn == "load_arch_hparams":
                calls += [(Call(a.fn, a.args, c.conds + a.conds, a.forced), body_text) for a in w.calls]
            else:
                calls.append((c, base_text))
        uses = classify(src, Facts(arch_enum=enum), calls)
        rows.append((name, f"src/models/{path.name}", uses))
    return rows, unsupported


# ------------------------------------------------------------------ mtmd clip.cpp (mmproj files)

MODALITIES = {"VISION": ("clip.has_vision_encoder", "vision"), "AUDIO": ("clip.has_audio_encoder", "audio"),
              "GEN_AUDIO": ("clip.has_gen_audio_encoder", "gen.audio")}


class ClipSource:
    """clip_model_loader::load_hparams, run once per modality the file declares."""

    def __init__(self, root: Path):
        self.warnings: list[str] = []
        self.clip_cpp = read(root / "tools/mtmd/clip.cpp")
        impl = read(root / "tools/mtmd/clip-impl.h")
        self.macros = dict(re.findall(r'#define\s+(KEY_\w+)\s+"([^"]*)"', impl))
        self.projectors = parse_map(impl, "PROJECTOR_TYPE_NAMES")  # PROJECTOR_TYPE_X -> "name"
        # the per-modality prefix of "clip.%s.*" keys; fail loudly if clip.cpp changes how it picks it
        if 'const char * prefix = is_vision ? "vision" : (is_audio ? "audio" : "gen.audio");' not in self.clip_cpp:
            raise SystemExit("clip.cpp: the modality prefix is no longer chosen as expected; update MODALITIES")
        self.prefix = None

    def key_of(self, arg):
        s = [t.s for t in arg]
        if len(s) == 1 and s[0] in self.macros:
            return self.macros[s[0]]
        if len(s) == 6 and s[0] == "string_format" and s[2] in self.macros:
            p = s[4][1:-1] if s[4].startswith('"') else (self.prefix if s[4] == "prefix" else None)
            return self.macros[s[2]].replace("%s", p) if p else None
        return None

    def analyze(self, call, body_text):
        key = self.key_of(call.args[0]) if call.args else None
        if key is None:
            self.warnings.append(f"clip: unresolved key in {call.fn}({text(call.args[0]) if call.args else ''})")
            return None
        req_arg = call.args[2] if len(call.args) >= 3 else None
        req = True if req_arg is None else LITERALS.get(text(req_arg))
        return key, req, req_arg, CLIP_CALLS[call.fn]

    def requirements(self):
        """Per modality: keys needed whatever the projector; and per projector type, the extra ones."""
        _, body = function_body(self.clip_cpp, r"void load_hparams\(clip_model & model, clip_modality modality\)")
        w = Walker(body, set(CLIP_CALLS), {})
        w.block(0, len(body), [])
        calls = [(c, "") for c in w.calls]
        bools = bool_locals(body)
        # projectors load_hparams renames before its switch: their own requirements are not knowable by name
        renamed = set(re.findall(r"if \(model\.proj_type == (PROJECTOR_TYPE_\w+)\) \{\s*model\.proj_type =",
                                 self.clip_cpp))
        out = {}
        for mod, (_, prefix) in MODALITIES.items():
            self.prefix = prefix
            base = classify(self, Facts(modality=mod, bools=bools), calls)
            base_keys = {u.key: u for u in base if u.need == "r"}
            per_proj = {}
            for enum, pname in self.projectors.items():
                if enum in renamed:
                    continue
                uses = classify(self, Facts(modality=mod, projector=enum, bools=bools), calls)
                extra = [u for u in uses if u.need == "r" and u.key not in base_keys]
                if extra:
                    per_proj[pname] = extra
            cond = [u for u in base if u.need == "c" and not any(
                u.key in {x.key for x in v} for v in per_proj.values())]
            if mod == "VISION":
                # read as optional, but load_hparams then throws unless both have >= 3 elements
                must = "if (image_mean.size() < 3 || image_std.size() < 3) {"
                if must not in self.clip_cpp:
                    raise SystemExit("clip.cpp: the image_mean/image_std check changed; review requirements()")
                for u in base:
                    if u.key in ("clip.vision.image_mean", "clip.vision.image_std"):
                        u.need = "r"
            out[mod] = ([u for u in base if u.need in "ro"], per_proj, cond)
        return out


# ------------------------------------------------------------------ llama-vocab.cpp

def vocab_rules(root: Path) -> dict:
    """Tokenizer facts from llama_vocab::impl::load, checked against the shapes this code expects."""
    src = read(root / "src/llama-vocab.cpp")
    m = re.search(r"void llama_vocab::impl::load\(llama_model_loader & ml, const LLM_KV & kv\) \{(.*?)\n\}\n", src, re.S)
    body = m.group(1)
    need = ['ml.get_key(LLM_KV_TOKENIZER_MODEL, tokenizer_model);',
            'throw std::runtime_error("cannot find tokenizer vocab in model file\\n");',
            'throw std::runtime_error(format("unknown tokenizer: \'%s\'", tokenizer_model.c_str()));',
            'throw std::runtime_error(format("unknown pre-tokenizer type: \'%s\'", tokenizer_pre.c_str()));']
    for n in need:
        if n not in body:
            raise SystemExit(f"llama-vocab.cpp changed: {n!r} not found; review vocab_rules()")
    chain_end = body.index("unknown tokenizer: ")
    chain = body[:chain_end]
    # branches of `if (tokenizer_model == ...) {...} else if (...)`
    starts = [mm.start() for mm in re.finditer(r"(?:if|else if) \(\s*tokenizer_model ==", chain)]
    branches = [chain[a:b] for a, b in zip(starts, starts[1:] + [len(chain)])]
    models, no_vocab, merges, merges_exempt_pre, bpe, pre_forced = [], [], [], {}, [], []
    for br in branches:
        head = br[:br.index("{")]
        names = re.findall(r'tokenizer_model == "([^"]+)"', head)
        models += names
        if re.search(r"\n\s*return;", br):
            no_vocab += names
        if "cannot find tokenizer merges" in br:
            merges += names
            ex = re.findall(r'tokenizer_pre == "([^"]+)"', br)
            for n in names:
                if ex:
                    merges_exempt_pre[n] = ex
        if "LLAMA_VOCAB_TYPE_BPE" in br:
            bpe += names
        if re.search(r'\btokenizer_pre = "', br):
            pre_forced += names
    pre_block = body[body.index("if (type == LLAMA_VOCAB_TYPE_BPE) {", chain_end):body.index("unknown pre-tokenizer type")]
    pres = sorted(set(re.findall(r'tokenizer_pre == "([^"]+)"', pre_block)))
    if not models or not no_vocab or not merges or not pres:
        raise SystemExit("llama-vocab.cpp: tokenizer branches not found; review vocab_rules()")
    return dict(models=models, no_vocab=no_vocab, merges=merges, merges_exempt_pre=merges_exempt_pre,
                bpe=[b for b in bpe if b not in pre_forced], pres=pres)


# ------------------------------------------------------------------ Rust output

def rs(x: str) -> str:
    return '"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rs_key(u: KeyUse) -> str:
    if u.need == "c":
        return f"c({rs(u.key)}, {rs(u.type)}, {rs(u.cond)})"
    return f"{u.need}({rs(u.key)}, {rs(u.type)})"


def rs_keys(us) -> str:
    return "&[" + ", ".join(rs_key(u) for u in us) + "]"


def rs_strs(xs) -> str:
    return "&[" + ", ".join(rs(x) for x in xs) + "]"


def emit(rows, unsupported, clip, vocab, commit: str) -> str:
    # GENERIC: keys every architecture reads, in their most common form; a row lists only the keys
    # it reads differently (it overrides GENERIC) or in addition.
    sig = lambda u: (u.key, u.type, u.need)  # noqa: E731
    everywhere = set.intersection(*[{u.key for u in uses} for _, _, uses in rows])
    forms: dict[str, dict] = {}
    for _, _, uses in rows:
        for u in uses:
            if u.key in everywhere:
                forms.setdefault(u.key, {}).setdefault(sig(u), [0, u])[0] += 1
    generic = [max(f.values(), key=lambda x: x[0])[1] for f in forms.values()]
    generic.sort(key=lambda u: [x.key for x in rows[0][2]].index(u.key))
    common = {sig(u) for u in generic}
    L = []
    w = L.append
    w(f"//! Generated by scripts/gen_required_keys.py from llama.cpp {commit} (vendored in")
    w("//! llama-cpp-python 0.3.36). Do not edit; regenerate with `python3 scripts/gen_required_keys.py`")
    w("//! (its docstring says how to get that source). Key templates: `%s` = general.architecture.")
    w("//! Types: what the loader checks (`u32|[u32,i32,bool]` = a u32, or an array of those elements; `[*]`")
    w("//! any array; empty = unchecked). r = required, o = optional but type-checked when present,")
    w("//! c = required only under the condition given (never enforced).")
    w("")
    w("use super::{c, o, r, Key};")
    w("")
    w("/// The llama.cpp commit this table was generated from.")
    w(f"pub const LLAMA_CPP_COMMIT: &str = {rs(commit)};")
    w("")
    w("/// Keys read for every architecture (`llama_model_base::load_hparams`).")
    w(f"pub const GENERIC: &[Key] = {rs_keys(generic)};")
    w("")
    w("/// Per architecture: name, the file of its `load_arch_hparams` (under src/models/), and the keys it")
    w("/// reads beyond [`GENERIC`] or differently (an entry here replaces the GENERIC one with that key).")
    w("#[rustfmt::skip]")
    w("pub const ARCHS: &[(&str, &str, &[Key])] = &[")
    for name, path, uses in rows:
        w(f"    ({rs(name)}, {rs(path.removeprefix('src/models/'))}, {rs_keys([u for u in uses if sig(u) not in common])}),")
    w("];")
    w("")
    w("/// Architecture names llama.cpp knows but has no model class for (\"unsupported model architecture\").")
    w(f"pub const UNSUPPORTED: &[&str] = {rs_strs(unsupported)};")
    w("")
    w("/// Tokenizer facts from `llama_vocab::impl::load` (src/llama-vocab.cpp).")
    w("pub mod vocab {")
    w("    /// Values of `tokenizer.ggml.model` llama.cpp accepts.")
    w(f"    pub const MODELS: &[&str] = {rs_strs(vocab['models'])};")
    w("    /// Models with no vocabulary: nothing else is read.")
    w(f"    pub const NO_VOCAB: &[&str] = {rs_strs(vocab['no_vocab'])};")
    w("    /// Models that need `tokenizer.ggml.merges`, with the `tokenizer.ggml.pre` values exempted.")
    w("    #[rustfmt::skip]")
    w("    pub const MERGES: &[(&str, &[&str])] = &[" + ", ".join(
        f"({rs(m)}, {rs_strs(vocab['merges_exempt_pre'].get(m, []))})" for m in vocab["merges"]) + "];")
    w("    /// BPE models whose `tokenizer.ggml.pre` (when present) must be one of [`PRE_TOKENIZERS`].")
    w(f"    pub const PRE_CHECKED: &[&str] = {rs_strs(vocab['bpe'])};")
    w("    /// Pre-tokenizer names llama.cpp knows.")
    w("    #[rustfmt::skip]")
    w(f"    pub const PRE_TOKENIZERS: &[&str] = {rs_strs(vocab['pres'])};")
    w("}")
    w("")
    w("/// mmproj files, read by tools/mtmd/clip.cpp `clip_model_loader::load_hparams` once per modality.")
    w("pub mod clip {")
    w("    #[allow(unused_imports)]")
    w("    use super::super::{c, o, r, Key};")
    w("")
    w("    /// Per modality: the flag that enables it, its key prefix, the keys it needs whatever the projector.")
    w("    #[rustfmt::skip]")
    w("    pub const MODALITIES: &[(&str, &str, &[Key])] = &[")
    projs = None
    for mod, (flag, prefix) in MODALITIES.items():
        base, per_proj, _ = clip[mod]
        w(f"        ({rs(flag)}, {rs(prefix)}, {rs_keys(base)}),")
        norm = {k: sorted(u.key for u in v) for k, v in per_proj.items()}
        if projs is None:
            projs = (per_proj, norm)
        elif norm != projs[1]:
            raise SystemExit("clip: projector requirements differ between modalities; emit them per modality")
    w("    ];")
    w("    /// Extra keys per projector type (the `switch (model.proj_type)` in load_hparams).")
    w("    #[rustfmt::skip]")
    w("    pub const PROJECTORS: &[(&str, &[Key])] = &[")
    for k, v in projs[0].items():
        w(f"        ({rs(k)}, {rs_keys(v)}),")
    w("    ];")
    w("    /// Projector type names clip.cpp knows (`PROJECTOR_TYPE_NAMES`).")
    w("    #[rustfmt::skip]")
    w(f"    pub const PROJECTOR_NAMES: &[&str] = {rs_strs(clip['names'])};")
    w("}")
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", nargs="?", type=Path, default=DEFAULT_SRC)
    ap.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--dump", action="store_true", help="print the per-architecture analysis instead")
    args = ap.parse_args()
    if not (args.src / "src/llama-model.cpp").is_file():
        raise SystemExit(f"{args.src}: not a llama.cpp source tree (see this script's docstring)")
    src, csrc = Source(args.src), ClipSource(args.src)
    rows, unsupported = arch_requirements(src)
    clip = csrc.requirements()
    clip["names"] = sorted(set(csrc.projectors.values()))
    vocab = vocab_rules(args.src)
    if args.dump:
        for name, path, uses in rows:
            print(f"{name} ({path})")
            for u in uses:
                print(f"   {u.need} {u.key}:{u.type}" + (f"  [{u.cond}]" if u.cond else ""))
        print("unsupported:", unsupported)
    for w in sorted(set(src.warnings + csrc.warnings)):
        print("warning:", w, file=sys.stderr)
    if not args.dump:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(emit(rows, unsupported, clip, vocab, git_commit(args.src)))
        print(f"wrote {args.out}: {len(rows)} architectures", file=sys.stderr)


if __name__ == "__main__":
    main()
