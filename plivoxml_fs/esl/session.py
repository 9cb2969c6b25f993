"""The sans-IO middle of one event socket: what FreeSWITCH's messages mean, no sockets, no clock.

The transport (esl/transport.py) owns the socket and the waiting; this owns the state table.
It tells the session what it sent (`sent`, `expect_job`, `expect_execution`), feeds it what it
read (`feed(bytes)`, or `receive(message)`), and performs what comes back, in order:

- `Replied(waiter, message)`: a `command/reply` or `api/response`, matched to the oldest command
  still waiting (FreeSWITCH answers in wire order, so the FIFO is the correlation);
- `JobDone(waiter, event)`: the BACKGROUND_JOB whose Job-UUID a `bgapi` sent;
- `Executed(waiter, event)`: the CHANNEL_EXECUTE_COMPLETE whose Application-UUID matches the
  Event-UUID of a `sendmsg execute`;
- `HungUp(event)`: (a call only) its own channel hung up, or FreeSWITCH lingers after the hangup;
- `Received(event)`: every event, after the above, for the subscriptions;
- `AuthRequested(message)`: the `auth/request` an inbound connection starts with;
- `Ended(reason, level)`: the connection is over (rude rejection, final disconnect-notice, a
  peer sending more than `read_limit` before a call exists); the transport closes it and fails
  every waiter `drain()` hands back;
- `Ignored(message)`: log/data and kinds nobody asked for.

Waiters are opaque to the session (the transport's gevent results); the session never wakes
anything itself. A malformed frame, or a reply with no command waiting, raises ProtocolError.

`CallSession` adds the outbound sequence of a call handed over by `socket ... async full`, as
a table of phases (PHASES): the `connect` reply names the channel (its Unique-ID must be a
channel id), until the call is confirmed the peer is untrusted (a byte cap, a loss left to the
server's one line), then the driver sends `call_setup()` (myevents, the event subscription,
linger) and, at the end, `exit`.
"""

from __future__ import annotations

import enum
import logging
from collections import deque
from collections.abc import Iterator, Sequence

import attrs

from plivoxml_fs.errors import ProtocolError
from plivoxml_fs.esl.codec import MessageParser
from plivoxml_fs.esl.messages import Event, Headers, Message
from plivoxml_fs.fs import commands

#: The content types that answer a command, in wire order.
REPLY_TYPES = ("command/reply", "api/response")
#: The events that end a call's channel.
HANGUP_EVENTS = ("CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE")


# -- what happened ---------------------------------------------------------------------------


@attrs.frozen
class Replied:
    waiter: object
    message: Message


@attrs.frozen
class JobDone:
    waiter: object
    event: Event


@attrs.frozen
class Executed:
    waiter: object
    event: Event


@attrs.frozen
class HungUp:
    """The call's channel hung up (`event`), or FreeSWITCH lingers after it (`event` None)."""

    event: Event | None


@attrs.frozen
class Received:
    event: Event


@attrs.frozen
class AuthRequested:
    message: Message


@attrs.frozen
class Ended:
    reason: str
    level: int


@attrs.frozen
class Ignored:
    message: Message


Happening = Replied | JobDone | Executed | HungUp | Received | AuthRequested | Ended | Ignored


@attrs.frozen
class Pending:
    """Every waiter still open when the connection ends: each is to fail with the loss."""

    replies: tuple[object, ...]
    jobs: tuple[object, ...]
    executions: tuple[object, ...]


# -- naming commands and events in logs -------------------------------------------------------


def shown(line: str) -> str:
    """A command line safe to log or put in an error: never a password."""
    if line.startswith("auth "):
        return "auth <redacted>"
    return line if len(line) <= 120 else line[:117] + "..."


def describe(line: str, headers: Sequence[tuple[str, str]]) -> str:
    """How a command is named in errors and logs: its line, and the app of a sendmsg."""
    what = shown(line)
    if line == "sendmsg" or line.startswith("sendmsg "):
        app = next((v for k, v in headers if k.lower() == "execute-app-name"), None)
        command = next((v for k, v in headers if k.lower() == "call-command"), "")
        what = f"{what} {app or command}".rstrip()
    return what


def event_summary(event: Event) -> str:
    """One readable line for an event in debug logs and transcripts."""
    name = event.get("Action", "") if event.name == "CUSTOM" else event.name
    if event.name.startswith("CHANNEL_EXECUTE"):
        detail = f"{event.get('Application', '')} -> {event.get('Application-Response', '')}"
        if event.name == "CHANNEL_EXECUTE":
            detail = event.get("Application", "")
    elif event.name == "DTMF":
        detail = event.get("DTMF-Digit", "")
    elif event.name.startswith("CHANNEL_HANGUP"):
        detail = event.get("Hangup-Cause", "")
    elif event.name == "BACKGROUND_JOB":
        detail = event.body_text.strip()[:80]
    else:
        detail = ""
    return f"{name} {detail}".rstrip()


# -- one connection ---------------------------------------------------------------------------


