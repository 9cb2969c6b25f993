"""`<PreAnswer>`: early media. `pre_answer`, then the nested Play/Speak/Wait, without answering."""

from __future__ import annotations

from typing import Any

from plivoxml_fs.verbs import play, speak, wait
from plivoxml_fs.verbs.base import NEXT, ExecContext, Gone, Outcome, run_app

_NESTED = {"Play": play.run, "Speak": speak.run, "Wait": wait.run}


def run(preanswer: Any, ctx: ExecContext) -> Outcome:
    done = run_app(ctx, "pre_answer")
    if isinstance(done, Gone):
        return done
    for child in preanswer.children:
        kind = type(child).__name__
        if kind not in _NESTED:
            raise TypeError(f"<PreAnswer> cannot run <{kind}>")
        outcome = _NESTED[kind](child, ctx)
        if outcome != NEXT:
            return outcome
    return NEXT
