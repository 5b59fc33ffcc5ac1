"""Tests of the installed Python package, run by .ci/run in a fresh venv after `pip install ./python`.

Run from the repository's root: `python python/tests/test_package.py`. Checks that the README's
Python example runs, that the module's documents are the installed command's `--json` output,
field for field, and that errors carry the command's message and exit code.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import gguf_meter

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = "fixtures/qwen35-35b-a3b-q4km.gguf"


def readme_example():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        blocks = re.findall(r"^```python\n(.*?)^```", f.read(), re.M | re.S)
    assert blocks, "README has a ```python example"
    return blocks[0]


def command_json(*args):
    exe = shutil.which("gguf-meter")
    assert exe and os.path.dirname(exe) == os.path.dirname(sys.executable), f"pip's gguf-meter command is on PATH, found {exe}"
    r = subprocess.run([exe, *args], capture_output=True, text=True, cwd=ROOT)
    return r.returncode, json.loads(r.stdout)


def test_readme_example_runs():
    code = readme_example()
    assert "gguf_meter.footprint(" in code
    exec(compile(code, "README.md (python example)", "exec"), {})


def test_documents_are_the_commands_own():
    for name, doc, args in [
        ("inspect", gguf_meter.inspect(MODEL), ["inspect", MODEL, "--json"]),
        ("footprint", gguf_meter.footprint(MODEL, ctx=131072, parallel=1), ["footprint", MODEL, "--json", "-c", "131072", "-np", "1"]),
        ("fit", gguf_meter.fit(MODEL, gpu="rtx4090", ram="64GiB", ctx="128K"), ["fit", MODEL, "--json", "--gpu", "rtx4090", "--ram", "64GiB", "-c", "128K"]),
        ("check", gguf_meter.check("fixtures/tiny/tiny-llama.gguf"), ["check", "fixtures/tiny/tiny-llama.gguf", "--format", "json"]),
    ]:
        code, expected = command_json(*args)
        assert code == 3, f"{name}: the fixture is header-only, exit {code}"
        assert doc == expected, f"{name}: the module's document differs from the command's"


def test_keywords_are_flags():
    f16 = gguf_meter.footprint(MODEL, ctx=131072, parallel=1)
    q8 = gguf_meter.footprint(MODEL, ctx=131072, parallel=1, cache_type_k="q8_0", cache_type_v="q8_0")
    assert q8["kv_bytes"] * 32 == f16["kv_bytes"] * 17, (q8["kv_bytes"], f16["kv_bytes"])  # 8.5 of 16 bits
    assert gguf_meter.footprint(MODEL, ctx=4096, no_mmap=True)["mmap"] is False
    with_tensors = gguf_meter.inspect(MODEL, tensors=True)
    assert len(with_tensors["tensors"]) == 753


def test_errors_carry_the_message_and_exit_code():
    try:
        gguf_meter.inspect("README.md")
        raise AssertionError("README.md is not GGUF")
    except gguf_meter.GgufMeterError as e:
        assert e.exit_code == 2 and "README.md: malformed at byte 0" in str(e), (e.exit_code, str(e))
    try:
        gguf_meter.footprint("fixtures/vocab/ggml-vocab-gpt-2-64.gguf")
        raise AssertionError("a vocab-only file is not a model")
    except gguf_meter.GgufMeterError as e:
        assert e.exit_code == 4 and "vocab-only" in str(e), (e.exit_code, str(e))
    try:
        gguf_meter.footprint(MODEL, no_such_flag=1)
        raise AssertionError("an unknown flag is a usage error")
    except gguf_meter.GgufMeterError as e:
        assert e.exit_code == 2 and "--no-such-flag" in str(e), (e.exit_code, str(e))


def test_the_command_prints_and_exits_as_the_binary():
    r = subprocess.run(["gguf-meter", "inspect", MODEL], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 3 and r.stdout.startswith(MODEL + "  (GGUF v3"), (r.returncode, r.stdout[:200])
    r = subprocess.run(["gguf-meter", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("gguf-meter "), r


if __name__ == "__main__":
    os.chdir(ROOT)
    tests = [f for n, f in sorted(globals().items()) if n.startswith("test_")]
    for t in tests:
        t()
        print(f"ok  {t.__name__}")
    print(f"{len(tests)} passed")
