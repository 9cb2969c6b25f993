"""Parse and validate a document: bytes in, a `Document` out, or `DocumentInvalid` listing the
problems found (all of them, up to MAX_PROBLEMS; past that "... and M more problems"), each
naming file, line, column, element, attribute and value.

`VERBS` is the explicit registry: which elements exist, the model each becomes, and which
elements may nest inside it. The root must be `<Response>`, which holds verbs only. Unknown
elements and unknown attributes are problems; so is text where an element takes none.
Things that do not stop a document but do nothing (a model's `warnings(given)`, e.g. digitsMatch
without callbackUrl) are warnings: the `Document` carries them as lines, cut the same way.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from plivoxml_fs.documents import models
from plivoxml_fs.documents.attributes import XML_SPACE, Invalid
from plivoxml_fs.documents.problems import Problem, Problems, more_line, shown
from plivoxml_fs.documents.xmlsource import PAUSE_EVERY_NODES, Node, read_tree
from plivoxml_fs.errors import DocumentInvalid

ROOT = "Response"


@attrs.frozen
class Verb:
    """One registry entry: the model an element becomes and the elements it may hold."""

    model: type
    children: tuple[str, ...] = ()


VERBS: Mapping[str, Verb] = {
    "Conference": Verb(models.Conference),
    "MultiPartyCall": Verb(models.MultiPartyCall),
    "Play": Verb(models.Play),
    "Speak": Verb(models.Speak),
    "Wait": Verb(models.Wait),
    "Hangup": Verb(models.Hangup),
    "Redirect": Verb(models.Redirect),
    "PreAnswer": Verb(models.PreAnswer, children=("Play", "Speak", "Wait")),
}


@attrs.frozen
class Shape:
    """What a model reads from XML, gathered once from its fields' metadata."""

    attributes: Mapping[str, attrs.Attribute]  # XML name -> field
    text: attrs.Attribute | None
    children: attrs.Attribute | None


def shape(model: type) -> Shape:
    fields = attrs.fields(model)
    return Shape(
        attributes={f.metadata[models.XML]: f for f in fields if models.XML in f.metadata},
        text=next((f for f in fields if models.TEXT in f.metadata), None),
        children=next((f for f in fields if models.CHILDREN in f.metadata), None),
    )


SHAPES: Mapping[str, Shape] = {name: shape(verb.model) for name, verb in VERBS.items()}


@attrs.define
class _Walk:
    """One validation: what it found so far, and the caller's `pause` every few elements."""

    problems: Problems
    warnings: Problems
    pause: Callable[[], None] | None
    seen: int = 0

    def step(self) -> None:
        self.seen += 1
        if self.pause is not None and self.seen % PAUSE_EVERY_NODES == 0:
            self.pause()


def parse_document(
    data: bytes, *, source: str, max_bytes: int, pause: Callable[[], None] | None = None
) -> models.Document:
    """The document in `data`, or `DocumentInvalid` with its problems, one per line.

    `pause`, when given, is called every so often while parsing and validating (the daemon
    passes one that yields to other calls: a 256 KB document takes a few hundred ms of CPU).
    """
    root = read_tree(data, source=source, max_bytes=max_bytes, pause=pause)
    walk = _Walk(Problems(), Problems(), pause)
    verbs = _response(root, walk)
    problems, warnings = walk.problems, walk.warnings
    if problems:
        tail = more_line(source, problems.more) if problems.more else ""
        raise DocumentInvalid(problems.kept, more=problems.more, tail=tail)
    lines = [str(warning) for warning in warnings.kept]
    if warnings.more:
        lines.append(more_line(source, warnings.more, "warnings"))
    return models.Document(verbs=verbs, source=source, warnings=tuple(lines))


def _response(root: Node, walk: _Walk) -> tuple[Any, ...]:
    problems = walk.problems
    if root.tag != ROOT:
        message = f"the root element must be <{ROOT}> (got <{root.tag}>)"
        problems.add(Problem(root.where, message))
        return ()
    for name in root.attrib:
        problems.add(Problem(root.where, "unknown attribute (<Response> has none)", ROOT, name))
    _no_text(root, problems)
    return _verbs(root, tuple(VERBS), walk)


