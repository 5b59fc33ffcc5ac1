"""Turns scripts/bench.sh's measurements (target/bench/*.tsv) into the README's tables."""
import os
import platform
import subprocess
import sys
from collections import defaultdict

out = sys.argv[1]
cache = os.environ.get("GGUF_METER_BENCH_CACHE", os.path.expanduser("~/.cache/gguf-meter/bench"))


def rows(name):
    with open(os.path.join(out, name)) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "n/a"


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    hf = os.path.join(cache, "npm/node_modules/@huggingface/gguf/package.json")
    hf_version = version(["node", "-p", f"require('{hf}').version"])
    py = os.path.join(cache, "venv/bin/python")
    gguf_py = version([py, "-c", "import importlib.metadata as m; print(m.version('gguf'))"])
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem / 2**20:.0f} GiB RAM, Linux {platform.release()}; "
        f"{version(['rustc', '--version'])}; gguf-py {gguf_py} "
        f"({version([py, '--version'])}); @huggingface/gguf {hf_version} (node {version(['node', '--version'])}); "
        f"gguf-parser {version([os.path.join(cache, 'gguf-parser'), '--version']).split()[-1]}; {version(['hyperfine', '--version'])}"
    )


def ms(x):
    return f"{x:.1f} ms" if x >= 10 else f"{x:.2f} ms"


print(f"Machine: {machine()}.\n")

print("Whole process (hyperfine -N, warm cache after 2 warm-ups, 3 to 20 runs; median, min in brackets; ratio = median / gguf-meter's median):\n")
proc = rows("process.tsv")
labels = list(dict.fromkeys(r[1] for r in proc))
by = {(r[0], r[1]): (float(r[2]), float(r[3])) for r in proc}
print("| file | " + " | ".join(labels) + " |")
print("|---|" + "---:|" * len(labels))
for f in dict.fromkeys(r[0] for r in proc):
    base = by[(f, labels[0])][1]
    cells = []
    for label in labels:
        if (f, label) not in by:
            cells.append("n/a")
            continue
        lo, med = by[(f, label)]
        ratio = "" if label == labels[0] else f" **{med / base:.0f}x**" if med / base >= 10 else f" **{med / base:.1f}x**"
        cells.append(f"{ms(med)} ({ms(lo)}){ratio}")
    print(f"| {f} | " + " | ".join(cells) + " |")

print("\nIn process (parse only, no process start; median, min in brackets; ratio = median / gguf-meter `open`'s median):\n")
inproc = rows("inprocess.tsv")
methods = list(dict.fromkeys((r[0], r[2]) for r in inproc))
by = {(r[1], r[0], r[2]): (float(r[3]) / 1e3, float(r[4]) / 1e3) for r in inproc}
names = {("gguf-meter", "map"): "gguf-meter `open` (map + parse)", ("gguf-meter", "pread"): "gguf-meter pread + parse",
         ("gguf-meter", "parse"): "gguf-meter parse (bytes in memory)", ("gguf-meter", "inspect"): "gguf-meter inspect pipeline"}
print("| file | " + " | ".join(names.get(m, f"{m[0]} {m[1]}") for m in methods) + " |")
print("|---|" + "---:|" * len(methods))
for f in dict.fromkeys(r[1] for r in inproc):
    base = by.get((f, "gguf-meter", "map"), (1, 1))[1]
    cells = []
    for m in methods:
        if (f, *m) not in by:
            cells.append("n/a")
            continue
        lo, med = by[(f, *m)]
        ratio = "" if m[0] == "gguf-meter" else f" **{med / base:.0f}x**"
        cells.append(f"{ms(med)} ({ms(lo)}){ratio}")
    print(f"| {f} | " + " | ".join(cells) + " |")

print("\nPeak RSS of gguf-meter (median of 5 runs, `/usr/bin/time %M`), sparse copies of a header-only fixture and of the real Gemma header:\n")
rss = defaultdict(dict)
sizes = {}
for f, size, args, kib in rows("rss.tsv"):
    rss[f][args] = int(kib)
    sizes[f] = int(size)
print("| file | size on disk (apparent) | `inspect` | `inspect --json --tensors` |")
print("|---|---:|---:|---:|")
for f, v in rss.items():
    print(f"| {f} | {sizes[f]:,} B | {v.get('inspect', 0) / 1024:.1f} MiB | {v.get('inspect --json --tensors', 0) / 1024:.1f} MiB |")
