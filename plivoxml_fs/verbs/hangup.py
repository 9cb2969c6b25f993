"""`<Hangup>`: end the call now, or with `schedule` N seconds later and go on (as Plivo does).

`reason` becomes the hangup cause: rejected -> CALL_REJECTED, busy -> USER_BUSY. Without a
reason Plivo rejects the call when the Hangup is the first element and the call is not yet
answered (CALL_REJECTED), and otherwise ends it normally (NORMAL_CLEARING). A scheduled hangup
is FreeSWITCH's `sched_hangup +N <cause>`, the cause being the reason's or, without one,
ALLOTTED_TIMEOUT (as Plivo's FreeSWITCH framework scheduled it), so the hangup callback tells
the timer's end (6000 Scheduled Hangup) from the caller's; the document goes on (when nothing
follows, its end hangs the call up at once, as Plivo says).
"""

from __future__ import annotations

from typing import Any

from plivoxml_fs.call.params import SOURCE_ANSWER_XML
from plivoxml_fs.fs import arguments
from plivoxml_fs.verbs.base import NEXT, ExecContext, Gone, HangupCall, Outcome, run_app


def cause_of(hangup: Any, ctx: ExecContext) -> str:
    if hangup.reason:
        return arguments.hangup_cause_for(hangup.reason)
    if ctx.first_verb and not ctx.answered:
        return arguments.hangup_cause_for("rejected")
    return arguments.hangup_cause_for(None)


#: The cause of a scheduled hangup without a reason (FreeSWITCH's timer cause).
SCHEDULED_CAUSE = "ALLOTTED_TIMEOUT"


def run(hangup: Any, ctx: ExecContext) -> Outcome:
    if hangup.schedule:
        cause = arguments.hangup_cause_for(hangup.reason) if hangup.reason else SCHEDULED_CAUSE
        done = run_app(ctx, "sched_hangup", arguments.sched_hangup(hangup.schedule, cause))
        return done if isinstance(done, Gone) else NEXT
    return HangupCall(cause_of(hangup, ctx), SOURCE_ANSWER_XML)