def _verbs(parent: Node, allowed: tuple[str, ...], walk: _Walk) -> tuple[Any, ...]:
    verbs, problems = [], walk.problems
    for node in parent.children:
        walk.step()
        if node.tag not in allowed:
            if problems.full:
                problems.count()
            else:
                message = _misplaced(node.tag, parent.tag, allowed)
                problems.add(Problem(node.where, message, node.tag))
            continue
        verb = _verb(node, walk)
        if verb is not None:
            verbs.append(verb)
    return tuple(verbs)


def _misplaced(tag: str, parent: str, allowed: tuple[str, ...]) -> str:
    if tag not in VERBS and parent == ROOT:
        return "unknown element (known: " + ", ".join(sorted(VERBS)) + ")"
    if not allowed:
        return f"not allowed inside <{parent}> (it holds no elements)"
    return f"not allowed inside <{parent}> (allowed: {', '.join(allowed)})"


def _verb(node: Node, walk: _Walk) -> Any:
    """The model for `node`, or None after adding its problems (children's included)."""
    verb, form, problems = VERBS[node.tag], SHAPES[node.tag], walk.problems
    before = len(problems)
    values = _attributes(node, form, problems)
    if form.text is not None:
        _text(node, form.text, values, problems)
    else:
        _no_text(node, problems)
    if form.children is not None:
        values[form.children.name] = _verbs(node, verb.children, walk)
    else:
        _verbs(node, (), walk)
    if len(problems) > before:
        return None
    model = verb.model(**values, where=node.where)
    if not _rules_hold(model, node, problems):
        return None
    _warn(model, node, walk.warnings)
    return model


def _attributes(node: Node, form: Shape, problems: Problems) -> dict[str, Any]:
    """Field values from `node`'s attributes; unknown, invalid and missing ones are problems."""
    values: dict[str, Any] = {}
    for name, raw in node.attrib.items():
        field = form.attributes.get(name)
        if field is None:
            if problems.full:  # difflib is not worth running for a line nobody will read
                problems.count()
            else:
                problems.add(Problem(node.where, _unknown(name, form), node.tag, name))
            continue
        try:
            values[field.name] = field.metadata[models.CONVERT](raw)
        except Invalid as exc:
            problems.add(Problem(node.where, f"{exc} (got {shown(raw)})", node.tag, name))
    for name, field in form.attributes.items():
        if field.default is attrs.NOTHING and name not in node.attrib:
            problems.add(Problem(node.where, "is required", node.tag, name))
    return values


def _text(node: Node, field: attrs.Attribute, values: dict, problems: Problems) -> None:
    raw = node.text
    try:
        values[field.name] = field.metadata[models.CONVERT](raw)
    except Invalid as exc:
        message = f"{exc} (got {shown(raw.strip(XML_SPACE))})"
        problems.add(Problem(node.where, message, node.tag, "(text)"))


def _no_text(node: Node, problems: Problems) -> None:
    stray = node.text.strip(XML_SPACE)
    if stray:
        problems.add(Problem(node.where, f"holds no text (got {shown(stray)})", node.tag))


def _unknown(name: str, form: Shape) -> str:
    if not form.attributes:
        return "unknown attribute (this element has none)"
    close = difflib.get_close_matches(name, list(form.attributes), n=1)
    if close:
        return f"unknown attribute (did you mean {close[0]}?)"
    return "unknown attribute (known: " + ", ".join(sorted(form.attributes)) + ")"


def _rules_hold(model: Any, node: Node, problems: Problems) -> bool:
    rules = getattr(model, "problems", None)
    complaints = rules(frozenset(node.attrib)) if rules is not None else []
    for attribute, message in complaints:
        problems.add(Problem(node.where, message, node.tag, attribute))
    return not complaints


def _warn(model: Any, node: Node, warnings: Problems) -> None:
    rules = getattr(model, "warnings", None)
    for attribute, message in rules(frozenset(node.attrib)) if rules is not None else []:
        warnings.add(Problem(node.where, message, node.tag, attribute))
