"""`check_paths`: validate XML files for `plivoxml-fs check` (exit 0 when all are valid).

Each file gives its problems (the first MAX_PROBLEMS, then "... and M more problems"), or its
warnings (each line starting `warning: `) followed by `<path>: ok`: warnings do not fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import attrs

from plivoxml_fs.config import Settings
from plivoxml_fs.documents.build import parse_document
from plivoxml_fs.documents.xmlsource import too_big
from plivoxml_fs.errors import DocumentInvalid

#: The daemon's own limit unless told otherwise.
DEFAULT_MAX_BYTES: int = attrs.fields(Settings).max_document_bytes.default


def check_paths(paths: Iterable[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[bool, str]:
    """(True, one `<path>: ok` line per file) or (False, those lines and every problem)."""
    lines: list[str] = []
    ok = True
    for path in paths:
        problems, warnings = _check_one(str(path), max_bytes)
        ok = ok and not problems
        lines.extend(problems or [*(f"warning: {line}" for line in warnings), f"{path}: ok"])
    return ok, "\n".join(lines)


def _check_one(path: str, max_bytes: int) -> tuple[list[str], tuple[str, ...]]:
    """(problem lines, warning lines) of the file at `path`."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
            if len(data) > max_bytes:
                return [str(too_big(path, os.fstat(handle.fileno()).st_size, max_bytes))], ()
    except OSError as exc:
        return [f"{path}: cannot read: {exc.strerror or exc}"], ()
    try:
        document = parse_document(data, source=path, max_bytes=max_bytes)
    except DocumentInvalid as exc:
        return str(exc).splitlines(), ()
    return [], document.warnings
