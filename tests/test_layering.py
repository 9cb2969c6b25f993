"""The dependency rule: only the I/O edges may import gevent, sockets or an HTTP client.

The modules are read with `ast`, never imported, so a broken or gevent-hungry module cannot
hide a violation. Allowed: plivoxml_fs/cli.py, esl/transport.py, effects/, api/, simulator/,
testing.py, the replay harness (replay.py, replay_web.py, replay_hearing.py) and client.py (the
SDK's session). Everything else must be plain Python directly; and the core (all but those and
the composition roots service.py and replay.py) must not reach I/O through the package's own
module-level imports either.

esl/transport.py's gevent side was split (issue 10): waiters.py, server.py and inbound.py are
allowed with it by name, and greenio.py (its socket and timer waits, shared with effects/http11.py); esl/session.py, codec.py and messages.py stay pure (LEAVES below).
"""

from __future__ import annotations

import ast
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "plivoxml_fs"
ALLOWED = (
    "plivoxml_fs/cli.py",
    "plivoxml_fs/esl/transport.py",
    # split from transport.py: its waiters, the outbound server, the inbound client
    "plivoxml_fs/esl/waiters.py",
    "plivoxml_fs/esl/server.py",
    "plivoxml_fs/esl/inbound.py",
    # the waits without a gevent.Timeout each that the transport, waiters and HTTP client share
    "plivoxml_fs/esl/greenio.py",
    "plivoxml_fs/effects/",
    "plivoxml_fs/api/",
    "plivoxml_fs/simulator/",
    "plivoxml_fs/testing.py",
    # replay is a harness like the simulator: it runs a web app and an ESL client in process.
    "plivoxml_fs/replay.py",
    # the official SDK's requests session, pointed at the control API (users' code, not the daemon's)
    "plivoxml_fs/client.py",
    "plivoxml_fs/replay_web.py",
    "plivoxml_fs/replay_hearing.py",
)
FORBIDDEN = (
    "gevent",
    "socket",
    "socketserver",
    "selectors",
    "requests",
    "urllib3",
    "http.client",
    "http.server",
    "urllib.request",
)


@attrs.frozen
class Import:
    """One import statement's target as written in a module."""

    module: str  # the dotted name it brings in, e.g. "gevent.event" or "http.client"
    line: int
    text: str  # the statement as written
    top_level: bool  # runs when the module is imported (not in a function or TYPE_CHECKING)


def module_name(path: Path) -> str:
    """plivoxml_fs/esl/codec.py -> plivoxml_fs.esl.codec; a package's __init__ -> the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(node: ast.ImportFrom, name: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = name.split(".") if is_package else name.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(source: str, name: str, *, is_package: bool = False) -> list[Import]:
    """Every import in `source` (module `name`): statements, and import_module("x") calls."""
    found: list[Import] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = top and not isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            ) and not (isinstance(child, ast.If) and _is_type_checking(child))
            if isinstance(child, ast.Import | ast.ImportFrom) or _dynamic_import(child):
                text = ast.get_source_segment(source, child) or ""
            if isinstance(child, ast.Import):
                found.extend(Import(a.name, child.lineno, text, top) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = _absolute(child, name, is_package)
                found.append(Import(base, child.lineno, text, top))
                found.extend(
                    Import(f"{base}.{a.name}", child.lineno, text, top)
                    for a in child.names if a.name != "*"
                )
            elif _dynamic_import(child):
                found.append(Import(child.args[0].value, child.lineno, text, top))
            visit(child, inner)

    visit(ast.parse(source), True)
    return found


def _dynamic_import(node: ast.AST) -> bool:
    """`importlib.import_module("x")`, `import_module("x")` or `__import__("x")`."""
    if not isinstance(node, ast.Call) or not node.args:
        return False
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    first = node.args[0]
    return called in ("import_module", "__import__") and (
        isinstance(first, ast.Constant) and isinstance(first.value, str)
    )


def forbidden(module: str) -> str | None:
    """The FORBIDDEN entry `module` falls under, or None."""
    return next((f for f in FORBIDDEN if module == f or module.startswith(f + ".")), None)


def is_allowed(relative: str) -> bool:
    """True for the modules that may do I/O."""
    return any(relative == a or (a.endswith("/") and relative.startswith(a)) for a in ALLOWED)


def package_modules() -> dict[str, tuple[str, list[Import]]]:
    """Module name -> (path relative to the repo, its imports) for every module in the package."""
    modules = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        name = module_name(path)
        source = path.read_text("utf-8")
        rel = path.relative_to(ROOT).as_posix()
        modules[name] = (rel, imports_of(source, name, is_package=path.name == "__init__.py"))
    return modules


MODULES = package_modules()


def direct_violations(modules) -> list[str]:
    """One line per forbidden import in a module that is not allowed I/O."""
    lines = []
    for rel, imports in modules.values():
        if is_allowed(rel):
            continue
        seen = set()
        for imp in imports:
            hit = forbidden(imp.module)
            if hit and (imp.line, hit) not in seen:
                seen.add((imp.line, hit))
                lines.append(f"{rel}:{imp.line}: `{imp.text}` imports {hit}")
    return lines


def _loaded_by(name: str, modules) -> list[str]:
    """Our modules that importing `name` executes: its parent packages, then itself."""
    parts = name.split(".")
    return [m for m in (".".join(parts[:i]) for i in range(1, len(parts) + 1)) if m in modules]


def import_chain(start: str, modules) -> list[str] | None:
    """A chain of module-level imports from `start` to a forbidden module, or None."""
    todo, came_from = [start], {start: None}
    while todo:
        current = todo.pop(0)
        for imp in modules[current][1]:
            if not imp.top_level:
                continue
            hit = forbidden(imp.module)
            if hit:
                chain, node = [f"{hit} ({modules[current][0]}:{imp.line})"], current
                while node is not None:
                    chain.append(node)
                    node = came_from[node]
                return chain[::-1]
            for nxt in _loaded_by(imp.module, modules):
                if nxt not in came_from:
                    came_from[nxt] = current
                    todo.append(nxt)
    return None


# --- the rule on the real package -------------------------------------------------------------


def test_the_walk_sees_the_package():
    """The scan finds the package's modules, so an empty pass cannot be a false green."""
    assert {"plivoxml_fs.config", "plivoxml_fs.errors", "plivoxml_fs.esl.codec"} <= set(MODULES)
    assert "gevent" in {i.module for i in MODULES["plivoxml_fs.esl.transport"][1]}
    assert {"plivoxml_fs.esl.session", "plivoxml_fs.fs.arguments"} <= set(CORE)


