#!/usr/bin/env python3
"""Record what llama.cpp allocates on several devices: fixtures/oracle/multi-<model>.json.

    scripts/oracle/build.sh --rpc                 # the oracle with ggml's RPC backend + rpc-server
    python3 scripts/oracle/multi.py               # every model below
    python3 scripts/oracle/multi.py --only llama  # models whose id contains "llama"
    python3 scripts/oracle/multi.py --list

Each `rpc-server` on 127.0.0.1 (started here on free ports, stopped at the end) is a device of
type GPU to llama.cpp (ggml-rpc), with its own buffer type; llama.cpp loads the model across them
with the code it uses for CUDA: load_tensors' layer split (-ngl, -ts, -ot, --n-cpu-moe), KV and
recurrent state with their layer (or on the host with --no-kv-offload), and the scheduler's split
of the graph into one compute buffer per device plus the host's, with pipeline parallelism's
input copies. no_alloc as in run.py: nothing is allocated, no tensor data is read, so the sparse
copies of the header-only fixtures work. The rpc-servers expose this machine's CPU device, whose
free memory ggml reports as the total RAM (ggml-cpu.cpp:365-379): every server reports the same,
so the default split is even.

On a machine with GPUs (`build.sh --cuda` or `--metal`), `multi.py --gpus` records the same
placements on them instead (no rpc-server; cases needing more devices than there are GPUs are
left out) into fixtures/oracle/gpu/<backend>/: what CUDA or Metal allocate beside what RPC shows
(alignment, the pinned host buffer, op offload of CPU-resident weights; README "Several GPUs").

Environment: as run.py, plus ORACLE_GPU (the GPU oracle, default
$GGUF_METER_LLAMA_CACHE/build-0.3.36-cuda/oracle), ORACLE_RPC (the RPC oracle, default
$GGUF_METER_LLAMA_CACHE/build-0.3.36-rpc/oracle) and RPC_SERVER (default: rpc-server beside it).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402

REPO = run.REPO
BUILD = run.CACHE / f"build-{run.SDIST_VERSION}-rpc"
SCHEMA_VERSION = 1

# tiny synthetic models (make_tiny.py), loaded for real as well: a real reservation keeps the
# node assignments llama.cpp makes while building the graph, which the no_alloc measure drops
TINY = ["tiny-llama", "tiny-gemma3", "tiny-gpt-oss", "tiny-deepseek2", "tiny-qwen35moe"]

# id -> fixture; n_layer and whether the model has routed experts come from the probe run
MODELS = {
    "llama3-8b-q4km": "fixtures/llama3-8b-q4km.gguf",
    "qwen35-35b-a3b-q4km": "fixtures/qwen35-35b-a3b-q4km.gguf",
    "gpt-oss-20b-mxfp4": "fixtures/gpt-oss-20b-mxfp4.gguf",
    "gemma3-4b-q4km": "fixtures/gemma3-4b-q4km.gguf",
    "deepseek-v3-q4km": "fixtures/deepseek-v3-q4km.gguf",
}


BASE = dict(devices=2, n_ctx=8192, n_seq_max=1, type_k="f16", type_v="f16", flash_attn="on",
            ngl=-1, ts="", ot=[], n_cpu_moe=0, no_kv_offload=False, load="noalloc")


def tiny_cases(n_layer: int) -> list[dict]:
    """Real loads (load mmap: buffers really allocated on the rpc-servers) beside no_alloc ones."""
    out = []
    for load in ("noalloc", "mmap"):
        b = dict(BASE, load=load, n_ctx=4096)
        out += [dict(b), dict(b, devices=3, flash_attn="off"), dict(b, ts="3,1"), dict(b, ngl=n_layer // 2),
                dict(b, no_kv_offload=True), dict(b, no_kv_offload=True, flash_attn="off"), dict(b, n_seq_max=4)]
    return out


def cases(n_layer: int, moe: bool) -> list[dict]:
    """The placements recorded for one model: devices, -ts, -ngl, MoE overrides, contexts,
    flash attention, cache types, sequences, --no-kv-offload."""
    base = BASE
    half = n_layer // 2
    out = [
        dict(base, devices=1),
        dict(base),
        dict(base, devices=3),
        dict(base, n_ctx=131072),
        dict(base, n_ctx=32768, flash_attn="off"),
        dict(base, ts="3,1"),
        dict(base, devices=3, ts="1,1,2", flash_attn="off"),
        dict(base, devices=1, ngl=half),
        dict(base, ngl=half),
        dict(base, ngl=half, flash_attn="off"),
        dict(base, n_ctx=32768, type_k="q8_0", type_v="q8_0"),
        dict(base, n_ctx=32768, n_seq_max=4),
        dict(base, no_kv_offload=True),
        dict(base, no_kv_offload=True, flash_attn="off"),
    ]
    if moe:
        out += [
            dict(base, n_cpu_moe=half),
            dict(base, devices=1, ot=["exps=CPU"]),
            dict(base, n_ctx=32768, ot=["exps=CPU"]),
            dict(base, devices=3, n_cpu_moe=2, ts="1,2,1"),
        ]
    return out


def case_id(c: dict) -> str:
    s = f"dev{c['devices']}-ctx{c['n_ctx']}-np{c['n_seq_max']}-k{c['type_k']}-fa{c['flash_attn']}"
    if c["ngl"] >= 0:
        s += f"-ngl{c['ngl']}"
    if c["ts"]:
        s += f"-ts{c['ts'].replace(',', '_')}"
    if c["n_cpu_moe"]:
        s += f"-ncmoe{c['n_cpu_moe']}"
    if c["ot"]:
        s += "-ot" + "_".join(o.replace("=", "-") for o in c["ot"])
    if c["no_kv_offload"]:
        s += "-nkvo"
    if c["load"] != "noalloc":
        s += "-" + c["load"]
    return s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Servers:
    """rpc-server processes on 127.0.0.1, one per device, stopped on exit."""

    def __init__(self, binary: Path, n: int):
        self.procs = []
        self.endpoints = []
        for _ in range(n):
            port = free_port()
            p = subprocess.Popen([str(binary), "-H", "127.0.0.1", "-p", str(port), "-t", "1"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.procs.append(p)
            self.endpoints.append(f"127.0.0.1:{port}")
        for ep in self.endpoints:
            host, port = ep.split(":")
            for _ in range(100):
                try:
                    socket.create_connection((host, int(port)), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                self.stop()
                sys.exit(f"rpc-server on {ep} did not start")

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs = []


class Gpus:
    """The machine's own GPUs (a GPU build of the oracle): no servers to start."""

    def __init__(self, n: int):
        self.n = n

    def stop(self):
        pass


