"""Build bench/data/benign_text.jsonl.gz: benign free text for the false-positive benchmark.

Free text is where injection detectors go wrong: prose with apostrophes ("don't"), SQL words
("select a file", "drop the connection"), angle brackets ("a < b"), code snippets in
documentation. Two sources that every Debian machine with Python has:

- docstrings of the Python standard library (module, class, function and method docstrings,
  split into paragraphs), collected with :mod:`inspect` from the modules that import cleanly;
- man pages under /usr/share/man/man{1,5,8} (``zcat`` + a small roff stripper), split into
  paragraphs, if present.

Output: one JSON object per line, ``{"source": "py:json.dumps" | "man:ls.1", "text": ...}``,
deduplicated, gzip-compressed and kept under 2 MB (sampling deterministically if needed).

Usage::

    .venv/bin/python bench/build_benign_text.py [--max-bytes 2000000] [--out bench/data/benign_text.jsonl.gz]
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import inspect
import io
import json
import random
import re
import sys
import warnings
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "data" / "benign_text.jsonl.gz"

# Modules with import-time side effects (open a browser, print, need a display) or noise.
SKIP_MODULES = {
    "antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "__main__", "lib2to3",
    "ensurepip", "venv", "msilib", "winreg", "winsound", "msvcrt", "_winapi", "nt", "pydoc_data",
    "test", "xxsubtype", "_testcapi", "_testinternalcapi", "_testbuffer", "_testmultiphase",
    "_testimportmultiple", "_xxtestfuzz", "_ctypes_test", "_testclinic", "_tkinter",
}

MIN_CHARS = 24
MAX_CHARS = 1500


def paragraphs(text: str) -> Iterator[str]:
    """Split on blank lines; strip each paragraph; keep reasonably sized ones."""
    for para in re.split(r"\n\s*\n", inspect.cleandoc(text)):
        para = para.strip()
        if MIN_CHARS <= len(para) <= MAX_CHARS:
            yield para


def docstrings() -> Iterator[tuple[str, str]]:
    """(source, paragraph) for the standard library's docstrings."""
    names = sorted(n for n in sys.stdlib_module_names if n not in SKIP_MODULES and not n.startswith("_"))
    for name in names:
        try:
            with warnings.catch_warnings(), redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
                warnings.simplefilter("ignore")
                module = importlib.import_module(name)
        except BaseException:
            continue
        seen: set[int] = set()
        objects: list[tuple[str, object]] = [(name, module)]
        for attr, obj in vars(module).items():
            if attr.startswith("_"):
                continue
            if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj):
                objects.append((f"{name}.{attr}", obj))
                if inspect.isclass(obj):
                    for mname, member in vars(obj).items():
                        if not mname.startswith("_") and callable(member):
                            objects.append((f"{name}.{attr}.{mname}", member))
        for source, obj in objects:
            doc = getattr(obj, "__doc__", None)
            if not isinstance(doc, str) or id(doc) in seen:
                continue
            seen.add(id(doc))
            for para in paragraphs(doc):
                yield f"py:{source}", para


_ROFF_FONT = re.compile(r"\\f(?:\[[^\]]*\]|\(..|.)")
_ROFF_ESCAPES = [
    (re.compile(r"\\\(em|\\\(en"), "-"), (re.compile(r"\\\(aq"), "'"), (re.compile(r"\\\(dq"), '"'),
    (re.compile(r"\\\(lq|\\\(rq"), '"'), (re.compile(r"\\\(oq|\\\(cq"), "'"),
    (re.compile(r"\\\(bu"), "*"), (re.compile(r"\\\(co"), "(c)"), (re.compile(r"\\\(.."), ""),
    (re.compile(r"\\\*\(.."), ""), (re.compile(r"\\\*."), ""), (re.compile(r"\\[&|^%:]"), ""),
    (re.compile(r"\\-"), "-"), (re.compile(r"\\e"), "\\\\"), (re.compile(r"\\ "), " "),
    (re.compile(r"\\s[-+]?\d"), ""), (re.compile(r"\\[0cdu]"), ""),
]
_MACRO_TEXT = re.compile(r"^\.(?:B|I|BI|BR|IB|IR|RB|RI|SM|SB|SH|SS|TP|IP|Nm|Ar|Fl|Op|Pa|Xr)\s+(.*)$")


def strip_roff(source: str) -> Iterator[str]:
    """Plain-text paragraphs of a roff man page (good enough for a benign-text corpus)."""
    current: list[str] = []
    for line in source.splitlines():
        if line.startswith(('.\\"', "'\\\"")):
            continue
        if line.startswith((".PP", ".P", ".LP", ".TP", ".IP", ".SH", ".SS", ".Pp", ".Sh")) or not line.strip():
            if current:
                yield " ".join(current)
                current = []
            match = _MACRO_TEXT.match(line)
            if match and not line.startswith((".SH", ".SS", ".Sh")):
                current.append(match.group(1).replace('"', ""))
            continue
        if line.startswith((".", "'")):
            match = _MACRO_TEXT.match(line)
            if match:
                line = match.group(1).replace('"', "")
            else:
                continue
        line = _ROFF_FONT.sub("", line)
        for pattern, repl in _ROFF_ESCAPES:
            line = pattern.sub(repl, line)
        current.append(line.strip())
    if current:
        yield " ".join(current)


def man_pages() -> Iterator[tuple[str, str]]:
    """(source, paragraph) for English man pages in sections 1, 5 and 8."""
    for section in ("man1", "man5", "man8"):
        folder = Path("/usr/share/man") / section
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.gz")):
            try:
                with gzip.open(path, "rt", encoding="utf-8", errors="replace") as handle:
                    source = handle.read(400_000)
            except (OSError, EOFError):
                continue
            if source.startswith(".so "):
                continue
            for para in strip_roff(source):
                para = re.sub(r"\s+", " ", para).strip()
                if MIN_CHARS <= len(para) <= MAX_CHARS:
                    yield f"man:{path.name.removesuffix('.gz')}", para


def encode(records: list[dict[str, str]]) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as handle:
        for record in records:
            handle.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
    return buffer.getvalue()


def main() -> None:
    warnings.simplefilter("ignore")  # deprecated stdlib modules warn when their docs are read
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-bytes", type=int, default=2_000_000)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    seen: set[str] = set()
    py: list[dict[str, str]] = []
    man: list[dict[str, str]] = []
    for source, text in docstrings():
        if text not in seen:
            seen.add(text)
            py.append({"source": source, "text": text})
    for source, text in man_pages():
        if text not in seen:
            seen.add(text)
            man.append({"source": source, "text": text})
    rng = random.Random(20240501)
    rng.shuffle(py)
    rng.shuffle(man)
    # Equal shares of both sources, shrunk until the compressed file fits.
    share = max(len(py), len(man))
    while True:
        records = py[:share] + man[:share]
        data = encode(records)
        if len(data) <= args.max_bytes or share < 100:
            break
        share = int(share * 0.85 * args.max_bytes / len(data))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"{len(records)} paragraphs ({min(len(py), share)} docstring, {min(len(man), share)} man page) "
          f"-> {args.out} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