def test_only_io_edges_import_gevent_sockets_or_http_clients():
    """No module outside cli, esl/'s gevent side, effects/, api/, simulator/, testing imports I/O."""
    problems = direct_violations(MODULES)
    assert not problems, (
        "only cli.py, esl/transport.py (waiters, server, inbound), effects/, api/, simulator/ "
        "and testing.py may import "
        "gevent, sockets or an HTTP client:\n" + "\n".join(problems)
    )


CORE = sorted(name for name, (rel, _) in MODULES.items() if not is_allowed(rel)
              and not rel.endswith(("/service.py", "/replay.py")))


@pytest.mark.parametrize("name", CORE)
def test_core_module_does_not_pull_in_io_through_the_package(name):
    """Importing a core module does not reach gevent, sockets or HTTP via our own imports."""
    chain = import_chain(name, MODULES)
    assert chain is None, f"{name} imports I/O at import time: " + " -> ".join(chain)


#: The pure leaves the call's path ends in (fs/) and starts from (esl/ below the transport): the
#: package's own modules each may import, besides packages' empty __init__ files. A builder that
#: reached for a room, a verb or the transport would no longer be a leaf.
LEAVES = {
    "plivoxml_fs.esl.codec": {"plivoxml_fs.errors", "plivoxml_fs.esl.messages"},
    "plivoxml_fs.esl.session": {"plivoxml_fs.errors", "plivoxml_fs.esl.codec",
                                "plivoxml_fs.esl.messages", "plivoxml_fs.fs.commands"},
    "plivoxml_fs.fs.commands": {"plivoxml_fs.errors", "plivoxml_fs.esl.codec"},
    "plivoxml_fs.fs.arguments": {"plivoxml_fs.errors", "plivoxml_fs.fs.commands"},
    "plivoxml_fs.fs.member_commands": {"plivoxml_fs.errors", "plivoxml_fs.fs.commands"},
}


def own_imports(name: str, modules) -> set[str]:
    """The package's own modules `name` imports (at any level), packages left out."""
    found = set()
    for imp in modules[name][1]:
        for loaded in _loaded_by(imp.module, modules):
            if not modules[loaded][0].endswith("__init__.py") and loaded != name:
                found.add(loaded)
    return found


