"""The package's declared runtime dependencies match what its code imports and what the README
explains."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "plivoxml_fs"


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_norm(re.match(r"[A-Za-z0-9_.-]+", dep).group()) for dep in project["dependencies"]}


def _norm(name: str) -> str:
    return name.lower().replace("-", "_")


def _guarded(tree: ast.AST) -> set[int]:
    """Ids of import nodes inside a `try` that catches ImportError (optional imports)."""
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id == "ImportError" for h in node.handlers
        ):
            guarded |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return guarded


def _imported() -> dict[str, str]:
    """Third-party top-level modules the package imports unconditionally -> one file doing so."""
    found: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        optional = _guarded(tree)
        for node in ast.walk(tree):
            if id(node) in optional:
                continue
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "plivoxml_fs":
                    found.setdefault(_norm(top), str(path.relative_to(ROOT)))
    return found


def _readme_runtime() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Dependencies and why", 1)[1].split("Tests only", 1)[0]
    return {_norm(name) for name in re.findall(r"^- \*\*([\w.-]+)\*\*", section, re.MULTILINE)}


def test_every_imported_third_party_module_is_a_declared_dependency():
    """A module the package imports (outside `try: ... except ImportError`) is in
    [project] dependencies, not left to come with another package."""
    missing = {name: where for name, where in _imported().items() if name not in _declared()}
    assert missing == {}


def test_every_runtime_dependency_is_explained_in_the_readme():
    """The README's runtime list names exactly the declared runtime dependencies."""
    assert _readme_runtime() == _declared()
