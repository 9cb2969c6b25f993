"""`<Wait>`: pause `length` seconds with the `sleep` application; it does not answer the call.

`silence` (end early once `minSilence` ms of silence are heard) and `beep` (end on a voicemail
beep) need media detection this daemon does not have: with either, the wait lasts the full
`length`, which is the upper bound Plivo documents for both.
"""

from __future__ import annotations

from typing import Any

from plivoxml_fs.fs import commands
from plivoxml_fs.verbs.base import NEXT, ExecContext, Gone, Outcome, run_app

MS_PER_S = 1000


def run(wait: Any, ctx: ExecContext) -> Outcome:
    if wait.silence or wait.beep:
        ctx.log.debug("<Wait>: no silence/beep detection; waiting the full %s s", wait.length)
    done = run_app(ctx, "sleep", commands.sleep_arg(wait.length * MS_PER_S))
    return done if isinstance(done, Gone) else NEXT
