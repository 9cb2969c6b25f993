"""The per-call loop: the OutboundServer handler that runs a call's documents from start to end.

`CallDriver(settings, fetcher, outbox).handle(conn)`:

0. before any of this, `confirm(conn)` (run by the OutboundServer) asks FreeSWITCH over the
   inbound connection whether the connecting Unique-ID is a live channel (`uuid_exists`);
   the URL channel variables are then read as the dialplan set them (`uuid_getvar`: the
   connect reply's URL-encoded copy cannot tell `a+b` from `a%2Bb`);
1. `myevents`, `nixevent` of the events nothing reads, `event plain BACKGROUND_JOB CUSTOM
   conference::maintenance`, `linger <s>` (esl/session.call_setup), in one write;
2. fetch the answer URL (channel variable `plivoxml_answer_url` / `plivoxml_answer_method`,
   else settings) with the Plivo call parameters, parse and validate it;
3. run the verbs in order; the call is answered before the first media verb (registry
   ANSWER_FIRST), so PreAnswer plays early media and Hangup can still reject;
4. follow Redirect / action (`Goto`) up to `max_redirects` documents; a document the control API
   gave the call (`CallDriver.inline`) runs first (a call it dialled) or next (one it moved);
5. a document that cannot be fetched or is invalid sends the call to the fallback URL
   (`plivoxml_fallback_url` / settings.fallback_url) once, then the call is hung up;
6. at the end: hang up (NORMAL_CLEARING after the last verb), send `exit`, and emit the hangup
   URL's callback (`plivoxml_hangup_url` / settings.hangup_url) exactly once, however the call
   ended: document end, Hangup verb, caller hangup mid-verb, lost connection or error; each
   ending carries its `call.causes` row, so the callback says Plivo's HangupCauseCode. A call
   with a hangup URL is journalled in the outbox from its start (`outbox.call_started`, and
   `call_answered` when the daemon answers it), so that a daemon killed mid-call leaves what
   the next one needs to post that callback (effects/recovery.py);
7. a call that hangs up before an action URL (a Goto of kind ACTION) is fetched has that URL
   requested through the outbox instead, so the app still learns the verb's outcome.

Every failure is one log line on logger `plivoxml_fs.call` with `extra={"call_uuid": ...}`,
naming the call and the cause. Nothing here imports gevent; waits go through the connection.
"""

from __future__ import annotations

import logging
import time
import uuid as uuidlib
from collections.abc import Callable, Mapping
from typing import Any

from plivoxml_fs import logs, metrics
from plivoxml_fs.call import causes
from plivoxml_fs.call import params as call_params
from plivoxml_fs.call.confirm import challenge
from plivoxml_fs.call.driver_parts import Failed, answered_at, outcome_label, where_of
from plivoxml_fs.config import Settings
from plivoxml_fs.effects.urls import shown_url
from plivoxml_fs.effects.webhook import Webhook
from plivoxml_fs.errors import (
    CommandFailed,
    CommandTimeout,
    ConnectionLost,
    FetchError,
    PlivoXMLError,
    UnsafeValue,
)
from plivoxml_fs.esl import session
from plivoxml_fs.fs import commands
from plivoxml_fs.rooms.model import RoomContext
from plivoxml_fs.rooms.registry import RoomEngine, SyncEdge
from plivoxml_fs.verbs import registry
from plivoxml_fs.verbs.base import (
    ACTION,
    NEXT,
    Gone,
    Goto,
    HangupCall,
    Outcome,
    hung_up,
    run_app,
)

log = logging.getLogger("plivoxml_fs.call")

