#!/usr/bin/env python3
"""Remote reads at the speed of the network: gguf-meter and @huggingface/gguf against a local
fake Hugging Face Hub with injected latency.

    python3 scripts/bench-remote.py [--latency-ms 50,100,150] [--bin target/release/gguf-meter]

Serves, on 127.0.0.1 only, a repo shaped like unsloth's big quants: 6 quants in folders, 44
shards in all, each shard 1 holding a 248,320-token BPE vocabulary as Qwen 3.5's (an 11 MB
header) and the
others tensor infos only, plus a one-file model. The files are headers followed by virtual
zeros up to their full length (tens of GB), so only what a client reads is ever produced. The
"Hub" (127.0.0.1, one port) answers as huggingface.co does: the tree listing paged with `Link`
(--page entries a page; the Hub's own page is 1000), each file's size and LFS sha256; `resolve` answering 302 with
X-Linked-Etag / X-Linked-Size to a signed URL on the "CDN" (127.0.0.1, another port: another
host as far as a client can tell), which serves ranges and refuses any request carrying an
Authorization header (counted as a token leak). Every answer waits the injected latency first.

Measures wall time, CPU time (user + system of the client process), requests, how many of them
came one after another (the longest chain of requests each sent after the previous one was
answered: the round trips the client waited for, which the machine's load does not change) and
body bytes of:
  * inspect of the 6-shard quant by URL (gguf-meter `inspect URL`; @huggingface/gguf
    `ggufAllShards(URL)`),
  * inspect of the one-file model by URL (`inspect URL`; `gguf(URL)`),
  * `fit hf://bench/repo` (every quant; cold header cache, then warm: the second look).
@huggingface/gguf is installed with npm into a temporary directory. Prints a markdown table.
"""

import argparse
import hashlib
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALIGN = 32
# ggml type id -> (block elements, block bytes)
TYPES = {0: (1, 4), 8: (32, 34), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210)}
QUANTS = [("Q2_K", 10, 5), ("Q3_K", 11, 6), ("Q4_K", 12, 6), ("Q5_K", 13, 8), ("Q6_K", 14, 9), ("Q8_0", 8, 10)]
U16, I32, U32, F32, STR, ARR = 2, 5, 4, 6, 8, 9


def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, value):
    out = gstr(key) + struct.pack("<I", vtype)
    if vtype == STR:
        return out + gstr(value)
    if vtype == U16:
        return out + struct.pack("<H", value)
    if vtype == U32:
        return out + struct.pack("<I", value)
    if vtype == I32:
        return out + struct.pack("<i", value)
    if vtype == F32:
        return out + struct.pack("<f", value)
    sub, items = value
    out += struct.pack("<IQ", sub, len(items))
    if sub == STR:
        return out + b"".join(gstr(i) for i in items)
    return out + b"".join(struct.pack("<i", i) for i in items)


