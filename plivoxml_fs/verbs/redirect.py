"""`<Redirect>`: fetch another document (with the call parameters) and run it instead."""

from __future__ import annotations

from typing import Any

from plivoxml_fs.verbs.base import ExecContext, Goto, Outcome


def run(redirect: Any, ctx: ExecContext) -> Outcome:
    return Goto(redirect.url, redirect.method)
