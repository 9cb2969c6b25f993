"""`<PreAnswer>`: early media. `pre_answer`, then the nested Play/Speak/Wait, without answering."""

from __future__ import annotations

from typing import Any

from plivoxml_fs.documents.models import Play, Speak, Wait
from plivoxml_fs.verbs import play, speak, wait
from plivoxml_fs.verbs.base import NEXT, ExecContext, Gone, Outcome, run_app

_NESTED = {Play: play.run, Speak: speak.run, Wait: wait.run}


def run(preanswer: Any, ctx: ExecContext) -> Outcome:
    done = run_app(ctx, "pre_answer")
    if isinstance(done, Gone):
        return done
    for child in preanswer.children:
        executor = _NESTED.get(type(child))
        if executor is None:
            raise TypeError(f"<PreAnswer> cannot run <{type(child).__name__}>")
        outcome = executor(child, ctx)
        if outcome != NEXT:
            return outcome
    return NEXT
