"""Fakes shipped for users' own tests (and ours): a call connection that records what was sent.

`FakeConnection` stands in for an `OutboundConnection` without sockets or gevent. Every command
is recorded as the exact bytes FreeSWITCH would receive (`sent`), built by fs/commands.py with
deterministic Event-UUIDs (`app-1`, `app-2`, ...), and as (app, arg) pairs (`apps`). Each
execution completes at once with a CHANNEL_EXECUTE_COMPLETE; scripts decide what happens:

    conn = FakeConnection()
    conn.respond("playback", "FILE NOT FOUND")    # Application-Response of every playback
    conn.hang_up_during("speak")                  # the caller hangs up while `speak` runs
    conn.lose_during("sleep")                     # FreeSWITCH drops the socket during `sleep`
    conn.refuse("speak", "-ERR no tts")           # `sendmsg execute speak` gets -ERR

A `hangup` sendmsg hangs the fake call up with that cause, as FreeSWITCH would.

Who hears whom, from audio (`hearing_matrix`): give each caller its own tone (TONES_HZ), record
what each receives (a WAV per caller), and read every tone's level in every recording with a
Goertzel filter per tone; `Hearing.hears(listener, speaker)` is that level against HEARS_DBFS.
`subscribe()` gives the call's events as a Subscription does: each execution's completion, and
what `script(app, [...])` says happens while `app` runs (events, or callables run at that point
that may return an event), before the app completes:

    conn.script("conference", [conference_event("add-member", "room1", member_id=4),
                               dtmf_event("*", conn.uuid)])

`FakeEdge` is a room engine edge (rooms/registry.py) that answers every command at once
(`+OK`, or what `answer(prefix, text)` says), emits webhooks into a RecordingOutbox and keeps
timers until `advance(seconds)` moves its clock past them.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from plivoxml_fs.errors import CommandFailed, ConnectionLost
from plivoxml_fs.esl.codec import encode_command
from plivoxml_fs.esl.messages import Event, Message
from plivoxml_fs.fs import commands
from plivoxml_fs.fs.events import CONFERENCE_SUBCLASS
from plivoxml_fs.hearing import (  # noqa: F401  (re-exported: users' tests import them here)
    HEARS_DBFS,
    SILENT_DBFS,
    TONES_HZ,
    WINDOW_MS,
    Hearing,
    dbfs,
    goertzel,
    hearing_matrix,
    read_wav,
    tone_levels,
)
from plivoxml_fs.rooms.model import Command, CommandDone

#: Times (µs since the epoch) of the fake call: created, then answered 2 s later, hung up 7 s in.
CREATED_US = 1_795_489_386_973_048
ANSWERED_US = CREATED_US + 2_000_000
HUNGUP_US = CREATED_US + 7_000_000


def channel_data(
    uuid: str = "fb118d4e-457b-4ae3-ba78-63b3e536d86f",
    *,
    caller: str = "1001",
    destination: str = "5000",
    caller_name: str = "",
    direction: str = "inbound",
    variables: Mapping[str, str] | None = None,
) -> Event:
    """Channel data as a `connect` reply carries it (the fields plivoxml-fs reads)."""
    headers = {
        "Event-Name": "CHANNEL_DATA",
        "Unique-ID": uuid,
        "Channel-Unique-ID": uuid,
        "Call-Direction": direction,
        "Caller-Direction": direction,
        "Answer-State": "ringing",
        "Channel-Call-State": "RINGING",
        "Caller-Caller-ID-Number": caller,
        "Caller-Destination-Number": destination,
        "Caller-Unique-ID": uuid,
        "Caller-Channel-Created-Time": str(CREATED_US),
        "Caller-Channel-Answered-Time": "0",
        "Caller-Channel-Hangup-Time": "0",
        "variable_direction": direction,
        "variable_uuid": uuid,
    }
    if caller_name:
        headers["Caller-Caller-ID-Name"] = caller_name
    for name, value in (variables or {}).items():
        headers[f"variable_{name}"] = value
    return Event(headers)


class Flag:
    """The `hangup` flag: gevent.event.Event's is_set/set/wait, without blocking."""

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        return self._set


