"""Build a second benign free-text corpus, for checking false positives on text nobody tuned on.

``bench/data/benign_text.jsonl.gz`` (``build_benign_text.py``) is the corpus the detectors were
developed against, so its false-positive rate flatters them. This script collects other real,
WAF-tripping text from the machine, split into paragraphs of 24-1,500 characters:

- ``pod``: Perl's POD documentation (``/usr/share/perl/*``, ``/usr/share/perl5``);
- ``py3``: docstrings of the third-party packages in this virtualenv (read with :mod:`ast`, not imported);
- ``doc``: README, NEWS, changelog, ``.md``/``.txt``/``.rst`` files under ``/usr/share/doc``;
- ``javadoc``: ``/** ... */`` comments of the JDK sources (``src.zip``), when a JDK is installed.

Each source is sampled deterministically (``--seed``), at most ``--per-file`` paragraphs per file
and ``--per-source`` per source. The output is **not** kept in the repository (it is built from
whatever this machine has); check it with
``bench/detection_offline.py --corpus text --text FILE``. Usage::

    .venv/bin/python bench/build_heldout_text.py [--out /tmp/sealgate-heldout-text.jsonl.gz]
        [--seed 1126] [--per-source 8000] [--per-file 40]
"""

from __future__ import annotations

import argparse
import ast
import gzip
import inspect
import json
import random
import re
import sys
import sysconfig
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

MIN_CHARS = 24
MAX_CHARS = 1500
_POD_CODE = re.compile(r"[BCIFLESXZ]<([^<>]*)>")
_POD_COMMAND = re.compile(r"^=(\w+)\s*(.*)")
_JAVADOC = re.compile(r"/\*\*(.*?)\*/", re.S)
_JAVADOC_MARGIN = re.compile(r"^\s*\*? ?")


def paragraphs(text: str) -> Iterator[str]:
    """The paragraphs of ``text`` (separated by blank lines) of a useful length."""
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if MIN_CHARS <= len(paragraph) <= MAX_CHARS:
            yield paragraph


def pod_text(source: str) -> str:
    """The POD of a Perl file, its headings and items as paragraphs, ``C<x>`` codes unwrapped."""
    lines: list[str] = []
    in_pod = False
    for line in source.splitlines():
        command = _POD_COMMAND.match(line)
        if command is not None:
            in_pod = command.group(1) != "cut"
            lines += ["", command.group(2), ""] if command.group(1).startswith(("head", "item")) else [""]
        elif in_pod:
            lines.append(line)
    text = "\n".join(lines)
    for _ in range(3):  # nested codes: C<B<x>>
        text = _POD_CODE.sub(r"\1", text)
    return text


def pod_files() -> Iterator[tuple[str, str]]:
    roots = [*sorted(Path("/usr/share/perl").glob("5.*")), Path("/usr/share/perl5")]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in (".pod", ".pm") and path.is_file():
                yield f"pod:{path}", pod_text(path.read_text("utf-8", "replace"))


def docstring_files() -> Iterator[tuple[str, str]]:
    site = Path(sysconfig.get_paths()["purelib"])
    for path in sorted(site.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text("utf-8", "replace"))
        except (SyntaxError, ValueError):
            continue
        docs = [ast.get_docstring(node) for node in ast.walk(tree)
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
        yield f"py3:{path.relative_to(site)}", "\n\n".join(inspect.cleandoc(d) for d in docs if d)


def doc_files() -> Iterator[tuple[str, str]]:
    for path in sorted(Path("/usr/share/doc").rglob("*")):
        name = path.name.lower()
        wanted = name.startswith(("readme", "news", "changelog", "changes", "faq")) or name.removesuffix(
            ".gz").endswith((".md", ".txt", ".rst"))
        if not path.is_file() or not wanted or name.startswith("changelog.debian"):
            continue
        data = path.read_bytes()
        if name.endswith(".gz"):
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError):
                continue
        yield f"doc:{path}", data[:3_000_000].decode("utf-8", "replace")


def javadoc_files() -> Iterator[tuple[str, str]]:
    for archive in sorted(Path("/usr/lib/jvm").glob("*/lib/src.zip")):
        if not archive.is_file():
            continue  # a dangling link: the JDK's sources are not installed
        with zipfile.ZipFile(archive) as sources:
            for name in sorted(n for n in sources.namelist() if n.endswith(".java")):
                source = sources.read(name).decode("utf-8", "replace")
                comments = ("\n".join(_JAVADOC_MARGIN.sub("", line) for line in m.group(1).splitlines())
                            for m in _JAVADOC.finditer(source))
                yield f"javadoc:{name}", "\n\n".join(comments)
        return  # one JDK is enough


SOURCES = {"pod": pod_files, "py3": docstring_files, "doc": doc_files, "javadoc": javadoc_files}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/sealgate-heldout-text.jsonl.gz"))
    parser.add_argument("--seed", type=int, default=1126)
    parser.add_argument("--per-source", type=int, default=8000)
    parser.add_argument("--per-file", type=int, default=40)
    args = parser.parse_args(argv)
    seen: set[str] = set()
    rows: list[dict[str, str]] = []
    for kind, files in SOURCES.items():
        pool: list[dict[str, str]] = []
        for source, text in files():
            for paragraph in paragraphs(text):
                key = " ".join(paragraph.split())
                if key not in seen:
                    seen.add(key)
                    pool.append({"source": source, "text": paragraph})
        random.Random(f"{args.seed}:{kind}").shuffle(pool)
        per_file: defaultdict[str, int] = defaultdict(int)
        taken = 0
        for row in pool:
            if taken >= args.per_source:
                break
            if per_file[row["source"]] < args.per_file:
                per_file[row["source"]] += 1
                rows.append(row)
                taken += 1
        print(f"{kind}: {taken} paragraphs from {len(per_file)} files (pool {len(pool)})", file=sys.stderr)
    with gzip.open(args.out, "wt", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row) + "\n")
    print(f"{len(rows)} paragraphs -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