@pytest.mark.parametrize("name", sorted(LEAVES))
def test_leaf_modules_import_only_what_they_build_on(name):
    """fs/commands, fs/arguments and fs/member_commands (split from it), the codec and the
    session stay leaves."""
    assert name in CORE, f"{name} is missing or allowed I/O"
    extra = own_imports(name, MODULES) - LEAVES[name]
    assert not extra, f"{name} imports {sorted(extra)}: only {sorted(LEAVES[name])} are allowed"


# --- the checker itself ------------------------------------------------------------------------


def fake_modules(**sources):
    """Module name -> (path, imports) for source strings, as package_modules builds it."""
    return {
        name.replace("__", "."): (
            name.replace("__", "/") + ".py",
            imports_of(src, name.replace("__", ".")),
        )
        for name, src in sources.items()
    }


def test_checker_names_module_line_and_statement():
    """Each violation names the file, the line and the import as written."""
    mods = fake_modules(
        plivoxml_fs__rooms__room="import attrs\nimport gevent.queue as q\n",
        plivoxml_fs__verbs__play="def f():\n    from http import client\n",
        plivoxml_fs__call__x="import importlib\nm = importlib.import_module('socket')\n",
        plivoxml_fs__fs__y="from urllib.request import urlopen\nfrom urllib.parse import quote\n",
    )
    assert direct_violations(mods) == [
        "plivoxml_fs/rooms/room.py:2: `import gevent.queue as q` imports gevent",
        "plivoxml_fs/verbs/play.py:2: `from http import client` imports http.client",
        "plivoxml_fs/call/x.py:2: `importlib.import_module('socket')` imports socket",
        "plivoxml_fs/fs/y.py:1: `from urllib.request import urlopen` imports urllib.request",
    ]


def test_checker_lets_the_io_edges_and_lookalikes_through():
    """Allowed modules may import I/O; names that only look alike are not flagged."""
    mods = fake_modules(
        plivoxml_fs__effects__fetch="import requests\nimport gevent\n",
        plivoxml_fs__simulator__core="import socket\n",
        plivoxml_fs__api__app="from gevent.pywsgi import WSGIServer\n",
        plivoxml_fs__cli="import gevent\n",
        plivoxml_fs__rooms__room="import socketlike\nimport requests_toolbelt_not\nimport http\n",
    )
    assert direct_violations(mods) == []


def test_relative_imports_are_resolved():
    """`from ..esl import transport` inside plivoxml_fs/call/driver.py means the transport."""
    names = {i.module for i in imports_of("from ..esl import transport\n", "plivoxml_fs.call.driver")}
    assert names == {"plivoxml_fs.esl", "plivoxml_fs.esl.transport"}
    in_package = imports_of("from . import codec\n", "plivoxml_fs.esl", is_package=True)
    assert {i.module for i in in_package} == {"plivoxml_fs.esl", "plivoxml_fs.esl.codec"}


def test_chain_follows_module_level_imports_only():
    """A core module reaching gevent through another module is caught, with the chain shown;
    imports inside functions or under TYPE_CHECKING do not count."""
    mods = fake_modules(
        plivoxml_fs="",
        plivoxml_fs__call="",
        plivoxml_fs__call__driver="from plivoxml_fs.esl.transport import OutboundConnection\n",
        plivoxml_fs__esl="",
        plivoxml_fs__esl__transport="import gevent\n",
        plivoxml_fs__verbs__lazy=(
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from plivoxml_fs.esl.transport import X\n"
            "def f():\n    import plivoxml_fs.esl.transport\n"
        ),
    )
    assert import_chain("plivoxml_fs.call.driver", mods) == [
        "plivoxml_fs.call.driver", "plivoxml_fs.esl.transport",
        "gevent (plivoxml_fs/esl/transport.py:1)",
    ]
    assert import_chain("plivoxml_fs.verbs.lazy", mods) is None


def test_own_imports_sees_every_level_and_leaves_packages_out():
    """A builder importing a room inside a function still counts; empty packages do not."""
    mods = {
        "plivoxml_fs": ("plivoxml_fs/__init__.py", []),
        "plivoxml_fs.fs": ("plivoxml_fs/fs/__init__.py", []),
        "plivoxml_fs.rooms": ("plivoxml_fs/rooms/__init__.py", []),
        **fake_modules(
            plivoxml_fs__errors="",
            plivoxml_fs__rooms__room="",
            plivoxml_fs__fs__commands=(
                "from plivoxml_fs.errors import UnsafeValue\n"
                "def f():\n    from plivoxml_fs.rooms import room\n"
            ),
        ),
    }
    assert own_imports("plivoxml_fs.fs.commands", mods) == {
        "plivoxml_fs.errors", "plivoxml_fs.rooms.room",
    }