class FakeExecution:
    """An execution that has already completed (or failed)."""

    def __init__(self, app: str, app_uuid: str, result: Event | None, error: Exception | None):
        self.app = app
        self.app_uuid = app_uuid
        self._result = result
        self._error = error

    @property
    def done(self) -> bool:
        return True

    def wait(self, timeout: float) -> Event:
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


class FakeConnection:
    """A fake OutboundConnection: records bytes, completes executions by script."""

    def __init__(self, channel: Event | None = None) -> None:
        self.channel = channel or channel_data()
        self.uuid = self.channel.unique_id
        self.hangup = Flag()
        self.hangup_event: Event | None = None
        self.sent: list[bytes] = []
        self.apps: list[tuple[str, str]] = []
        self.lines: list[str] = []
        self._closed = False
        self._responses: dict[str, str] = {}
        self._hangup_during: dict[str, int] = {}
        self._lose_during: set[str] = set()
        self._refused: dict[str, str] = {}
        self._count = 0
        self._answered_us = 0
        self._scripts: dict[str, list[Any]] = {}
        self._subscriptions: list[FakeSubscription] = []

    # -- scripting ------------------------------------------------------------------------

    def respond(self, app: str, response: str) -> None:
        """Every completion of `app` carries this Application-Response."""
        self._responses[app] = response

    def hang_up_during(self, app: str, nth: int = 1) -> None:
        """The caller hangs up while `app` runs for the `nth` time."""
        self._hangup_during[app] = nth

    def refuse(self, app: str, reply: str = "-ERR no such application") -> None:
        """FreeSWITCH answers every `sendmsg execute <app>` with this -ERR reply."""
        self._refused[app] = reply

    def lose_during(self, app: str) -> None:
        """FreeSWITCH drops the connection while `app` runs."""
        self._lose_during.add(app)

    def script(self, app: str, happenings: Iterable[Any]) -> None:
        """While `app` runs next, these happen in order (an Event is delivered to subscribers,
        a callable is called and the Event it returns, if any, delivered); then it completes."""
        self._scripts[app] = list(happenings)

    def caller_hangs_up(self, cause: str = "NORMAL_CLEARING") -> None:
        """The far end hangs up now: CHANNEL_HANGUP arrives and the flag is set."""
        if self.hangup_event is None:
            self.hangup_event = self._hangup_event(cause)
        self.hangup.set()

    def lose(self) -> None:
        """The socket goes away without any hangup event."""
        self._closed = True
        self.hangup.set()

    # -- the OutboundConnection surface ---------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def request(self, line, headers=(), body=None, *, timeout=None) -> Message:
        if self._closed:
            raise ConnectionLost(f"call {self.uuid}: connection lost")
        self.sent.append(encode_command(line, headers, body))
        self.lines.append(line)
        if line == "exit":
            self._closed = True
        elif any(k == "call-command" and v == "hangup" for k, v in headers):
            cause = dict(headers).get("hangup-cause", "NORMAL_CLEARING")
            self.caller_hangs_up(cause)
        return Message({"Content-Type": "command/reply", "Reply-Text": "+OK"})

    def command(self, line, headers=(), body=None, *, timeout=None) -> Message:
        """As `request`, but a refused application raises CommandFailed (like the transport)."""
        app = dict(headers).get("execute-app-name", "")
        if app in self._refused:
            self.sent.append(encode_command(line, headers, body))
            self.lines.append(line)
            raise CommandFailed(f"{line} {app}", self._refused[app])
        return self.request(line, headers, body, timeout=timeout)

    def commands(self, lines, *, timeout=None) -> list[Message]:
        """Several commands at once (the transport writes them together): each as `command`."""
        return [self.command(line, timeout=timeout) for line in lines]

    def api(self, cmd: str, *, timeout=None, check: bool = True) -> str:
        """`api <cmd>` on the call's socket: uuid_getvar answers the fake channel's variable
        (`_undef_` when unset), anything else `+OK`."""
        self.request(commands.api(cmd), timeout=timeout)
        words = cmd.split(" ")
        if words[0] == "uuid_getvar" and len(words) == 3:
            value = self.channel.variable(words[2])
            return "_undef_" if value is None else value
        return "+OK"

    def subscribe(self, maxsize: int | None = None) -> FakeSubscription:
        """Every event of the call from now on (see `script`)."""
        sub = FakeSubscription(self)
        self._subscriptions.append(sub)
        return sub

    def deliver(self, event: Any) -> None:
        """Hand `event` (or a callable, run when a subscriber reaches it) to every subscriber."""
        for sub in self._subscriptions:
            sub.queue.append(event)

    def execute_async(self, app: str, arg: str = "", **kwargs) -> FakeExecution:
        self._count += 1
        app_uuid = f"app-{self._count}"
        msg = commands.execute(app, arg, event_uuid=app_uuid)
        self.command(msg.line, msg.headers, msg.body)
        self.apps.append((app, arg))
        if app in self._lose_during:
            self.lose()
            return FakeExecution(app, app_uuid, None, ConnectionLost(f"call {self.uuid}: lost"))
        if app == "answer":
            self._answered_us = ANSWERED_US
        if app in self._hangup_during:
            self._hangup_during[app] -= 1
            if self._hangup_during[app] == 0:
                del self._hangup_during[app]
                self.caller_hangs_up()
        completion = self._complete(app, arg, app_uuid)
        for happening in self._scripts.pop(app, ()):
            self.deliver(happening)
        self.deliver(completion)
        return FakeExecution(app, app_uuid, completion, None)

    def execute_many(self, apps, **kwargs) -> list[FakeExecution]:
        """Each (app, arg) as `execute_async`, in order (the transport writes them together)."""
        return [self.execute_async(app, arg, **kwargs) for app, arg in apps]

    def execute(self, app: str, arg: str = "", **kwargs) -> Event:
        return self.execute_async(app, arg).wait(0)

    # -- events ---------------------------------------------------------------------------

    def _complete(self, app: str, arg: str, app_uuid: str) -> Event:
        headers = {
            "Event-Name": "CHANNEL_EXECUTE_COMPLETE",
            "Unique-ID": self.uuid,
            "Application": app,
            "Application-Data": arg,
            "Application-UUID": app_uuid,
            "Application-Response": self._responses.get(
                app, "FILE PLAYED" if app == "playback" else "_none_"
            ),
        }
        return Event(headers)

    def _hangup_event(self, cause: str) -> Event:
        return Event(
            {
                "Event-Name": "CHANNEL_HANGUP",
                "Unique-ID": self.uuid,
                "Answer-State": "hangup",
                "Hangup-Cause": cause,
                "Caller-Channel-Created-Time": str(CREATED_US),
                "Caller-Channel-Answered-Time": str(self._answered_us),
                "Caller-Channel-Hangup-Time": "0",
                "Event-Date-Timestamp": str(HUNGUP_US),
            }
        )