def header(kvs, tensors):
    """GGUF v3 bytes up to the data (padded), and the file's whole length."""
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)) + b"".join(kvs)
    offset = 0
    for name, dims, t in tensors:
        per, size = TYPES[t]
        n = 1
        for d in dims:
            n *= d
        out += gstr(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<IQ", t, offset)
        offset += -(-(n // per * size) // ALIGN) * ALIGN
    out += b"\0" * (-len(out) % ALIGN)
    return out, len(out) + offset


def vocab():
    # Qwen 3.5's vocabulary size and merge count (its GGUFs are the issue's example).
    tokens = [f"tok{i:06d}" for i in range(248320)]
    merges = [f"t{i:06d} k{i:06d}" for i in range(247587)]
    return [
        kv("tokenizer.ggml.model", STR, "gpt2"),
        kv("tokenizer.ggml.pre", STR, "qwen2"),
        kv("tokenizer.ggml.tokens", ARR, (STR, tokens)),
        kv("tokenizer.ggml.token_type", ARR, (I32, [1] * len(tokens))),
        kv("tokenizer.ggml.merges", ARR, (STR, merges)),
    ]


def model_files(name, qtype, shards, voc):
    """(file name, header bytes, length) of each shard of a 64-layer dense llama model."""
    n_embd, n_ff, n_layer, n_vocab, n_head, n_kv = 8192, 28672, 64, 248320, 64, 8
    tensors = [("token_embd.weight", [n_embd, n_vocab], qtype), ("output_norm.weight", [n_embd], 0), ("output.weight", [n_embd, n_vocab], qtype)]
    for i in range(n_layer):
        b = f"blk.{i}."
        tensors += [
            (b + "attn_norm.weight", [n_embd], 0),
            (b + "attn_q.weight", [n_embd, n_embd], qtype),
            (b + "attn_k.weight", [n_embd, n_embd // n_head * n_kv], qtype),
            (b + "attn_v.weight", [n_embd, n_embd // n_head * n_kv], qtype),
            (b + "attn_output.weight", [n_embd, n_embd], qtype),
            (b + "ffn_norm.weight", [n_embd], 0),
            (b + "ffn_gate.weight", [n_embd, n_ff], qtype),
            (b + "ffn_up.weight", [n_embd, n_ff], qtype),
            (b + "ffn_down.weight", [n_ff, n_embd], qtype),
        ]
    meta = [
        kv("general.architecture", STR, "llama"),
        kv("general.name", STR, name),
        kv("llama.block_count", U32, n_layer),
        kv("llama.context_length", U32, 32768),
        kv("llama.embedding_length", U32, n_embd),
        kv("llama.feed_forward_length", U32, n_ff),
        kv("llama.attention.head_count", U32, n_head),
        kv("llama.attention.head_count_kv", U32, n_kv),
        kv("llama.rope.freq_base", F32, 1000000.0),
        kv("llama.attention.layer_norm_rms_epsilon", F32, 1e-5),
    ] + voc
    per = -(-len(tensors) // shards)
    out = []
    for s in range(shards):
        part = tensors[s * per : (s + 1) * per]
        # gguf-split's types: u16 split.no and split.count, i32 split.tensors.count.
        split = [kv("split.no", U16, s), kv("split.count", U16, shards), kv("split.tensors.count", I32, len(tensors))] if shards > 1 else []
        h, length = header((meta if s == 0 else []) + split, part)
        fname = f"{name}-{s + 1:05d}-of-{shards:05d}.gguf" if shards > 1 else f"{name}.gguf"
        out.append((fname, h, length))
    return out


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests, self.bytes, self.leaks, self.spans = 0, 0, 0, []

    def reset(self):
        with self.lock:
            self.requests, self.bytes, self.leaks, self.spans = 0, 0, 0, []

    def add(self, n, start, what=""):
        with self.lock:
            self.requests += 1
            self.bytes += n
            self.spans.append((start, time.perf_counter(), what))

    def in_sequence(self):
        """The longest chain of requests each received after the previous one was answered:
        the round trips a client waited for one after another, whatever the CPU load."""
        spans = sorted(self.spans)
        best = []
        for i, (s, _, _) in enumerate(spans):
            best.append(1 + max((best[j] for j in range(i) if spans[j][1] <= s), default=0))
        return max(best, default=0)


class Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops bursts of connections (the client's SYN is
    # retried a second later), which no real Hub or CDN does.
    request_queue_size = 1024


def serve(files, repo, latency, stats, page_size=1000):
    """Starts the Hub and the CDN; returns their base URLs."""
    by_sha = {}
    listing = []
    for path, h, length in files:
        sha = hashlib.sha256(f"{repo}/{path}".encode()).hexdigest()
        by_sha[sha] = (h, length)
        listing.append({"type": "file", "oid": sha[:40], "size": length, "path": path, "lfs": {"oid": sha, "size": length, "pointerSize": 134}})
    listing.sort(key=lambda e: e["path"])
    dirs = sorted({p.rsplit("/", 1)[0] for p, _, _ in files if "/" in p})
    entries = [{"type": "directory", "oid": "0" * 40, "size": 0, "path": d} for d in dirs] + listing

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *a):
            pass

        def reply(self, code, headers, body=b""):
            start = time.perf_counter()
            time.sleep(latency)
            self.send_response(code)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            stats.add(len(body), start, self.path)

    class Hub(Handler):
        def do_GET(self):
            path, _, query = self.path.partition("?")
            tree = f"/api/models/{repo}/tree/main"
            if path == tree:
                cursor = int(dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("cursor", 0))
                page = entries[cursor : cursor + page_size]
                headers = [("Content-Type", "application/json")]
                if cursor + page_size < len(entries):
                    headers.append(("Link", f'<{hub_url}{tree}?recursive=true&cursor={cursor + page_size}>; rel="next"'))
                return self.reply(200, headers, json.dumps(page).encode())
            prefix = f"/{repo}/resolve/main/"
            if path.startswith(prefix):
                rel = path[len(prefix) :]
                for e in listing:
                    if e["path"] == rel:
                        sha = e["lfs"]["oid"]
                        loc = f"{cdn_url}/lfs/{sha}?Expires={int(time.time()) + 3600}&Signature=sig&Key-Pair-Id=K"
                        h = [("Location", loc), ("X-Linked-Etag", f'"{sha}"'), ("X-Linked-Size", str(e["size"])), ("X-Repo-Commit", "0" * 40)]
                        return self.reply(302, h)
                return self.reply(404, [("X-Error-Code", "EntryNotFound")], b'{"error":"Entry not found"}')
            self.reply(404, [("X-Error-Code", "RepoNotFound")], b'{"error":"Repository not found"}')

    class Cdn(Handler):
        def do_GET(self):
            if self.headers.get("Authorization"):
                with stats.lock:
                    stats.leaks += 1
                return self.reply(400, [], b"token sent to the CDN")
            sha = self.path.partition("?")[0].rsplit("/", 1)[-1]
            if sha not in by_sha:
                return self.reply(404, [], b"no such object")
            h, length = by_sha[sha]
            rng = self.headers.get("Range", "")
            a, b = 0, length - 1
            if rng.startswith("bytes="):
                x, _, y = rng[6:].partition("-")
                a, b = int(x), min(int(y) if y else length - 1, length - 1)
            body = h[a : b + 1] if a < len(h) else b""
            body += b"\0" * max(0, (b + 1 - a) - len(body))
            code = 206 if rng else 200
            self.reply(code, [("Content-Range", f"bytes {a}-{b}/{length}"), ("Content-Type", "application/octet-stream"), ("ETag", f'"{sha}"')], body)

    hub = Server(("127.0.0.1", 0), Hub)
    cdn = Server(("127.0.0.1", 0), Cdn)
    hub_url = f"http://127.0.0.1:{hub.server_address[1]}"
    cdn_url = f"http://127.0.0.1:{cdn.server_address[1]}"
    for s in (hub, cdn):
        s.daemon_threads = True
        threading.Thread(target=s.serve_forever, daemon=True).start()
    return hub_url, (hub, cdn)


NODE = r"""
import { gguf, ggufAllShards } from "@huggingface/gguf";
const [mode, url] = process.argv.slice(2);
if (mode === "all") { const r = await ggufAllShards(url); console.log(r.shards.length); }
else { const r = await gguf(url); console.log(r.tensorInfos.length); }
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency-ms", default="50,100,150")
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/gguf-meter"))
    ap.add_argument("--runs", type=int, default=3, help="runs per case; the median is shown")
    ap.add_argument("--page", type=int, default=1000, help="entries per listing page")
    a = ap.parse_args()
    if not os.path.exists(a.bin):
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)

    tmp = tempfile.mkdtemp(prefix="bench-remote-")
    try:
        node_dir = os.path.join(tmp, "node")
        os.makedirs(node_dir)
        subprocess.run(["npm", "install", "--silent", "--prefix", node_dir, "@huggingface/gguf@0.4.6"], check=True, stdout=subprocess.DEVNULL)
        script = os.path.join(node_dir, "read.mjs")
        with open(script, "w") as f:
            f.write(NODE)

        voc = vocab()
        files = []
        for q, t, n in QUANTS:
            files += [(f"{q}/{fn}", h, ln) for fn, h, ln in model_files(f"Model-{q}", t, n, voc)]
        single = model_files("Single-Q4_K", 12, 1, voc)
        files += [(fn, h, ln) for fn, h, ln in single]
        header_bytes = {p: len(h) for p, h, _ in files}
        print(f"repo: {len(QUANTS)} quants, {sum(n for _, _, n in QUANTS)} shards + 1 single file; shard-1 header {len(files[0][1]):,} bytes", file=sys.stderr)

        rows = []
        for ms in [int(x) for x in a.latency_ms.split(",")]:
            stats = Stats()
            hub_url, servers = serve(files, "bench/repo", ms / 1000, stats, a.page)
            six = "Q4_K/Model-Q4_K-00001-of-00006.gguf"
            six_url = f"{hub_url}/bench/repo/resolve/main/{six}"
            one_url = f"{hub_url}/bench/repo/resolve/main/Single-Q4_K.gguf"
            six_headers = sum(v for p, v in header_bytes.items() if p.startswith("Q4_K/"))
            repo_headers = sum(v for p, v in header_bytes.items() if "/" in p)
            env = dict(os.environ, HF_ENDPOINT=hub_url, HF_TOKEN="hf_bench_secret")
            env.pop("GGUF_METER_FIRST_RANGE", None)

            def run(cmd, cache=None):
                results = []
                for _ in range(a.runs):
                    cdir = cache or tempfile.mkdtemp(dir=tmp)
                    e = dict(env, XDG_CACHE_HOME=cdir)
                    stats.reset()
                    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                    t = time.perf_counter()
                    p = subprocess.run(cmd, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=node_dir)
                    wall = time.perf_counter() - t
                    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                    cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
                    if p.returncode not in (0, 1, 3):
                        sys.exit(f"{cmd}: exit {p.returncode}: {p.stderr.decode()[:500]}")
                    results.append((wall, stats.requests, stats.bytes, cpu, stats.in_sequence()))
                    if stats.leaks:
                        sys.exit(f"{cmd}: the token reached the CDN")
                results.sort()
                return results[len(results) // 2]

            meter = a.bin
            cases = [
                ("6-shard quant by URL", "gguf-meter inspect", run([meter, "inspect", six_url]), six_headers),
                ("6-shard quant by URL", "@huggingface/gguf ggufAllShards", run(["node", script, "all", six_url]), six_headers),
                ("one file by URL", "gguf-meter inspect", run([meter, "inspect", one_url]), header_bytes["Single-Q4_K.gguf"]),
                ("one file by URL", "@huggingface/gguf gguf", run(["node", script, "one", one_url]), header_bytes["Single-Q4_K.gguf"]),
                ("fit hf://bench/repo (6 quants, 44 shards), cold cache", "gguf-meter fit", run([meter, "fit", "hf://bench/repo", "--gpu", "rtx4090"]), repo_headers),
            ]
            warm = tempfile.mkdtemp(dir=tmp)
            run([meter, "fit", "hf://bench/repo", "--gpu", "rtx4090"], cache=warm)
            cases.append(("fit hf://bench/repo, second run (header cache)", "gguf-meter fit", run([meter, "fit", "hf://bench/repo", "--gpu", "rtx4090"], cache=warm), 0))
            for what, tool, (wall, req, byt, cpu, seq), hb in cases:
                rows.append((ms, what, tool, wall, cpu, req, seq, byt, hb))
            for s in servers:
                s.shutdown()

        print(f"load average {open('/proc/loadavg').read().split()[0]} on {os.cpu_count()} CPUs")
        print("| latency | read | tool | wall time | CPU time | requests | in sequence | bytes fetched | header bytes |")
        print("|---|---|---|---|---|---|---|---|---|")
        for ms, what, tool, wall, cpu, req, seq, byt, hb in rows:
            print(f"| {ms} ms | {what} | {tool} | {wall:.2f} s | {cpu:.2f} s | {req} | {seq} | {byt:,} | {hb:,} |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
