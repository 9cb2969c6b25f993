"""The event bus of the embedded FreeSWITCH: events as it fires them, and who receives them.

`SimEvent` is one event (ordered headers, body). `EventFactory` stamps the headers every
FreeSWITCH event starts with (Event-Name, Core-UUID, FreeSWITCH-Hostname, ..., Event-Sequence),
in the order the traces show. `Subscription` is an ESL connection's interest (event names,
CUSTOM subclasses, ALL, myevents, filters) and decides delivery exactly as mod_event_socket's
event_handler does. `EventBus` hands every fired event to each receiver in firing order;
receivers are ESL connections and in-process taps (the conference part and tests).
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterable
from email.utils import formatdate

import attrs


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Event names FreeSWITCH knows (switch_event.c EVENT_NAMES) that a subscription may name.
EVENT_NAMES = _words(
    """CUSTOM CLONE CHANNEL_CREATE CHANNEL_DESTROY CHANNEL_STATE CHANNEL_CALLSTATE CHANNEL_ANSWER
    CHANNEL_HANGUP CHANNEL_HANGUP_COMPLETE CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HOLD
    CHANNEL_UNHOLD CHANNEL_BRIDGE CHANNEL_UNBRIDGE CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA
    CHANNEL_OUTGOING CHANNEL_PARK CHANNEL_UNPARK CHANNEL_APPLICATION CHANNEL_ORIGINATE
    CHANNEL_UUID API LOG INBOUND_CHAN OUTBOUND_CHAN STARTUP SHUTDOWN PUBLISH UNPUBLISH TALK
    NOTALK SESSION_CRASH MODULE_LOAD MODULE_UNLOAD DTMF MESSAGE PRESENCE_IN NOTIFY_IN
    PRESENCE_OUT PRESENCE_PROBE MESSAGE_WAITING MESSAGE_QUERY ROSTER CODEC BACKGROUND_JOB
    DETECTED_SPEECH DETECTED_TONE PRIVATE_COMMAND HEARTBEAT TRAP ADD_SCHEDULE DEL_SCHEDULE
    EXE_SCHEDULE RE_SCHEDULE RELOADXML NOTIFY PHONE_FEATURE PHONE_FEATURE_SUBSCRIBE
    SEND_MESSAGE RECV_MESSAGE REQUEST_PARAMS CHANNEL_DATA GENERAL COMMAND SESSION_HEARTBEAT
    CLIENT_DISCONNECTED SERVER_DISCONNECTED SEND_INFO RECV_INFO RECV_RTCP_MESSAGE
    SEND_RTCP_MESSAGE CALL_SECURE NAT RECORD_START RECORD_STOP PLAYBACK_START PLAYBACK_STOP
    CALL_UPDATE FAILURE SOCKET_DATA MEDIA_BUG_START MEDIA_BUG_STOP CONFERENCE_DATA_QUERY
    CONFERENCE_DATA CALL_SETUP_REQ CALL_SETUP_RESULT CALL_DETAIL DEVICE_STATE TEXT
    SHUTDOWN_REQUESTED ALL"""
)

#: What `myevents` turns on (mod_event_socket.c).
MYEVENTS = _words(
    """CHANNEL_ANSWER CHANNEL_APPLICATION CHANNEL_BRIDGE CHANNEL_CREATE CHANNEL_DATA
    CHANNEL_DESTROY CHANNEL_EXECUTE CHANNEL_EXECUTE_COMPLETE CHANNEL_HANGUP
    CHANNEL_HANGUP_COMPLETE CHANNEL_ORIGINATE CHANNEL_UUID CHANNEL_OUTGOING CHANNEL_PARK
    CHANNEL_PROGRESS CHANNEL_PROGRESS_MEDIA CHANNEL_STATE CHANNEL_UNBRIDGE CHANNEL_UNPARK
    DETECTED_SPEECH DTMF NOTALK TALK"""
)


@attrs.frozen
class SimEvent:
    """One fired event: headers in FreeSWITCH's order (values not yet URL-encoded), and a body."""

    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    _index: dict[str, str] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        index: dict[str, str] = {}
        for key, value in self.headers:
            index.setdefault(key.lower(), value)
        object.__setattr__(self, "_index", index)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first header called `name` (any case)."""
        return self._index.get(name.lower(), default)

    @property
    def name(self) -> str:
        return self._index.get("event-name", "")

    @property
    def subclass(self) -> str:
        return self._index.get("event-subclass", "")


@attrs.frozen
class Calling:
    """Where FreeSWITCH fired an event from (Event-Calling-File/-Function/-Line-Number)."""

    file: str
    function: str
    line: int


class EventFactory:
    """Stamps the common headers; one sequence counter per embedded FreeSWITCH."""

    def __init__(self, *, core_uuid: str, hostname: str, now_us: Callable[[], int]) -> None:
        self.core_uuid = core_uuid
        self.hostname = hostname
        self._now_us = now_us
        self._sequence = itertools.count(1)

    def make(
        self,
        name: str,
        calling: Calling,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        *,
        subclass: str | None = None,
    ) -> SimEvent:
        """An event `name` (CUSTOM when `subclass` is given) with `headers` after the common ones."""
        now = self._now_us()
        head: list[tuple[str, str]] = []
        if subclass is not None:
            head.append(("Event-Subclass", subclass))
        head += [
            ("Event-Name", name),
            ("Core-UUID", self.core_uuid),
            ("FreeSWITCH-Hostname", self.hostname),
            ("FreeSWITCH-Switchname", self.hostname),
            ("FreeSWITCH-IPv4", "127.0.0.1"),
            ("FreeSWITCH-IPv6", "::1"),
            ("Event-Date-Local", local_stamp(now)),
            ("Event-Date-GMT", formatdate(now / 1e6, usegmt=True)),
            ("Event-Date-Timestamp", str(now)),
            ("Event-Calling-File", calling.file),
            ("Event-Calling-Function", calling.function),
            ("Event-Calling-Line-Number", str(calling.line)),
            ("Event-Sequence", str(next(self._sequence))),
        ]
        return SimEvent(tuple(head) + tuple(headers), body)


def local_stamp(us: int) -> str:
    """`YYYY-MM-DD HH:MM:SS` in local time, as FreeSWITCH's *_stamp variables."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(us / 1e6))