#: The hangup cause when the daemon gives up on a call (no document, too many redirects, a
#: verb it cannot run): a temporary failure, so a carrier may route the call elsewhere.
ERROR_CAUSE = "NORMAL_TEMPORARY_FAILURE"
#: The hangup cause reported when the connection was lost before FreeSWITCH said why.
UNKNOWN_CAUSE = "NORMAL_UNSPECIFIED"
#: The hangup cause after the last verb of a document (Plivo: "End Of XML Instructions").
END_CAUSE = "NORMAL_CLEARING"
#: What kind of URL the answer and fallback URLs are (Plivo's hangup codes name the kind).
ANSWER = "answer"
#: Channel variables a dialplan may set per call.
VAR_ANSWER_URL, VAR_ANSWER_METHOD = "plivoxml_answer_url", "plivoxml_answer_method"
#: An AI participant's room leg (effects/aiagent.py) carries its token here.
AI_LEG_VARIABLE = "plivoxml_ai_leg"
VAR_FALLBACK_URL, VAR_FALLBACK_METHOD = "plivoxml_fallback_url", "plivoxml_fallback_method"
VAR_HANGUP_URL, VAR_HANGUP_METHOD = "plivoxml_hangup_url", "plivoxml_hangup_method"
#: The variables read with uuid_getvar (their exact text matters: signed or token URLs).
URL_VARIABLES = (VAR_ANSWER_URL, VAR_FALLBACK_URL, VAR_HANGUP_URL)
#: How long `exit` may take once the call is over, in seconds.
EXIT_TIMEOUT_S = 2.0

Parser = Callable[..., Any]


def new_id() -> str:
    """A fresh identifier (recording ids, ...)."""
    return str(uuidlib.uuid4())


def _default_parser() -> Parser:
    from plivoxml_fs.documents import parse_document

    return parse_document


class CallDriver:
    """Runs each call handed over by the outbound socket. One instance serves every call."""

    def __init__(
        self,
        settings: Settings,
        fetcher: Any,
        outbox: Any,
        inbound: Any = None,
        *,
        parse: Parser | None = None,
        rooms: RoomEngine | None = None,
    ) -> None:
        self.settings = settings
        self.fetcher = fetcher
        self.outbox = outbox
        self.inbound = inbound
        # the daemon gives the engine its gevent edge (service.py); built bare, rooms send over
        # each member's own socket and arm no timers
        self.rooms = rooms or RoomEngine(RoomContext(settings, new_id),
                                         SyncEdge(outbox, time.time))
        self._parse = parse
        #: call uuid -> a document the control API gave it (api/mpc_add.py), and the confirm
        #: step it must pass first (call/confirm.py `Confirm`: a participant's confirm_key)
        self.inline: dict[str, str] = {}
        self.confirms: dict[str, Any] = {}

    def confirm(self, conn: Any) -> str | None:
        """Why the call on `conn` is refused, or None: its Unique-ID must be a live channel.

        Asked over the inbound connection, never over the call's own socket (whoever connected
        controls that). It waits up to connect_timeout_s for a connection that is down (a
        reconnect in progress), then refuses: no check, no call. Without an inbound client
        (`Daemon.start_server` alone, as the benchmark runs it) nothing can be asked and the
        call is accepted.
        """
        if self.inbound is None:
            return None
        timeout = self.settings.connect_timeout_s
        try:
            answer = self.inbound.api(commands.uuid_exists(conn.uuid), timeout=timeout)
        except ConnectionLost:
            return ("cannot confirm it: the inbound connection to FreeSWITCH is down "
                    f"(waited {timeout} s)")
        except (CommandTimeout, CommandFailed, UnsafeValue) as exc:
            return f"cannot confirm it: {exc}"
        if answer.strip() != "true":
            shown = answer.strip()[:40]
            return f"FreeSWITCH has no live channel with this Unique-ID (uuid_exists: {shown!r})"
        return None

    def handle(self, conn: Any) -> None:
        """Run the call on `conn` (an OutboundConnection) until it is over. Never raises."""
        metrics.calls_total.inc()
        with metrics.calls_active.track_inprogress():
            _Call(self, conn, self._parse).run()


