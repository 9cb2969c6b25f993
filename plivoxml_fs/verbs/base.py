"""What every verb executor shares: the Outcome values, the context the driver gives, app runs.

An executor is `run(model, ctx) -> Outcome`. Control flow is a value, never an exception:

- `NEXT` — go on with the next verb;
- `Goto(url, method, params)` — fetch `url` and run that document instead (Redirect, action);
- `HangupCall(cause, source)` — hang the call up now and end the document;
- `Gone(reason)` — the caller hung up or FreeSWITCH went away: stop, nothing more to send.

Executors import no gevent: they talk to the call through `ctx.conn` (an `OutboundConnection`
or a fake with the same methods) and wait through `run_app`, which never waits past the call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import attrs

from plivoxml_fs.config import AUTH_ID, Settings, default_account
from plivoxml_fs.errors import CommandFailed, CommandTimeout, ConnectionLost
from plivoxml_fs.esl.messages import Event
from plivoxml_fs.fs.events import ExecuteComplete


def _frozen_params(value: Mapping[str, str]) -> Mapping[str, str]:
    return dict(value)


@attrs.frozen
class Next:
    """Go on with the next verb. `end`: the `call.causes` row the call ends with if no verb
    follows (None: End Of XML Instructions); it does not take part in comparisons, so every
    Next is NEXT."""

    end: Any = attrs.field(default=None, eq=False)


#: What kind of URL a Goto names (Plivo's hangup codes tell them apart: 7012 vs 7014, ...).
REDIRECT, ACTION = "redirect", "action"


@attrs.frozen
class Goto:
    """Fetch `url` with `method`, sending the call parameters plus `params`, and run it.

    `kind` is REDIRECT (a <Redirect>) or ACTION (a verb's action URL with redirect=true): a
    call that hangs up before an action URL is fetched still has it requested (outbox).
    """

    url: str
    method: str = "POST"
    params: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_params)
    kind: str = REDIRECT


@attrs.frozen
class HangupCall:
    """Hang the call up with `cause` (a Q.850 name); `source` is Plivo's HangupSource.

    `reason` is the daemon's reason as a `call.causes` row (it decides HangupCauseCode); None
    lets the cause and source decide (a `<Hangup>`: by the cause it hangs up with). The driver
    reports a call FreeSWITCH ended with source None (the cause table names who).
    """

    cause: str = "NORMAL_CLEARING"
    source: str | None = "Answer XML"
    reason: Any = None


@attrs.frozen
class Gone:
    """The call is over (caller hung up, connection lost): send nothing more."""

    reason: str


NEXT = Next()
Outcome = Next | Goto | HangupCall | Gone


class Connection(Protocol):
    """What executors and the driver use of an `OutboundConnection`."""

    uuid: str
    channel: Event
    hangup: Any  # set once the call hung up (gevent Event-like: is_set(), wait(timeout))
    hangup_event: Event | None

    def command(
        self, line: str, headers: Any = (), body: Any = None, *, timeout: Any = None
    ) -> Any: ...

    def execute_async(self, app: str, arg: str = "", **kwargs: Any) -> Any: ...

    def execute_many(self, apps: Any, **kwargs: Any) -> list[Any]: ...

    def execute(self, app: str, arg: str = "", **kwargs: Any) -> Event: ...

    def api(self, cmd: str, *, timeout: Any = None, check: bool = True) -> str: ...

    def subscribe(self, maxsize: int | None = None) -> Any: ...

    @property
    def closed(self) -> bool: ...


class ExecContext(Protocol):
    """What the driver hands every executor."""

    conn: Connection
    params: Mapping[str, str]  # the call's Plivo parameters, as of now
    settings: Settings
    fetcher: Any  # DocumentFetcher
    outbox: Any  # Outbox
    rooms: Any  # rooms.registry.RoomEngine: seats in rooms; every room decision is made there
    clock: Callable[[], float]  # monotonic seconds (how long a verb waited)
    new_id: Callable[[], str]  # a fresh identifier
    log: logging.LoggerAdapter
    answered: bool  # the call is answered (by us or before it reached us)
    first_verb: bool  # no verb of this call has run before the current one


Executor = Callable[[Any, ExecContext], Outcome]


#: The channel variable naming the control API account a call's rooms belong to.
ACCOUNT_VARIABLE = "plivoxml_account_id"


def call_account(ctx: ExecContext) -> str:
    """The control API account the call's rooms belong to (their scope, rooms/names.py): the
    channel variable ACCOUNT_VARIABLE when it holds an auth id, else the default account
    (config.default_account; "" when no account is configured). Another value: one WARNING,
    the default account."""
    channel = getattr(ctx.conn, "channel", None)
    named = channel.variable(ACCOUNT_VARIABLE) if channel is not None else None
    if named and AUTH_ID.fullmatch(named):
        return named
    if named:
        ctx.log.warning("channel variable %s=%r is not an auth id (20 characters starting MA "
                        "or SA): the call's rooms belong to the default account",
                        ACCOUNT_VARIABLE, named[:40])
    return default_account(ctx.settings)


def hung_up(ctx: ExecContext) -> bool:
    """True once the call hung up or the connection is gone."""
    return bool(ctx.conn.hangup.is_set()) or bool(ctx.conn.closed)


def run_app(ctx: ExecContext, app: str, arg: str = "") -> Event | Gone:
    """Run a dialplan application to completion; `Gone` if the call ends first or meanwhile.

    Waits in slices of `command_timeout_s`: an application may run as long as the call (a
    loop of music), so the only end is its CHANNEL_EXECUTE_COMPLETE, or the call's end (after
    a hangup FreeSWITCH completes the running app at once; one more slice is the bound).
    """
    if hung_up(ctx):
        return Gone("the call had already ended")
    try:
        execution = ctx.conn.execute_async(app, arg)
    except ConnectionLost as exc:
        return Gone(str(exc))
    except CommandFailed:
        if hung_up(ctx):
            return Gone("the call ended before " + app)
        raise
    slice_s = ctx.settings.command_timeout_s
    while True:
        was_up = not hung_up(ctx)
        try:
            event = execution.wait(slice_s)
        except ConnectionLost as exc:
            return Gone(str(exc))
        except CommandTimeout:
            if not was_up:
                return Gone(f"{app} did not complete after the hangup")
            continue
        # FreeSWITCH completes the running application when the call hangs up: that is an end.
        return Gone(f"the call ended during {app}") if hung_up(ctx) else event


def app_response(event: Event) -> str:
    """The Application-Response of a CHANNEL_EXECUTE_COMPLETE (`FILE PLAYED`, ...), read
    through its fs/events view (ProtocolError naming the header if it is no such event)."""
    return ExecuteComplete.from_event(event).response
