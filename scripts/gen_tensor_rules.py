#!/usr/bin/env python3
"""Generates src/model/tensors/llama_cpp.rs: the tensors llama.cpp's loader asks for, per architecture.

    python3 scripts/gen_tensor_rules.py [LLAMA_CPP_SRC]

llama.cpp's `llama_model_base::load_tensors` calls the architecture's `load_arch_tensors`, which calls
`create_tensor(tn(LLM_TENSOR_X, "weight", il), {shape...}, flags)` for every tensor, under loops and
conditions over the hyperparameters; `llama_model_loader::create_tensor` then refuses a missing
required tensor or a wrong shape, and `done_getting_tensors` a file with tensors it never asked for.
This script translates each `load_arch_tensors` body (and the helpers it calls: the model's own
lambdas, `create_tensor_qkv`, `create_tensor_gate_up_exps`, and the generic pass over optional
`.scale` tensors that follows it in `load_tensors`) into a small JSON program that
`src/model/tensors/` interprets against a file's hyperparameters, without llama.cpp.

What it cannot translate becomes an explicit unknown ("?"): an unknown value makes a shape dimension
unchecked, an unknown condition makes the tensors under it optional and the tensor count unchecked,
an untranslatable statement that creates tensors turns the count check off for the architecture.
The interpreter never fails a file on an unknown.

Program format (JSON arrays, first element the operator):
  statements: ["seq", s...] ["let", var, e] ["if", c, then, else] ["for", var, from, to, body]
              ["t", target, name, [dims...], flags, op_none] ["call", fn, args...] ["throw", msg]
              ["ret"] ["unk", text] ["layer", e]
  expressions: int, ["v", var], ["hp", field, args...], ["fld", field], ["fldi", e, field],
               ["has", name], ["arch", name], [op, a, b] for + - * / % == != < > <= >= && || & | ^ << >>,
               ["!", a], ["neg", a], ["~", a], ["?:", c, a, b], ["max", a, b], ["min", a, b], ["?"]
  names: ["n", part...] where a part is a string or an expression (formatted as %d)
  targets: "" (not kept), "v:NAME" (a variable or model member), "f:FIELD" (a field of the current layer)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SRC = Path.home() / ".cache/gguf-meter/llama.cpp/src/llama_cpp_python-0.3.36/vendor/llama.cpp"
OUT = REPO / "src/model/tensors/llama_cpp.rs"

FLAGS = {"TENSOR_NOT_REQUIRED": 1, "TENSOR_DUPLICATED": 2, "TENSOR_SKIP": 4, "TENSOR_SKIP_IF_VIRTUAL": 8,
         "TENSOR_ALLOW_RESHAPE": 16, "TENSOR_READ_LAZY": 32}
ROPE = {"LLAMA_ROPE_SCALING_TYPE_NONE": 0, "LLAMA_ROPE_SCALING_TYPE_LINEAR": 1, "LLAMA_ROPE_SCALING_TYPE_YARN": 2,
        "LLAMA_ROPE_SCALING_TYPE_LONGROPE": 3}
# LLAMA_LOAD_LOCALS (llama-model.h): local name -> hparams accessor.
LOCALS = {"n_layer": "n_layer", "n_layer_all": "n_layer_all", "n_layer_nextn": "n_layer_nextn", "n_head": "n_head",
          "n_head_kv": "n_head_kv", "n_embd": "n_embd", "n_embd_k_gqa": "n_embd_k_gqa", "n_embd_v_gqa": "n_embd_v_gqa",
          "n_embd_head_k": "n_embd_head_k", "n_embd_head_v": "n_embd_head_v", "n_ff": "n_ff", "n_embd_gqa": "n_embd_v_gqa",
          "n_vocab": "n_vocab", "n_token_types": "n_token_types", "n_rot": "n_rot", "n_expert": "n_expert",
          "n_expert_used": "n_expert_used", "n_ctx_train": "n_ctx_train"}
TYPES = {"int", "int64_t", "uint32_t", "int32_t", "uint64_t", "bool", "auto", "size_t", "float", "unsigned", "long",
         "uint16_t", "int16_t", "uint8_t", "int8_t", "double"}
IGNORED_CALLS = {"GGML_ASSERT", "GGML_UNUSED", "LLAMA_LOG_INFO", "LLAMA_LOG_WARN", "LLAMA_LOG_DEBUG", "LLAMA_LOG_ERROR",
                 "LLAMA_LOAD_LOCALS", "GGML_LOG_WARN", "assert"}

TOKEN = re.compile(r"""
    (?P<ws>\s+|//[^\n]*|/\*.*?\*/)
  | (?P<str>"(?:\\.|[^"\\])*")
  | (?P<chr>'(?:\\.|[^'\\])*')
  | (?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?[uUlLfF]*)
  | (?P<id>[A-Za-z_]\w*)
  | (?P<op>::|->|<<=|>>=|<=|>=|==|!=|&&|\|\||\+\+|--|\+=|-=|\*=|/=|\|=|&=|<<|>>|[-+*/%<>=!&|^~?:;,.(){}\[\]#])
""", re.S | re.X)


def tokenize(s: str) -> list[str]:
    out, i = [], 0
    while i < len(s):
        m = TOKEN.match(s, i)
        if not m:
            raise ValueError(f"cannot tokenize at {s[i:i + 40]!r}")
        i = m.end()
        if m.lastgroup != "ws":
            out.append(m.group())
    return out


def close(toks: list[str], i: int) -> int:
    """Index of the bracket closing the one at toks[i]."""
    pairs = {"(": ")", "{": "}", "[": "]"}
    o, c, d = toks[i], pairs[toks[i]], 0
    for j in range(i, len(toks)):
        if toks[j] == o:
            d += 1
        elif toks[j] == c:
            d -= 1
            if d == 0:
                return j
    raise ValueError("unbalanced")


def split_top(toks: list[str], sep: str = ",") -> list[list[str]]:
    parts, cur, d = [], [], 0
    for t in toks:
        if t in "({[":
            d += 1
        elif t in ")}]":
            d -= 1
        if t == sep and d == 0:
            parts.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur or parts:
        parts.append(cur)
    return parts


def func_body(text: str, sig_re: str) -> tuple[str, list[str]] | None:
    m = re.search(sig_re, text)
    if not m:
        return None
    i = text.index("{", m.end() - 1)
    d = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            d += 1
        elif text[j] == "}":
            d -= 1
            if d == 0:
                return text[i + 1:j], m.groups()
    return None


class Ctx:
    """What the translator knows while reading one function: tensor names, locals, lambdas."""

    def __init__(self, tensor_names: dict, op_none: set, fns: dict):
        self.tensor_names = tensor_names
        self.op_none = op_none
        self.fns = fns  # name -> (params, body) of lambdas translated so far
        self.methods: dict = {}  # member helpers: name -> (params, body)
        self.strings: dict = {}  # std::string locals holding a tensor name
        self.string_enums: dict = {}  # the LLM_TENSOR_* of those built with tn()
        self.locals: set[str] = set()


# ------------------------------------------------------------------ expressions

PREC = [["||"], ["&&"], ["|"], ["^"], ["&"], ["==", "!="], ["<", ">", "<=", ">="], ["<<", ">>"], ["+", "-"], ["*", "/", "%"]]


class Expr:
    def __init__(self, toks: list[str], ctx: Ctx):
        self.t, self.i, self.ctx = toks, 0, ctx

    def peek(self, k=0):
        return self.t[self.i + k] if self.i + k < len(self.t) else None

    def take(self):
        self.i += 1
        return self.t[self.i - 1]

    def parse(self):
        e = self.ternary()
        if self.i != len(self.t):
            return ["?"]
        return e

    def ternary(self):
        c = self.binary(0)
        if self.peek() == "?":
            self.take()
            a = self.ternary()
            if self.peek() != ":":
                return ["?"]
            self.take()
            b = self.ternary()
            return ["?:", c, a, b]
        return c

    def binary(self, level):
        if level == len(PREC):
            return self.unary()
        a = self.binary(level + 1)
        while self.peek() in PREC[level]:
            op = self.take()
            b = self.binary(level + 1)
            a = [op, a, b]
        return a

    def unary(self):
        t = self.peek()
        if t == "!":
            self.take()
            return ["!", self.unary()]
        if t == "-":
            self.take()
            return ["neg", self.unary()]
        if t == "+":
            self.take()
            return self.unary()
        if t == "~":
            self.take()
            return ["~", self.unary()]
        if t == "(":
            j = close(self.t, self.i)
            inner = self.t[self.i + 1:j]
            # a C cast: (int) x, (int64_t) x, (uint32_t) x
            if len(inner) == 1 and inner[0] in TYPES:
                self.i = j + 1
                return self.unary()
            self.i = j + 1
            return self.postfix(Expr(inner, self.ctx).parse())
        return self.postfix(self.primary())

    def postfix(self, e):
        return e

    def args(self):
        j = close(self.t, self.i)
        a = split_top(self.t[self.i + 1:j])
        self.i = j + 1
        return a

    def primary(self):
        t = self.take()
        if t is None:
            return ["?"]
        if re.fullmatch(r"\d+[uUlL]*", t):
            return int(re.sub(r"[uUlL]", "", t))
        if re.fullmatch(r"\d.*", t):
            return ["?"]  # a float
        if t in ("true", "false"):
            return int(t == "true")
        if t in ("nullptr", "NULL"):
            return 0
        if t in FLAGS:
            return FLAGS[t]
        if t in ROPE:
            return ROPE[t]
        if t == "static_cast" and self.peek() == "<":
            j = self.t.index(">", self.i)
            self.i = j + 1
            inner = self.args()
            return Expr(inner[0], self.ctx).parse() if len(inner) == 1 else ["?"]
        if t == "std" and self.peek() == "::":
            self.take()
            f = self.take()
            if f in ("max", "min") and self.peek() == "(":
                a = self.args()
                if len(a) == 2:
                    return [f, Expr(a[0], self.ctx).parse(), Expr(a[1], self.ctx).parse()]
            return self.skip_unknown()
        if t == "hparams" and self.peek() == ".":
            self.take()
            field = self.take()
            while self.peek() == "." and self.peek(1) and re.fullmatch(r"\w+", self.peek(1)):
                self.take()
                field += "." + self.take()
            if self.peek() == "(":
                a = self.args()
                return ["hp", field] + [Expr(x, self.ctx).parse() for x in a if x]
            if self.peek() == "[":
                j = close(self.t, self.i)
                idx = Expr(self.t[self.i + 1:j], self.ctx).parse()
                self.i = j + 1
                return ["hp", field, idx]
            return ["hp", field]
        if t == "vocab" and self.peek() == "." and self.peek(1) in ("n_tokens", "n_token_types"):
            self.take()
            f = self.take()
            self.args()
            return ["hp", "n_vocab" if f == "n_tokens" else "n_token_types"]
        if t == "ml" and self.peek() in (".", "->"):
            self.take()
            f = self.take()
            if f == "load_mtp":
                return 0  # llama_model_params.load_mtp defaults to false (llama-server too)
            if f in ("get_weight", "get_tensor_meta") and self.peek() == "(":
                a = self.args()
                name = name_expr(a[0], self.ctx) if len(a) == 1 else None
                return ["has", name] if name else ["?"]
            return self.skip_unknown()
        if t == "arch" and self.peek() in ("==", "!="):
            op = self.take()
            other = self.take()
            if other and other.startswith("LLM_ARCH_"):
                e = ["arch", other]
                return e if op == "==" else ["!", e]
            return ["?"]
        if t == "layer" and self.peek() == "." and self.peek(2) not in ("(", "["):
            self.take()
            f = self.take()
            return ["fld", f]
        if t == "layers" and self.peek() == "[":
            j = close(self.t, self.i)
            idx = Expr(self.t[self.i + 1:j], self.ctx).parse()
            self.i = j + 1
            if self.peek() == "." and self.peek(2) not in ("(", "["):
                self.take()
                return ["fldi", idx, self.take()]
            return self.skip_unknown()
        if re.fullmatch(r"[A-Za-z_]\w*", t):
            if self.peek() in ("(", ".", "->", "[", "::"):
                return self.skip_unknown()
            if t in self.ctx.locals:
                return ["v", t]
            if t in LOCALS:
                return ["hp", LOCALS[t]]
            return ["v", t]
        return ["?"]

    def skip_unknown(self):
        # consume the rest of a postfix chain: calls, members, indexes
        while self.peek() in ("(", ".", "->", "[", "::"):
            if self.peek() in ("(", "["):
                self.i = close(self.t, self.i) + 1
            else:
                self.take()
                if self.peek() and re.fullmatch(r"\w+", self.peek()):
                    self.take()
        return ["?"]


def expr(toks: list[str], ctx: Ctx):
    if not toks:
        return ["?"]
    try:
        return Expr(toks, ctx).parse()
    except (ValueError, IndexError):
        return ["?"]


def name_expr(toks: list[str], ctx: Ctx):
    """A tensor name: tn(LLM_TENSOR_X, "suffix", bid, xid), or a string literal / concatenation."""
    if len(toks) > 8 and toks[0] == "tn" and toks[-8:] == [".", "str", "(", ")", ".", "c_str", "(", ")"] and close(toks, 1) == len(toks) - 9:
        toks = toks[:-8]
    if len(toks) >= 4 and toks[0] == "tn" and toks[1] == "(" and close(toks, 1) == len(toks) - 1:
        a = split_top(toks[2:close(toks, 1)])
        if not a or len(a[0]) != 1 or a[0][0] not in ctx.tensor_names:
            return None
        fmt = ctx.tensor_names[a[0][0]]
        rest = a[1:]
        suffix = None
        if rest and len(rest[0]) == 1 and rest[0][0].startswith('"'):
            suffix = json.loads(rest[0][0])
            rest = rest[1:]
        ids = [expr(x, ctx) for x in rest]
        pieces = fmt.split("%d")
        parts: list = []
        for k, p in enumerate(pieces):
            if p:
                parts.append(p)
            if k < len(pieces) - 1:
                if k >= len(ids):
                    return None
                parts.append(ids[k])
        if suffix is not None:
            parts.append("." + suffix)
        return ["n"] + merge_strings(parts)
    if toks and toks[-2:] == [".", "c_str"]:
        pass
    # "blk." + std::to_string(n) + ".x" (a std::string, possibly via a local) or a literal
    if len(toks) == 1 and toks[0].startswith('"'):
        return ["n", json.loads(toks[0])]
    if len(toks) >= 4 and toks[-4:] == [".", "c_str", "(", ")"]:
        toks = toks[:-4]
        if len(toks) == 1 and toks[0] in ctx.strings:
            return ctx.strings[toks[0]]
    return string_concat(toks, ctx)


def string_concat(toks: list[str], ctx: Ctx):
    parts: list = []
    for p in split_top(toks, "+"):
        if len(p) == 1 and p[0].startswith('"'):
            parts.append(json.loads(p[0]))
        elif len(p) >= 5 and p[:4] == ["std", "::", "to_string", "("] and p[-1] == ")":
            parts.append(expr(p[4:-1], ctx))
        elif len(p) == 1 and p[0] in getattr(ctx, "strings", {}):
            parts.extend(ctx.strings[p[0]][1:])
        else:
            return None
    return ["n"] + merge_strings(parts) if parts else None


def merge_strings(parts):
    out = []
    for p in parts:
        if isinstance(p, str) and out and isinstance(out[-1], str):
            out[-1] += p
        else:
            out.append(p)
    return out


# ------------------------------------------------------------------ statements

def assigned_names(toks: list[str]) -> list[str]:
    out = []
    for k in range(1, len(toks)):
        if toks[k] in ("=", "|=", "&=", "+=", "-=", "*=", "/=", "++", "--") and re.fullmatch(r"[A-Za-z_]\w*", toks[k - 1]):
            if k >= 2 and toks[k - 2] in (".", "->"):
                continue
            out.append(toks[k - 1])
    return out


def unknown(toks: list[str], ctx: Ctx):
    """A statement not translated: tensors it may create are unknown, variables it may set too."""
    text = " ".join(toks)[:120]
    out = [["let", n, ["?"]] for n in assigned_names(toks) if n not in ("layer",)]
    for k in range(len(toks) - 3):
        if toks[k] == "layer" and toks[k + 1] == "." and toks[k + 3] == "=":
            out.append(["setf", toks[k + 2], ["?"]])
    if "create_tensor" in toks or any(t in ctx.fns or t in ctx.methods for t in toks):
        out.append(["unk", text])
    return out


class Stmts:
    def __init__(self, toks: list[str], ctx: Ctx):
        self.t, self.i, self.ctx = toks, 0, ctx

    def all(self):
        out = []
        while self.i < len(self.t):
            out.extend(self.stmt())
        return out

    def block_or_stmt(self):
        if self.t[self.i] == "{":
            j = close(self.t, self.i)
            inner = Stmts(self.t[self.i + 1:j], self.ctx).all()
            self.i = j + 1
            return ["seq"] + inner
        return ["seq"] + self.stmt()

    def until_semi(self):
        j, d = self.i, 0
        while j < len(self.t):
            t = self.t[j]
            if t in "({[":
                d += 1
            elif t in ")}]":
                d -= 1
            elif t == ";" and d == 0:
                break
            j += 1
        s = self.t[self.i:j]
        self.i = j + 1
        return s

    def stmt(self) -> list:
        t = self.t[self.i]
        if t == ";":
            self.i += 1
            return []
        if t == "{":
            return [self.block_or_stmt()]
        if t == "if":
            j = close(self.t, self.i + 1)
            c = expr(self.t[self.i + 2:j], self.ctx)
            self.i = j + 1
            a = self.block_or_stmt()
            b = ["seq"]
            if self.i < len(self.t) and self.t[self.i] == "else":
                self.i += 1
                b = self.block_or_stmt()
            return [["if", c, a, b]]
        if t == "for":
            j = close(self.t, self.i + 1)
            head = split_top(self.t[self.i + 2:j], ";")
            self.i = j + 1
            body = self.block_or_stmt()
            loop = self.for_loop(head, body)
            return [loop] if loop else unknown(["for"] + body_text(body), self.ctx) + [["unk", "for"]] * int(has_create(body))
        if t in ("while", "do", "switch", "try"):
            start = self.i
            self.i += 1
            if self.t[self.i] == "(":
                self.i = close(self.t, self.i) + 1
            if self.i < len(self.t) and self.t[self.i] == "{":
                self.i = close(self.t, self.i) + 1
            while self.i < len(self.t) and self.t[self.i] in ("catch", "while"):
                self.i += 1
                if self.t[self.i] == "(":
                    self.i = close(self.t, self.i) + 1
                if self.i < len(self.t) and self.t[self.i] == "{":
                    self.i = close(self.t, self.i) + 1
            if self.i < len(self.t) and self.t[self.i] == ";":
                self.i += 1
            return unknown(self.t[start:self.i], self.ctx)
        if t == "throw":
            s = self.until_semi()
            msg = next((json.loads(x) for x in s if x.startswith('"')), "")
            return [["throw", msg]]
        if t == "return":
            self.until_semi()
            return [["ret"]]
        if t in ("break", "continue"):
            self.until_semi()
            return [["unk", t]]
        s = self.until_semi()
        return self.simple(s)

    def for_loop(self, head, body):
        if len(head) != 3:
            return None
        init, cond, step = head
        if len(init) < 4 or init[-3] not in TYPES and init[0] not in TYPES:
            return None
        if "=" not in init:
            return None
        k = init.index("=")
        var = init[k - 1]
        start = expr(init[k + 1:], self.ctx)
        if len(cond) < 3 or cond[0] != var or cond[1] not in ("<", "<="):
            return None
        end = expr(cond[2:], self.ctx)
        if cond[1] == "<=":
            end = ["+", end, 1]
        if step not in (["++", var], [var, "++"]):
            return None
        return ["for", var, start, end, body]

    def simple(self, s: list[str]) -> list:
        ctx = self.ctx
        if not s:
            return []
        if s[0] in IGNORED_CALLS:
            return []
        # auto & layer = layers[i];
        if s[:4] == ["auto", "&", "layer", "="] and s[4:6] == ["layers", "["] and s[-1] == "]":
            return [["layer", expr(s[6:-1], ctx)]]
        # lambdas: auto name = [&](params) { body };
        if len(s) > 4 and s[0] == "auto" and s[2] == "=" and s[3] == "[":
            name = s[1]
            j = close(s, 3)
            if j + 1 < len(s) and s[j + 1] == "(":
                k = close(s, j + 1)
                params = [p[-1] for p in split_top(s[j + 2:k]) if p]
                ctx.locals.update(params)
                b = s.index("{", k)
                body = Stmts(s[b + 1:close(s, b)], ctx).all()
                ctx.fns[name] = (params, ["seq"] + body)
                return [["def", name]]
            return []
        # declarations
        decl = s
        while decl and decl[0] in ("const", "static", "constexpr", "unsigned"):
            decl = decl[1:]
        if decl and decl[0] == "std" and decl[1:3] == ["::", "string"]:
            if len(decl) > 4 and decl[4] == "=":
                ctx.strings = getattr(ctx, "strings", {})
                n = string_concat(decl[5:], ctx)
                if n:
                    ctx.strings[decl[3]] = n
            return []
        if decl and decl[0] in TYPES and len(decl) > 1 and decl[1] not in ("(", "::"):
            out = []
            for part in split_top(decl[1:]):
                part = [x for x in part if x != "&"]
                if not part:
                    continue
                name = part[0]
                ctx.locals.add(name)
                if len(part) > 2 and part[1] == "=":
                    rhs = part[2:]
                    # a tensor name kept for later: const auto tn_x = tn(LLM_TENSOR_X, "weight", i);
                    n = name_expr(rhs, ctx) if rhs[:2] == ["tn", "("] else None
                    if n:
                        ctx.strings[name] = n
                        ctx.string_enums[name] = rhs[2]
                        continue
                    if rhs[:1] == ["create_tensor"]:
                        out.append(self.create(rhs, "v:" + name))
                    elif "create_tensor" in rhs or any(x in ctx.fns or x in ctx.methods for x in rhs):
                        out.extend(unknown(s, ctx))
                    else:
                        out.append(["let", name, expr(rhs, ctx)])
                elif len(part) == 1:
                    out.append(["let", name, 0])
                else:
                    out.append(["let", name, ["?"]])
            return out
        # assignments
        for op in ("|=", "&=", "+=", "-=", "*=", "="):
            if op in s:
                k = s.index(op)
                if any(x in ("(", "[") for x in s[:k]) and not (s[0] == "layer" or s[0] == "layers"):
                    break
                lhs, rhs = s[:k], s[k + 1:]
                target = self.target(lhs)
                if rhs[:1] == ["create_tensor"]:
                    if op != "=":
                        return unknown(s, ctx)
                    return [self.create(rhs, target)]
                if "create_tensor" in rhs or any(x in ctx.fns or x in ctx.methods for x in rhs):
                    return unknown(s, ctx)
                if target.startswith("v:"):
                    v = expr(rhs, ctx)
                    if op != "=":
                        v = [op[0] if op[0] != "|" else "|", ["v", target[2:]], v] if op[0] in "|&+-*" else ["?"]
                    return [["let", target[2:], v]]
                if target.startswith("f:"):
                    return [["setf", target[2:], expr(rhs, ctx)]]
                return unknown(s, ctx)
        if s[0] == "create_tensor":
            return [self.create(s, "")]
        if len(s) >= 3 and s[1] == "(" and close(s, 1) == len(s) - 1:
            fn = s[0]
            args = split_top(s[2:-1])
            if fn in ctx.fns or fn in ctx.methods:
                params = (ctx.fns.get(fn) or ctx.methods[fn])[0]
                ea = []
                for p, a in zip(params, args):
                    ea.append(expr(a, ctx))
                return [["call", fn] + ea]
            return unknown(s, ctx)
        return unknown(s, ctx)

    def rhs(self, toks, name):
        if toks[:1] == ["create_tensor"]:
            return ["?"]
        return expr(toks, self.ctx)

    def target(self, lhs):
        if len(lhs) == 1:
            return "v:" + lhs[0]
        if len(lhs) == 3 and lhs[0] == "layer" and lhs[1] == ".":
            return "f:" + lhs[2]
        if len(lhs) == 5 and lhs[0] == "layer" and lhs[1] == "." and lhs[3] == ".":
            return "f:" + lhs[2] + "." + lhs[4]
        return ""

    def create(self, toks, target):
        ctx = self.ctx
        if toks[1] != "(" or close(toks, 1) != len(toks) - 1:
            return ["unk", " ".join(toks)[:100]]
        a = split_top(toks[2:-1])
        if len(a) != 3:
            return ["unk", " ".join(toks)[:100]]
        name = name_expr(a[0], ctx)
        if name is None:
            return ["unk", " ".join(toks)[:100]]
        if a[1][:1] != ["{"] or close(a[1], 0) != len(a[1]) - 1:
            dims = None
        else:
            dims = [expr(d, ctx) for d in split_top(a[1][1:-1])]
        flags = expr(a[2], ctx)
        enum = a[0][2] if len(a[0]) > 2 else ctx.string_enums.get(a[0][0], "")
        # a token_embd created as TENSOR_DUPLICATED is loaded as the output (create_tensor)
        op_none = int(enum in ctx.op_none)
        return ["t", target, name, dims if dims is not None else "?", flags, op_none, enum]


def has_create(s) -> bool:
    return isinstance(s, list) and (s[:1] in (["t"], ["unk"], ["call"]) or any(has_create(x) for x in s))


def body_text(s):
    return []


def translate(body: str, ctx: Ctx) -> list:
    toks = tokenize(body)
    return ["seq"] + Stmts(toks, ctx).all()


def main() -> None:
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SRC
    arch_cpp = (src / "src/llama-arch.cpp").read_text()
    model_cpp = (src / "src/llama-model.cpp").read_text()
    hparams_h = (src / "src/llama-hparams.h").read_text()
    models_h = (src / "src/models/models.h").read_text()

    arch_names = dict(re.findall(r"\{\s*(LLM_ARCH_\w+),\s*\"([^\"]+)\"\s*\}", arch_cpp))
    kv_names = dict(re.findall(r"\{\s*(LLM_KV_\w+),\s*\"([^\"]+)\"\s*\}", arch_cpp))
    tensor_names = dict(re.findall(r"\{\s*(LLM_TENSOR_\w+),\s*\"([^\"]+)\"\s*\}", arch_cpp))
    op_none = set(re.findall(r"\{\s*(LLM_TENSOR_\w+),\s*\{\s*LLM_TENSOR_LAYER_\w+,\s*GGML_OP_NONE\s*\}\s*\}", arch_cpp))

    # architecture -> model class (llama_model_mapping) and class -> parent (models.h)
    mapping = func_body(model_cpp, r"static llama_model \* llama_model_mapping\(")[0]
    classes, pending = {}, []
    for line in mapping.splitlines():
        pending += re.findall(r"case (LLM_ARCH_\w+):", line)
        m = re.search(r"return new (llama_model_\w+)\(", line)
        if m:
            for a in pending:
                classes[a] = m.group(1)
            pending = []
    parents = dict(re.findall(r"struct (llama_model_\w+)\s*:\s*public (llama_model_\w+)", models_h))

    sources = [p.read_text() for p in sorted((src / "src/models").glob("*.cpp"))] + [model_cpp]
    allsrc = "\n".join(sources)

    def method(cls: str, name: str):
        c = cls
        while c:
            fb = func_body(allsrc, r"void " + c + r"::" + name + r"\(([^)]*)\)\s*(?:const\s*)?\{")
            if fb:
                return c, fb
            c = parents.get(c)
        return None

    # member helpers the architectures call: void llama_model_X::helper(params) { ... }
    helper_sigs = re.findall(r"void (llama_model_\w+)::(\w+)\(([^)]*)\)\s*\{", allsrc)

    # hparams defaults (llama-hparams.h): integers and bools only; arrays and floats unknown
    defaults = {}
    hp_body = hparams_h[hparams_h.index("struct llama_hparams {"):]
    for ty, name, val in re.findall(r"^\s*(bool|u?int(?:8|16|32|64)_t|float|enum \w+|llama_\w+)\s+(\w+)(?:\s*=\s*([^;]+))?;", hp_body, re.M):
        if ty == "float" or ty.startswith("enum") or ty.startswith("llama_"):
            continue
        val = (val or "0").strip()
        if val in ("false", "true"):
            defaults[name] = int(val == "true")
        elif re.fullmatch(r"-?\d+", val):
            defaults[name] = int(val)

    def hparam_reads(text: str):
        reads, assigned = {}, set()
        for call, kv, field in re.findall(r"ml\.(get_key|get_key_or_arr|get_arr)\(\s*(LLM_KV_\w+)\s*,\s*hparams\.([\w.]+)", text):
            if kv in kv_names:
                key = kv_names[kv]
                if not key.startswith("%s."):
                    assigned.add(field)
                    continue
                reads.setdefault(field, []).append([key[3:], call])
        for field in re.findall(r"hparams\.([\w.]+)\s*(?:=[^=]|\|=|\+=|-=)", text):
            assigned.add(field)
        for field in re.findall(r"std::fill\(\s*hparams\.(\w+)", text):
            assigned.add(field)
        for field in re.findall(r"hparams\.(set_swa_pattern|set_dense_start_swa_pattern)", text):
            assigned.add("is_swa_impl")
        return reads, assigned

    out_classes = {}
    common_fns = {}
    methods = {}
    base_ctx = Ctx(tensor_names, op_none, {})
    base_ctx.methods = {}
    # shared helpers from llama_model_base
    for name in ("create_tensor_qkv", "create_tensor_gate_up_exps"):
        fb = func_body(model_cpp, r"void llama_model_base::" + name + r"\(([^)]*)\)\s*\{")
        params = [p.split()[-1].lstrip("&") for p in fb[1][0].split(",")]
        ctx = Ctx(tensor_names, op_none, {})
        ctx.methods = {}
        ctx.locals = set(params)
        body = translate(fb[0], ctx)
        common_fns[name] = [params, body]
        methods[name] = (params, body)

    # the generic pass over optional .scale / .input_scale tensors after load_arch_tensors
    lt = func_body(model_cpp, r"bool llama_model_base::load_tensors\(")[0]
    a = lt.index("load_arch_tensors(ml);") + len("load_arch_tensors(ml);")
    b = lt.index("ml.done_getting_tensors();")
    ctx = Ctx(tensor_names, op_none, {})
    ctx.methods = {}
    epilogue = translate(lt[a:b].rsplit("}", 1)[0], ctx)

    for cls in sorted(set(classes.values())):
        found = method(cls, "load_arch_tensors")
        if not found:
            continue
        owner, (body, _) = found
        if owner in out_classes:
            if cls != owner:
                out_classes[cls] = {"same": owner}
            continue
        ctx = Ctx(tensor_names, op_none, {})
        ctx.methods = dict(methods)
        # other member helpers of this class (and its parents)
        c = owner
        while c:
            for hc, hn, hp in helper_sigs:
                if hc == c and hn not in ("load_arch_hparams", "load_arch_tensors") and hn not in ctx.methods:
                    fb = func_body(allsrc, r"void " + hc + r"::" + hn + r"\(([^)]*)\)\s*\{")
                    if fb and "create_tensor" in fb[0]:
                        params = [p.split()[-1].lstrip("&") for p in hp.split(",") if p.strip()]
                        hctx = Ctx(tensor_names, op_none, {})
                        hctx.methods = dict(methods)
                        hctx.locals = set(params)
                        ctx.methods[hn] = (params, translate(fb[0], hctx))
            c = parents.get(c)
        prog = translate(body, ctx)
        fns = {k: [v[0], v[1]] for k, v in ctx.fns.items()}
        fns.update({k: [v[0], v[1]] for k, v in ctx.methods.items() if k not in common_fns})
        out_classes[owner] = {"body": prog, "fns": fns}
        if cls != owner:
            out_classes[cls] = {"same": owner}

    generic_reads, generic_assigned = hparam_reads(func_body(model_cpp, r"void llama_model_base::load_hparams\(")[0])
    archs = []
    for arch, name in sorted(arch_names.items(), key=lambda x: x[1]):
        cls = classes.get(arch)
        if not cls or cls not in out_classes:
            continue
        owner = out_classes[cls].get("same", cls)
        hp = method(cls, "load_arch_hparams")
        reads, assigned = hparam_reads(hp[1][0]) if hp else ({}, set())
        # the generic reads of llama_model_base::load_hparams come after the architecture's own
        for field, ks in generic_reads.items():
            reads.setdefault(field, []).extend(ks)
        archs.append({"arch": name, "enum": arch, "class": owner, "reads": reads, "assigned": sorted(assigned)})

    data = {"classes": {k: v for k, v in out_classes.items() if "same" not in v}, "common": common_fns,
            "epilogue": epilogue, "archs": archs, "defaults": defaults}
    emit(data, git_commit(src))


def git_commit(src: Path) -> str:
    try:
        return subprocess.run(["git", "-C", str(src), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip() or "0c1e570"
    except OSError:
        return "0c1e570"


def count(node, op):
    if isinstance(node, list):
        return int(node[:1] == [op]) + sum(count(x, op) for x in node)
    if isinstance(node, dict):
        return sum(count(x, op) for x in node.values())
    return 0


def emit(data, commit: str) -> None:
    def js(x):
        return json.dumps(x, separators=(",", ":"))

    lines = [
        "// @generated by scripts/gen_tensor_rules.py from llama.cpp's src/models/*.cpp `load_arch_tensors`,",
        "// src/llama-model.cpp (`load_tensors`, `create_tensor_qkv`, `create_tensor_gate_up_exps`),",
        f"// src/llama-arch.cpp (tensor names) and src/llama-hparams.h (defaults); llama.cpp {commit}. Do not edit.",
        f"// {count(data, 't')} create_tensor calls translated, {count(data, 'unk')} statements left unknown.",
        "",
        "/// One program per model class: `(class, JSON)` with `body` and the class's own helper `fns`.",
        "#[rustfmt::skip]",
        "pub static CLASSES: &[(&str, &str)] = &[",
    ]
    for k, v in sorted(data["classes"].items()):
        lines.append(f"    ({js(k)}, r#\"{js(v)}\"#),")
    lines += ["];", "", "/// Helpers every class may call (`llama_model_base`).",
              f"pub static COMMON: &str = r#\"{js(data['common'])}\"#;", "",
              "/// The generic pass of `load_tensors` after `load_arch_tensors` (optional `.scale` tensors).",
              f"pub static EPILOGUE: &str = r#\"{js(data['epilogue'])}\"#;", "",
              "/// Integer defaults of `llama_hparams` fields.",
              f"pub static DEFAULTS: &str = r#\"{js(data['defaults'])}\"#;", "",
              "/// Per architecture: `(name, enum, class, hparams fields read from keys, fields set otherwise)`, the",
              "/// last two as JSON.",
              "#[rustfmt::skip]",
              "pub static ARCHS: &[(&str, &str, &str, &str, &str)] = &["]
    for a in data["archs"]:
        lines.append(f"    ({js(a['arch'])}, {js(a['enum'])}, {js(a['class'])}, r#\"{js(a['reads'])}\"#, r#\"{js(a['assigned'])}\"#),")
    lines += ["];", ""]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines))
    print(f"wrote {OUT}: {len(data['classes'])} classes, {len(data['archs'])} architectures, "
          f"{count(data, 't')} create_tensor, {count(data, 'unk')} unknown statements")


if __name__ == "__main__":
    main()
