"""`<Wait>`: pause `length` seconds; as Plivo, a Wait does not answer the call by itself.

- plain: the `sleep` application for `length` s;
- `silence="true"`: `detect_silence` ends the wait once `minSilence` ms of silence are heard,
  at most `length` s. Listening needs media, so this Wait answers an unanswered call first
  (registry.needs_answer);
- `beep="true"` (wait for a voicemail beep): there is no beep detector in a stock FreeSWITCH
  install, so the wait lasts the full `length` (the bound Plivo documents) — logged at DEBUG.
"""

from __future__ import annotations

from typing import Any

from plivoxml_fs.fs import arguments
from plivoxml_fs.verbs.base import NEXT, ExecContext, Gone, Outcome, run_app

MS_PER_S = 1000


def run(wait: Any, ctx: ExecContext) -> Outcome:
    length_ms = wait.length * MS_PER_S
    if wait.silence:
        done = run_app(ctx, "detect_silence", arguments.detect_silence(wait.min_silence, length_ms))
    else:
        if wait.beep:
            ctx.log.debug(
                "call %s: <Wait beep>: no beep detection; waiting the full %s s",
                ctx.conn.uuid,
                wait.length,
            )
        done = run_app(ctx, "sleep", arguments.sleep_arg(length_ms))
    return done if isinstance(done, Gone) else NEXT
