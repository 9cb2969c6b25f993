"""Stand-ins for the document models (docs/internals.md) until plivoxml_fs.documents lands.

Same class names and field names as the contract, so the registry (keyed by class name) and
the executors see what the real models will give them.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Location:
    source: str = "answer.xml"
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}"


HERE = Location()


@attrs.frozen
class Play:
    url: str
    loop: int = 1
    where: Location = HERE


@attrs.frozen
class Speak:
    text: str
    voice: str = "WOMAN"
    language: str = "en-US"
    loop: int = 1
    where: Location = HERE


@attrs.frozen
class Wait:
    length: int = 1
    silence: bool = False
    min_silence: int = 2000
    beep: bool = False
    where: Location = HERE


@attrs.frozen
class Hangup:
    reason: str | None = None
    schedule: int = 0
    where: Location = HERE


@attrs.frozen
class Redirect:
    url: str
    method: str = "POST"
    where: Location = HERE


@attrs.frozen
class PreAnswer:
    children: tuple = ()
    where: Location = HERE


@attrs.frozen
class Conference:
    name: str
    where: Location = HERE


@attrs.frozen
class Document:
    verbs: tuple
    source: str = "answer.xml"