class _Call:
    """One call's state: the ExecContext the executors see, and how the call ended."""

    def __init__(self, driver: CallDriver, conn: Any, parse: Parser | None) -> None:
        self.conn = conn
        self.settings = driver.settings
        self.fetcher = driver.fetcher
        self.outbox = driver.outbox
        self.inbound = driver.inbound
        self.rooms = driver.rooms
        self.inline, self.confirms = driver.inline, driver.confirms
        self.clock = time.monotonic  # ExecContext: how long things take
        self.new_id = new_id  # ExecContext: fresh identifiers
        self.parse = parse
        self.uuid = conn.uuid
        # the connect reply's parameters, read once (only CallStatus changes: `params`)
        self._params = call_params.call_params(conn.channel, status="")
        # the call's numbers ride along hidden, so every line of the call masks them (logs.py)
        numbers = logs.call_numbers(self._params)
        self.log = logging.LoggerAdapter(log, {"call_uuid": conn.uuid,
                                               logs.NUMBERS_EXTRA: numbers})
        # A leg FreeSWITCH originated may reach us already answered.
        self.answered_us = answered_at(conn.channel)
        self.fallback_used = False
        self.verbs_started = 0
        self.ending: Outcome = Gone("not started")
        self._hangup_emitted = False
        self._journalled = False
        self._urls: dict[str, str] = {}

    # -- ExecContext ----------------------------------------------------------------------

    @property
    def params(self) -> Mapping[str, str]:
        status = call_params.IN_PROGRESS if self.answered_us else call_params.RINGING
        return {**self._params, "CallStatus": status}

    @property
    def answered(self) -> bool:
        return self.answered_us > 0

    @property
    def first_verb(self) -> bool:
        return self.verbs_started == 1

    def _var(self, name: str) -> str:
        if name in self._urls:
            return self._urls[name]
        return self.conn.channel.variable(name) or ""

    def _read_urls(self) -> None:
        """Read each URL variable the connect reply names as it was set, while the channel is up."""
        for name in URL_VARIABLES:
            if self.conn.channel.variable(name) is not None:
                self._urls[name] = self._exact_variable(name)

    def _exact_variable(self, name: str) -> str:
        """`name` as the dialplan set it (uuid_getvar, over the inbound connection when there is
        one); if that fails, the connect reply's decoded copy, with a WARNING."""
        api = self.inbound.api if self.inbound is not None else self.conn.api
        try:
            value = api(commands.uuid_getvar(self.uuid, name),
                        timeout=self.settings.connect_timeout_s, check=False)
        except PlivoXMLError as exc:
            why = str(exc)
        else:
            if not value.startswith("-ERR"):
                return "" if value == "_undef_" else value
            why = value.strip()
        self.log.warning(
            "call %s: cannot read %s as set (%s); using the connect reply's copy, whose %%XX "
            "escapes came decoded", self.uuid, name, why)
        return self.conn.channel.variable(name) or ""

    def error(self, cause: str, reason: causes.Row = causes.INTERNAL_ERROR) -> HangupCall:
        """Log one line naming the call and `cause`; the call is to be hung up for `reason`."""
        self.log.error("call %s: %s; hanging up", self.uuid, cause)
        return HangupCall(ERROR_CAUSE, call_params.SOURCE_ERROR, reason)

    # -- the call -------------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._read_urls()
            self._journal()
            self._subscribe()
            self.ending = self._documents()
        except ConnectionLost as exc:
            self.ending = Gone(str(exc))
        except (CommandTimeout, CommandFailed) as exc:
            self.ending = self.error(f"FreeSWITCH: {exc}")
        except Exception:  # a bug: still end the call cleanly and post the hangup URL
            self.log.exception("call %s: driver failed", self.uuid)
            self.ending = HangupCall(ERROR_CAUSE, call_params.SOURCE_ERROR, causes.INTERNAL_ERROR)
        finally:
            self._finish()

    def _ai_token(self) -> str:
        return self.conn.channel.variable(AI_LEG_VARIABLE) or ""

    def _hangup_target(self) -> tuple[str, str]:
        """The hangup URL and method ("" when the call has none; an AI participant's room leg
        has none: the app's call is its host)."""
        if self._ai_token():
            return "", ""
        url = self._var(VAR_HANGUP_URL) or self.settings.hangup_url
        method = self._var(VAR_HANGUP_METHOD) or self.settings.hangup_method
        return url, method

    def _journal(self) -> None:
        url, method = self._hangup_target()
        if url:
            self.outbox.call_started(self.uuid, url, method, self.conn.channel, self.answered_us)
            self._journalled = True

    def _subscribe(self) -> None:
        """The outbound sequence's setup (esl/session.call_setup): one write, every reply
        awaited (an -ERR among them fails the call as a refused command does)."""
        self.conn.commands(session.call_setup(self.settings.linger_s))

    def _first_url(self) -> tuple[str, str] | None:
        url = self._var(VAR_ANSWER_URL) or self.settings.answer_url
        method = self._var(VAR_ANSWER_METHOD) or self.settings.answer_method
        return (url, method) if url or self.uuid in self.inline else None

    def _fallback(self) -> tuple[str, str] | None:
        url = self._var(VAR_FALLBACK_URL) or self.settings.fallback_url
        method = self._var(VAR_FALLBACK_METHOD) or self.settings.fallback_method
        if not url or self.fallback_used:
            return None
        self.fallback_used = True
        return url, method

    def _documents(self) -> Outcome:
        if self._ai_token():  # an AI participant's room leg runs its host's element
            from plivoxml_fs.effects import aiagent  # gevent: the driver stays plain at import

            if (leg := aiagent.claim(self._ai_token(), self.uuid)) is None:
                return self.error("an AI participant's leg nobody started")
            try:
                return self._run_document(leg.document)
            finally:
                leg.finished()
        if (confirm := self.confirms.pop(self.uuid, None)) is not None and (
                refused := challenge(self, confirm)) is not None:
            self.inline.pop(self.uuid, None)  # the dialled leg failed its confirm step
            return refused
        first = self._first_url()
        if first is None:
            return self.error(
                "no answer URL (channel variable plivoxml_answer_url or settings)",
                causes.NO_ANSWER_URL,
            )
        url, method, extra, kind = first[0], first[1], call_params.START_APP, ANSWER
        fetched = 0
        while True:
            document = self._given() or self._load(url, method, extra, kind)
            if isinstance(document, Failed):
                fallback = self._fallback()
                if fallback is None:
                    return self.error(document.why, document.reason)
                self.log.error(
                    "call %s: %s; trying the fallback URL %s",
                    self.uuid,
                    document.why,
                    shown_url(fallback[0]),
                )
                url, method, extra, kind = fallback[0], fallback[1], call_params.START_APP, ANSWER
                continue
            outcome = self._run_document(document)
            if self.uuid in self.inline and not hung_up(self):
                continue  # the control API moved the call: its document runs next
            if not isinstance(outcome, Goto):
                return outcome
            fetched += 1
            if fetched > self.settings.max_redirects:
                return self.error(
                    f"more than {self.settings.max_redirects} redirects "
                    f"(last to {shown_url(outcome.url)})"
                )
            url, method, extra, kind = outcome.url, outcome.method, dict(outcome.params), outcome.kind

    def _given(self) -> Any:
        """The document the control API gave this call (checked then: api/mpc_add.py), or None."""
        text = self.inline.pop(self.uuid, None)
        if text is None:
            return None
        parse, data = self.parse or _default_parser(), text.encode()
        return parse(data, source="control API", max_bytes=max(len(data), 1))

    def _load(self, url: str, method: str, extra: Mapping[str, str], kind: str) -> Any:
        """The parsed document at `url` (a `kind` of URL), or why there is none (Failed)."""
        if hung_up(self):
            if kind == ACTION:
                self._post_action(url, method, extra)
            raise ConnectionLost(f"call {self.uuid}: hung up before {shown_url(url)} was fetched")
        try:
            body, final_url = self.fetcher.fetch(
                url, method, call_params.merged(self.params, extra)
            )
        except FetchError as exc:
            return Failed(f"cannot fetch the document: {exc}", causes.FETCH_FAILED[kind])
        source = shown_url(final_url)
        if self.parse is None:
            self.parse = _default_parser()
        try:
            return self.parse(body, source=source, max_bytes=self.settings.max_document_bytes)
        except (PlivoXMLError, ValueError) as exc:
            problems = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
            return Failed(f"invalid document from {source}: {problems}", causes.INVALID_XML[kind])

    def _post_action(self, url: str, method: str, extra: Mapping[str, str]) -> None:
        """The call hung up before its action URL was fetched: request it through the outbox
        (durable, retried, in order before the hangup callback); its document is not run."""
        params = call_params.merged(self.params, {"CallStatus": call_params.COMPLETED, **extra})
        try:
            self.outbox.emit(Webhook(url, method, params, self.uuid, "action"))
        except (ValueError, PlivoXMLError) as exc:
            self.log.error("call %s: action URL %s not requested: %s", self.uuid,
                           shown_url(url), exc)

    def _run_document(self, document: Any) -> Outcome:
        for warning in getattr(document, "warnings", ()):
            self.log.warning("call %s: %s", self.uuid, warning)
        end = causes.END_OF_XML
        for verb in document.verbs:
            outcome = self._run_verb(verb)
            if self.uuid in self.inline:  # moved by the control API: the rest is not run
                return outcome
            if outcome != NEXT:
                return outcome
            end = getattr(outcome, "end", None) or causes.END_OF_XML
        return HangupCall(END_CAUSE, call_params.SOURCE_PLIVO, end)

    def _run_verb(self, verb: Any) -> Outcome:
        name = registry.verb_name(verb)
        outcome: Outcome | None = None
        try:
            outcome = self._run_verb_as(verb, name)
            return outcome
        finally:
            metrics.verbs.labels(name, outcome_label(outcome)).inc()

    def _run_verb_as(self, verb: Any, name: str) -> Outcome:
        where = where_of(verb)
        if registry.not_supported_yet(verb):
            return self.error(f"<{name}> at {where} is not supported yet")
        executor = registry.executor_for(verb)
        if executor is None:
            return self.error(f"<{name}> at {where} has no executor")
        self.verbs_started += 1
        self.log.debug("call %s: verb <%s> at %s", self.uuid, name, where)
        if registry.needs_answer(verb) and (gone := self.answer()) is not None:
            return gone
        try:
            return executor(verb, self)
        except UnsafeValue as exc:
            return self.error(f"<{name}> at {where}: {exc}")
        except (CommandFailed, CommandTimeout) as exc:
            if hung_up(self):
                return Gone(str(exc))
            return self.error(f"<{name}> at {where}: FreeSWITCH: {exc}")

    def answer(self) -> Gone | None:
        """Answer the call unless it is (call/confirm.py asks too); Gone if it ended."""
        if self.answered_us:
            return None
        done = run_app(self, "answer")
        if isinstance(done, Gone):
            return done
        self.answered_us = time.time_ns() // 1000
        if self._journalled:
            self.outbox.call_answered(self.uuid, self.answered_us)
        return None

    # -- the end --------------------------------------------------------------------------

    def _finish(self) -> None:
        self.inline.pop(self.uuid, None)  # given to a call that hung up before it ran
        end = self._hang_up()
        self._exit()
        self._emit_hangup(end)

    def _hang_up(self) -> HangupCall:
        """Hang the call up if it is still up; how it ended (cause, source, reason).

        FreeSWITCH's own Hangup-Cause (from the hangup event) wins over the cause returned here.
        When FreeSWITCH ended the call the source is None: its cause names who (causes.py).
        """
        if hung_up(self):
            if self.conn.hangup_event is not None:
                return HangupCall(END_CAUSE, None)
            return HangupCall(UNKNOWN_CAUSE, call_params.SOURCE_UNKNOWN, causes.UNKNOWN)
        ending = self.ending
        if not isinstance(ending, HangupCall):  # Gone while the call is up: the daemon gave up
            ending = HangupCall(END_CAUSE, call_params.SOURCE_PLIVO, causes.INTERNAL_ERROR)
        cause = ending.cause
        msg = commands.hangup(cause)
        try:
            self.conn.command(msg.line, msg.headers, msg.body)
            self.conn.hangup.wait(self.settings.command_timeout_s)
        except PlivoXMLError as exc:
            self.log.warning("call %s: hangup not confirmed: %s", self.uuid, exc)
        return ending

    def _exit(self) -> None:
        if self.conn.closed:
            return
        try:
            self.conn.request(commands.exit_(), timeout=EXIT_TIMEOUT_S)
        except PlivoXMLError as exc:
            self.log.debug("call %s: exit: %s", self.uuid, exc)

    def _emit_hangup(self, end: HangupCall) -> None:
        """Emit the hangup URL's callback; guarded so that it happens at most once."""
        if self._hangup_emitted:
            return
        self._hangup_emitted = True
        url, method = self._hangup_target()
        if not url:
            return
        hangup_params = call_params.hangup_params(
            self.conn.channel,
            self.conn.hangup_event,
            cause=end.cause,
            source=end.source,
            answered_us=self.answered_us,
            now_us=time.time_ns() // 1000,
            reason=end.reason,
        )
        try:
            self.outbox.emit(Webhook(url, method, hangup_params, self.uuid, "hangup"))
        except (ValueError, PlivoXMLError) as exc:
            self.log.error("call %s: hangup callback not sent: %s", self.uuid, exc)
            if self._journalled:
                self.outbox.call_ended(self.uuid)
