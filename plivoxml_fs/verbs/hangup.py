"""`<Hangup>`: end the call now, or with `schedule` N seconds later and go on (as Plivo does).

`reason` becomes the hangup cause: rejected -> CALL_REJECTED, busy -> USER_BUSY, none ->
NORMAL_CLEARING. A scheduled hangup is FreeSWITCH's `sched_hangup +N <cause>` application.
"""

from __future__ import annotations

from typing import Any

from plivoxml_fs.call.params import SOURCE_ANSWER_XML
from plivoxml_fs.fs import commands
from plivoxml_fs.verbs.base import NEXT, ExecContext, Gone, HangupCall, Outcome, run_app


def run(hangup: Any, ctx: ExecContext) -> Outcome:
    cause = commands.hangup_cause_for(hangup.reason)
    if hangup.schedule:
        done = run_app(ctx, "sched_hangup", commands.sched_hangup(hangup.schedule, cause))
        return done if isinstance(done, Gone) else NEXT
    return HangupCall(cause, SOURCE_ANSWER_XML)