def run_case(oracle: Path, model: Path, servers, c: dict) -> dict:
    cmd = [str(oracle), str(model), "--n-ctx", str(c["n_ctx"]), "--n-seq-max", str(c["n_seq_max"]),
           "--type-k", c["type_k"], "--type-v", c["type_v"], "--fa", c["flash_attn"], "--load", c["load"]]
    if isinstance(servers, Gpus):
        if c["devices"] != servers.n:
            return {"ok": False, "error_stage": "skipped", "error": f"needs {c['devices']} GPUs, this machine has {servers.n}"}
        cmd += ["--gpus"]
    else:
        cmd += ["--rpc", ",".join(servers.endpoints[: c["devices"]])]
    if c["ngl"] >= 0:
        cmd += ["--ngl", str(c["ngl"])]
    if c["ts"]:
        cmd += ["--ts", c["ts"]]
    for o in c["ot"]:
        cmd += ["--ot", o]
    if c["n_cpu_moe"]:
        cmd += ["--n-cpu-moe", str(c["n_cpu_moe"])]
    if c["no_kv_offload"]:
        cmd += ["--no-kv-offload"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError:
        return {"ok": False, "error_stage": "crash", "error": f"oracle exited {p.returncode}: {p.stderr.strip()[-2000:]}"}


def record(oracle: Path, servers: Servers, model_id: str, fixture: Path, qs, tiny: Path | None = None) -> dict:
    if tiny:
        sparse, desc = tiny, {"header_patch": None}
    else:
        sparse = run.SPARSE_DIR / fixture.name
        desc = run.make_sparse(fixture, sparse, qs)
    probe = run_case(oracle, sparse, servers, dict(BASE, devices=1, n_ctx=4096))
    doc = {"schema_version": SCHEMA_VERSION, "generator": "scripts/oracle/multi.py", "id": f"multi-{model_id}",
           "llama_cpp": probe.get("llama_cpp"),
           "model": {"kind": "tiny" if tiny else "sparse-fixture", "fixture": run.rel(fixture),
                     "fixture_sha256": run.sha256(fixture), "header_patch": desc["header_patch"]}}
    if tiny:
        doc["model"]["sha256"] = run.sha256(tiny)
    if not probe.get("ok"):
        doc.update(ok=False, error=probe.get("error"), log=probe.get("log", []), cases=[])
        return doc
    m = dict(probe["model"])
    for k in ("path", "file_size", "file_allocated_bytes", "bytes_read_during_load"):
        m.pop(k, None)
    doc["model"].update(m)
    doc["ok"] = True
    moe = any("exps" in line for line in probe.get("log_model", [])) or "moe" in m.get("arch", "") or \
        m["arch"] in ("gpt-oss", "deepseek2", "qwen35moe")
    out = []
    t0 = time.time()
    for c in (tiny_cases(m["n_layer"]) if tiny else cases(m["n_layer"], moe)):
        r = run_case(oracle, sparse, servers, c)
        if r.get("error_stage") == "skipped":
            continue
        rec = {"id": case_id(c), "settings": c, "ok": bool(r.get("ok"))}
        if rec["ok"]:
            for k in ("resolved", "devices", "model_buffers", "compute_buffers", "output_buffer", "breakdown", "totals"):
                rec[k] = r.get(k)
            rec["memory"] = run.strip_layers(r["memory"])
            # endpoints change from run to run (free ports): name devices by their order
            rpc = not isinstance(servers, Gpus)
            names = {d["name"]: f"RPC{i}" if rpc else d["name"] for i, d in enumerate(r.get("devices", []))}
            bufts = {d["buft"]: f"RPC{i}" if rpc else d["buft"] for i, d in enumerate(r.get("devices", []))}
            for d in rec["devices"]:
                d["name"] = names[d["name"]]
                d["buft"] = bufts[d["buft"]]
                d.pop("description", None)
            for row in rec["model_buffers"] + rec["breakdown"] + rec["compute_buffers"]:
                if row.get("buft") in bufts:
                    row["buft"] = bufts[row["buft"]]
                # a backend is named as its buffer type (RPC0[host:port])
                if row.get("backend") in bufts:
                    row["backend"] = bufts[row["backend"]]
        else:
            rec["error_stage"] = r.get("error_stage")
            rec["error"] = r.get("error")
            rec["log"] = r.get("log", [])
        out.append(rec)
        print(f"  {rec['id']}: {'ok' if rec['ok'] else 'FAILED ' + str(rec.get('error'))[:200]}", file=sys.stderr)
    doc["cases"] = out
    print(f"  {model_id}: {sum(c['ok'] for c in out)}/{len(out)} ok ({time.time() - t0:.0f}s)", file=sys.stderr)
    return doc


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=REPO / "fixtures/oracle")
    ap.add_argument("--only", action="append")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--gpus", type=int, metavar="N", help="record on this machine's N GPUs (a GPU build of the oracle)")
    ap.add_argument("--backend", default="cuda", help="with --gpus: cuda or metal (the build dir and the output folder)")
    args = ap.parse_args()
    plan = dict(MODELS)
    plan.update({t: f"fixtures/tiny/{t}.gguf" for t in TINY})
    plan = {k: v for k, v in plan.items() if not args.only or any(o in k for o in args.only)}
    if args.list:
        for k, v in plan.items():
            print(k, v)
        return
    qs = run._quant_sizes()
    if args.gpus:
        oracle = Path(os.environ.get("ORACLE_GPU", run.CACHE / f"build-{run.SDIST_VERSION}-{args.backend}/oracle"))
        if not oracle.exists():
            sys.exit(f"{oracle} not found; run scripts/oracle/build.sh --{args.backend}")
        if args.out == REPO / "fixtures/oracle":
            args.out = REPO / "fixtures/oracle/gpu" / args.backend
        servers = Gpus(args.gpus)
    else:
        oracle = Path(os.environ.get("ORACLE_RPC", BUILD / "oracle"))
        server = Path(os.environ.get("RPC_SERVER", oracle.parent / "rpc-server"))
        for b in (oracle, server):
            if not b.exists():
                sys.exit(f"{b} not found; run scripts/oracle/build.sh --rpc")
        servers = Servers(server, 3)
    try:
        for model_id, fixture in plan.items():
            print(f"== {model_id}", file=sys.stderr)
            tiny = None
            if model_id in TINY:
                tiny = run.TINY_DIR / f"{model_id}.gguf"
                if not tiny.exists():
                    subprocess.run([sys.executable, str(run.HERE / "make_tiny.py"), "--only", model_id[5:]], check=True)
            run.write_doc(args.out, record(oracle, servers, model_id, REPO / fixture, qs, tiny))
    finally:
        servers.stop()


if __name__ == "__main__":
    main()