class FakeSubscription:
    """A Subscription over the fake call's events: `get` never blocks."""

    #: How many empty `get`s in a row before the fake says nothing more will come.
    MAX_EMPTY = 100

    def __init__(self, conn: FakeConnection) -> None:
        self.conn = conn
        self.queue: collections.deque[Any] = collections.deque()
        self._empty = 0

    def get(self, timeout: float) -> Event | None:
        while self.queue:
            item = self.queue.popleft()
            event = item() if callable(item) else item
            if event is not None:
                self._empty = 0
                return event
        self._empty += 1
        if self._empty > self.MAX_EMPTY or self.conn.closed:
            raise ConnectionLost(f"call {self.conn.uuid}: fake: no more events are scripted")
        return None

    def close(self) -> None:
        if self in self.conn._subscriptions:
            self.conn._subscriptions.remove(self)

    def __enter__(self) -> FakeSubscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def conference_event(action: str, room: str, *, uid: str = "room-uid-1",
                     member_id: int | None = None, uuid: str | None = None,
                     size: int | None = None, **headers: str) -> Event:
    """A conference::maintenance event as mod_conference fires it (headers by keyword:
    New_ID="4" is New-ID)."""
    fields = {"Event-Name": "CUSTOM", "Event-Subclass": CONFERENCE_SUBCLASS, "Action": action,
              "Conference-Name": room, "Conference-Unique-ID": uid}
    if size is not None:
        fields["Conference-Size"] = str(size)
    if member_id is not None:
        fields["Member-ID"] = str(member_id)
    if uuid is not None:
        fields["Unique-ID"] = uuid
    fields.update({k.replace("_", "-"): v for k, v in headers.items()})
    return Event(fields)


