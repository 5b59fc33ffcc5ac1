"""gguf-py's reader on GGUF files, for scripts/bench.sh.

`gguf_py_read.py FILE` parses once (timed as a whole process by hyperfine).
`gguf_py_read.py --time FILE...` times `GGUFReader(path)` in-process: at least 5 runs and
2 s per file; prints `gguf-py  file  GGUFReader  min_us  median_us  runs` per file.
"""
import os
import sys
import time

from gguf import GGUFReader


def measure(path):
    GGUFReader(path)  # warm-up
    samples, start = [], time.perf_counter()
    while len(samples) < 3 or (time.perf_counter() - start < 2 and len(samples) < 200):
        t = time.perf_counter()
        GGUFReader(path)
        samples.append((time.perf_counter() - t) * 1e6)
    samples.sort()
    return samples[0], samples[len(samples) // 2], len(samples)


if sys.argv[1] == "--time":
    for path in sys.argv[2:]:
        name = os.path.basename(path).removeprefix("full-")
        lo, med, n = measure(path)
        print(f"gguf-py\t{name}\tGGUFReader\t{lo:.1f}\t{med:.1f}\t{n}")
else:
    print(len(GGUFReader(sys.argv[1]).tensors))
