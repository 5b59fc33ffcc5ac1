"""gguf-meter from Python: exact layer geometry and llama.cpp memory footprints from GGUF files.

Each function runs the gguf-meter command in-process with ``--json`` and returns its JSON
document as a dict, the same document the command prints (schema in the README's JSON
section)::

    import gguf_meter

    fp = gguf_meter.footprint("model.gguf", ctx=131072, parallel=1)
    print(fp["total_bytes"])

Keyword arguments are the command's long flags with ``_`` for ``-``: ``ctx=131072`` is
``--ctx 131072``, ``cache_type_k="q8_0"`` is ``--cache-type-k q8_0``, ``no_mmap=True`` is
``--no-mmap``; a list repeats the flag; ``None`` and ``False`` leave it out. A model is a path
(any shard of a split model, a partial download), an ``http(s)://`` URL, ``hf://owner/repo[/file]``,
``modelscope://`` or ``ollama://``; only the header's bytes are read.

A file whose data is still downloading is not an error: the document says ``"complete": false``
(the command's exit code 3). Anything the command reports as an error raises
:class:`GgufMeterError` with its one-line message and exit code.
"""

import json as _json
import os as _os
import sys as _sys

from . import _native

__version__ = _native.__version__
__all__ = ["footprint", "fit", "inspect", "check", "run", "GgufMeterError", "main"]


class GgufMeterError(Exception):
    """The command failed: ``message`` is its error line(s), ``exit_code`` its exit code
    (README, Exit codes: 2 unreadable or usage error, 4 not a model, ...)."""

    def __init__(self, exit_code, message):
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message


def _flags(options):
    args = []
    for key, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            for v in value:
                args += [flag, _arg(v)]
        else:
            args += [flag, _arg(value)]
    return args


def _arg(value):
    return _os.fspath(value) if isinstance(value, _os.PathLike) else str(value)


def run(*args):
    """Runs ``gguf-meter ARGS`` (strings, as on a command line) and returns
    ``(exit_code, stdout, stderr)`` without printing anything."""
    return _native.run(["gguf-meter", *[_arg(a) for a in args]])


def _document(command, models, options, as_json=("--json",)):
    code, out, err = run(command, *models, *as_json, *_flags(options))
    # A document on stdout is the answer, whatever the verdict; no document is an error.
    if out.strip():
        try:
            return _json.loads(out)
        except ValueError:
            pass
    raise GgufMeterError(code, err.strip() or out.strip() or f"gguf-meter {command} exited with {code}")


def inspect(path_or_url, **options):
    """``gguf-meter inspect --json``: the file's structure, geometry and presence
    (``tensors=True`` lists every tensor)."""
    return _document("inspect", [path_or_url], options)


def footprint(path_or_url, **options):
    """``gguf-meter footprint --json``: the memory llama.cpp allocates (weights, KV cache,
    recurrent state, compute, output) at the given settings, e.g. ``ctx=131072, parallel=1``."""
    return _document("footprint", [path_or_url], options)


def fit(*paths_or_urls, **options):
    """``gguf-meter fit --json``: whether each model fits a machine (``gpu="rtx4090"``,
    ``ram="64GiB"``; with neither, this machine), where, at which context, with which
    llama-server flags. Several models are ranked as the command ranks them."""
    return _document("fit", list(paths_or_urls), options)


def check(*paths_or_urls, **options):
    """``gguf-meter check --format json``: rule findings and the outcome of each model (pass, fail,
    incomplete, unreadable), as CI uses them."""
    return _document("check", list(paths_or_urls), options, as_json=("--format", "json"))


def main():
    """The ``gguf-meter`` command installed by pip."""
    # Ctrl-C ends the command at once, as it does the native binary (Python's handler would
    # wait for the command to return).
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _sys.exit(_native.main(["gguf-meter", *_sys.argv[1:]]))
