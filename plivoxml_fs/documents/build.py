"""Parse and validate a document: bytes in, a `Document` out, or `DocumentInvalid` listing EVERY
problem found (not just the first), each naming file, line, column, element, attribute and value.

`VERBS` is the explicit registry: which elements exist, the model each becomes, and which
elements may nest inside it. The root must be `<Response>`, which holds verbs only. Unknown
elements and unknown attributes are problems; so is text where an element takes none.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import attrs

from plivoxml_fs.documents import models
from plivoxml_fs.documents.attributes import XML_SPACE, Invalid
from plivoxml_fs.documents.problems import Problem, shown
from plivoxml_fs.documents.xmlsource import Node, read_tree
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


def parse_document(data: bytes, *, source: str, max_bytes: int) -> models.Document:
    """The document in `data`, or `DocumentInvalid` with every problem, one per line."""
    root = read_tree(data, source=source, max_bytes=max_bytes)
    problems: list[Problem] = []
    verbs = _response(root, problems)
    if problems:
        raise DocumentInvalid(problems)
    return models.Document(verbs=verbs, source=source)


def _response(root: Node, problems: list[Problem]) -> tuple[Any, ...]:
    if root.tag != ROOT:
        message = f"the root element must be <{ROOT}> (got <{root.tag}>)"
        problems.append(Problem(root.where, message))
        return ()
    for name in root.attrib:
        problems.append(Problem(root.where, "unknown attribute (<Response> has none)", ROOT, name))
    _no_text(root, problems)
    return _verbs(root, tuple(VERBS), problems)


def _verbs(parent: Node, allowed: tuple[str, ...], problems: list[Problem]) -> tuple[Any, ...]:
    verbs = []
    for node in parent.children:
        if node.tag not in allowed:
            problems.append(Problem(node.where, _misplaced(node.tag, parent.tag, allowed), node.tag))
            continue
        verb = _verb(node, problems)
        if verb is not None:
            verbs.append(verb)
    return tuple(verbs)


def _misplaced(tag: str, parent: str, allowed: tuple[str, ...]) -> str:
    if tag not in VERBS and parent == ROOT:
        return "unknown element (known: " + ", ".join(sorted(VERBS)) + ")"
    if not allowed:
        return f"not allowed inside <{parent}> (it holds no elements)"
    return f"not allowed inside <{parent}> (allowed: {', '.join(allowed)})"


def _verb(node: Node, problems: list[Problem]) -> Any:
    """The model for `node`, or None after adding its problems (children's included)."""
    verb, form = VERBS[node.tag], SHAPES[node.tag]
    before = len(problems)
    values = _attributes(node, form, problems)
    if form.text is not None:
        _text(node, form.text, values, problems)
    else:
        _no_text(node, problems)
    if form.children is not None:
        values[form.children.name] = _verbs(node, verb.children, problems)
    else:
        _verbs(node, (), problems)
    if len(problems) > before:
        return None
    model = verb.model(**values, where=node.where)
    return model if _rules_hold(model, node, problems) else None


def _attributes(node: Node, form: Shape, problems: list[Problem]) -> dict[str, Any]:
    """Field values from `node`'s attributes; unknown, invalid and missing ones are problems."""
    values: dict[str, Any] = {}
    for name, raw in node.attrib.items():
        field = form.attributes.get(name)
        if field is None:
            problems.append(Problem(node.where, _unknown(name, form), node.tag, name))
            continue
        try:
            values[field.name] = field.metadata[models.CONVERT](raw)
        except Invalid as exc:
            problems.append(Problem(node.where, f"{exc} (got {shown(raw)})", node.tag, name))
    for name, field in form.attributes.items():
        if field.default is attrs.NOTHING and name not in node.attrib:
            problems.append(Problem(node.where, "is required", node.tag, name))
    return values


def _text(node: Node, field: attrs.Attribute, values: dict, problems: list[Problem]) -> None:
    raw = node.text
    try:
        values[field.name] = field.metadata[models.CONVERT](raw)
    except Invalid as exc:
        message = f"{exc} (got {shown(raw.strip(XML_SPACE))})"
        problems.append(Problem(node.where, message, node.tag, "(text)"))


def _no_text(node: Node, problems: list[Problem]) -> None:
    stray = node.text.strip(XML_SPACE)
    if stray:
        problems.append(Problem(node.where, f"holds no text (got {shown(stray)})", node.tag))


def _unknown(name: str, form: Shape) -> str:
    if not form.attributes:
        return "unknown attribute (this element has none)"
    close = difflib.get_close_matches(name, list(form.attributes), n=1)
    if close:
        return f"unknown attribute (did you mean {close[0]}?)"
    return "unknown attribute (known: " + ", ".join(sorted(form.attributes)) + ")"


def _rules_hold(model: Any, node: Node, problems: list[Problem]) -> bool:
    rules = getattr(model, "problems", None)
    complaints = rules(frozenset(node.attrib)) if rules is not None else []
    for attribute, message in complaints:
        problems.append(Problem(node.where, message, node.tag, attribute))
    return not complaints