class Session:
    """Correlation for one event socket: the reply FIFO, Job-UUIDs and Application-UUIDs."""

    def __init__(self, *, peer: str = "FreeSWITCH") -> None:
        self._parser = MessageParser()
        self._replies: deque[tuple[str, object]] = deque()
        self._jobs: dict[str, object] = {}
        self._executions: dict[str, object] = {}
        #: Who is on the other end, in loss reasons.
        self.peer = peer
        #: Bytes received so far, and at most how many may come (None: no cap).
        self.bytes_received = 0
        self.read_limit: int | None = None

    # -- what the transport sends ---------------------------------------------------------

    def sent(self, what: str, waiter: object) -> None:
        """A command named `what` went on the wire; its reply is for `waiter`."""
        self._replies.append((what, waiter))

    def expect_job(self, job_uuid: str, waiter: object) -> None:
        """A `bgapi` with this Job-UUID is about to be sent; its BACKGROUND_JOB is for `waiter`."""
        self._jobs[job_uuid] = waiter

    def forget_job(self, job_uuid: str) -> None:
        self._jobs.pop(job_uuid, None)

    def expect_execution(self, app_uuid: str, waiter: object) -> None:
        """A `sendmsg execute` with this Event-UUID is about to be sent."""
        self._executions[app_uuid] = waiter

    def forget_execution(self, app_uuid: str) -> None:
        self._executions.pop(app_uuid, None)

    def waiting(self) -> int:
        """How many commands wait for their reply."""
        return len(self._replies)

    def drain(self) -> Pending:
        """The connection ended: hand back every open waiter, and forget them."""
        pending = Pending(
            tuple(waiter for _, waiter in self._replies),
            tuple(self._jobs.values()),
            tuple(self._executions.values()),
        )
        self._replies.clear()
        self._jobs.clear()
        self._executions.clear()
        return pending

    # -- what the transport reads ---------------------------------------------------------

    def feed(self, data: bytes) -> Iterator[Happening]:
        """What `data` (bytes as read) means, one message at a time.

        Lazy on purpose: the transport performs each happening before the next message is
        looked at, and stops pulling once the connection has ended.
        """
        self.bytes_received += len(data)
        if self.read_limit is not None and self.bytes_received > self.read_limit:
            yield Ended(
                f"{self.peer} sent more than {self.read_limit} bytes before a call existed "
                f"(max_connect_reply_bytes)",
                logging.WARNING,
            )
            return
        for message in self._parser.feed(data):
            yield from self.receive(message)

    def receive(self, message: Message) -> list[Happening]:
        """What one message means."""
        kind = message.content_type
        if kind in REPLY_TYPES:
            return [self._reply(message)]
        if message.is_event:
            return self._event(message.event())
        if kind == "text/disconnect-notice":
            disposition = message.get("Content-Disposition", "")
            if disposition == "linger":
                return self._linger()
            return [Ended(f"disconnect-notice ({disposition or 'no disposition'})", logging.DEBUG)]
        if kind == "auth/request":
            return [AuthRequested(message)]
        if kind == "text/rude-rejection":
            text = message.body.decode("utf-8", "replace").strip()
            return [Ended(f"FreeSWITCH rejected the connection: {text}", logging.ERROR)]
        return [Ignored(message)]

    def _reply(self, message: Message) -> Replied:
        if not self._replies:
            raise ProtocolError(f"{message.content_type} with no command waiting for it")
        _, waiter = self._replies.popleft()
        return Replied(waiter, message)

    def _event(self, event: Event) -> list[Happening]:
        found: list[Happening] = []
        if event.name == "BACKGROUND_JOB":
            job = self._jobs.get(event.get("Job-UUID", ""))
            if job is not None:  # kept until the bgapi forgets it (a retry may repeat a job)
                found.append(JobDone(job, event))
        elif event.name == "CHANNEL_EXECUTE_COMPLETE":
            execution = self._executions.pop(event.get("Application-UUID", ""), None)
            if execution is not None:
                found.append(Executed(execution, event))
        found.extend(self._own_event(event))
        found.append(Received(event))
        return found

    def _own_event(self, event: Event) -> list[Happening]:
        """For subclasses: what an event means beyond correlation (before subscribers see it)."""
        return []

    def _linger(self) -> list[Happening]:
        """FreeSWITCH lingers after a hangup (only a call's connection is told so)."""
        return [HungUp(None)]


# -- one call ---------------------------------------------------------------------------------


class Phase(enum.Enum):
    ACCEPTED = "accepted"  # the socket is ours, nothing sent
    CONNECTING = "connecting"  # `connect` sent, its reply awaited
    CONNECTED = "connected"  # the reply named a channel with a valid Unique-ID
    ESTABLISHED = "established"  # confirmed as a live call: trusted, uncapped
    HUNG_UP = "hung up"  # its channel hung up (or FreeSWITCH lingers after it)