def dtmf_event(digit: str, uuid: str) -> Event:
    """A DTMF event of channel `uuid`."""
    return Event({"Event-Name": "DTMF", "Unique-ID": uuid, "DTMF-Digit": digit,
                  "DTMF-Duration": "2000"})


class FakeEdge:
    """A room engine edge: commands answered at once, webhooks kept, timers on a fake clock."""

    def __init__(self, outbox: RecordingOutbox | None = None, now: float = CREATED_US / 1e6):
        self.outbox = outbox or RecordingOutbox()
        self.clock = now
        self.commands: list[str] = []
        self.vias: list[Any] = []
        self.timers: list[tuple[float, Callable[[], None]]] = []
        self._answers: dict[str, str] = {}

    def answer(self, prefix: str, text: str) -> None:
        """Commands starting with `prefix` are answered `text` (default `+OK`)."""
        self._answers[prefix] = text

    def now(self) -> float:
        return self.clock

    def send(self, command: Command, done: Callable[[CommandDone], None], via: Any) -> None:
        self.commands.append(command.cmd)
        self.vias.append(via)
        text = next((t for p, t in self._answers.items() if command.cmd.startswith(p)), "+OK")
        done(CommandDone(command.token, text))

    def emit(self, webhook) -> None:
        self.outbox.emit(webhook)

    def arm(self, at: float, fire: Callable[[], None]) -> Any:
        entry = (at, fire)
        self.timers.append(entry)
        timers = self.timers

        class Handle:
            def cancel(self) -> None:
                if entry in timers:
                    timers.remove(entry)

        return Handle()

    def advance(self, seconds: float) -> None:
        """Move the clock on and fire the timers now due, in time order."""
        self.clock += seconds
        due = sorted((t for t in self.timers if t[0] <= self.clock), key=lambda t: t[0])
        for entry in due:
            self.timers.remove(entry)
        for _, fire in due:
            fire()


class RecordingOutbox:
    """An Outbox that keeps what was emitted (`emitted`) instead of delivering it."""

    def __init__(self) -> None:
        self.emitted: list = []
        #: The call journal: call uuid -> (hangup url, method, answered_us) while in progress.
        self.journal: dict[str, tuple[str, str, int]] = {}

    def emit(self, webhook) -> None:
        self.emitted.append(webhook)
        if webhook.kind == "hangup":
            self.journal.pop(webhook.call_uuid, None)

    def call_started(self, call_uuid, url, method, channel, answered_us=0) -> None:
        self.journal[call_uuid] = (url, method, answered_us)

    def call_answered(self, call_uuid, answered_us) -> None:
        if call_uuid in self.journal:
            url, method, _ = self.journal[call_uuid]
            self.journal[call_uuid] = (url, method, answered_us)

    def call_ended(self, call_uuid) -> None:
        self.journal.pop(call_uuid, None)

    def flush(self, timeout: float) -> bool:
        return True

    def of_kind(self, kind: str) -> list:
        return [w for w in self.emitted if w.kind == kind]


class FakeFetcher:
    """A DocumentFetcher serving documents from a dict: url -> bytes, or an exception to raise.

    `requests` records (url, method, params) of every fetch.
    """

    def __init__(self, documents: Mapping[str, bytes | Exception]) -> None:
        self.documents = dict(documents)
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    def fetch(self, url: str, method: str, params: Mapping[str, str]) -> tuple[bytes, str]:
        from plivoxml_fs.errors import FetchError

        self.requests.append((url, method, dict(params)))
        found = self.documents.get(url)
        if found is None:
            raise FetchError(f"{method} {url}: HTTP 404")
        if isinstance(found, Exception):
            raise found
        return found, url
