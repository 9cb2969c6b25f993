"""Small values and helpers of the call driver (call/driver.py): why a document could not be
had, the verbs metric's outcome label, when a channel was answered, where a verb is written."""

from __future__ import annotations

import time
from typing import Any

from plivoxml_fs.call import causes
from plivoxml_fs.verbs.base import NEXT, Outcome


class Failed:
    """Why a document could not be had: the message (not yet logged) and the causes row."""

    __slots__ = ("why", "reason")

    def __init__(self, why: str, reason: causes.Row) -> None:
        self.why, self.reason = why, reason


def outcome_label(outcome: Outcome | None) -> str:
    """The `outcome` label of the verbs metric: next, or the ending's kind; error if it raised."""
    if outcome is None:
        return "error"
    if outcome == NEXT:
        return "next"
    return type(outcome).__name__.lower()


def answered_at(channel: Any) -> int:
    """When the channel was answered (µs) if the channel data says it is, else 0."""
    if channel.get("Answer-State") != "answered":
        return 0
    raw = channel.get("Caller-Channel-Answered-Time") or ""
    return int(raw) if raw.isdigit() and int(raw) > 0 else time.time_ns() // 1000


def where_of(verb: Any) -> str:
    """Where the verb is written (`answer.xml:3:5`), as its Location prints itself."""
    where = getattr(verb, "where", None)
    return "?" if where is None else str(where)
