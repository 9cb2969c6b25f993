"""`<Speak>`: text to speech with mod_flite, `loop` times (0 = until the call ends).

Plivo's voices map to flite voices (WOMAN -> slt, MAN -> kal; fs/commands.py). flite speaks
English only: another `language` is spoken with the same English voice (logged at DEBUG).
"""

from __future__ import annotations

from typing import Any

from plivoxml_fs.fs import arguments
from plivoxml_fs.verbs.base import NEXT, ExecContext, Gone, Outcome, run_app


def run(speak: Any, ctx: ExecContext) -> Outcome:
    arg = arguments.speak(speak.text, speak.voice)
    if not str(speak.language).lower().startswith("en"):
        ctx.log.debug(
            "call %s: <Speak language=%r>: flite speaks it with an English voice",
            ctx.conn.uuid,
            speak.language,
        )
    count = 0
    while speak.loop == 0 or count < speak.loop:
        done = run_app(ctx, "speak", arg)
        if isinstance(done, Gone):
            return done
        count += 1
    return NEXT