#: The outbound sequence: (phase, what happens) -> next phase. What is not listed leaves the
#: phase as it is (a second hangup event, a hangup before the call was confirmed stays known
#: through `hangup_event`). Who sends what: OutboundServer `connect`, then confirm; the driver
#: `call_setup()` (myevents, events, linger), the verbs' execute/api, hangup, then `exit`.
PHASES: dict[tuple[Phase, str], Phase] = {
    (Phase.ACCEPTED, "connect sent"): Phase.CONNECTING,
    (Phase.CONNECTING, "channel named"): Phase.CONNECTED,
    (Phase.CONNECTED, "confirmed"): Phase.ESTABLISHED,
    (Phase.CONNECTED, "hangup"): Phase.HUNG_UP,
    (Phase.ESTABLISHED, "hangup"): Phase.HUNG_UP,
}


#: The events `myevents` turns on that nothing reads on a call's own connection: the verbs act
#: on CHANNEL_EXECUTE_COMPLETE (the session's Executed), CHANNEL_HANGUP (HungUp), DTMF and
#: the conference events, so those stay. Each event left on costs FreeSWITCH its
#: serialisation and us its parse, about 9 a call (CHANNEL_EXECUTE for every application,
#: CHANNEL_STATE, CHANNEL_UNPARK); docs/internals.md. CHANNEL_ANSWER (~4 KiB of channel data)
#: was kept for one line of replay's transcript only; the answer's CHANNEL_EXECUTE_COMPLETE
#: says the same there, and the driver takes the answer time from it.
#: CHANNEL_HANGUP_COMPLETE (the largest, ~4.7 KiB on 1.10.12) comes after CHANNEL_HANGUP, which
#: already ended the call (`hangup_event` is the first) and carries what the hangup callback
#: reads (cause, times: its Hangup-Time is 0, its Event-Date-Timestamp the same moment).
UNUSED_CALL_EVENTS = (
    "CHANNEL_ANSWER", "CHANNEL_APPLICATION", "CHANNEL_BRIDGE", "CHANNEL_CREATE", "CHANNEL_DATA",
    "CHANNEL_DESTROY",
    "CHANNEL_EXECUTE", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_ORIGINATE", "CHANNEL_UUID",
    "CHANNEL_OUTGOING", "CHANNEL_PARK", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_STATE", "CHANNEL_UNBRIDGE", "CHANNEL_UNPARK", "DETECTED_SPEECH", "NOTALK", "TALK",
)


def call_setup(linger_s: int) -> tuple[str, ...]:
    """What the driver sends once a call is confirmed, in this order (in one write: each
    reply is still awaited): its own events (`myevents`) less those nothing reads
    (`nixevent`, UNUSED_CALL_EVENTS), BACKGROUND_JOB and the conference events (CUSTOM last),
    `linger <s>`."""
    return (
        commands.myevents(),
        commands.nixevent(UNUSED_CALL_EVENTS),
        commands.event_plain(["BACKGROUND_JOB"], ["conference::maintenance"]),
        commands.linger(linger_s),
    )


class CallSession(Session):
    """A call handed to us by `socket ... async full`: the connect reply, trust, the hangup."""

    def __init__(self, address: str, *, read_limit: int | None = None) -> None:
        super().__init__(peer=f"the peer {address}")
        self.address = address
        self.read_limit = read_limit
        self.phase = Phase.ACCEPTED
        self.channel: Event = Event({})
        self.uuid = ""
        self.hangup_event: Event | None = None

    def _advance(self, what: str) -> None:
        self.phase = PHASES.get((self.phase, what), self.phase)

    def connect(self) -> str:
        """The `connect` line, sent first."""
        self._advance("connect sent")
        return commands.connect()

    def connect_refusal(self) -> str | None:
        """After the connect reply: why it names no channel, or None (the call is CONNECTED)."""
        if not self.uuid:
            return f"{self.peer} sent a connect reply without Unique-ID"
        if not commands.IDENTIFIER.fullmatch(self.uuid):
            return f"{self.peer} sent a Unique-ID that is no channel id ({self.uuid[:60]!r})"
        self._advance("channel named")
        return None

    def confirmed(self) -> None:
        """The connection is a call: no byte cap any more, FreeSWITCH named."""
        self.read_limit = None
        self.peer = "FreeSWITCH"
        self._advance("confirmed")

    def _reply(self, message: Message) -> Replied:
        # Adopt the channel now, before any later message of the same read is looked at.
        if not self.uuid and self._replies and self._replies[0][0] == "connect":
            unique_id = message.get("Unique-ID") or message.get("Channel-Unique-ID") or ""
            if unique_id:
                headers = message.headers
                self.channel = Event(
                    headers.without("Reply-Text") if isinstance(headers, Headers)
                    else {k: v for k, v in headers.items() if k != "Reply-Text"}
                )
                self.uuid = unique_id
        return super()._reply(message)

    def _own_event(self, event: Event) -> list[Happening]:
        if event.name not in HANGUP_EVENTS:
            return []
        if self.uuid and event.unique_id and event.unique_id != self.uuid:
            return []  # another channel's hangup (a conference member's, a B leg's)
        if self.hangup_event is None:
            self.hangup_event = event
        self._advance("hangup")
        return [HungUp(event)]

    def _linger(self) -> list[Happening]:
        self._advance("hangup")
        return super()._linger()