@attrs.define
class Subscription:
    """One ESL connection's interest in events, matched as mod_event_socket matches it."""

    names: set[str] = attrs.field(factory=set)
    subclasses: set[str] = attrs.field(factory=set)
    all_events: bool = False
    myevents: bool = False
    session_uuid: str | None = None  # the channel myevents follows
    filters: list[tuple[str, str]] = attrs.field(factory=list)
    format: str = "plain"
    enabled: bool = False

    def wants(self, event: SimEvent) -> bool:
        if not self.enabled:
            return False
        if self.all_events:
            send = True
        elif event.name in self.names:
            send = event.name != "CUSTOM" or not event.subclass or event.subclass in self.subclasses
        else:
            send = False
        if send and self.filters:
            send = self._passes_filters(event)
        if send and self.myevents:
            unique_id = event.get("Unique-ID")
            if not unique_id or (self.session_uuid and unique_id != self.session_uuid):
                send = False
            if self.session_uuid and event.get("Job-Owner-UUID") == self.session_uuid:
                send = True
        return send

    def _passes_filters(self, event: SimEvent) -> bool:
        send = False
        for header, wanted in self.filters:
            value = event.get(header)
            if value is None:
                continue
            positive = not wanted.lstrip("+ ").startswith("-")
            target = wanted.lstrip("+- ")
            if send and positive:
                continue
            if wanted.startswith("/"):
                matched = _regex_matches(target[1:].rstrip("/"), value)
            else:
                matched = value.lower() == target.lower()
            if matched:
                if not positive:
                    return False
                send = True
        return send


def _regex_matches(pattern: str, value: str) -> bool:
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return False


class EventBus:
    """Delivers each fired event to every receiver (objects with `offer(event)`), in order.

    A receiver whose `session_key()` names a channel (an outbound socket after `myevents`) is
    only offered that channel's events (Unique-ID or Job-Owner-UUID), which is all myevents lets
    through anyway; this keeps a fired event from visiting every call's socket.
    """

    def __init__(self) -> None:
        self._everything: list = []
        self._by_session: dict[str, list] = {}

    def add(self, receiver) -> None:
        """Add, or re-file after its subscription changed."""
        self.remove(receiver)
        key = receiver.session_key() if hasattr(receiver, "session_key") else None
        if key is None:
            self._everything.append(receiver)
        else:
            self._by_session.setdefault(key, []).append(receiver)

    def remove(self, receiver) -> None:
        if receiver in self._everything:
            self._everything.remove(receiver)
        key = receiver.session_key() if hasattr(receiver, "session_key") else None
        if key is not None and receiver in self._by_session.get(key, ()):
            self._by_session[key].remove(receiver)
            if not self._by_session[key]:
                del self._by_session[key]

    def fire(self, event: SimEvent) -> None:
        receivers = list(self._everything)
        for key in {event.get("Unique-ID"), event.get("Job-Owner-UUID")}:
            if key:
                receivers += self._by_session.get(key, ())
        for receiver in receivers:
            receiver.offer(event)
